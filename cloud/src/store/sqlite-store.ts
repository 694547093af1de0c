/**
 * SQLite engine of the cloud store: the single-box default.
 * better-sqlite3 is synchronous; SqliteSql serialises transactions that span
 * awaits. Readings are inserted row by row through one prepared statement,
 * which is what SQLite is fastest at.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { SqliteSql, type Sql } from './sql.js';
import { SqlStore } from './sql-store.js';
import type { ReadingColumns } from './sql-telemetry.js';
import type { BlockColumns } from '@lifeline/shared';
import { DAY, type ColdOptions } from './sql-cold.js';
import { ColdEncoder } from './sql-cold-encoder.js';
import { compactSqliteDay, readHotColumns, type SqliteDayResult } from './sqlite-cold.js';
import { committedPerEpoch, identityColumns, laterMigrations, metaTables, oldEpoch, registryColumns, syncLedgerTables } from './schema.js';

/** Versioned migrations; each runs once, in order, in a transaction. */
const MIGRATIONS: string[] = [
  `CREATE TABLE gateways(id TEXT PRIMARY KEY, online INTEGER NOT NULL DEFAULT 0, last_seen INTEGER, status TEXT);
   CREATE TABLE devices(id TEXT PRIMARY KEY, gateway TEXT NOT NULL, profile TEXT, kind TEXT, location TEXT, points TEXT, last_ts INTEGER);
   CREATE TABLE series(id INTEGER PRIMARY KEY, device TEXT NOT NULL, point TEXT NOT NULL, UNIQUE(device, point));
   CREATE TABLE readings(series INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX readings_series_ts ON readings(series, ts);
   CREATE TABLE events(gateway TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL, device TEXT, body TEXT NOT NULL, PRIMARY KEY(gateway, seq));
   CREATE INDEX events_ts ON events(ts);
   CREATE TABLE batches(gateway TEXT NOT NULL, lane TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, committed_at INTEGER NOT NULL, PRIMARY KEY(gateway, lane, first_seq));
   CREATE TABLE committed(gateway TEXT NOT NULL, lane TEXT NOT NULL, up_to INTEGER NOT NULL, PRIMARY KEY(gateway, lane));`,
  // 2: registry columns, alarms, commands, configs, tokens, enrolment, webhooks, per-minute rollup.
  [
    ...registryColumns.gateways.map((c) => `ALTER TABLE gateways ADD COLUMN ${c};`),
    ...registryColumns.devices.map((c) => `ALTER TABLE devices ADD COLUMN ${c};`),
    `UPDATE devices SET lon = json_extract(location, '$.lon'), lat = json_extract(location, '$.lat'),
       district = json_extract(location, '$.district'), grid_unit = json_extract(location, '$.gridUnit') WHERE location IS NOT NULL;`,
    `ALTER TABLE events ADD COLUMN alarm_id TEXT;`,
    `UPDATE events SET alarm_id = json_extract(body, '$.alarmId') WHERE kind = 'alarm';`,
    metaTables('sqlite'),
    `INSERT INTO readings_1m(series, minute, min, max, sum, count)
       SELECT series, (ts / 60000) * 60000, MIN(value), MAX(value), SUM(value), COUNT(value) FROM readings GROUP BY series, ts / 60000;`,
  ].join('\n'),
  // 3: sync ledger (buffer epochs, gap records).
  syncLedgerTables('sqlite'),
  // 4: a device is known by its gateway and id; each buffer epoch is its own seq space (schema.ts).
  // SQLite cannot change a primary key in place: the keyed tables are rebuilt.
  [
    `CREATE TABLE devices_v4(id TEXT NOT NULL, gateway TEXT NOT NULL, profile TEXT, kind TEXT, location TEXT, points TEXT, last_ts INTEGER,
       name TEXT, lon REAL, lat REAL, district TEXT, grid_unit TEXT, PRIMARY KEY(gateway, id));
     INSERT INTO devices_v4(id, gateway, profile, kind, location, points, last_ts, name, lon, lat, district, grid_unit)
       SELECT id, gateway, profile, kind, location, points, last_ts, name, lon, lat, district, grid_unit FROM devices;
     DROP TABLE devices; ALTER TABLE devices_v4 RENAME TO devices;`,
    `CREATE TABLE series_v4(id INTEGER PRIMARY KEY, gateway TEXT NOT NULL, device TEXT NOT NULL, point TEXT NOT NULL, UNIQUE(gateway, device, point));
     INSERT INTO series_v4(id, gateway, device, point)
       SELECT s.id, COALESCE((SELECT d.gateway FROM devices d WHERE d.id = s.device LIMIT 1), ''), s.device, s.point FROM series s;
     DROP TABLE series; ALTER TABLE series_v4 RENAME TO series;`,
    `CREATE TABLE committed_v4(gateway TEXT NOT NULL, lane TEXT NOT NULL, epoch INTEGER NOT NULL, up_to INTEGER NOT NULL, PRIMARY KEY(gateway, lane, epoch));
     INSERT INTO committed_v4(gateway, lane, epoch, up_to) ${committedPerEpoch};
     DROP TABLE committed; ALTER TABLE committed_v4 RENAME TO committed;`,
    `CREATE TABLE batches_v4(gateway TEXT NOT NULL, lane TEXT NOT NULL, epoch INTEGER NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
       committed_at INTEGER NOT NULL, PRIMARY KEY(gateway, lane, epoch, first_seq));
     INSERT INTO batches_v4(gateway, lane, epoch, first_seq, last_seq, committed_at)
       SELECT b.gateway, b.lane, ${oldEpoch('epoch', 'b.gateway', 'b.lane', 'b.first_seq')},
         b.first_seq - ${oldEpoch('base', 'b.gateway', 'b.lane', 'b.first_seq')},
         b.last_seq - ${oldEpoch('base', 'b.gateway', 'b.lane', 'b.first_seq')}, b.committed_at FROM batches b;
     DROP TABLE batches; ALTER TABLE batches_v4 RENAME TO batches;`,
    `CREATE TABLE events_v4(gateway TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL, device TEXT,
       alarm_id TEXT, body TEXT NOT NULL, PRIMARY KEY(gateway, epoch, seq));
     INSERT INTO events_v4(gateway, epoch, seq, ts, kind, device, alarm_id, body)
       SELECT v.gateway, ${oldEpoch('epoch', 'v.gateway', "'events'", 'v.seq')}, v.seq - ${oldEpoch('base', 'v.gateway', "'events'", 'v.seq')}, v.ts, v.kind, v.device, v.alarm_id, v.body FROM events v;
     DROP TABLE events; ALTER TABLE events_v4 RENAME TO events;
     CREATE INDEX events_ts ON events(ts);
     CREATE INDEX events_alarm ON events(gateway, alarm_id, ts);`,
    `ALTER TABLE alarms ADD COLUMN last_epoch INTEGER NOT NULL DEFAULT 0;
     UPDATE alarms SET last_epoch = ${oldEpoch('epoch', 'alarms.gateway', "'events'", 'alarms.last_seq')}, last_seq = last_seq - ${oldEpoch('base', 'alarms.gateway', "'events'", 'alarms.last_seq')};
     ALTER TABLE gaps ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;`,
    ...identityColumns.gateways.map((c) => `ALTER TABLE gateways ADD COLUMN ${c};`),
  ].join('\n'),
  // 5…: the same in both engines (schema.ts).
  ...laterMigrations('sqlite'),
];

