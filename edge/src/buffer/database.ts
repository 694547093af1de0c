/**
 * The edge buffer's database: the one file that opens SQLite. Every reading
 * stays in SQLite (WAL) until the cloud has committed it; the modules beside
 * this one each own one concern over the handle opened here, and no handle
 * leaves the buffer (alarms get `AlarmTables`, tools get `inspect`).
 *
 *   readings ─▶ telemetry.ts ─▶ one chunk row per append (chunk.ts: columnar blob, seqs first..last)
 *                  │
 *   sync ◀── outbox.ts: cutBacklog / cutLive (stable ranges: a resend after a restart covers the same seqs)
 *                  │
 *   cloud ack ─▶ outbox.ts: ack(lane, upTo) / committed(lane, range) ─▶ chunks reclaimed, cursors.ts moved
 *                  │
 *   disk budget ─▶ budget.ts: oldest unsent chunks merged (thin.ts) into per-minute min/max/mean gap records
 *
 *   events.ts (alarm/event lane) · command-log.ts · alarm-tables.ts share this file and its WAL.
 *
 * Sequence numbers are per lane, strictly increasing, never reused within one
 * epoch. The epoch is a random id made with the database: a gateway whose file
 * is lost starts again at seq 1 under a new epoch, and the cloud keeps the two
 * apart (docs/wire-protocol.md §1.1).
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { packChunk } from './chunk.js';

/** The handle the buffer's concern modules share; never exported past the buffer. */
export type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, device TEXT NOT NULL, point TEXT NOT NULL, UNIQUE(device, point));
CREATE TABLE IF NOT EXISTS chunks(first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, n INTEGER NOT NULL,
  ts_min INTEGER, ts_max INTEGER, data BLOB NOT NULL, seqs BLOB, gaps TEXT, gapdata BLOB);
CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox(lane TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(lane, first_seq));
CREATE TABLE IF NOT EXISTS cursors(lane TEXT PRIMARY KEY, acked INTEGER NOT NULL, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS commands(id TEXT PRIMARY KEY, ts INTEGER NOT NULL, type TEXT NOT NULL, by_ TEXT NOT NULL, body TEXT NOT NULL, answer TEXT NOT NULL);
`;

/** A random epoch in 1 … 2^53 − 1. */
function newEpoch(): number {
  const b = randomBytes(7);
  let v = 0;
  for (let i = 0; i < 7; i++) v = v * 256 + b[i];
  return (v % (Number.MAX_SAFE_INTEGER - 1)) + 1;
}

/**
 * Make the buffer's directory one level at a time. `mkdirSync(…, {recursive})`
 * spins forever where a parent refuses children (`/proc/nope`); this fails,
 * naming the path, and refuses a parent that is a file (`/etc/hostname/…`).
 */
function ensureDir(dir: string, forPath: string): void {
  const missing: string[] = [];
  let d = dir;
  while (!existsSync(d)) {
    missing.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  if (!statSync(d).isDirectory()) throw new LifelineError(ErrorCodes.ConfigInvalid, `buffer.path: ${d} is not a directory, got ${JSON.stringify(forPath)}`);
  for (const m of missing) {
    try {
      mkdirSync(m, { mode: 0o700 });
    } catch (err) {
      throw new LifelineError(ErrorCodes.ConfigInvalid, `buffer.path: cannot create ${m} (${(err as NodeJS.ErrnoException).code ?? 'error'}), got ${JSON.stringify(forPath)}`, { cause: err });
    }
  }
}

/** The database and its WAL and shared-memory files hold the gateway's data: 0600, kept so. */
function restrictFiles(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

/** The writer's SQLite page cache, KiB (docs/decisions.md: the agent's memory settings). */
export const PAGE_CACHE_KIB = 1024;

/** Whether opening the buffer failed because its file system takes no writes (EROFS, SQLITE_READONLY…). */
export function isReadOnlyFs(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'EROFS' || code.startsWith('SQLITE_READONLY'));
}

/** A buffer file another gateway wrote (a card moved between boxes), set aside unsent rather than sent as this gateway's. */
export interface ForeignBuffer {
  /** The gateway id the file was written by. */
  gateway: string;
  /** Where the file (and its -wal, -shm) now is. */
  movedTo: string;
  /** What it held that its cloud had not committed. */
  unsentReadings: number;
  unsentEvents: number;
}

/**
 * Opens (creating when missing) the buffer's database for writing: file modes, pragmas, schema, epoch, migrations.
 * With `gateway`: a file written by another gateway id is moved aside and a new one made (`foreign` says so); a file
 * that names no gateway (an older release's) is this gateway's from now on.
 */
export function openBufferDb(path: string, gateway?: string): { db: Db; epoch: number; foreign?: ForeignBuffer } {
  if (path !== ':memory:') {
    ensureDir(dirname(path), path);
    // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm the database's mode.
    closeSync(openSync(path, 'a', 0o600));
    restrictFiles(path);
  }
  const db = new Database(path);
  // Incremental auto-vacuum (only takes effect on a new file): thinning gives pages back to the file system.
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  if (path !== ':memory:') restrictFiles(path); // a -wal or -shm left by an older version
  // NORMAL in WAL mode: a commit survives a process crash; alarm events switch to FULL.
  db.pragma('synchronous = NORMAL');
  // better-sqlite3 builds SQLite with a 16 MB page cache a connection, which fills as the file's pages are touched:
  // the appends and the recent ranges sync reads need a few hundred KB; the rest is in the OS page cache (issue #18).
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  db.exec(SCHEMA);
  let epoch = readEpoch(db);
  if (epoch === undefined) {
    epoch = newEpoch();
    db.prepare("INSERT INTO meta(key, value) VALUES ('epoch', ?)").run(String(epoch));
  }
  migrateRowReadings(db);
  const owner = gateway === undefined ? undefined : (db.prepare("SELECT value FROM meta WHERE key = 'gateway'").get() as { value: string } | undefined)?.value;
  if (gateway !== undefined && owner === undefined) db.prepare("INSERT INTO meta(key, value) VALUES ('gateway', ?)").run(gateway);
  if (owner === undefined || owner === gateway || path === ':memory:') return { db, epoch };
  // Its readings are another site's: sent under this gateway's id they would land on this gateway's devices.
  const count = (sql: string, lane: string) => (db.prepare(sql).get(lane) as { n: number }).n;
  const unsentReadings = count("SELECT COALESCE(SUM(n), 0) n FROM chunks WHERE last_seq > COALESCE((SELECT acked FROM cursors WHERE lane = ?), 0)", 'telemetry');
  const unsentEvents = count('SELECT COUNT(*) n FROM events WHERE seq > COALESCE((SELECT acked FROM cursors WHERE lane = ?), 0)', 'events');
  db.close();
  const movedTo = `${path}.gateway-${owner.replace(/[^\w.-]/g, '_')}-${epoch}`;
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
  return { ...openBufferDb(path, gateway), foreign: { gateway: owner, movedTo, unsentReadings, unsentEvents } };
}

/** Opens an existing buffer file read-only (tools and the CLI, while the agent may be writing: WAL lets them in). */
export function openBufferDbReadonly(path: string): Db {
  return new Database(path, { readonly: true, fileMustExist: true });
}

/** The file's epoch, if it has one yet. */
export function readEpoch(db: Db): number | undefined {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string } | undefined;
  return row ? Number(row.value) : undefined;
}

/** Runs `write` synced to disk (synchronous = FULL) before returning: for what an action or an audit depends on. */
export function durably<T>(db: Db, write: () => T): T {
  db.pragma('synchronous = FULL');
  try {
    return write();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}

/** Databases written before chunks kept one row per reading: fold them into chunks once. */
function migrateRowReadings(db: Db): void {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'readings'").get();
  if (!has) return;
  db.transaction(() => {
    const rows = db.prepare('SELECT seq, series, ts, value, quality FROM readings ORDER BY seq').all() as { seq: number; series: number; ts: number; value: number | null; quality: number }[];
    let i = 0;
    while (i < rows.length) {
      let j = i + 1;
      while (j < rows.length && j - i < 10_000 && rows[j].seq === rows[j - 1].seq + 1) j++;
      const n = j - i;
      const ts = new Float64Array(n), value = new Float64Array(n), series = new Uint32Array(n), quality = new Uint8Array(n);
      let tmin = Infinity, tmax = -Infinity;
      for (let k = 0; k < n; k++) {
        const r = rows[i + k];
        ts[k] = r.ts;
        value[k] = r.value ?? NaN;
        series[k] = r.series;
        quality[k] = r.quality;
        if (r.ts < tmin) tmin = r.ts;
        if (r.ts > tmax) tmax = r.ts;
      }
      db.prepare('INSERT INTO chunks(first_seq, last_seq, n, ts_min, ts_max, data) VALUES (?, ?, ?, ?, ?, ?)').run(rows[i].seq, rows[j - 1].seq, n, tmin, tmax, packChunk(ts, value, series, quality, n));
      i = j;
    }
    db.exec('DROP TABLE readings');
  })();
}
