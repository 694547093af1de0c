/**
 * Reads the accelerometer bursts of a gateway's devices on their period and
 * hands them on like any poll: the readings on the event bus (detection,
 * buffer, sync, cloud), the raw samples to the BurstKeeper.
 *
 *   every device's burst.periodMs ─▶ linkFor(bus): the poller's own link (one request in flight on a serial bus)
 *        ─▶ readBurst (pages) ─▶ ModalAnalyzer ─▶ emit('readings'): acceleration_rms, acceleration_peak,
 *        │                                        natural_frequency_1..modes (Bad for a mode not found)
 *        │                                     ─▶ BurstKeeper.add (raw burst, kept only around alarms)
 *        └─ failed (timeout, exception, garbled page, link not open) ─▶ counted, Bad readings if the
 *           device otherwise answers, retried next period: never a crash, never a hang
 *
 * Why through the poller's link rather than a link of its own: a serial bus
 * carries one request at a time, and a second master on the same RS-485 pair
 * would collide; the link queues each page behind the polls like a write.
 * The pages of a burst go one after another, so a 48-page burst delays a
 * poll by one page at most, never by the whole burst.
 *
 * One burst per device at a time: the next one is due one period after the
 * previous was due; a burst that overran its period skips the missed slots.
 */
import { ErrorCodes, LifelineError, Quality, type Reading } from '@lifeline/shared';
import { burstPointNames, type Profile } from '@lifeline/devices';
import type { BurstKeeper } from '../buffer/bursts.js';
import { ModalAnalyzer } from '../detect/modal.js';
import type { EventBus, Extension } from '../events/event-bus.js';
import type { ModbusLink } from '../links/link.js';
import type { Logger } from '../log.js';
import { isMeterBus, type Bus } from '../config/schema.js';
import { burstReadings, deviceBurst, readBurst, type DeviceBurst } from './burst.js';

/** What a BurstScheduler needs of the agent. */
export interface BurstSchedulerOptions {
  /** The bus's link (the poller's); undefined or a throw: not open yet, the burst fails and is retried next period. */
  linkFor: (bus: Bus) => ModbusLink | undefined;
  /** Raw bursts kept around alarms (none: not kept). */
  keeper?: BurstKeeper;
  /** Whether the device answers its polls: a failed burst of a device that does gives Bad readings (default: always). */
  answering?: (device: string) => boolean;
  /** Delay of each device's first burst, ms (default: min(period, 5 s), after the pollers have opened their links). */
  firstDelayMs?: number;
}

/** Counters of one device's bursts. */
export interface BurstStats {
  device: string;
  /** Bursts read and reduced. */
  bursts: number;
  /** Bursts that failed (not read, garbled, not reducible). */
  failures: number;
  lastError: string;
  /** Duration of the last good burst read, ms. */
  lastReadMs: number;
}

interface Scheduled {
  readonly device: string;
  readonly bus: Bus;
  readonly plan: DeviceBurst;
  readonly analyzer: ModalAnalyzer;
  readonly stats: BurstStats;
  due: number;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
}

export class BurstScheduler implements Extension {
  private readonly devices: Scheduled[] = [];
  private stopped = false;

  constructor(
    private readonly buses: readonly Bus[],
    private readonly profiles: ReadonlyMap<string, Readonly<Profile>>,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly opts: BurstSchedulerOptions,
  ) {}

  /** The bursts the config reads: every Modbus device whose profile has a burst block and whose instance did not turn it off. */
  private plans(): { device: string; bus: Bus; plan: DeviceBurst }[] {
    const out: { device: string; bus: Bus; plan: DeviceBurst }[] = [];
    for (const bus of this.buses) {
      if (isMeterBus(bus)) continue;
      for (const instance of bus.devices) {
        const profile = this.profiles.get(instance.id);
        const plan = profile && deviceBurst(instance, profile);
        if (plan) out.push({ device: instance.id, bus, plan });
      }
    }
    return out;
  }

