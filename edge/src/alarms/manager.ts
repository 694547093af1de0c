/**
 * The alarm manager, after ISA-18.2 / IEC 62682: one alarm per (device, point,
 * detector), moved through its lifecycle by the detectors (condition) and by
 * operators (acknowledge, shelve), with chattering and flood suppression.
 *
 *                 condition                    ack
 *     normal ───────────────▶ active_unacked ─────────▶ active_acked
 *       ▲  ▲                   │      ▲  ▲ escalation      │
 *       │  │ ack               │clear │  └─────────────────┤
 *       │  └── cleared_unacked ◀┘      │ condition          │ clear
 *       │           └──────────────────┘                    │
 *       └───────────────────────────────────────────────────┘
 *
 *   shelved (operator, with expiry) and suppressed (chattering, alarm flood) cover
 *   that machine: underneath, the base state keeps following the condition (changes
 *   are logged locally, not sent); on release the alarm shows its base state.
 *
 *   onCondition ─▶ listeners (actions switch outputs) ─▶ record + alarm_log (one
 *   transaction) ─▶ event lane (synchronous=FULL, ahead of telemetry)
 *
 * Outputs are switched first: the beacon must not wait for the disk (a WAL
 * checkpoint can take milliseconds). Record and event follow in the same
 * synchronous tick. A kill -9 inside that tick loses a transition that had not
 * been recorded yet; the restarted detectors raise it again. A transition
 * recorded but not yet queued is queued at the next start.
 */
import { AlarmLevel, ErrorCodes, LifelineError, type AlarmState, type AlarmTransition } from '@lifeline/shared';
import type { EdgeBuffer } from '../buffer/buffer.js';
import type { AlarmStore } from './store.js';
import { describeLevel } from '../detect/levels.js';
import type { Logger } from '../log.js';
import type { ResolvedAlarmsConfig } from './config.js';
import { formatDuration } from './duration.js';
import type { AlarmLogEntry, AlarmRecord } from './types.js';

/** Where transitions go for the cloud: the buffer's event lane. */
export interface EventSink {
  /** The seq the next appended event will get. */
  nextSeq(): number;
  /** Queues one alarm transition; returns its seq. */
  append(ts: number, body: Omit<AlarmTransition, 'seq'>): number;
}

/** The event lane of an EdgeBuffer as an EventSink. */
export function bufferSink(buffer: EdgeBuffer): EventSink {
  return {
    nextSeq: () => buffer.lastWritten('events') + 1,
    append: (ts, body) => buffer.appendEvent(ts, 'alarm', body),
  };
}

/** A detector's (or the bus layer's) condition for one alarm. */
export interface ConditionInput {
  /** `<device>/<point>/<detector>`, or a multivariate detector's id. */
  alarmId: string;
  device: string;
  point: string;
  /** Detector kind, e.g. `threshold`, `comm_loss`. */
  detector: string;
  /** When the condition changed (reading time, epoch ms). */
  ts: number;
  /** The level now; Normal when the condition has cleared. */
  level: AlarmLevel;
  value: number | null;
  cause: string;
  /**
   * A clear that withdraws a provisional raise (a multivariate detector's yellow watch that its
   * alarm did not confirm): back to normal at once, no acknowledgement asked, unless the alarm had
   * been higher in the same unacknowledged episode (that episode still wants its acknowledgement).
   */
  withdrawn?: boolean;
}

/** Told of every change of every alarm: the record after it, and the log entry. */
export type AlarmListener = (alarm: Readonly<AlarmRecord>, entry: Readonly<AlarmLogEntry>) => void;

/** Answer to an operator action. */
export interface OperatorResult {
  alarm: AlarmRecord;
  /** False when there was nothing to do (e.g. acknowledging an acknowledged alarm). */
  changed: boolean;
  message: string;
}

/** What the manager needs. */
export interface AlarmManagerOptions {
  /** Gateway id: the flood summary alarm is `<gateway>/alarms/flood`. */
  gateway: string;
  config: ResolvedAlarmsConfig;
  store: AlarmStore;
  sink: EventSink;
  /** Operator actions and expiry use this clock (tests inject one); default Date.now. */
  clock?: () => number;
  log?: Logger;
}

interface FloodState {
  active: boolean;
  /** Raise times within the window. */
  raises: number[];
  /** Raises since the flood began. */
  total: number;
}

const CAUSE_MAX = 4096;
const NAME_MAX = 128;
const SUMMARY = 'flood';

