/**
 * PostgreSQL engine of the cloud store, for the city (DATABASE_URL).
 *
 *   readings        PARTITION BY RANGE (ts): one partition per UTC day (readings_pYYYYMMDD),
 *                   created on demand; readings_default catches days outside the window
 *                   [now − retention, now + 7 d] (a gateway with a wrong clock cannot make
 *                   thousands of partitions). Retention drops whole partitions.
 *   readings_1m     per-series, per-minute min/max/sum/count, kept in the commit transaction.
 *
 * Bulk writes: the readings of a batch go in by one binary COPY, series and rollups by
 * one INSERT … SELECT FROM unnest(arrays) each; never a row per statement. Several workers may commit at once: the gateway's lane
 * row is locked (SELECT … FOR UPDATE) for the range check; partitions and
 * migrations take advisory locks.
 */
import pg from 'pg';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { PgSql, type Sql } from './sql.js';
import { SqlStore } from './sql-store.js';
import { rollupMerge, type Minute, type ReadingColumns } from './sql-telemetry.js';
import type { ColdOptions } from './sql-cold.js';
import { compactPartitionDay, partitionCandidates, type DayCompaction } from './pg-cold-day.js';
import { num, seriesKey } from './sql-common.js';
import { committedPerEpoch, identityColumns, laterMigrations, metaTables, oldEpoch, syncLedgerTables } from './schema.js';

const DAY = 86_400_000;

/** Versioned migrations; each runs once, in order, in a transaction under an advisory lock. */
const MIGRATIONS: string[] = [
  `CREATE TABLE gateways(id TEXT PRIMARY KEY, online INTEGER NOT NULL DEFAULT 0, last_seen BIGINT, status TEXT, name TEXT,
     lon DOUBLE PRECISION, lat DOUBLE PRECISION, district TEXT, grid_unit TEXT, kind TEXT, first_seen BIGINT, backlog_depth BIGINT,
     backlog_oldest BIGINT, clock_offset_ms DOUBLE PRECISION, revoked_at BIGINT);
   CREATE TABLE devices(id TEXT PRIMARY KEY, gateway TEXT NOT NULL, profile TEXT, kind TEXT, location TEXT, points TEXT, last_ts BIGINT,
     name TEXT, lon DOUBLE PRECISION, lat DOUBLE PRECISION, district TEXT, grid_unit TEXT);
   CREATE TABLE series(id SERIAL PRIMARY KEY, device TEXT NOT NULL, point TEXT NOT NULL, UNIQUE(device, point));
   CREATE TABLE readings(series INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE PRECISION, quality SMALLINT NOT NULL DEFAULT 0)
     PARTITION BY RANGE (ts);
   CREATE INDEX readings_series_ts ON readings(series, ts);
   CREATE TABLE readings_default PARTITION OF readings DEFAULT;
   CREATE TABLE events(gateway TEXT NOT NULL, seq BIGINT NOT NULL, ts BIGINT NOT NULL, kind TEXT NOT NULL, device TEXT, alarm_id TEXT,
     body TEXT NOT NULL, PRIMARY KEY(gateway, seq));
   CREATE INDEX events_ts ON events(ts);
   CREATE TABLE batches(gateway TEXT NOT NULL, lane TEXT NOT NULL, first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, committed_at BIGINT NOT NULL,
     PRIMARY KEY(gateway, lane, first_seq));
   CREATE TABLE committed(gateway TEXT NOT NULL, lane TEXT NOT NULL, up_to BIGINT NOT NULL, PRIMARY KEY(gateway, lane));
   ${metaTables('postgres')}`,
  // 2: sync ledger (buffer epochs, gap records).
  syncLedgerTables('postgres'),
  // 3: a device is known by its gateway and id; each buffer epoch is its own seq space (schema.ts).
  // Keys are dropped before seqs move (two epochs' seq 1 would collide on the old key), then made anew.
  `ALTER TABLE devices DROP CONSTRAINT devices_pkey;
   ALTER TABLE devices ADD PRIMARY KEY (gateway, id);
   ALTER TABLE series ADD COLUMN gateway TEXT NOT NULL DEFAULT '';
   UPDATE series s SET gateway = COALESCE((SELECT d.gateway FROM devices d WHERE d.id = s.device LIMIT 1), '');
   ALTER TABLE series ALTER COLUMN gateway DROP DEFAULT;
   ALTER TABLE series DROP CONSTRAINT series_device_point_key;
   ALTER TABLE series ADD CONSTRAINT series_gateway_device_point_key UNIQUE (gateway, device, point);
   CREATE TABLE committed_v3 AS ${committedPerEpoch};
   DROP TABLE committed;
   ALTER TABLE committed_v3 RENAME TO committed;
   ALTER TABLE committed ALTER COLUMN gateway SET NOT NULL, ALTER COLUMN lane SET NOT NULL, ALTER COLUMN epoch SET NOT NULL, ALTER COLUMN up_to SET NOT NULL;
   ALTER TABLE committed ADD PRIMARY KEY (gateway, lane, epoch);
   ALTER TABLE batches DROP CONSTRAINT batches_pkey;
   ALTER TABLE batches ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
   UPDATE batches b SET epoch = ${oldEpoch('epoch', 'b.gateway', 'b.lane', 'b.first_seq')},
     first_seq = b.first_seq - ${oldEpoch('base', 'b.gateway', 'b.lane', 'b.first_seq')}, last_seq = b.last_seq - ${oldEpoch('base', 'b.gateway', 'b.lane', 'b.first_seq')};
   ALTER TABLE batches ADD PRIMARY KEY (gateway, lane, epoch, first_seq);
   ALTER TABLE events DROP CONSTRAINT events_pkey;
   ALTER TABLE events ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
   UPDATE events v SET epoch = ${oldEpoch('epoch', 'v.gateway', "'events'", 'v.seq')}, seq = v.seq - ${oldEpoch('base', 'v.gateway', "'events'", 'v.seq')};
   ALTER TABLE events ADD PRIMARY KEY (gateway, epoch, seq);
   DROP INDEX events_alarm;
   CREATE INDEX events_alarm ON events(gateway, alarm_id, ts);
   ALTER TABLE alarms ADD COLUMN last_epoch BIGINT NOT NULL DEFAULT 0;
   UPDATE alarms a SET last_epoch = ${oldEpoch('epoch', 'a.gateway', "'events'", 'a.last_seq')}, last_seq = a.last_seq - ${oldEpoch('base', 'a.gateway', "'events'", 'a.last_seq')};
   ALTER TABLE gaps ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
   ${identityColumns.gateways.map((c) => `ALTER TABLE gateways ADD COLUMN ${c};`).join('\n')}`,
  // 4…: the same in both engines (schema.ts).
  ...laterMigrations('postgres'),
];