  /** Devices whose bursts are read. */
  get size(): number {
    return this.plans().length;
  }

  start(): void {
    this.stopped = false;
    this.devices.length = 0;
    for (const { device, bus, plan } of this.plans()) {
      this.devices.push({
        device,
        bus,
        plan,
        analyzer: new ModalAnalyzer({ sampleRateHz: plan.sampleRateHz, modes: plan.modes }),
        stats: { device, bursts: 0, failures: 0, lastError: '', lastReadMs: 0 },
        due: 0,
      });
    }
    const now = Date.now();
    for (const d of this.devices) {
      d.due = now + (this.opts.firstDelayMs ?? Math.min(d.plan.periodMs, 5000));
      this.arm(d);
    }
    if (this.devices.length) this.log.info({ devices: this.devices.map((d) => d.device) }, 'reading accelerometer bursts');
  }

  /** Stops the timers and waits for a burst in progress (it ends within one page timeout: the link fails it on close). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.devices) clearTimeout(d.timer);
    await Promise.allSettled(this.devices.map((d) => d.running));
  }

  stats(): BurstStats[] {
    return this.devices.map((d) => ({ ...d.stats }));
  }

  private arm(d: Scheduled): void {
    if (this.stopped) return;
    d.timer = setTimeout(() => {
      d.running = this.run(d).finally(() => {
        d.running = undefined;
        const now = Date.now();
        d.due += d.plan.periodMs;
        if (d.due < now) d.due += Math.ceil((now - d.due) / d.plan.periodMs) * d.plan.periodMs; // overran: skip the missed slots
        this.arm(d);
      });
    }, Math.max(0, d.due - Date.now()));
    d.timer.unref?.();
  }

  private async run(d: Scheduled): Promise<void> {
    const ts = Date.now();
    const t0 = performance.now();
    let samples: Float64Array;
    let readings: Reading[];
    try {
      const link = this.opts.linkFor(d.bus);
      if (!link) throw new LifelineError(ErrorCodes.LinkDown, `bus ${d.bus.name} has no link`);
      samples = await readBurst(link, d.plan);
      // A burst whose samples are all equal is a logger that recorded nothing (or a frozen block): its "spectrum" is rounding noise.
      const first = samples[0];
      if (samples.every((v) => v === first)) throw new LifelineError(ErrorCodes.FrameInvalid, `burst: every sample is ${first} (nothing recorded)`);
      readings = burstReadings(d.device, ts, samples, d.analyzer);
    } catch (err) {
      if (this.stopped) return;
      this.fail(d, ts, err as Error);
      return;
    }
    if (this.stopped) return;
    // Modes the spectrum did not show still get a reading: Bad, so the series says so.
    const found = readings.length - 2;
    for (let i = found; i < d.plan.modes; i++) readings.push({ device: d.device, point: `natural_frequency_${i + 1}`, ts, value: NaN, quality: Quality.Bad });
    d.stats.bursts++;
    d.stats.lastReadMs = performance.now() - t0;
    if (d.stats.lastError) this.log.info({ device: d.device }, 'accelerometer burst read again');
    d.stats.lastError = '';
    this.events.emit('readings', readings);
    this.opts.keeper?.add(d.device, ts, d.plan.sampleRateHz, samples);
  }

  private fail(d: Scheduled, ts: number, err: Error): void {
    d.stats.failures++;
    const message = err.message;
    // Each different failure is logged once, not every period.
    if (message !== d.stats.lastError) this.log.warn({ device: d.device, err: message }, 'accelerometer burst failed; retried next period');
    d.stats.lastError = message;
    if (!(this.opts.answering?.(d.device) ?? true)) return;
    this.events.emit(
      'readings',
      burstPointNames(d.plan.modes).map((point) => ({ device: d.device, point, ts, value: NaN, quality: Quality.Bad })),
    );
  }
}
