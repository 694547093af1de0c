/**
 * The poll state machine every poller of the agent shares, whatever the
 * protocol: BusPoller (Modbus, poller.ts) and MeterPoller (DL/T 645 and
 * CJ/T 188, meter-poller.ts) only say how a read is sent, how its reply is
 * kept and what readings it makes; scheduling, retries, comm loss, probing
 * and the readings batch are decided here, so both behave alike by construction.
 *
 *   clock tick ─▶ poll: send every read of the device's plan (a probe: the first only)
 *                    │ reply (the subclass copies or decodes it) or error
 *                    ▼
 *   settle: Ok · Refused (alive, no value) · retry after a short, growing pause · Failed
 *                    │ (a device silent so far gives up its other reads of the poll: link.drop)
 *                    ▼ last read in
 *   pollDone: readings made now (the subclass's for answered reads, Bad for the rest)
 *             ─▶ bus.emit('readings'); comm lost once / answering again ─▶ bus.emit('comm');
 *             next poll put on the clock
 *
 * A device that stops answering is reported comm-lost once, then only probed
 * (first read, no retries) at a growing interval ({@link probeInterval}), so a
 * dead slave costs the rest of the bus a few percent of its time at most. A
 * link that comes back (USB adapter replugged, DTU reconnected) makes every
 * comm-lost device be probed at once.
 *
 * Polls run on the process's coarse clock (links/clock.ts): every device due
 * in one tick (50 ms) is polled in the same timer callback, so their requests
 * leave together and their replies come back together. A poll may start up to
 * one tick late; the next one is due one interval after the previous one was
 * due, so the cadence holds on average. A device polled faster than ten ticks
 * (500 ms) is polled at its exact due times instead.
 *
 * Nothing here allocates per request: reads, their callbacks and the clock
 * entry are made once per device when the poller starts, and a retry timer
 * gets the device and read as arguments. Readings are made only once the poll
 * is complete and emitted at once: nothing of a poll stays alive while its
 * requests are out. (Readings built as blocks came in, in an array held across
 * the poll, made V8 see that array's allocation site survive, "pretenure" it
 * into the old generation, and drag every reading there with it: at flat-out
 * the old generation filled with dead readings.)
 */
import { ErrorCodes, Quality, type LifelineError, type Reading } from '@lifeline/shared';
import type { Profile } from '@lifeline/devices';
import type { Bus, DeviceInstance } from '../config/schema.js';
import type { EventBus, Extension } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { LinkHooks } from '../links/index.js';
import { ClockEntry, sharedClock, type TickClock } from '../links/clock.js';

/** What became of one read within a poll. */
export const enum Outcome {
  Pending,
  Ok,
  /** The device answered with an error (Modbus exception, meter error reply): alive, but these points have no value. */
  Refused,
  /** No usable reply (timeout, CRC or checksum, framing, link down). */
  Failed,
}

/** One read of a device's plan (a Modbus block, a meter request), kept from poll to poll. */
export interface PolledRead {
  /** The points its reply serves: they get Bad readings when it brings no value. */
  readonly points: readonly { readonly name: string }[];
  /** Retries spent in this poll. */
  attempt: number;
  outcome: Outcome;
  /** Date.now() when its outcome was known: the readings' time. */
  ts: number;
}

/** One device as a poller keeps it: its plan and the state of its polls. */
export class PolledDevice<R extends PolledRead, K> {
  readonly id: string;
  readonly reads: R[] = [];
  /** Its place on the clock. */
  readonly entry: ClockEntry;
  /** Reads of the current poll still out. */
  pending = 0;
  /** Whether the current poll is a probe of a comm-lost device (first read only, no retries). */
  probe = false;
  /** The device has been silent through a read's retries in this poll: no more retries for its other reads. */
  givenUp = false;
  /** performance.now() when the current poll ran: a comm-lost device's backoff counts from it. */
  startedAt = 0;
  /** performance.now() the current (or next) poll was due: the cadence is kept from it, not from when it ran. */
  due = 0;
  lost = false;
  /** Consecutive polls without any reply. */
  failures = 0;
  /** Polls that got no reply at all, since start (with `polls`: the success rate `lifeline watch` shows). */
  failedPolls = 0;
  /** How long the last poll took from its start to its last reply or timeout, ms. */
  lastPollMs = 0;
  lastError = '';
  /** The last refusal logged (each different one is logged once). */
  lastRefusal = '';
  /** Polls completed with at least one reply (for stats). */
  polls = 0;
  /** Newest reading time it has handed on: the next poll's readings are stamped after it. */
  lastTs = 0;