/** The alarm manager of one gateway. */
export class AlarmManager {
  private readonly alarms = new Map<string, AlarmRecord>();
  private readonly listeners: AlarmListener[] = [];
  private flood: FloodState = { active: false, raises: [], total: 0 };
  private readonly clock: () => number;
  /** Id of the flood summary alarm. */
  readonly floodAlarmId: string;

  constructor(private readonly opts: AlarmManagerOptions) {
    this.clock = opts.clock ?? Date.now;
    this.floodAlarmId = `${opts.gateway}/alarms/${SUMMARY}`;
  }

  /**
   * Restores every alarm and the flood window from the store, queues transitions
   * that were recorded but not yet queued (a crash in between), then applies
   * expiries that fell due while the agent was down.
   */
  start(): void {
    const { store, sink } = this.opts;
    this.alarms.clear();
    for (const a of store.loadAlarms()) this.alarms.set(a.id, a);
    const f = store.getMeta('flood');
    if (f) this.flood = JSON.parse(f) as FloodState;
    for (const e of store.logAfterSeq(sink.nextSeq() - 1)) {
      const seq = sink.append(e.ts, wireBody(e));
      if (seq !== e.eventSeq) store.setLogSeq(e.id!, seq);
      this.opts.log?.warn({ alarm: e.alarmId, seq }, 'queued an alarm transition recorded before a crash');
    }
    this.tick();
  }

