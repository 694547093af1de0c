/**
 * The alarm feature's tables in the buffer's file, behind a narrow handle:
 * alarms/store.ts speaks in records, this module in rows, and only the
 * buffer knows SQLite.
 *
 *   AlarmStore (alarms/) ─▶ AlarmTables ─▶ alarms, alarm_log, outputs, output_log, alarm_meta ─┐ same file
 *   EdgeBuffer event lane ─────────────────────────────────────────────────────────────────────┘ and WAL
 *
 * Why the buffer's file: the transition record and the event queued for the cloud
 * then live in one WAL, so the fsync of the event (synchronous=FULL) also makes the
 * record before it durable, and a restart sees both or can tell which is missing
 * (`alarm_log.event_seq` above the lane's last seq: re-queue it).
 */
import { openBufferDbReadonly, type Db } from './database.js';

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

/** A row of `alarms`. */
export interface AlarmRow {
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
  /** JSON array of raise times. */
  raises: string;
}

/** snake_case → camelCase, for the names the upsert binds (`peak_level` → `peakLevel`). */
type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

/** An alarm as written: the row's columns under the record's names, `raises` as JSON text. */
export type AlarmWrite = { [K in keyof AlarmRow as Camel<K & string>]: AlarmRow[K] };

/** A row of `alarm_log`. */
export interface AlarmLogRow {
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

/** A row of `output_log`. */
export interface OutputLogRow {
  id: number;
  ts: number;
  output: string;
  on_: number;
  backend: string;
  reason: string;
}

/** The alarm feature's handle on its tables. Reads of a handle that is not `ready` return nothing. */
export interface AlarmTables {
  /** False for a read-only handle on a file the agent has never run alarms on (no tables yet). */
  readonly ready: boolean;
  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T;
  alarms(): AlarmRow[];
  upsertAlarm(a: AlarmWrite): void;
  /** Appends a transition; returns its row id. */
  insertLog(e: Omit<AlarmLogRow, 'id'>): number;
  setLogSeq(id: number, seq: number): void;
  logAfterSeq(seq: number): AlarmLogRow[];
  recentLog(limit: number, alarmId?: string): AlarmLogRow[];
  /** Keeps the newest `keep` transitions. */
  pruneLog(keep: number): void;
  /** Output rows as their JSON bodies, by name. */
  outputs(): string[];
  upsertOutput(name: string, body: string): void;
  insertOutputLog(e: Omit<OutputLogRow, 'id'>): void;
  recentOutputLog(limit: number): OutputLogRow[];
  pruneOutputLog(keep: number): void;
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
}

const NONE: AlarmTables = {
  ready: false,
  transaction: (fn) => fn(),
  alarms: () => [],
  upsertAlarm: missing,
  insertLog: missing,
  setLogSeq: missing,
  logAfterSeq: missing,
  recentLog: () => [],
  pruneLog: missing,
  outputs: () => [],
  upsertOutput: missing,
  insertOutputLog: missing,
  recentOutputLog: () => [],
  pruneOutputLog: missing,
  getMeta: () => undefined,
  setMeta: missing,
};

function missing(): never {
  throw new Error('alarm tables are missing (read-only store on a file the agent never ran alarms on)');
}

/** The alarm tables over a buffer's handle; creates them when missing (read-only handles excepted). */
export function alarmTables(db: Db): AlarmTables {
  if (!db.readonly) db.exec(SCHEMA);
  const has = (t: string) => !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t);
  if (!['alarms', 'alarm_log', 'outputs', 'output_log', 'alarm_meta'].every(has)) return NONE;
  const s = {
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
  return {
    ready: true,
    transaction: (fn) => db.transaction(fn)(),
    alarms: () => s.allAlarms.all() as AlarmRow[],
    upsertAlarm: (a) => void s.upsertAlarm.run(a),
    insertLog: (e) =>
      Number(s.insertLog.run(e.ts, e.alarm_id, e.device, e.point, e.detector, e.from_state, e.to_state, e.level, e.value, e.cause, e.user, e.event_seq).lastInsertRowid),
    setLogSeq: (id, seq) => void s.setLogSeq.run(seq, id),
    logAfterSeq: (seq) => s.logAfterSeq.all(seq) as AlarmLogRow[],
    recentLog: (limit, alarmId) => (alarmId === undefined ? s.recentLog.all(limit) : s.recentLogOf.all(alarmId, limit)) as AlarmLogRow[],
    pruneLog: (keep) => void s.pruneLog.run(keep),
    outputs: () => (s.allOutputs.all() as { body: string }[]).map((r) => r.body),
    upsertOutput: (name, body) => void s.upsertOutput.run(name, body),
    insertOutputLog: (e) => void s.insertOutputLog.run(e.ts, e.output, e.on_, e.backend, e.reason),
    recentOutputLog: (limit) => s.recentOutputLog.all(limit) as OutputLogRow[],
    pruneOutputLog: (keep) => void s.pruneOutputLog.run(keep),
    getMeta: (key) => (s.getMeta.get(key) as { value: string } | undefined)?.value,
    setMeta: (key, value) => void s.setMeta.run(key, value),
  };
}

/** Opens a buffer file's alarm tables read-only (the CLI, while the agent may be running). */
export function openAlarmTables(path: string): { tables: AlarmTables; close: () => void } {
  const db = openBufferDbReadonly(path);
  return { tables: alarmTables(db), close: () => db.close() };
}