  constructor(
    readonly instance: DeviceInstance,
    /** What the link queues its requests by: the Modbus unit id, the meter address. */
    readonly key: K,
    readonly pollMs: number,
    poll: (d: PolledDevice<R, K>) => void,
  ) {
    this.id = instance.id;
    this.entry = new ClockEntry(() => poll(this));
  }
}

/** What the state machine needs of a link (Modbus and meter links alike). */
export interface PollLink<K> {
  readonly where: string;
  /** Fail the requests queued (not yet sent) for one device. */
  drop(key: K, err: LifelineError): void;
  close(): Promise<void>;
}

/** Tuning common to every poller (defaults suit a field bus). */
export interface PollTuning {
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
  /** Polls that got no reply at all, since start. */
  failedPolls: number;
  /** Duration of the last poll, ms (its requests to their last reply or timeout). */
  lastPollMs: number;
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

/**
 * The time of a read's outcome, never at or before the device's last handed-on
 * reading: after an overrun the next poll follows at once and may finish in the
 * same millisecond, and a point's readings must not share a timestamp (the
 * cloud and every consumer key a series by time).
 */
function stamp(d: { lastTs: number }): number {
  const now = Date.now();
  return now > d.lastTs ? now : d.lastTs + 1;
}

/**
 * Polls the devices of one bus. A subclass opens the link, plans each
 * device's reads, sends one read, and makes the readings of an answered one;
 * its reads' reply callbacks keep what they need of the reply, then call
 * {@link settle}.
 */
export abstract class DevicePoller<R extends PolledRead, K, L extends PollLink<K>> implements Extension {
  protected devices: PolledDevice<R, K>[] = [];
  protected stopped = false;
  protected link?: L;
  private readonly retries: number;
  private readonly maxBackoffMs: number;
  private readonly retryDelayMs: number;
  private readonly clock: TickClock;
  private readonly pollBound = (d: PolledDevice<R, K>) => this.poll(d);
  private readonly retryBound = (d: PolledDevice<R, K>, r: R) => {
    if (!this.stopped) this.send(d, r);
  };

  constructor(
    protected readonly bus: Readonly<Bus>,
    protected readonly profiles: ReadonlyMap<string, Readonly<Profile>>,
    protected readonly events: EventBus,
    protected readonly log: Logger,
    protected readonly opts: PollTuning & { link?: (hooks: LinkHooks) => L } = {},
  ) {
    this.retries = bus.retries ?? 1;
    this.maxBackoffMs = opts.maxBackoffMs ?? Math.max(30_000, 20 * bus.timeoutMs);
    this.retryDelayMs = opts.retryDelayMs ?? 20;
    this.clock = opts.clock ?? sharedClock;
  }

  /** Make the bus's link (`opts.link`'s, or one from the bus config), wired to `hooks`. */
  protected abstract openLink(hooks: LinkHooks): L;
  /** The device's link key, or undefined (after a warning) when this poller cannot poll it. */
  protected abstract keyOf(instance: DeviceInstance, profile: Readonly<Profile>): K | undefined;
  /** Push the device's reads into `d.reads`. */
  protected abstract plan(d: PolledDevice<R, K>, profile: Readonly<Profile>): void;
  /** Submit one read to the link. */
  protected abstract send(d: PolledDevice<R, K>, r: R): void;
  /** Push the readings of an answered read into `out`. */
  protected abstract readingsOf(d: PolledDevice<R, K>, r: R, out: Reading[]): void;