  /** Subscribes to every change; returns the unsubscribe function. */
  onChange(listener: AlarmListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** One alarm, by exact id. */
  get(id: string): Readonly<AlarmRecord> | undefined {
    return this.alarms.get(id);
  }

  /** Every alarm record, unsorted (the hot path of the actions). */
  records(): IterableIterator<Readonly<AlarmRecord>> {
    return this.alarms.values();
  }

  /** Every alarm record (including those back to normal), by id. */
  list(): Readonly<AlarmRecord>[] {
    return [...this.alarms.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** True while the gateway is in an alarm flood. */
  get flooding(): boolean {
    return this.flood.active;
  }

  /**
   * An exact id, or the one id that starts with (or else contains) `query`.
   * Throws NOT_FOUND, or REQUEST_INVALID listing the candidates when ambiguous.
   */
  resolveId(query: string): string {
    if (this.alarms.has(query)) return query;
    const ids = [...this.alarms.keys()];
    let hits = ids.filter((id) => id.startsWith(query));
    if (hits.length === 0) hits = ids.filter((id) => id.includes(query));
    if (hits.length === 1) return hits[0];
    if (hits.length === 0) throw new LifelineError(ErrorCodes.NotFound, `no alarm ${JSON.stringify(query)} on this gateway`);
    throw new LifelineError(ErrorCodes.RequestInvalid, `${JSON.stringify(query)} matches ${hits.length} alarms: ${hits.slice(0, 10).join(', ')}${hits.length > 10 ? ', …' : ''}`);
  }

  /** A detector's level changed (or a device stopped / resumed answering). */
  onCondition(c: ConditionInput): void {
    if (!Number.isInteger(c.level) || c.level < AlarmLevel.Normal || c.level > AlarmLevel.Red) {
      this.opts.log?.error({ alarm: c.alarmId, alarmLevel: c.level }, 'ignored a condition with an invalid level'); // `level` would overwrite pino's own
      return;
    }
    let rec = this.alarms.get(c.alarmId);
    if (!rec) {
      if (c.level === AlarmLevel.Normal) return;
      rec = fresh(c);
      this.alarms.set(rec.id, rec);
    }
    const prev = rec.level;
    if (c.level === prev) return;
    const from = rec.state;
    const covered = rec.shelvedUntil !== null || rec.suppressedBy !== null;
    const summary = rec.detector === SUMMARY;
    rec.level = c.level;
    rec.value = c.value;
    rec.cause = c.cause;
    rec.point = c.point;
    const ts = c.ts;

    if (prev === AlarmLevel.Normal) {
      // Raised, or raised again before the operator acknowledged the last episode.
      if (rec.base === 'normal') {
        rec.raisedAt = ts;
        rec.peakLevel = c.level;
      } else rec.peakLevel = Math.max(rec.peakLevel, c.level);
      rec.base = 'active_unacked';
      rec.ackedBy = rec.ackedAt = null;
      if (!summary) pushWindow(rec.raises, ts, this.opts.config.chatter.windowMs, this.opts.config.chatter.count);
      const { chatter, flood } = this.opts.config;
      if (covered) {
        this.commit(rec, from, ts, c.cause, { quiet: true, value: c.value });
      } else if (!summary && chatter.enabled && rec.raises.length >= chatter.count) {
        rec.suppressedBy = 'chatter';
        rec.state = 'suppressed';
        this.commit(rec, from, ts, `chattering: raised ${rec.raises.length} times within ${formatDuration(chatter.windowMs)}, suppressed until quiet for ${formatDuration(chatter.releaseMs)}; ${c.cause}`, { value: c.value });
      } else if (!summary && this.flood.active && c.level < flood.passLevel) {
        rec.suppressedBy = 'flood';
        rec.state = 'suppressed';
        this.commit(rec, from, ts, `alarm flood (${this.floodAlarmId}), suppressed below ${describeLevel(flood.passLevel)}; ${c.cause}`, { value: c.value });
      } else {
        rec.state = rec.base;
        this.commit(rec, from, ts, c.cause, { value: c.value });
      }
      if (!summary && !covered) this.countRaise(ts);
    } else if (c.level > prev) {
      // Escalation (yellow → red) is a transition of the same alarm; it wants a new acknowledgement.
      rec.peakLevel = Math.max(rec.peakLevel, c.level);
      rec.base = 'active_unacked';
      rec.ackedBy = rec.ackedAt = null;
      if (!covered) rec.state = rec.base;
      this.commit(rec, from, ts, c.cause, { quiet: covered, value: c.value });
    } else if (c.level > AlarmLevel.Normal) {
      // De-escalation: same state, lower level.
      this.commit(rec, from, ts, c.cause, { quiet: covered, value: c.value });
    } else {
      // The condition cleared (or a watch was withdrawn: nothing happened that an operator must acknowledge).
      if (c.withdrawn && rec.peakLevel <= prev) this.toNormal(rec);
      else if (rec.base === 'active_unacked') rec.base = 'cleared_unacked';
      else if (rec.base === 'active_acked') this.toNormal(rec);
      if (!covered) rec.state = rec.base;
      this.commit(rec, from, ts, c.cause, { quiet: covered, value: c.value });
    }
  }

  /** Acknowledge: active_unacked → active_acked, cleared_unacked → normal. */
  ack(alarmId: string, user: string, ts = this.clock()): OperatorResult {
    const rec = this.require(alarmId);
    const from = rec.state;
    if (rec.base === 'active_unacked') rec.base = 'active_acked';
    else if (rec.base === 'cleared_unacked') this.toNormal(rec);
    else return { alarm: { ...rec }, changed: false, message: `${rec.id}: nothing to acknowledge (${rec.state})` };
    rec.ackedBy = user;
    rec.ackedAt = ts;
    if (rec.shelvedUntil === null && rec.suppressedBy === null) rec.state = rec.base;
    this.commit(rec, from, ts, `acknowledged by ${user}`, { user, value: null });
    return { alarm: { ...rec }, changed: true, message: `${rec.id}: acknowledged (${from} → ${rec.state})` };
  }

  /** Shelve until `untilTs` (at most `alarms.shelve.maxMs` ahead); shelving again moves the expiry. */
  shelve(alarmId: string, untilTs: number, user: string, ts = this.clock()): OperatorResult {
    const rec = this.require(alarmId);
    if (!Number.isFinite(untilTs) || untilTs <= ts) {
      throw new LifelineError(ErrorCodes.RequestInvalid, `shelve ${rec.id}: until must be in the future, got ${Number.isFinite(untilTs) ? new Date(untilTs).toISOString() : String(untilTs)}`);
    }
    const max = this.opts.config.shelve.maxMs;
    if (untilTs - ts > max) {
      throw new LifelineError(ErrorCodes.RequestInvalid, `shelve ${rec.id}: ${formatDuration(untilTs - ts)} is longer than the longest shelving allowed (${formatDuration(max)}, alarms.shelve.maxMs)`);
    }
    const from = rec.state;
    rec.shelvedUntil = untilTs;
    rec.shelvedBy = user;
    rec.state = 'shelved';
    this.commit(rec, from, ts, `shelved by ${user} for ${formatDuration(untilTs - ts)}, until ${new Date(untilTs).toISOString()}`, { user, value: null });
    return { alarm: { ...rec }, changed: true, message: `${rec.id}: shelved until ${new Date(untilTs).toISOString()}` };
  }

  /** Ends a shelving early. */
  unshelve(alarmId: string, user: string, ts = this.clock()): OperatorResult {
    const rec = this.require(alarmId);
    if (rec.shelvedUntil === null) return { alarm: { ...rec }, changed: false, message: `${rec.id}: not shelved (${rec.state})` };
    this.release(rec, 'shelve', ts, `unshelved by ${user}`, user);
    return { alarm: { ...rec }, changed: true, message: `${rec.id}: unshelved (${rec.state})` };
  }

  /**
   * Applies what is due at `now`: shelvings that expire, chattering alarms that
   * have been quiet long enough, the end of an alarm flood. Call about once a second.
   */
  tick(now = this.clock()): void {
    this.batch(() => this.expire(now));
  }

  private expire(now: number): void {
    const { chatter, flood } = this.opts.config;
    for (const rec of this.alarms.values()) {
      if (rec.shelvedUntil !== null && rec.shelvedUntil <= now) {
        this.release(rec, 'shelve', now, `shelving by ${rec.shelvedBy ?? 'an operator'} expired`);
      }
      if (rec.suppressedBy === 'chatter') {
        const last = rec.raises.length ? rec.raises[rec.raises.length - 1] : -Infinity;
        if (last <= now - chatter.releaseMs) this.release(rec, 'chatter', now, `no longer chattering: not raised for ${formatDuration(now - last)}`);
      }
    }
    if (this.flood.active) {
      trimWindow(this.flood.raises, now, flood.windowMs);
      if (this.flood.raises.length < flood.clearCount || !flood.enabled) this.endFlood(now);
    }
  }

  private require(alarmId: string): AlarmRecord {
    const rec = this.alarms.get(alarmId);
    if (!rec) throw new LifelineError(ErrorCodes.NotFound, `no alarm ${JSON.stringify(alarmId)} on this gateway`);
    return rec;
  }

  private toNormal(rec: AlarmRecord): void {
    rec.base = 'normal';
    rec.peakLevel = AlarmLevel.Normal;
    rec.raisedAt = null;
  }

  /** Lifts shelving or a suppression; the alarm then shows its base state (unless still covered). */
  private release(rec: AlarmRecord, what: 'shelve' | 'chatter' | 'flood', ts: number, cause: string, user?: string): void {
    const from = rec.state;
    if (what === 'shelve') rec.shelvedUntil = rec.shelvedBy = null;
    else rec.suppressedBy = null;
    rec.state = rec.shelvedUntil !== null ? 'shelved' : rec.suppressedBy !== null ? 'suppressed' : rec.base;
    this.commit(rec, from, ts, cause, { user, value: null });
  }

  private countRaise(ts: number): void {
    const { flood } = this.opts.config;
    if (!flood.enabled) return;
    this.flood.raises.push(ts);
    trimWindow(this.flood.raises, ts, flood.windowMs);
    // Bounded memory: only the count matters once past the limit.
    if (this.flood.raises.length > flood.count * 4) this.flood.raises.splice(0, this.flood.raises.length - flood.count * 4);
    if (this.flood.active) this.flood.total++;
    else if (this.flood.raises.length >= flood.count) {
      this.flood.active = true;
      this.flood.total = this.flood.raises.length;
      this.saveFlood();
      const n = this.flood.raises.length;
      this.onCondition({
        alarmId: this.floodAlarmId,
        device: this.opts.gateway,
        point: 'alarms',
        detector: SUMMARY,
        ts,
        level: flood.level,
        value: n,
        cause: `alarm flood: ${n} alarms raised within ${formatDuration(flood.windowMs)}; new alarms below ${describeLevel(flood.passLevel)} are suppressed until fewer than ${flood.clearCount} remain in the window`,
      });
      return;
    }
    this.saveFlood();
  }

  private endFlood(ts: number): void {
    const total = this.flood.total;
    this.flood.active = false;
    this.flood.total = 0;
    this.saveFlood();
    this.onCondition({
      alarmId: this.floodAlarmId,
      device: this.opts.gateway,
      point: 'alarms',
      detector: SUMMARY,
      ts,
      level: AlarmLevel.Normal,
      value: total,
      cause: `alarm flood over: ${total} alarms raised during it`,
    });
    for (const rec of this.alarms.values()) if (rec.suppressedBy === 'flood') this.release(rec, 'flood', ts, 'alarm flood over');
  }

  private saveFlood(): void {
    const json = JSON.stringify(this.flood);
    this.opts.store.later(() => this.opts.store.setMeta('flood', json));
  }

  /**
   * Runs `fn` (e.g. the detectors over one poll batch) with every disk write held
   * back: outputs switch as alarms change, then the records, logs and output rows
   * are written in one transaction and the events queued, once, at the end. So the
   * second alarm of a batch does not wait for the first one's fsync.
   */
  batch<T>(fn: () => T): T {
    const outer = this.opts.store.beginBatch();
    if (!outer) return fn();
    this.batching = true;
    try {
      return fn();
    } finally {
      this.batching = false;
      this.opts.store.endBatch();
      this.queueEvents();
    }
  }

  private batching = false;
  /** Transitions recorded (or about to be) and not yet queued for the cloud. */
  private unqueued: AlarmLogEntry[] = [];

  /** Tells the listeners (outputs switch), records the change, queues it for the cloud. */
  private commit(rec: AlarmRecord, from: AlarmState, ts: number, cause: string, o: { quiet?: boolean; user?: string; value: number | null }): void {
    const { store, sink } = this.opts;
    if (from !== rec.state) rec.since = ts;
    rec.updated = ts;
    const entry: AlarmLogEntry = {
      ts,
      alarmId: rec.id,
      device: rec.device,
      point: rec.point,
      detector: rec.detector,
      from,
      to: rec.state,
      level: rec.level,
      value: o.value,
      cause: cause.length > CAUSE_MAX ? `${cause.slice(0, CAUSE_MAX - 1)}…` : cause,
      ...(o.user === undefined ? {} : { user: o.user.slice(0, NAME_MAX) }),
      // The seq it will get: the lane's next, after those waiting before it.
      eventSeq: o.quiet ? null : sink.nextSeq() + this.unqueued.length,
    };
    // Outputs first: the beacon does not wait for the disk. The record follows in the same
    // synchronous tick (or at the end of the batch), before anything else can run.
    for (const l of this.listeners) {
      try {
        l(rec, entry);
      } catch (err) {
        this.opts.log?.error({ err, alarm: rec.id }, 'alarm listener failed; continuing');
      }
    }
    const saved = { ...rec, raises: [...rec.raises] };
    store.later(() => {
      store.saveAlarm(saved);
      entry.id = store.appendLog(entry);
    });
    if (!o.quiet) this.unqueued.push(entry);
    if (!this.batching) this.queueEvents();
    this.opts.log?.info(
      { alarm: rec.id, from, to: rec.state, alarmLevel: rec.level, value: o.value, cause: entry.cause, user: o.user, local: o.quiet || undefined },
      'alarm transition',
    );
  }

  /** Queues recorded transitions on the event lane (each synced to disk). */
  private queueEvents(): void {
    const { store, sink } = this.opts;
    const list = this.unqueued;
    this.unqueued = [];
    for (const entry of list) {
      const seq = sink.append(entry.ts, wireBody(entry));
      if (seq !== entry.eventSeq) {
        store.setLogSeq(entry.id!, seq);
        entry.eventSeq = seq;
      }
    }
  }
}

function fresh(c: ConditionInput): AlarmRecord {
  return {
    id: c.alarmId,
    device: c.device,
    point: c.point,
    detector: c.detector,
    state: 'normal',
    base: 'normal',
    level: AlarmLevel.Normal,
    peakLevel: AlarmLevel.Normal,
    value: null,
    cause: '',
    since: c.ts,
    updated: c.ts,
    raisedAt: null,
    shelvedUntil: null,
    shelvedBy: null,
    suppressedBy: null,
    ackedBy: null,
    ackedAt: null,
    raises: [],
  };
}

/** The event-lane body of a log entry (seq is added by sync). */
function wireBody(e: AlarmLogEntry): Omit<AlarmTransition, 'seq'> {
  return {
    kind: 'alarm',
    alarmId: e.alarmId,
    device: e.device,
    point: e.point,
    ts: e.ts,
    from: e.from,
    to: e.to,
    level: e.level,
    detector: e.detector,
    cause: e.cause,
    value: e.value,
    ...(e.user === undefined ? {} : { user: e.user }),
  };
}

function trimWindow(times: number[], now: number, windowMs: number): void {
  let k = 0;
  while (k < times.length && times[k] <= now - windowMs) k++;
  if (k) times.splice(0, k);
}

/** Adds a raise time, drops those out of the window, keeps at most `cap`. */
function pushWindow(times: number[], ts: number, windowMs: number, cap: number): void {
  times.push(ts);
  trimWindow(times, ts, windowMs);
  if (times.length > cap) times.splice(0, times.length - cap);
}
