/**
 * The poller owns intervals, read plans, retries and degradation. One
 * BusPoller per bus; its link decides how requests share the wire (pipelined
 * on TCP, one at a time and round-robin across units on RTU).
 *
 *   clock tick ─▶ every block of the device's read plan ─submit─▶ link
 *                                                             │ done(frame range)
 *                                   registers copied into the block's own array (+ arrival time)
 *                                                             │ last block in
 *   bus.emit('readings') ◀─ decodeBlock, every block ◀───────┘
 *
 * A device that stops answering is reported comm-lost once, then only probed
 * (first block, no retries) at a growing interval, so a dead slave costs the
 * rest of the bus a few percent of its time at most. A link that comes back
 * (USB adapter replugged, DTU reconnected) makes every comm-lost device be
 * probed at once.
 *
 * Polls run on the process's coarse clock (links/clock.ts): every device due
 * in one tick (50 ms) is polled in the same timer callback, so their requests
 * leave together and their replies come back together. A poll may start up to
 * one tick late; the next one is due one interval after the previous one was
 * due, so the cadence holds on average. A device polled faster than ten ticks
 * (500 ms) is polled at its exact due times instead.
 *
 * The hot path allocates per poll, not per request: the readings array and the
 * readings themselves. Request objects, register arrays, callbacks and clock
 * entries are made once per device or block when the poller starts. Readings
 * are made only once the poll is complete, and emitted at once: nothing of a
 * poll stays alive while its requests are out. (Readings built as blocks came
 * in, in an array held across the poll, made V8 see that array's allocation
 * site survive, "pretenure" it into the old generation, and drag every reading
 * there with it: at flat-out the old generation filled with dead readings.)
 */
import { ErrorCodes, Quality, type LifelineError, type Reading } from '@lifeline/shared';
import type { ModbusRequest } from '@lifeline/shared/protocols';
import { isModbusProfile, type Profile, type RegisterTable } from '@lifeline/devices';
import type { Bus, DeviceInstance } from '../config/schema.js';
import type { EventBus, Extension } from '../agent/event-bus.js';
import type { Logger } from '../log.js';
import { copyBits, copyRegisters, createLink, type FrameDone, type LinkHooks, type ModbusLink } from '../links/index.js';
import { ClockEntry, sharedClock, type TickClock } from '../links/clock.js';
import { planReads, type ReadBlock } from './plan.js';
import { decodeBlock } from './decode.js';

const FUNCTION_OF: Record<RegisterTable, 1 | 2 | 3 | 4> = { coil: 1, discrete: 2, holding: 3, input: 4 };

/** Block outcome within one poll. */
const enum Outcome {
  Pending,
  Ok,
  /** The device answered with a Modbus exception: alive, but these points have no value. */
  Exception,
  /** No usable reply (timeout, CRC, link down). */
  Failed,
}

interface BlockState {
  readonly block: ReadBlock;
  readonly req: ModbusRequest & { quantity: number };
  readonly words: Uint16Array;
  readonly bits: boolean;
  readonly done: FrameDone;
  readonly retry: () => void;
  attempt: number;
  outcome: Outcome;
  /** Date.now() when its outcome was known: the readings' time. */
  ts: number;
}

interface PolledDevice {
  readonly instance: DeviceInstance;
  readonly id: string;
  readonly unit: number;
  readonly pollMs: number;
  readonly blocks: BlockState[];
  /** Its place on the clock. */
  readonly entry: ClockEntry;
  /** Blocks of the current poll still out. */
  pending: number;
  /** Whether the current poll is a probe of a comm-lost device (first block only, no retries). */
  probe: boolean;
  /** The device has been silent through a block's retries in this poll: no more retries for its other blocks. */
  givenUp: boolean;
  /** performance.now() when the current poll ran: a comm-lost device's backoff counts from it. */
  startedAt: number;
  /** performance.now() the current (or next) poll was due: the cadence is kept from it, not from when it ran. */
  due: number;
  lost: boolean;
  /** Consecutive polls without any reply. */
  failures: number;
  lastError: string;
  lastException: string;
  /** Polls completed with at least one reply (for stats). */
  polls: number;
}

/** Tuning of a BusPoller (defaults suit a field bus). */
export interface PollerOptions {
  /** Make the link instead of creating one from the bus config (tests, benchmarks); wire `hooks` to it. */
  link?: (hooks: LinkHooks) => ModbusLink;
  /** Longest interval between probes of a comm-lost device, ms (default max(30 s, 20 × timeout)). */
  maxBackoffMs?: number;
  /** First retry delay of a failed request, ms; doubles per retry (default 20). */
  retryDelayMs?: number;
  /** Override every device's poll interval (benchmarks: 0 polls flat-out). */
  pollMs?: number;
  /** The clock polls run on (default: the process's shared clock). */
  clock?: TickClock;
}

