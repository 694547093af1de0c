/**
 * PostgreSQL engine of the cloud store, for the city (DATABASE_URL).
 *
 *   readings        PARTITION BY RANGE (ts): one partition per UTC day (readings_pYYYYMMDD),
 *                   created on demand; readings_default catches days outside the window
 *                   [now − retention, now + 7 d] (a gateway with a wrong clock cannot make
 *                   thousands of partitions). Retention drops whole partitions.
 *   readings_1m     per-series, per-minute min/max/sum/count, kept in the commit transaction.
 *
 * Bulk writes: the readings of a batch go in by one COPY, series and rollups by
 * one INSERT … SELECT FROM unnest(arrays) each; never a row per statement. Several workers may commit at once: the gateway's lane
 * row is locked (SELECT … FOR UPDATE) for the range check; partitions and
 * migrations take advisory locks.
 */
import pg from 'pg';
import type { Reading } from '@lifeline/shared';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { PgSql, type Sql } from './sql.js';
import { SqlStore, type ReadingRow } from './sql-store.js';
import { metaTables, syncLedgerTables } from './schema.js';

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
  // enrolment target gateway: a token issued to replace one gateway (NULL: a new gateway only).
  'ALTER TABLE enrolments ADD COLUMN for_gateway TEXT;',
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
}

/** `readings_p20261126` for a day number (days since the epoch, UTC). */
export function partitionName(day: number): string {
  return `readings_p${new Date(day * DAY).toISOString().slice(0, 10).replace(/-/g, '')}`;
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
      types,
      // JIT compiles for a second or more when the planner's estimate is large (a LATERAL probe per cut minute): never worth it here.
      // A downsample sorts tens of thousands of rollup rows: keep that in memory.
      options: `-c jit=off -c work_mem=16MB${opts.schema ? ` -c search_path=${opts.schema}` : ''}`,
    });
    super(new PgSql(pool));
    this.pool = pool;
    this.retentionDays = opts.retentionDays ?? 400;
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
  }

  async migrate(): Promise<void> {
    if (this.opts.schema) await this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${this.opts.schema}`);
    await this.sql.tx(async (db) => {
      await db.run("SELECT pg_advisory_xact_lock(hashtext('lifeline.migrate'))");
      await db.run('CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)');
      const v = (await db.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_version'))!.v ?? 0;
      for (let n = v + 1; n <= MIGRATIONS.length; n++) {
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

  protected override async beforeTelemetry(readings: Reading[]): Promise<void> {
    const today = Math.floor(Date.now() / DAY);
    const lo = today - this.retentionDays;
    const hi = today + 7;
    let days: Set<number> | undefined;
    for (const r of readings) {
      const d = Math.floor(r.ts / DAY);
      if (d < lo || d > hi || this.partitions.has(d)) continue;
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
    const devices = keys.map((k) => k.split('\0')[0]);
    const points = keys.map((k) => k.split('\0')[1]);
    await this.sql.run('INSERT INTO series(device, point) SELECT * FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[])) ON CONFLICT DO NOTHING', [devices, points]);
    const rows = await this.sql.all<{ id: number; device: string; point: string }>(
      'SELECT s.id, s.device, s.point FROM series s JOIN unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[])) AS k(device, point) ON s.device = k.device AND s.point = k.point',
      [devices, points],
    );
    return new Map(rows.map((r) => [`${r.device}\0${r.point}`, r.id]));
  }

  protected async insertReadings(db: Sql, rows: ReadingRow[]): Promise<void> {
    if (!rows.length) return;
    // COPY (text format) is the fastest bulk path; one stream per batch, inside the commit transaction.
    let text = '';
    for (const r of rows) text += `${r.series}\t${r.ts}\t${r.value === null ? '\\N' : r.value}\t${r.quality}\n`;
    await (db as PgSql).copy('COPY readings(series, ts, value, quality) FROM STDIN', text);
  }

  protected async dropReadings(before: number): Promise<void> {
    for (const day of this.partitionDays()) {
      if ((day + 1) * DAY > before) break;
      await this.sql.run(`DROP TABLE IF EXISTS ${partitionName(day)}`);
      this.partitions.delete(day);
    }
    await this.sql.run('DELETE FROM readings_default WHERE ts < ?', [before]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
