/**
 * Polls the DL/T 645 or CJ/T 188 meters of one meter bus, with BusPoller's
 * policy and events, so detectors, buffer and sync see meters as they see
 * Modbus devices.
 *
 *   timer ─▶ every read of the meter's plan (meter-plan.ts) ─submit─▶ MeterLink (one in flight per bus)
 *                                                                        │ done(reply frame)
 *   bus.emit('readings') ◀─ last read in ◀─ MeterRead.decode ◀───────────┘
 *
 * Retries: a timeout or garbled reply is retried after a short, growing
 * pause (`retries` per read, per poll). An error reply (DL/T 645 0xD1,
 * CJ/T 188 abnormal) means the meter is alive but has no value: its points
 * are Bad, no retry. A meter silent through a read's retries is given up for
 * the rest of the poll; after a poll without any reply it is reported
 * comm-lost once ('comm' event) and then only probed (first read, no
 * retries) at the growing interval of {@link probeInterval}. A link that
 * comes back makes every comm-lost meter be probed at once.
 */
import { ErrorCodes, Quality, type LifelineError, type Reading } from '@lifeline/shared';
import type { MeterProfile, Profile } from '@lifeline/devices';
import type { Bus, DeviceInstance } from '../config/schema.js';
import type { EventBus, Extension } from '../agent/event-bus.js';
import type { Logger } from '../log.js';
import { createMeterLink, type LinkHooks, type MeterDone, type MeterLink, type MeterProtocol } from '../links/index.js';
import { planMeterReads, type MeterRead } from './meter-plan.js';
import { probeInterval, type DevicePollStats, type PollerOptions } from './poller.js';

const enum Outcome {
  Pending,
  Ok,
  /** The meter answered with an error reply: alive, but these points have no value. */
  Refused,
  /** No usable reply (timeout, checksum, link down). */
  Failed,
}

interface ReadState {
  readonly read: MeterRead;
  readonly done: MeterDone;
  readonly retry: () => void;
  attempt: number;
  outcome: Outcome;
}

interface PolledMeter {
  readonly instance: DeviceInstance;
  readonly id: string;
  readonly address: string;
  readonly pollMs: number;
  readonly reads: ReadState[];
  readonly pollNow: () => void;
  pending: number;
  probe: boolean;
  givenUp: boolean;
  startedAt: number;
  readings: Reading[];
  lost: boolean;
  failures: number;
  lastError: string;
  lastRefusal: string;
  lastNote: string;
  timer?: NodeJS.Timeout;
  polls: number;
}

/** Tuning of a MeterPoller: BusPoller's, with a meter link in place of a Modbus one. */
export interface MeterPollerOptions extends Omit<PollerOptions, 'link'> {
  /** Make the link instead of creating one from the bus config (tests); wire `hooks` to it. */
  link?: (hooks: LinkHooks) => MeterLink;
}