/** Per-device counters, for commands and benchmarks. */
export interface DevicePollStats {
  device: string;
  polls: number;
  lost: boolean;
  failures: number;
  lastError: string;
}

/**
 * When to probe a comm-lost device again, ms after the last poll started.
 * Probes come less and less often: the first waits at least ten timeouts, so
 * even then a dead slave holds the bus a tenth of the time at most; later ones
 * halve that, up to `maxBackoffMs`.
 */
export function probeInterval(pollMs: number, timeoutMs: number, failures: number, maxBackoffMs: number): number {
  const first = Math.max(pollMs, 10 * timeoutMs);
  return Math.min(maxBackoffMs, first * 2 ** Math.min(failures - 1, 16));
}

/** Polls the devices of one bus. */
export class BusPoller implements Extension {
  private devices: PolledDevice[] = [];
  private stopped = false;
  private link?: ModbusLink;
  private readonly retries: number;
  private readonly maxBackoffMs: number;
  private readonly retryDelayMs: number;
  private readonly clock: TickClock;

  constructor(
    private readonly bus: Readonly<Bus>,
    private readonly profiles: ReadonlyMap<string, Readonly<Profile>>,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly opts: PollerOptions = {},
  ) {
    this.retries = bus.retries ?? 1;
    this.maxBackoffMs = opts.maxBackoffMs ?? Math.max(30_000, 20 * bus.timeoutMs);
    this.retryDelayMs = opts.retryDelayMs ?? 20;
    this.clock = opts.clock ?? sharedClock;
  }

  /** The bus's link once started: writes to its devices go through it (one request in flight on a serial bus). */
  get busLink(): ModbusLink | undefined {
    return this.link;
  }