/**
 * The store holds webhook secrets and pushed configs (with MQTT passwords): the
 * database and its -wal/-shm are the owner's alone. The file is created 0600
 * before SQLite opens it (SQLite gives -wal and -shm the database's mode); an
 * existing file, -wal or -shm readable by others is narrowed, with a log line.
 */
function ownerOnly(path: string, log: Logger | undefined): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      continue; // no -wal / -shm yet
    }
    if ((mode & 0o077) === 0) continue;
    chmodSync(file, 0o600);
    log?.warn({ file, was: mode.toString(8), now: '600' }, 'cloud store file was readable by other users; narrowed to the owner');
  }
}

/** The single-box store: one SQLite file (WAL). */
export class SqliteStore extends SqlStore {
  readonly db: Database.Database;
  private readonly s: SqliteSql;
  /** Block encoding on a worker thread (sql-cold-encoder.ts), started at the first compaction. */
  protected readonly encoder = new ColdEncoder();
  private retentions = 0;

  /** `log` hears when an existing file's permissions are narrowed; `cold` sets the cold tier (sql-cold.ts). */
  constructor(path: string, opts: { log?: Logger; cold?: ColdOptions } = {}) {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      ownerOnly(path, opts.log);
    }
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const s = new SqliteSql(db);
    super(s, opts.cold);
    this.db = db;
    this.s = s;
  }

  /** Migrate to `version` (default: the newest; an older one only for upgrade tests). */
  async migrate(version = MIGRATIONS.length): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT MAX(version) v FROM schema_version').get() as { v: number | null };
    for (let v = (row.v ?? 0) + 1; v <= version; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v - 1]);
        this.db.prepare('INSERT INTO schema_version(version) VALUES (?)').run(v);
      })();
    }
  }

  protected async createSeries(keys: string[]): Promise<Map<string, number>> {
    // In its own transaction: a series row must never vanish with another commit's rollback.
    return this.sql.tx(async () => {
      const out = new Map<string, number>();
      const ins = this.s.prepare('INSERT OR IGNORE INTO series(gateway, device, point) VALUES (?, ?, ?)');
      const sel = this.s.prepare('SELECT id FROM series WHERE gateway = ? AND device = ? AND point = ?');
      for (const key of keys) {
        const [gateway, device, point] = key.split('\0');
        ins.run(gateway, device, point);
        out.set(key, (sel.get(gateway, device, point) as { id: number }).id);
      }
      return out;
    });
  }

  protected async insertReadings(_db: Sql, rows: ReadingColumns): Promise<void> {
    // Runs inside SqliteSql.tx, which holds the connection: the raw statement is safe here.
    // In chunks, yielding between them: better-sqlite3 blocks the event loop, and the API shares it.
    const insert = this.s.prepare('INSERT INTO readings(series, ts, value, quality) VALUES (?, ?, ?, ?)');
    const { series, ts, value, quality } = rows;
    for (let i = 0; i < rows.length; i++) {
      if (i && i % 1000 === 0) await new Promise<void>((r) => setImmediate(r));
      insert.run(series[i], ts[i], Number.isFinite(value[i]) ? value[i] : null, quality[i]);
    }
  }

  protected async dropReadings(before: number): Promise<void> {
    // Counted in the same synchronous step as the delete: a compaction that read rows before it rereads them (sqlite-cold.ts).
    await this.sql.tx(async () => {
      this.retentions++;
      this.s.prepare('DELETE FROM readings WHERE ts < ?').run(before);
    });
  }

  protected async coldCandidates(before: number): Promise<{ series: number; day: number }[]> {
    void this.encoder.warm(); // compaction follows: the encoder's thread loads while the candidates are found
    // One index probe per series and old day (readings has no index on ts alone).
    const first = this.s.prepare('SELECT MIN(ts) AS t FROM readings WHERE series = ? AND ts >= ? AND ts < ?');
    const out: { series: number; day: number }[] = [];
    for (const { id } of await this.sql.all<{ id: number }>('SELECT id FROM series ORDER BY id')) {
      for (let from = Number.MIN_SAFE_INTEGER; ; ) {
        const t = (first.get(id, from, before) as { t: number | null }).t;
        if (t === null) break;
        const day = Math.floor(t / DAY);
        out.push({ series: id, day });
        from = (day + 1) * DAY;
      }
    }
    return out;
  }

  /**
   * A whole day's series (sqlite-cold.ts): reads and deletes here, merging and encoding on the encoder's thread,
   * one series-day ahead; its fallback (rows changed between read and write) is ColdWriter's, with takeHot below.
   */
  protected override compactDay(day: number, series: number[], signal?: AbortSignal): Promise<SqliteDayResult> {
    return compactSqliteDay(
      {
        sql: this.s,
        encoder: this.encoder,
        pluck: (sql) => this.pluck(sql),
        retentions: () => this.retentions,
        compactSeriesDay: (s, d) => this.telemetry.cold.compactSeriesDay(s, d),
      },
      day,
      series,
      signal,
    );
  }

  /** Four days at once: while the encoder thread starts (or is busy), the next days are read. */
  protected override daysInFlight(): number {
    return 4;
  }

  /** Compaction's take of one series-day in one transaction (readHotColumns, then the rows deleted without RETURNING). */
  protected override async takeHot(_db: Sql, series: number, from: number, to: number): Promise<BlockColumns> {
    const out = readHotColumns((sql) => this.pluck(sql), series, from, to);
    this.s.prepare('DELETE FROM readings WHERE series = ? AND ts >= ? AND ts < ?').run(series, from, to);
    return out;
  }

  private readonly plucked = new Map<string, Database.Statement>();
  /** A cached statement returning its first column only (its own: the shared cache's statements return rows). */
  private pluck(sql: string): Database.Statement {
    let st = this.plucked.get(sql);
    if (!st) this.plucked.set(sql, (st = this.db.prepare(sql).pluck(true)));
    return st;
  }

  private rowSize?: { at: number; bytes: number | undefined };
  protected async hotBytesPerReading(): Promise<number | undefined> {
    // dbstat walks the table's pages: measured at most every ten minutes.
    if (this.rowSize && Date.now() - this.rowSize.at < 600_000) return this.rowSize.bytes;
    const pages = this.s.prepare("SELECT SUM(pgsize) AS b FROM dbstat WHERE name IN ('readings', 'readings_series_ts')").get() as { b: number | null };
    const rows = (this.s.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
    this.rowSize = { at: Date.now(), bytes: rows > 0 && pages.b ? pages.b / rows : undefined };
    return this.rowSize.bytes;
  }

  async close(): Promise<void> {
    await this.encoder.close();
    if (this.db.open) this.db.close();
  }
}
