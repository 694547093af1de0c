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
 * Its parts: journal.ts (record, event lane, restore after a restart), chatter.ts and
 * flood.ts (the two suppressions, over raise-window.ts); the states are here.
 *
 * Outputs are switched first: the beacon must not wait for the disk (a WAL
 * checkpoint can take milliseconds). Record and event follow in the same
 * synchronous tick. A kill -9 inside that tick loses a transition that had not
 * been recorded yet; the restarted detectors raise it again. A transition
 * recorded but not yet queued is queued at the next start.
 */
import { AlarmLevel, ErrorCodes, LifelineError, watchStage, type AlarmState } from '@lifeline/shared';
import type { AlarmStore } from './store.js';
import type { Logger } from '../log.js';
import type { ResolvedAlarmsConfig } from './config.js';
import { formatDuration } from './duration.js';
import { chatterCause, chatterQuietFor, chatters, noteRaise } from './chatter.js';
import { AlarmFlood, FLOOD_DETECTOR } from './flood.js';
import { AlarmJournal, type EntryDetails, type EventSink } from './journal.js';
import { newAlarmRecord, type AlarmLogEntry, type AlarmRecord, type ConditionInput } from './types.js';

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

/** The alarm manager of one gateway. */
export class AlarmManager {
  private readonly alarms = new Map<string, AlarmRecord>();
  private readonly listeners: AlarmListener[] = [];
  private readonly flood: AlarmFlood;
  private readonly journal: AlarmJournal;
  private readonly clock: () => number;
  /** Id of the flood summary alarm. */
  readonly floodAlarmId: string;

  constructor(private readonly opts: AlarmManagerOptions) {
    this.clock = opts.clock ?? Date.now;
    this.flood = new AlarmFlood(opts.gateway, opts.config.flood, opts.store);
    this.journal = new AlarmJournal(opts.store, opts.sink, opts.log);
    this.floodAlarmId = this.flood.alarmId;
  }

  /**
   * Restores every alarm and the flood window from the store, queues transitions
   * that were recorded but not yet queued (a crash in between), then applies
   * expiries that fell due while the agent was down.
   */
  start(): void {
    this.alarms.clear();
    for (const a of this.journal.loadAlarms()) this.alarms.set(a.id, a);
    this.flood.restore();
    this.journal.requeueUnsent();
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
      rec = newAlarmRecord(c);
      this.alarms.set(rec.id, rec);
    }
    const prev = rec.level;
    if (c.level === prev) return;
    const from = rec.state;
    const covered = rec.shelvedUntil !== null || rec.suppressedBy !== null;
    const summary = rec.detector === FLOOD_DETECTOR;
    // A yellow watch is no raise for the flood window; the alarm that confirms it is (by the causes, as the cloud tells them).
    const confirmsWatch = prev !== AlarmLevel.Normal && c.level > prev && watchStage(rec.cause) === 'raised';
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
      const { chatter } = this.opts.config;
      if (!summary) noteRaise(rec, ts, chatter);
      if (covered) {
        this.commit(rec, from, ts, c.cause, { quiet: true, value: c.value });
      } else if (!summary && chatters(rec, chatter)) {
        rec.suppressedBy = 'chatter';
        rec.state = 'suppressed';
        this.commit(rec, from, ts, chatterCause(rec, chatter, c.cause), { value: c.value });
      } else if (!summary && this.flood.suppresses(c.level)) {
        rec.suppressedBy = 'flood';
        rec.state = 'suppressed';
        this.commit(rec, from, ts, this.flood.suppressedCause(c.cause), { value: c.value });
      } else {
        rec.state = rec.base;
        this.commit(rec, from, ts, c.cause, { value: c.value });
      }
      if (!summary && !covered && watchStage(c.cause) !== 'raised') this.countRaise(ts);
    } else if (c.level > prev) {
      // Escalation (yellow → red) is a transition of the same alarm; it wants a new acknowledgement.
      rec.peakLevel = Math.max(rec.peakLevel, c.level);
      rec.base = 'active_unacked';
      rec.ackedBy = rec.ackedAt = null;
      if (!covered) rec.state = rec.base;
      this.commit(rec, from, ts, c.cause, { quiet: covered, value: c.value });
      // Counted as its watch would have been, unless an operator shelved it or it chatters.
      if (confirmsWatch && rec.shelvedUntil === null && rec.suppressedBy !== 'chatter') this.countRaise(ts);
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
    const { chatter } = this.opts.config;
    for (const rec of this.alarms.values()) {
      if (rec.shelvedUntil !== null && rec.shelvedUntil <= now) {
        this.release(rec, 'shelve', now, `shelving by ${rec.shelvedBy ?? 'an operator'} expired`);
      }
      if (rec.suppressedBy === 'chatter') {
        const quiet = chatterQuietFor(rec, now, chatter);
        if (quiet !== null) this.release(rec, 'chatter', now, `no longer chattering: not raised for ${formatDuration(quiet)}`);
      }
    }
    const over = this.flood.expire(now);
    if (over) {
      this.onCondition(over);
      for (const rec of this.alarms.values()) if (rec.suppressedBy === 'flood') this.release(rec, 'flood', now, 'alarm flood over');
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

  /** Counts a raise toward the flood window; raises the summary alarm when a flood begins. */
  private countRaise(ts: number): void {
    const begun = this.flood.countRaise(ts);
    if (begun) this.onCondition(begun);
  }

  /**
   * Runs `fn` (e.g. the detectors over one poll batch) with every disk write held
   * back: outputs switch as alarms change, then the records, logs and output rows
   * are written in one transaction and the events queued, once, at the end. So the
   * second alarm of a batch does not wait for the first one's fsync.
   */
  batch<T>(fn: () => T): T {
    return this.journal.batch(fn);
  }

  /** Tells the listeners (outputs switch), records the change, queues it for the cloud. */
  private commit(rec: AlarmRecord, from: AlarmState, ts: number, cause: string, o: EntryDetails): void {
    if (from !== rec.state) rec.since = ts;
    rec.updated = ts;
    const entry = this.journal.entry(rec, from, ts, cause, o);
    // Outputs first: the beacon does not wait for the disk. The record follows in the same
    // synchronous tick (or at the end of the batch), before anything else can run.
    for (const l of this.listeners) {
      try {
        l(rec, entry);
      } catch (err) {
        this.opts.log?.error({ err, alarm: rec.id }, 'alarm listener failed; continuing');
      }
    }
    this.journal.record(rec, entry, o.quiet);
    this.opts.log?.info(
      { alarm: rec.id, from, to: rec.state, alarmLevel: rec.level, value: o.value, cause: entry.cause, user: o.user, local: o.quiet || undefined },
      'alarm transition',
    );
  }
}