  async start(): Promise<void> {
    const hooks: LinkHooks = {
      onUp: () => this.linkUp(),
      onDown: (reason) => this.log.warn({ link: this.link?.where, reason }, 'bus link down; reopening'),
    };
    this.link = this.openLink(hooks);
    this.devices = [];
    for (const instance of this.bus.devices) {
      const profile = this.profiles.get(instance.id);
      if (!profile) throw new Error(`no profile loaded for device ${instance.id}`);
      const key = this.keyOf(instance, profile);
      if (key === undefined) continue;
      const d = new PolledDevice<R, K>(instance, key, this.opts.pollMs ?? instance.pollMs ?? profile.defaultPollMs, this.pollBound);
      this.plan(d, profile);
      if (d.reads.length > 0) this.devices.push(d);
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
    return this.devices.map((d) => ({ device: d.id, polls: d.polls, lost: d.lost, failures: d.failures, failedPolls: d.failedPolls, lastPollMs: d.lastPollMs, lastError: d.lastError }));
  }

  /** Poll `d` in `delay` ms, on the clock's next tick from then (at once for 0). */
  private schedule(d: PolledDevice<R, K>, delay: number): void {
    if (this.stopped) return;
    d.due = performance.now() + delay;
    this.clock.schedule(d.entry, d.due, this.clock.wantsExact(d.pollMs));
  }

  private poll(d: PolledDevice<R, K>): void {
    if (this.stopped || d.pending > 0) return;
    d.startedAt = performance.now();
    d.probe = d.lost;
    d.givenUp = false;
    const n = d.probe ? 1 : d.reads.length;
    d.pending = n;
    for (let i = 0; i < n; i++) {
      const r = d.reads[i];
      r.attempt = 0;
      r.outcome = Outcome.Pending;
    }
    for (let i = 0; i < n; i++) this.send(d, d.reads[i]);
  }

  /** A read's reply is in (`err` null: the subclass has kept what it needs) or it failed. */
  protected settle(d: PolledDevice<R, K>, r: R, err: LifelineError | null): void {
    if (this.stopped) return;
    if (err === null) {
      r.outcome = Outcome.Ok;
      r.ts = stamp(d);
    } else if (err.code === ErrorCodes.DeviceException) {
      r.outcome = Outcome.Refused;
      r.ts = stamp(d);
      if (err.message !== d.lastRefusal) {
        d.lastRefusal = err.message;
        this.log.warn({ device: d.id, err: err.message }, 'device refused a read');
      }
    } else if (!d.probe && !d.givenUp && r.attempt < this.retries && err.code !== ErrorCodes.LinkDown) {
      // Timeout, CRC, checksum or framing error: retry after a short, growing pause.
      const delay = this.retryDelayMs << r.attempt;
      r.attempt++;
      setTimeout(this.retryBound, delay, d, r);
      return;
    } else {
      r.outcome = Outcome.Failed;
      r.ts = stamp(d);
      d.lastError = err.message;
      // Silent so far in this poll: its other queued reads would only hold the bus for more timeouts.
      if (err.code === ErrorCodes.DeviceTimeout && !d.givenUp && !this.answeredSoFar(d)) {
        d.givenUp = true;
        if (d.pending > 1) this.link!.drop(d.key, err);
      }
    }
    if (--d.pending === 0) this.pollDone(d);
  }

  private answeredSoFar(d: PolledDevice<R, K>): boolean {
    for (const r of d.reads) if (r.outcome === Outcome.Ok || r.outcome === Outcome.Refused) return true;
    return false;
  }

  /** Points of a read the device refused (or did not answer while others did): Bad quality, no value. */
  private badReadings(d: PolledDevice<R, K>, r: R, out: Reading[]): void {
    const ts = r.ts;
    for (const p of r.points) out.push({ device: d.id, point: p.name, ts, value: NaN, quality: Quality.Bad });
  }

  private pollDone(d: PolledDevice<R, K>): void {
    d.lastPollMs = performance.now() - d.startedAt;
    let answered = 0;
    const n = d.probe ? 1 : d.reads.length;
    for (let i = 0; i < n; i++) if (d.reads[i].outcome !== Outcome.Failed) answered++;
    if (answered > 0) {
      d.polls++;
      const readings: Reading[] = [];
      for (let i = 0; i < n; i++) {
        const r = d.reads[i];
        if (r.outcome === Outcome.Ok) this.readingsOf(d, r, readings);
        else this.badReadings(d, r, readings);
        if (r.ts > d.lastTs) d.lastTs = r.ts;
      }
      const wasProbe = d.probe;
      if (d.lost) {
        d.lost = false;
        this.log.info({ device: d.id }, 'device answering again');
        this.events.emit('comm', { device: d.id, ok: true, ts: Date.now() });
      }
      d.failures = 0;
      if (readings.length) this.events.emit('readings', readings);
      // A successful probe made one read only: poll the whole device now.
      this.schedule(d, wasProbe ? 0 : this.nextDelay(d, d.pollMs));
      return;
    }
    d.failures++;
    d.failedPolls++;
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
  private nextDelay(d: PolledDevice<R, K>, interval: number): number {
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
