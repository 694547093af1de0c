/**
 * Alarm and output state in the buffer's SQLite file. Only the buffer knows
 * SQLite: the alarm manager and the actions talk to this module.
 *
 *   manager ─ saveAlarm / appendLog ─▶ alarms, alarm_log ─┐
 *   actions ─ saveOutput / appendOutputLog ─▶ outputs, output_log ─┤ same file as the
 *   CLI (read-only, while the agent runs: WAL) ◀──────────────────┘ events lane
 *
 * Why the buffer's file: the transition record and the event queued for the cloud
 * then live in one WAL, so the fsync of the event (synchronous=FULL) also makes the
 * record before it durable, and a restart sees both or can tell which is missing
 * (`alarm_log.event_seq` above the lane's last seq: re-queue it).
 */
import Database from 'better-sqlite3';
import type { AlarmLevel, AlarmState } from '@lifeline/shared';
import type { AlarmLogEntry, AlarmRecord, BaseState, OutputLogEntry, OutputRow, SuppressedBy } from '../alarms/types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alarms(
  id TEXT PRIMARY KEY, device TEXT NOT NULL, point TEXT NOT NULL, detector TEXT NOT NULL,
  state TEXT NOT NULL, base TEXT NOT NULL, level INTEGER NOT NULL, peak_level INTEGER NOT NULL,
  value REAL, cause TEXT NOT NULL, since INTEGER NOT NULL, updated INTEGER NOT NULL, raised_at INTEGER,
  shelved_until INTEGER, shelved_by TEXT, suppressed_by TEXT, acked_by TEXT, acked_at INTEGER, raises TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alarm_log(
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, alarm_id TEXT NOT NULL, device TEXT NOT NULL, point TEXT NOT NULL,
  detector TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL, level INTEGER NOT NULL, value REAL,
  cause TEXT NOT NULL, user TEXT, event_seq INTEGER);
