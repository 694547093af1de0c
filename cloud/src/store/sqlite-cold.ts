/**
 * SQLite's compaction of one day's series (ColdEngine.compactDay). better-sqlite3 runs on the event loop's
 * thread, so SQLite's reads and deletes stay there while merging and encoding go to ColdEncoder's worker:
 * the next series-day is read while the last one is encoded (issue #19: encoding was 40 % of the CPU).
 *
 *   per series, one ahead:  read tx: hot columns, old block, data_version, retention count
 *                            ─▶ ColdEncoder (worker thread) ─▶ write tx: nothing changed? DELETE the range,
 *                               as many rows as were read? upsert the block (version + 1) : ROLLBACK
 *                            changed in between ─▶ ColdWriter's way instead (read, delete, encode in one transaction)
 *
 * Exact: between the read and the write only an insert can touch this store's readings (retention's deletes
 * are counted, another connection's commit moves data_version, and compaction deletes only the series-day
 * it read), so a DELETE of the range that removes as many rows as were read removed exactly those rows; a late
 * row committed in between makes the counts differ and the series-day is redone in one transaction.
 * No transaction waits for the encoder: the longest write lock is one series-day's DELETE and upsert.
 */
import type Database from 'better-sqlite3';
import type { BlockColumns } from '@lifeline/shared';
import type { SqliteSql } from './sql.js';
import { DAY } from './sql-cold-block.js';
import { upsertBlock } from './sql-cold-write.js';
import type { ColdEncoder, EncodedBlock } from './sql-cold-encoder.js';

/** What one compactDay did (ColdEngine.compactDay). */
export interface SqliteDayResult {
  seriesDays: number;
  readings: number;
  bytes: number;
  failed: string[];
}

/** What the engine lends the compactor. */
export interface SqliteColdHost {
  sql: SqliteSql;
  encoder: ColdEncoder;
  /** A cached statement returning its first column only. */
  pluck(sql: string): Database.Statement;
  /** How many times retention deleted readings on this connection. */
  retentions(): number;
  /** ColdWriter's one-transaction compaction of a series-day (the fallback). */
  compactSeriesDay(series: number, day: number): Promise<{ readings: number; bytes: number } | undefined>;
}

interface Taken {
  hot: BlockColumns;
  old?: { data: Uint8Array; version: number };
  dataVersion: number;
  retentions: number;
}

const RANGE = 'FROM readings WHERE series = ? AND ts >= ? AND ts < ?';

/**
 * One series' hot readings of [from, to), time-ordered (ts, then rowid: the later of equal timestamps last), read
 * as two single-column statements (numbers, no object per row; ts and quality packed as ts·4 + quality, quality
 * being 0..3), about a third cheaper than `DELETE … RETURNING` into row objects. Inside a transaction holding the connection.
 */
export function readHotColumns(pluck: (sql: string) => Database.Statement, series: number, from: number, to: number): BlockColumns {
  const tq = pluck(`SELECT CASE WHEN quality BETWEEN 0 AND 3 THEN ts * 4 + quality END ${RANGE} ORDER BY ts, rowid`).all(series, from, to) as (number | null)[];
  const vs = pluck(`SELECT value ${RANGE} ORDER BY ts, rowid`).all(series, from, to) as (number | null)[];
  if (vs.length !== tq.length) throw new Error(`series ${series}: ${tq.length} timestamps but ${vs.length} values read in one transaction`);
  const out: BlockColumns = { ts: new Float64Array(tq.length), values: new Float64Array(tq.length), quality: new Uint16Array(tq.length) };
  for (let i = 0; i < tq.length; i++) {
    const x = tq[i];
    if (x === null) throw new RangeError(`series ${series}: a reading's quality is not 0..3`);
    const t = Math.floor(x / 4);
    out.ts[i] = t;
    out.quality[i] = x - t * 4;
    out.values[i] = vs[i] ?? NaN;
  }
  return out;
}

/** Thrown inside the write transaction to roll it back: the rows changed since they were read. */
class Changed extends Error {}

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

/** Compact the listed series of one day, reads and writes on this thread, encoding on the encoder's. */
export async function compactSqliteDay(host: SqliteColdHost, day: number, series: number[], signal?: AbortSignal): Promise<SqliteDayResult> {
  const out: SqliteDayResult = { seriesDays: 0, readings: 0, bytes: 0, failed: [] };
  const name = (s: number) => `series ${s} day ${new Date(day * DAY).toISOString().slice(0, 10)}`;
  const done = (r: { readings: number; bytes: number } | undefined) => {
    if (!r) return;
    out.seriesDays++;
    out.readings += r.readings;
    out.bytes += r.bytes;
  };
  let previous: Promise<void> = Promise.resolve();
  for (const s of series) {
    if (signal?.aborted) break;
    await yieldLoop(); // ingest and the API run between series-days
    let taken: Taken | undefined;
    try {
      taken = await read(host, s, day);
    } catch (err) {
      out.failed.push(`${name(s)}: ${(err as Error).message}`);
      continue;
    }
    if (!taken) continue;
    const t = taken;
    const block = host.encoder.encode({ hot: t.hot, old: t.old?.data });
    await previous; // the last series-day's write, once its block is made (it never rejects)
    previous = block
      .then((b) => write(host, s, day, t, b))
      .then(done, (err: Error) => void out.failed.push(`${name(s)}: ${err.message}`));
  }
  await previous;
  return out;
}

async function read(host: SqliteColdHost, series: number, day: number): Promise<Taken | undefined> {
  const from = day * DAY;
  return host.sql.tx(async () => {
    const hot = readHotColumns(host.pluck, series, from, from + DAY);
    if (!hot.ts.length) return undefined;
    const old = host.sql.prepare('SELECT data, version FROM readings_cold WHERE series = ? AND day = ?').get(series, day) as { data: Uint8Array; version: number } | undefined;
    return { hot, old, dataVersion: host.sql.db.pragma('data_version', { simple: true }) as number, retentions: host.retentions() };
  });
}

async function write(host: SqliteColdHost, series: number, day: number, t: Taken, b: EncodedBlock): Promise<{ readings: number; bytes: number } | undefined> {
  const from = day * DAY;
  try {
    return await host.sql.tx(async (db) => {
      if (host.sql.db.pragma('data_version', { simple: true }) !== t.dataVersion || host.retentions() !== t.retentions) throw new Changed();
      const v = host.pluck('SELECT version FROM readings_cold WHERE series = ? AND day = ?').get(series, day) as number | undefined;
      if (v !== t.old?.version) throw new Changed();
      const n = host.sql.prepare(`DELETE ${RANGE}`).run(series, from, from + DAY).changes;
      if (n !== t.hot.ts.length) throw new Changed(); // a late row came in: rolled back, redone below
      await upsertBlock(db, series, day, b);
      return { readings: n, bytes: b.data.length };
    });
  } catch (err) {
    if (!(err instanceof Changed)) throw err;
    return host.compactSeriesDay(series, day);
  }
}