  async start(): Promise<void> {
    const hooks: LinkHooks = {
      onUp: () => this.linkUp(),
      onDown: (reason) => this.log.warn({ link: this.link?.where, reason }, 'bus link down; reopening'),
    };
    this.link = this.opts.link ? this.opts.link(hooks) : createLink(this.bus, hooks);
    this.devices = [];
    for (const instance of this.bus.devices) {
      const d = this.prepare(instance);
      if (d && d.blocks.length > 0) this.devices.push(d);
    }
    // Spread the first polls a little so devices with equal intervals do not all fire together.
    this.devices.forEach((d, i) => this.schedule(d, Math.min(i, 50)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.devices) this.clock.cancel(d.entry);
    await this.link?.close();
  }

  /** Counters per device. */
  stats(): DevicePollStats[] {
    return this.devices.map((d) => ({ device: d.id, polls: d.polls, lost: d.lost, failures: d.failures, lastError: d.lastError }));
  }

  private prepare(instance: DeviceInstance): PolledDevice | null {
    const profile = this.profiles.get(instance.id);
    if (!profile) throw new Error(`no profile loaded for device ${instance.id}`);
    // The config loader refuses both; a poller built by hand gets a warning instead of a crash.
    if (!isModbusProfile(profile) || instance.unit === undefined) {
      this.log.warn({ device: instance.id, protocol: profile.protocol }, 'not a Modbus device with a unit id (meters are polled on a meter bus); device skipped');
      return null;
    }
    const unit = instance.unit;
    const d: PolledDevice = {
      instance,
      id: instance.id,
      unit,
      pollMs: this.opts.pollMs ?? instance.pollMs ?? profile.defaultPollMs,
      blocks: [],
      entry: new ClockEntry(() => this.poll(d)),
      pending: 0,
      probe: false,
      givenUp: false,
      startedAt: 0,
      due: 0,
      lost: false,
      failures: 0,
      lastError: '',
      lastException: '',
      polls: 0,
    };
    for (const block of planReads(profile)) {
      const bits = block.table === 'coil' || block.table === 'discrete';
      const req = { functionCode: FUNCTION_OF[block.table], address: block.start, quantity: block.count };
      const words = new Uint16Array(block.count);
      const b: BlockState = {
        block,
        req,
        words,
        bits,
        attempt: 0,
        outcome: Outcome.Pending,
        ts: 0,
        done: (err, frame, pduStart) => this.blockDone(d, b, err, frame, pduStart),
        retry: () => {
          if (!this.stopped) this.link!.submit(d.unit, req, b.done);
        },
      };
      d.blocks.push(b);
    }
    return d;
  }

  /** Poll `d` in `delay` ms, on the clock's next tick from then (at once for 0). */
  private schedule(d: PolledDevice, delay: number): void {
    if (this.stopped) return;
    d.due = performance.now() + delay;
    this.clock.schedule(d.entry, d.due, this.clock.wantsExact(d.pollMs));
  }

  private poll(d: PolledDevice): void {
    if (this.stopped || d.pending > 0) return;
    d.startedAt = performance.now();
    d.probe = d.lost;
    d.givenUp = false;
    const n = d.probe ? 1 : d.blocks.length;
    d.pending = n;
    for (let i = 0; i < n; i++) {
      const b = d.blocks[i];
      b.attempt = 0;
      b.outcome = Outcome.Pending;
    }
    for (let i = 0; i < n; i++) {
      const b = d.blocks[i];
      this.link!.submit(d.unit, b.req, b.done);
    }
  }

  private blockDone(d: PolledDevice, b: BlockState, err: LifelineError | null, frame: Uint8Array, pduStart: number): void {
    if (this.stopped) return;
    if (err === null) {
      if (b.bits) copyBits(frame, pduStart, b.req.quantity, b.words);
      else copyRegisters(frame, pduStart, b.req.quantity, b.words);
      b.outcome = Outcome.Ok;
      b.ts = Date.now();
    } else if (err.code === ErrorCodes.DeviceException) {
      b.outcome = Outcome.Exception;
      b.ts = Date.now();
      if (err.message !== d.lastException) {
        d.lastException = err.message;
        this.log.warn({ device: d.id, err: err.message }, 'device refused a read');
      }
    } else if (!d.probe && !d.givenUp && b.attempt < this.retries && err.code !== ErrorCodes.LinkDown) {
      // Timeout, CRC or framing error: retry after a short, growing pause.
      const delay = this.retryDelayMs << b.attempt;
      b.attempt++;
      setTimeout(b.retry, delay);
      return;
    } else {
      b.outcome = Outcome.Failed;
      b.ts = Date.now();
      d.lastError = err.message;
      // Silent so far in this poll: its other queued reads would only hold the bus for more timeouts.
      if (err.code === ErrorCodes.DeviceTimeout && !d.givenUp && !this.answeredSoFar(d)) {
        d.givenUp = true;
        if (d.pending > 1) this.link!.drop(d.unit, err);
      }
    }
    if (--d.pending === 0) this.pollDone(d);
  }

  private answeredSoFar(d: PolledDevice): boolean {
    for (const b of d.blocks) if (b.outcome === Outcome.Ok || b.outcome === Outcome.Exception) return true;
    return false;
  }

  /** Points of a block the device refused (or did not answer while others did): Bad quality, no value. */
  private badReadings(d: PolledDevice, b: BlockState, out: Reading[]): void {
    const ts = b.ts;
    for (const { point } of b.block.points) out.push({ device: d.id, point: point.name, ts, value: NaN, quality: Quality.Bad });
  }

  private pollDone(d: PolledDevice): void {
    let answered = 0;
    const n = d.probe ? 1 : d.blocks.length;
    for (let i = 0; i < n; i++) if (d.blocks[i].outcome !== Outcome.Failed) answered++;
    if (answered > 0) {
      d.polls++;
      const readings: Reading[] = [];
      for (let i = 0; i < n; i++) {
        const b = d.blocks[i];
        if (b.outcome === Outcome.Ok) decodeBlock(d.id, b.block, b.words, b.ts, readings);
        else this.badReadings(d, b, readings);
      }
      const wasProbe = d.probe;
      if (d.lost) {
        d.lost = false;
        this.log.info({ device: d.id }, 'device answering again');
        this.events.emit('comm', { device: d.id, ok: true, ts: Date.now() });
      }
      d.failures = 0;
      if (readings.length) this.events.emit('readings', readings);
      // A successful probe read one block only: poll the whole device now.
      this.schedule(d, wasProbe ? 0 : this.nextDelay(d, d.pollMs));
      return;
    }
    d.failures++;
    if (!d.lost) {
      d.lost = true;
      this.log.warn({ device: d.id, err: d.lastError }, 'device not answering');
      this.events.emit('comm', { device: d.id, ok: false, error: d.lastError, ts: Date.now() });
    }
    this.schedule(d, this.nextDelay(d, probeInterval(d.pollMs, this.bus.timeoutMs, d.failures, this.maxBackoffMs)));
  }

  /**
   * Keep the cadence: the next poll is due `interval` after this one was due
   * (not after it ran, which is up to a tick later). A poll that overran its
   * interval is followed at once, without catching up the ones missed. A
   * comm-lost device's backoff counts from when the failed poll ran, so a
   * late poll never brings the next probe of a dead slave closer to it.
   */
  private nextDelay(d: PolledDevice, interval: number): number {
    const delay = (d.lost ? d.startedAt : d.due) + interval - performance.now();
    return delay > 0 ? delay : 0;
  }

  /** The link (re)opened: probe every comm-lost device now instead of at its backoff time. */
  private linkUp(): void {
    this.log.info({ link: this.link?.where }, 'bus link up');
    for (const d of this.devices) {
      if (!d.lost || d.pending > 0) continue;
      d.failures = 0;
      this.schedule(d, 0);
    }
  }
}
