/**
 * Alarm and output state, kept in the buffer's file through the narrow
 * handle the buffer gives (`AlarmTables`): this module turns records into
 * rows and back, batches writes and prunes the logs; only the buffer knows SQLite.
 *
 *   manager ─ saveAlarm / appendLog ─▶ AlarmTables: alarms, alarm_log ─┐
 *   actions ─ saveOutput / appendOutputLog ─▶ outputs, output_log ─────┤ the buffer's file,
 *   CLI (read-only, while the agent runs: WAL) ◀───────────────────────┘ beside the events lane
 */
import type { AlarmLevel, AlarmState } from '@lifeline/shared';
import { openAlarmTables, type AlarmLogRow, type AlarmRow, type AlarmTables } from '../buffer/alarm-tables.js';
import type { AlarmLogEntry, AlarmRecord, BaseState, OutputLogEntry, OutputRow, SuppressedBy } from './types.js';

const toRecord = (r: AlarmRow): AlarmRecord => ({
  id: r.id,
  device: r.device,
  point: r.point,
  detector: r.detector,
  state: r.state as AlarmState,
  base: r.base as BaseState,
  level: r.level as AlarmLevel,
  peakLevel: r.peak_level as AlarmLevel,
  value: r.value,
  cause: r.cause,
  since: r.since,
  updated: r.updated,
  raisedAt: r.raised_at,
  shelvedUntil: r.shelved_until,
  shelvedBy: r.shelved_by,
  suppressedBy: r.suppressed_by as SuppressedBy | null,
  ackedBy: r.acked_by,
  ackedAt: r.acked_at,
  raises: JSON.parse(r.raises) as number[],
});

const toLog = (r: AlarmLogRow): AlarmLogEntry => ({
  id: r.id,
  ts: r.ts,
  alarmId: r.alarm_id,
  device: r.device,
  point: r.point,
  detector: r.detector,
  from: r.from_state as AlarmState,
  to: r.to_state as AlarmState,
  level: r.level as AlarmLevel,
  value: r.value,
  cause: r.cause,
  ...(r.user === null ? {} : { user: r.user }),
  eventSeq: r.event_seq,
});

/** SQLite REAL cannot hold NaN (it becomes NULL); ±Infinity survive. */
const num = (v: number | null) => (v === null || Number.isNaN(v) ? null : v);

/** Alarm records, their transition log, output states and the output switching log. */
export class AlarmStore {
  private inserts = 0;

  /** `tables`: the buffer's handle (EdgeBuffer.alarmTables()). */
  constructor(
    private readonly tables: AlarmTables,
    /** Transitions kept in alarm_log; older ones are pruned. */
    private readonly logKeep = 100_000,
  ) {}

  /** False for a read-only handle on a file the agent has never run alarms on (no tables yet). */
  get ready(): boolean {
    return this.tables.ready;
  }

  /** Opens a buffer file read-only (the CLI, while the agent may be running). */
  static openReadonly(path: string): { store: AlarmStore; close: () => void } {
    const { tables, close } = openAlarmTables(path);
    return { store: new AlarmStore(tables), close };
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    return this.tables.transaction(fn);
  }

  /** Writes held back by an open batch; null when none is open. */
  private deferred: (() => void)[] | null = null;

  /** Runs a write now, or, inside a batch, when the batch ends. */
  later(write: () => void): void {
    if (this.deferred) this.deferred.push(write);
    else write();
  }

  /**
   * Opens a batch: writes passed to `later` wait for `endBatch`, which runs them
   * in one transaction. Returns false (and opens nothing) when one is open already.
   */
  beginBatch(): boolean {
    if (this.deferred) return false;
    this.deferred = [];
    return true;
  }

  /** Runs the batch's writes in one transaction. */
  endBatch(): void {
    const list = this.deferred;
    this.deferred = null;
    if (list?.length) this.transaction(() => list.forEach((w) => w()));
  }

  /** Every alarm record, by id. */
  loadAlarms(): AlarmRecord[] {
    return this.tables.alarms().map(toRecord);
  }

  saveAlarm(a: AlarmRecord): void {
    this.tables.upsertAlarm({ ...a, value: num(a.value), raises: JSON.stringify(a.raises) });
  }

  /** Appends one transition; returns its row id. */
  appendLog(e: AlarmLogEntry): number {
    const id = this.tables.insertLog({
      ts: e.ts,
      alarm_id: e.alarmId,
      device: e.device,
      point: e.point,
      detector: e.detector,
      from_state: e.from,
      to_state: e.to,
      level: e.level,
      value: num(e.value),
      cause: e.cause,
      user: e.user ?? null,
      event_seq: e.eventSeq,
    });
    if (++this.inserts % 1000 === 0) this.tables.pruneLog(this.logKeep);
    return id;
  }

  /** The event seq a transition was really queued under, when it differs from the one predicted. */
  setLogSeq(id: number, seq: number): void {
    this.tables.setLogSeq(id, seq);
  }

  /** Transitions meant for the event lane above `seq`, in seq order (recovery after a crash). */
  logAfterSeq(seq: number): AlarmLogEntry[] {
    return this.tables.logAfterSeq(seq).map(toLog);
  }

  /** The latest transitions, newest first; of one alarm if `alarmId` is given. */
  recentLog(limit: number, alarmId?: string): AlarmLogEntry[] {
    return this.tables.recentLog(limit, alarmId).map(toLog);
  }

  loadOutputs(): OutputRow[] {
    return this.tables.outputs().map((body) => JSON.parse(body) as OutputRow);
  }

  saveOutput(o: OutputRow): void {
    this.tables.upsertOutput(o.name, JSON.stringify(o));
  }

  appendOutputLog(e: OutputLogEntry): void {
    this.tables.insertOutputLog({ ts: e.ts, output: e.output, on_: e.on ? 1 : 0, backend: e.backend, reason: e.reason });
    if (++this.inserts % 1000 === 0) this.tables.pruneOutputLog(10_000);
  }

  /** The latest output switchings, newest first. */
  recentOutputLog(limit: number): OutputLogEntry[] {
    return this.tables.recentOutputLog(limit).map((r) => ({
      id: r.id,
      ts: r.ts,
      output: r.output,
      on: r.on_ === 1,
      backend: r.backend,
      reason: r.reason,
    }));
  }

  getMeta(key: string): string | undefined {
    return this.tables.getMeta(key);
  }

  setMeta(key: string, value: string): void {
    this.tables.setMeta(key, value);
  }
}