CREATE INDEX IF NOT EXISTS alarm_log_seq ON alarm_log(event_seq) WHERE event_seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS outputs(name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS output_log(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, output TEXT NOT NULL, on_ INTEGER NOT NULL, backend TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alarm_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

interface AlarmRow {
  id: string;
  device: string;
  point: string;
  detector: string;
  state: string;
  base: string;
  level: number;
  peak_level: number;
  value: number | null;
  cause: string;
  since: number;
  updated: number;
  raised_at: number | null;
  shelved_until: number | null;
  shelved_by: string | null;
  suppressed_by: string | null;
  acked_by: string | null;
  acked_at: number | null;
  raises: string;
}

interface LogRow {
  id: number;
  ts: number;
  alarm_id: string;
  device: string;
  point: string;
  detector: string;
  from_state: string;
  to_state: string;
  level: number;
  value: number | null;
  cause: string;
  user: string | null;
  event_seq: number | null;
}

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

const toLog = (r: LogRow): AlarmLogEntry => ({
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
  private readonly stmt;
  private inserts = 0;

  /** `db`: the buffer's handle (EdgeBuffer.db). Creates the tables when missing (read-only handles excepted). */
  constructor(
    private readonly db: Database.Database,
    /** Transitions kept in alarm_log; older ones are pruned. */
    private readonly logKeep = 100_000,
  ) {
    if (!db.readonly) db.exec(SCHEMA);
    const has = (t: string) => !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t);
    this.ready = has('alarms') && has('alarm_log') && has('outputs') && has('output_log') && has('alarm_meta');
    if (!this.ready) {
      this.stmt = null;
      return;
    }
    this.stmt = {
      allAlarms: db.prepare('SELECT * FROM alarms ORDER BY id'),
      upsertAlarm: db.prepare(
        `INSERT INTO alarms(id, device, point, detector, state, base, level, peak_level, value, cause, since, updated, raised_at,
           shelved_until, shelved_by, suppressed_by, acked_by, acked_at, raises)
         VALUES (@id, @device, @point, @detector, @state, @base, @level, @peakLevel, @value, @cause, @since, @updated, @raisedAt,
           @shelvedUntil, @shelvedBy, @suppressedBy, @ackedBy, @ackedAt, @raises)
         ON CONFLICT(id) DO UPDATE SET device = excluded.device, point = excluded.point, detector = excluded.detector,
           state = excluded.state, base = excluded.base, level = excluded.level, peak_level = excluded.peak_level,
           value = excluded.value, cause = excluded.cause, since = excluded.since, updated = excluded.updated,
           raised_at = excluded.raised_at, shelved_until = excluded.shelved_until, shelved_by = excluded.shelved_by,
           suppressed_by = excluded.suppressed_by, acked_by = excluded.acked_by, acked_at = excluded.acked_at, raises = excluded.raises`,
      ),
      insertLog: db.prepare(
        `INSERT INTO alarm_log(ts, alarm_id, device, point, detector, from_state, to_state, level, value, cause, user, event_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      setLogSeq: db.prepare('UPDATE alarm_log SET event_seq = ? WHERE id = ?'),
      logAfterSeq: db.prepare('SELECT * FROM alarm_log WHERE event_seq > ? ORDER BY event_seq'),
      recentLog: db.prepare('SELECT * FROM alarm_log ORDER BY id DESC LIMIT ?'),
      recentLogOf: db.prepare('SELECT * FROM alarm_log WHERE alarm_id = ? ORDER BY id DESC LIMIT ?'),
      pruneLog: db.prepare('DELETE FROM alarm_log WHERE id <= (SELECT MAX(id) FROM alarm_log) - ?'),
      allOutputs: db.prepare('SELECT body FROM outputs ORDER BY name'),
      upsertOutput: db.prepare('INSERT INTO outputs(name, body) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET body = excluded.body'),
      insertOutputLog: db.prepare('INSERT INTO output_log(ts, output, on_, backend, reason) VALUES (?, ?, ?, ?, ?)'),
      recentOutputLog: db.prepare('SELECT * FROM output_log ORDER BY id DESC LIMIT ?'),
      pruneOutputLog: db.prepare('DELETE FROM output_log WHERE id <= (SELECT MAX(id) FROM output_log) - ?'),
      getMeta: db.prepare('SELECT value FROM alarm_meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO alarm_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    };
  }

  /** False for a read-only handle on a file the agent has never run alarms on (no tables yet). */
  readonly ready: boolean;

  /** Opens a buffer file read-only (the CLI, while the agent may be running). */
  static openReadonly(path: string): { store: AlarmStore; close: () => void } {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    return { store: new AlarmStore(db), close: () => db.close() };
  }

  private get s() {
    if (!this.stmt) throw new Error('alarm tables are missing (read-only store on a file the agent never ran alarms on)');
    return this.stmt;
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
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
    if (!this.stmt) return [];
    return (this.stmt.allAlarms.all() as AlarmRow[]).map(toRecord);
  }

  saveAlarm(a: AlarmRecord): void {
    this.s.upsertAlarm.run({ ...a, value: num(a.value), raises: JSON.stringify(a.raises) });
  }

  /** Appends one transition; returns its row id. */
  appendLog(e: AlarmLogEntry): number {
    const id = Number(
      this.s.insertLog.run(e.ts, e.alarmId, e.device, e.point, e.detector, e.from, e.to, e.level, num(e.value), e.cause, e.user ?? null, e.eventSeq).lastInsertRowid,
    );
    if (++this.inserts % 1000 === 0) this.s.pruneLog.run(this.logKeep);
    return id;
  }

  /** The event seq a transition was really queued under, when it differs from the one predicted. */
  setLogSeq(id: number, seq: number): void {
    this.s.setLogSeq.run(seq, id);
  }

  /** Transitions meant for the event lane above `seq`, in seq order (recovery after a crash). */
  logAfterSeq(seq: number): AlarmLogEntry[] {
    return (this.s.logAfterSeq.all(seq) as LogRow[]).map(toLog);
  }

  /** The latest transitions, newest first; of one alarm if `alarmId` is given. */
  recentLog(limit: number, alarmId?: string): AlarmLogEntry[] {
    if (!this.stmt) return [];
    const rows = alarmId === undefined ? this.stmt.recentLog.all(limit) : this.stmt.recentLogOf.all(alarmId, limit);
    return (rows as LogRow[]).map(toLog);
  }

  loadOutputs(): OutputRow[] {
    if (!this.stmt) return [];
    return (this.stmt.allOutputs.all() as { body: string }[]).map((r) => JSON.parse(r.body) as OutputRow);
  }

  saveOutput(o: OutputRow): void {
    this.s.upsertOutput.run(o.name, JSON.stringify(o));
  }

  appendOutputLog(e: OutputLogEntry): void {
    this.s.insertOutputLog.run(e.ts, e.output, e.on ? 1 : 0, e.backend, e.reason);
    if (++this.inserts % 1000 === 0) this.s.pruneOutputLog.run(10_000);
  }

  /** The latest output switchings, newest first. */
  recentOutputLog(limit: number): OutputLogEntry[] {
    if (!this.stmt) return [];
    return (this.stmt.recentOutputLog.all(limit) as { id: number; ts: number; output: string; on_: number; backend: string; reason: string }[]).map((r) => ({
      id: r.id,
      ts: r.ts,
      output: r.output,
      on: r.on_ === 1,
      backend: r.backend,
      reason: r.reason,
    }));
  }

  getMeta(key: string): string | undefined {
    if (!this.stmt) return undefined;
    return (this.stmt.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.s.setMeta.run(key, value);
  }
}