/** Polls the meters of one bus (link meter or meter-over-tcp). */
export class MeterPoller implements Extension {
  private meters: PolledMeter[] = [];
  private stopped = false;
  private link?: MeterLink;
  private readonly retries: number;
  private readonly maxBackoffMs: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly bus: Readonly<Bus>,
    private readonly profiles: ReadonlyMap<string, Readonly<Profile>>,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly opts: MeterPollerOptions = {},
  ) {
    this.retries = bus.retries ?? 1;
    this.maxBackoffMs = opts.maxBackoffMs ?? Math.max(30_000, 20 * bus.timeoutMs);
    this.retryDelayMs = opts.retryDelayMs ?? 20;
  }

  async start(): Promise<void> {
    const hooks: LinkHooks = {
      onUp: () => this.linkUp(),
      onDown: (reason) => this.log.warn({ link: this.link?.where, reason }, 'bus link down; reopening'),
    };
    const first = this.profiles.get(this.bus.devices[0]?.id ?? '');
    if (!first || first.protocol === 'modbus') throw new Error(`bus ${this.bus.name}: a meter bus needs meter profiles (dlt645 or cjt188)`);
    const protocol: MeterProtocol = first.protocol;
    this.link = this.opts.link ? this.opts.link(hooks) : createMeterLink(this.bus, protocol, first, hooks);
    this.meters = [];
    for (const instance of this.bus.devices) {
      const m = this.prepare(instance, protocol);
      if (m) this.meters.push(m);
    }
    this.meters.forEach((m, i) => this.schedule(m, Math.min(i, 50)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const m of this.meters) clearTimeout(m.timer);
    await this.link?.close();
  }

  /** Counters per meter. */
  stats(): DevicePollStats[] {
    return this.meters.map((m) => ({ device: m.id, polls: m.polls, lost: m.lost, failures: m.failures, lastError: m.lastError }));
  }

  private prepare(instance: DeviceInstance, protocol: MeterProtocol): PolledMeter | null {
    const profile = this.profiles.get(instance.id);
    if (!profile) throw new Error(`no profile loaded for device ${instance.id}`);
    // The config loader refuses these; a poller built by hand gets a warning instead of a crash.
    if (profile.protocol !== protocol || instance.address === undefined) {
      this.log.warn({ device: instance.id, protocol: profile.protocol }, `not a ${protocol} meter with an address; device skipped`);
      return null;
    }
    const m: PolledMeter = {
      instance,
      id: instance.id,
      address: instance.address,
      pollMs: this.opts.pollMs ?? instance.pollMs ?? profile.defaultPollMs,
      reads: [],
      pollNow: () => this.poll(m),
      pending: 0,
      probe: false,
      givenUp: false,
      startedAt: 0,
      readings: [],
      lost: false,
      failures: 0,
      lastError: '',
      lastRefusal: '',
      lastNote: '',
      polls: 0,
    };
    for (const read of planMeterReads(profile as Readonly<MeterProfile>, instance.address, { gapMs: instance.gapMs })) {
      const s: ReadState = {
        read,
        attempt: 0,
        outcome: Outcome.Pending,
        done: (err, reply) => this.readDone(m, s, err, reply),
        retry: () => {
          if (!this.stopped) this.link!.submit(read.req, s.done);
        },
      };
      m.reads.push(s);
    }
    return m;
  }

  private schedule(m: PolledMeter, delay: number): void {
    if (this.stopped) return;
    clearTimeout(m.timer);
    m.timer = setTimeout(m.pollNow, delay);
  }

  private poll(m: PolledMeter): void {
    if (this.stopped || m.pending > 0) return;
    m.startedAt = Date.now();
    m.readings = [];
    m.probe = m.lost;
    m.givenUp = false;
    const n = m.probe ? 1 : m.reads.length;
    m.pending = n;
    for (let i = 0; i < n; i++) {
      m.reads[i].attempt = 0;
      m.reads[i].outcome = Outcome.Pending;
    }
    for (let i = 0; i < n; i++) this.link!.submit(m.reads[i].read.req, m.reads[i].done);
  }

  private readDone(m: PolledMeter, s: ReadState, err: LifelineError | null, reply: Uint8Array): void {
    if (this.stopped) return;
    if (err === null) {
      try {
        this.decode(m, s, reply);
        s.outcome = Outcome.Ok;
      } catch (e) {
        err = e as LifelineError;
      }
    }
    if (err === null) {
      // decoded above
    } else if (err.code === ErrorCodes.DeviceException) {
      s.outcome = Outcome.Refused;
      this.badReadings(m, s);
      if (err.message !== m.lastRefusal) {
        m.lastRefusal = err.message;
        this.log.warn({ device: m.id, err: err.message }, 'meter refused a read');
      }
    } else if (!m.probe && !m.givenUp && s.attempt < this.retries && err.code !== ErrorCodes.LinkDown) {
      // Timeout, checksum or framing error: retry after a short, growing pause.
      const delay = this.retryDelayMs << s.attempt;
      s.attempt++;
      setTimeout(s.retry, delay);
      return;
    } else {
      s.outcome = Outcome.Failed;
      m.lastError = err.message;
      // Silent so far in this poll: its other queued reads would only hold the bus for more timeouts.
      if (err.code === ErrorCodes.DeviceTimeout && !m.givenUp && !this.answeredSoFar(m)) {
        m.givenUp = true;
        if (m.pending > 1) this.link!.drop(m.address, err);
      }
    }
    if (--m.pending === 0) this.pollDone(m);
  }

  /** Readings of one reply; throws what the decoder throws (FRAME_INVALID, DEVICE_EXCEPTION). */
  private decode(m: PolledMeter, s: ReadState, reply: Uint8Array): void {
    const ts = Date.now();
    for (const v of s.read.decode(reply)) {
      const r: Reading = { device: m.id, point: v.point.name, ts, value: v.value };
      if (v.quality !== undefined) {
        r.quality = v.quality;
        const note = `${v.point.name}: ${v.note}`;
        if (v.quality === Quality.Bad && note !== m.lastNote) {
          m.lastNote = note;
          this.log.warn({ device: m.id, point: v.point.name, why: v.note }, 'meter gave no value for a point');
        }
      }
      m.readings.push(r);
    }
  }

  private answeredSoFar(m: PolledMeter): boolean {
    for (const s of m.reads) if (s.outcome === Outcome.Ok || s.outcome === Outcome.Refused) return true;
    return false;
  }

  private badReadings(m: PolledMeter, s: ReadState): void {
    const ts = Date.now();
    for (const p of s.read.points) m.readings.push({ device: m.id, point: p.name, ts, value: NaN, quality: Quality.Bad });
  }

  private pollDone(m: PolledMeter): void {
    const n = m.probe ? 1 : m.reads.length;
    let answered = 0;
    for (let i = 0; i < n; i++) if (m.reads[i].outcome !== Outcome.Failed) answered++;
    if (answered > 0) {
      m.polls++;
      if (answered < n) for (let i = 0; i < n; i++) if (m.reads[i].outcome === Outcome.Failed) this.badReadings(m, m.reads[i]);
      const wasProbe = m.probe;
      if (m.lost) {
        m.lost = false;
        this.log.info({ device: m.id }, 'device answering again');
        this.events.emit('comm', { device: m.id, ok: true, ts: Date.now() });
      }
      m.failures = 0;
      if (m.readings.length) this.events.emit('readings', m.readings);
      // A successful probe read one point only: poll the whole meter now.
      this.schedule(m, wasProbe ? 0 : this.nextDelay(m, m.pollMs));
      return;
    }
    m.failures++;
    if (!m.lost) {
      m.lost = true;
      this.log.warn({ device: m.id, err: m.lastError }, 'device not answering');
      this.events.emit('comm', { device: m.id, ok: false, error: m.lastError, ts: Date.now() });
    }
    this.schedule(m, this.nextDelay(m, probeInterval(m.pollMs, this.bus.timeoutMs, m.failures, this.maxBackoffMs)));
  }

  private nextDelay(m: PolledMeter, interval: number): number {
    const delay = interval - (Date.now() - m.startedAt);
    return delay > 0 ? delay : 0;
  }

  private linkUp(): void {
    this.log.info({ link: this.link?.where }, 'bus link up');
    for (const m of this.meters) {
      if (!m.lost || m.pending > 0) continue;
      m.failures = 0;
      this.schedule(m, 0);
    }
  }
}