/** int8 and numeric as JS numbers (epoch ms and counts fit in 2^53). */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 || oid === 1700 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface PgStoreOptions {
  /** postgres://user@host:port/db (DATABASE_URL). */
  url: string;
  /** Schema to use (created if missing); default: the server's search_path. */
  schema?: string;
  /** Days of readings to keep; partitions are made only inside this window. Default 400. */
  retentionDays?: number;
  /** Pool size; default 10. */
  poolSize?: number;
  /**
   * Longest wait for a connection, ms: to connect, or for a pool client to come free. Default 10000.
   * Past it the call fails (the API answers 503), so a database gone silent does not hang every request.
   */
  connectTimeoutMs?: number;
  /** The cold tier (sql-cold.ts): when days are compressed, how much decoded data reads keep. */
  cold?: ColdOptions;
}

/** `readings_p20261126` for a day number (days since the epoch, UTC). */
export function partitionName(day: number): string {
  return `readings_p${new Date(day * DAY).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/** COPY's binary format (signature, flags, extension length; per row the field count and each length + value; -1 ends). */
function binaryRows(rows: ReadingColumns): Buffer {
  const { series, ts, value, quality } = rows;
  const b = Buffer.allocUnsafe(19 + rows.length * 40 + 2);
  b.write('PGCOPY\n\xff\r\n\0', 0, 'latin1');
  b.writeInt32BE(0, 11);
  b.writeInt32BE(0, 15);
  let o = 19;
  for (let i = 0; i < rows.length; i++) {
    o = b.writeInt16BE(4, o);
    o = b.writeInt32BE(4, o);
    o = b.writeInt32BE(series[i], o);
    o = b.writeInt32BE(8, o);
    const t = ts[i];
    const word = Math.floor(t / 2 ** 32); // int8 as two words: no BigInt per row
    o = b.writeUInt32BE(t - word * 2 ** 32, b.writeInt32BE(word, o));
    const v = value[i];
    if (Number.isFinite(v)) o = b.writeDoubleBE(v, b.writeInt32BE(8, o));
    else o = b.writeInt32BE(-1, o);
    o = b.writeInt32BE(2, o);
    o = b.writeInt16BE(quality[i], o);
  }
  o = b.writeInt16BE(-1, o);
  return b.subarray(0, o);
}

export class PgStore extends SqlStore {
  readonly pool: pg.Pool;
  private readonly partitions = new Set<number>();
  readonly retentionDays: number;

  constructor(readonly opts: PgStoreOptions) {
    if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema))
      throw new LifelineError(ErrorCodes.ConfigInvalid, `schema: must be a lower-case SQL identifier, got ${JSON.stringify(opts.schema)}`);
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      types,
      // JIT compiles for a second or more when the planner's estimate is large (a LATERAL probe per cut minute): never worth it here.
      // A downsample sorts tens of thousands of rollup rows: keep that in memory.
      options: `-c jit=off -c work_mem=16MB${opts.schema ? ` -c search_path=${opts.schema}` : ''}`,
    });
    super(new PgSql(pool), opts.cold);
    this.pool = pool;
    this.retentionDays = opts.retentionDays ?? 400;
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
  }

  /** Migrate to `version` (default: the newest; an older one only for upgrade tests). */
  async migrate(version = MIGRATIONS.length): Promise<void> {
    if (this.opts.schema) await this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${this.opts.schema}`);
    await this.sql.tx(async (db) => {
      await db.run("SELECT pg_advisory_xact_lock(hashtext('lifeline.migrate'))");
      await db.run('CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)');
      const v = (await db.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_version'))!.v ?? 0;
      for (let n = v + 1; n <= version; n++) {
        await db.exec(MIGRATIONS[n - 1]);
        await db.run('INSERT INTO schema_version(version) VALUES (?)', [n]);
      }
    });
    for (const r of await this.sql.all<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.oid = to_regclass('readings')`,
    )) {
      const m = /^readings_p(\d{4})(\d{2})(\d{2})$/.exec(r.name);
      if (m) this.partitions.add(Date.UTC(+m[1], +m[2] - 1, +m[3]) / DAY);
    }
  }

  /** Days (since the epoch) that have their own partition. */
  partitionDays(): number[] {
    return [...this.partitions].sort((a, b) => a - b);
  }

  /** Whether a day is inside the window that gets partitions, [today − retention, today + 7]. */
  private inWindow(day: number): boolean {
    const today = Math.floor(Date.now() / DAY);
    return day >= today - this.retentionDays && day <= today + 7;
  }

  protected override async beforeTelemetry(rows: ReadingColumns): Promise<void> {
    const lo = Math.floor(rows.lo / DAY); // a batch inside one day that has its partition (a drain's): no row to look at
    if (lo === Math.floor(rows.hi / DAY) && this.partitions.has(lo)) return;
    let days: Set<number> | undefined;
    for (const ts of rows.ts) {
      const d = Math.floor(ts / DAY);
      if (this.partitions.has(d) || !this.inWindow(d)) continue;
      (days ??= new Set()).add(d);
    }
    if (days) for (const d of days) await this.createPartition(d);
  }

  /** Create one day's partition, moving that day's rows out of the default partition first. */
  async createPartition(day: number): Promise<void> {
    const name = partitionName(day);
    await this.sql.tx(async (db) => {
      await db.run("SELECT pg_advisory_xact_lock(hashtext('lifeline.partition'))");
      if ((await db.get<{ r: string | null }>('SELECT to_regclass(?) AS r', [name]))!.r === null) {
        const from = day * DAY;
        const to = from + DAY;
        // Bounds are integers computed here, never input; DDL takes no parameters.
        await db.run(`CREATE TEMP TABLE moved ON COMMIT DROP AS WITH d AS (DELETE FROM readings_default WHERE ts >= ${from} AND ts < ${to} RETURNING *) SELECT * FROM d`);
        await db.run(`CREATE TABLE ${name} PARTITION OF readings FOR VALUES FROM (${from}) TO (${to})`);
        await db.run('INSERT INTO readings SELECT * FROM moved');
      }
    });
    this.partitions.add(day);
  }

  protected async createSeries(keys: string[]): Promise<Map<string, number>> {
    const parts = keys.map((k) => k.split('\0'));
    const cols = [0, 1, 2].map((i) => parts.map((p) => p[i]));
    await this.sql.run('INSERT INTO series(gateway, device, point) SELECT * FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[])) ON CONFLICT DO NOTHING', cols);
    const rows = await this.sql.all<{ id: number; gateway: string; device: string; point: string }>(
      `SELECT s.id, s.gateway, s.device, s.point FROM series s JOIN unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[])) AS k(gateway, device, point)
       ON s.gateway = k.gateway AND s.device = k.device AND s.point = k.point`,
      cols,
    );
    return new Map(rows.map((r) => [seriesKey(r.gateway, r.device, r.point), r.id]));
  }

  protected async insertReadings(db: Sql, rows: ReadingColumns): Promise<void> {
    if (!rows.length) return;
    // One binary COPY per batch, inside the commit transaction: no text to format here or to parse in the server.
    // A batch inside one day that has its partition goes straight into it (no routing per row); others through the parent.
    const data = binaryRows(rows);
    const day = Math.floor(rows.lo / DAY);
    const table = day === Math.floor(rows.hi / DAY) && this.partitions.has(day) && this.inWindow(day) ? partitionName(day) : 'readings';
    await (db as PgSql).copy(`COPY ${table}(series, ts, value, quality) FROM STDIN (FORMAT binary)`, data);
  }

  protected override async upsertRollups(db: Sql, rows: Minute[]): Promise<void> {
    if (!rows.length) return;
    // One statement of six arrays, however many rows: no parameter list to parse, no chunks.
    const col = <K extends keyof Minute>(k: K) => rows.map((r) => r[k]);
    await db.run(
      `INSERT INTO readings_1m(series, minute, min, max, sum, count)
       SELECT * FROM unnest(CAST(? AS INTEGER[]), CAST(? AS BIGINT[]), CAST(? AS DOUBLE PRECISION[]), CAST(? AS DOUBLE PRECISION[]), CAST(? AS DOUBLE PRECISION[]), CAST(? AS BIGINT[]))
       ON CONFLICT(series, minute) DO UPDATE SET ${rollupMerge('postgres')}`,
      [col('series'), col('minute'), rows.map((r) => num(r.min)), rows.map((r) => num(r.max)), rows.map((r) => (r.count ? r.sum : null)), col('count')],
    );
  }

  protected async dropReadings(before: number): Promise<void> {
    for (const day of this.partitionDays()) {
      if ((day + 1) * DAY > before) break;
      await this.sql.run(`DROP TABLE IF EXISTS ${partitionName(day)}`);
      this.partitions.delete(day);
    }
    await this.sql.run('DELETE FROM readings_default WHERE ts < ?', [before]);
  }

  protected async coldCandidates(before: number): Promise<{ series: number; day: number }[]> {
    return partitionCandidates(this.sql, this.partitionDays(), before, partitionName);
  }

  /** A day with its own partition, compacted whole (pg-cold-day.ts); a day in the default partition goes series by series. */
  protected override compactDay(day: number, series: number[]): Promise<DayCompaction> | undefined {
    return this.partitions.has(day) ? compactPartitionDay(this.pool, partitionName(day), day, series) : undefined;
  }

  protected async hotBytesPerReading(): Promise<number | undefined> {
    const r = await this.sql.get<{ bytes: number | null; n: number | null }>(
      `SELECT SUM(pg_total_relation_size(c.oid)) AS bytes, SUM(c.reltuples) AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = to_regclass('readings') AND c.reltuples > 0`,
    );
    return r && r.n && r.bytes ? Number(r.bytes) / Number(r.n) : undefined;
  }

  async close(): Promise<void> {
    // Twice is once, as with SQLite: a restart test closes a store its cleanup closes again.
    if (!this.pool.ended) await this.pool.end();
  }
}
