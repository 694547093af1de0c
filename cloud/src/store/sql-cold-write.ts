/**
 * Writes of the cold tier: one series-day's hot rows moved into its block, and
 * retention's trim of blocks. Each runs in one transaction (PostgreSQL: under an
 * advisory lock per series-day, so two cloud processes never overwrite each
 * other's block); every write bumps the block's version, so readers' caches
 * never serve it stale.
 *
 *   compactSeriesDay ─▶ take the hot rows (TakeHot: DELETE … RETURNING, aggregated to text on PostgreSQL, or the engine's own) ─▶ merge into the day's block (a late reading replaces
 *                       the cold one at the same ts) ─▶ upsert block (version + 1)
 *   retention(before) ─▶ blocks wholly before `before` deleted; the one straddling it re-encoded
 */
import type { BlockColumns } from '@lifeline/shared';
import type { Sql } from './sql.js';
import { DAY, blobParam, decodeAll, encode, toBytes } from './sql-cold-block.js';

/** Takes (deletes and returns) one series' hot readings in [from, to), time-ordered, inside the transaction `db`. */
export type TakeHot = (db: Sql, series: number, from: number, to: number) => Promise<BlockColumns>;

/** The portable TakeHot: one `DELETE … RETURNING`, its rows sorted when the engine did not return them in order. */
export const takeHotReturning: TakeHot = async (db, series, from, to) => {
  const rows = await db.all<{ ts: number; value: number | null; quality: number }>(
    'DELETE FROM readings WHERE series = ? AND ts >= ? AND ts < ? RETURNING ts, value, quality',
    [series, from, to],
  );
  // Usually in index order already; sorted only when not.
  let sorted = true;
  for (let k = 1; k < rows.length && sorted; k++) sorted = Number(rows[k - 1].ts) <= Number(rows[k].ts);
  if (!sorted) rows.sort((a, b) => Number(a.ts) - Number(b.ts));
  const out: BlockColumns = { ts: new Float64Array(rows.length), values: new Float64Array(rows.length), quality: new Uint16Array(rows.length) };
  rows.forEach((r, i) => {
    out.ts[i] = Number(r.ts);
    out.values[i] = r.value ?? NaN;
    out.quality[i] = Number(r.quality);
  });
  return out;
};

/**
 * PostgreSQL's TakeHot: the deleted rows come back as one row of three comma-separated texts, in
 * (ts, ctid) order (the index's order: at an equal ts the row stored later is last, as with RETURNING),
 * not as a day's 86,400 row messages each parsed into an object (a quarter of compaction's CPU here).
 */
export const takeHotAggregated: TakeHot = async (db, series, from, to) => {
  const order = 'ORDER BY ts, ctid';
  const r = await db.get<{ ts: string | null; vs: string | null; qs: string | null }>(
    `WITH d AS (DELETE FROM readings WHERE series = ? AND ts >= ? AND ts < ? RETURNING ctid, ts, value, quality)
     SELECT string_agg(ts::text, ',' ${order}) AS ts, string_agg(COALESCE(value::text, 'NaN'), ',' ${order}) AS vs, string_agg(quality::text, ',' ${order}) AS qs FROM d`,
    [series, from, to],
  );
  if (!r?.ts) return { ts: new Float64Array(0), values: new Float64Array(0), quality: new Uint16Array(0) };
  const ts = r.ts.split(',');
  const vs = r.vs!.split(',');
  const qs = r.qs!.split(',');
  if (vs.length !== ts.length || qs.length !== ts.length) throw new Error(`series ${series}: ${ts.length} timestamps, ${vs.length} values, ${qs.length} qualities taken`);
  const out: BlockColumns = { ts: new Float64Array(ts.length), values: new Float64Array(ts.length), quality: new Uint16Array(ts.length) };
  for (let i = 0; i < ts.length; i++) {
    out.ts[i] = Number(ts[i]);
    out.values[i] = Number(vs[i]); // float8 as text is exact (shortest round-trip digits, PostgreSQL 12+); 'NaN': no value
    out.quality[i] = Number(qs[i]);
  }
  return out;
};

/** Store a series-day's block, new or replacing the one there (its version + 1, so no cache serves the old one). */
export async function upsertBlock(db: Sql, series: number, day: number, b: { data: Uint8Array; firstTs: number; lastTs: number; readings: number }): Promise<void> {
  await db.run(
    `INSERT INTO readings_cold(series, day, first_ts, last_ts, readings, bytes, version, data) VALUES (?, ?, ?, ?, ?, ?, 1, ?)
     ON CONFLICT(series, day) DO UPDATE SET first_ts = excluded.first_ts, last_ts = excluded.last_ts, readings = excluded.readings,
       bytes = excluded.bytes, version = readings_cold.version + 1, data = excluded.data`,
    [series, day, b.firstTs, b.lastTs, b.readings, b.data.length, blobParam(b.data)],
  );
}

export class ColdWriter {
  private readonly takeHot: TakeHot;
  constructor(private readonly sql: Sql, takeHot?: TakeHot) {
    this.takeHot = takeHot ?? (sql.dialect === 'postgres' ? takeHotAggregated : takeHotReturning);
  }

  /** Move one series-day's hot rows into its block (merging a block already there). */
  async compactSeriesDay(series: number, day: number): Promise<{ readings: number; bytes: number } | undefined> {
    const from = day * DAY;
    return this.sql.tx(async (db) => {
      // Two compactors of one series-day (two cloud processes) would overwrite each other's block.
      if (db.dialect === 'postgres') await db.run('SELECT pg_advisory_xact_lock(?, ?)', [series, day]);
      const hot = await this.takeHot(db, series, from, from + DAY);
      if (!hot.ts.length) return undefined;
      const old = await db.get<{ data: Uint8Array }>('SELECT data FROM readings_cold WHERE series = ? AND day = ?', [series, day]);
      const merged = mergeColumns(old ? decodeAll(toBytes(old.data)) : undefined, hot);
      const data = encode(merged);
      await upsertBlock(db, series, day, { data, firstTs: merged.ts[0], lastTs: merged.ts[merged.ts.length - 1], readings: merged.ts.length });
      return { readings: hot.ts.length, bytes: data.length };
    });
  }

  /** Drop blocks wholly before `before`; re-encode the one straddling it without its older readings. */
  async retention(before: number): Promise<void> {
    await this.sql.run('DELETE FROM readings_cold WHERE last_ts < ?', [before]);
    const straddling = await this.sql.all<{ series: number; day: number }>('SELECT series, day FROM readings_cold WHERE first_ts < ?', [before]);
    for (const { series, day } of straddling) {
      await this.sql.tx(async (db) => {
        if (db.dialect === 'postgres') await db.run('SELECT pg_advisory_xact_lock(?, ?)', [series, day]);
        const old = await db.get<{ data: Uint8Array }>('SELECT data FROM readings_cold WHERE series = ? AND day = ?', [series, day]);
        if (!old) return;
        const all = decodeAll(toBytes(old.data));
        let k = 0;
        while (k < all.ts.length && all.ts[k] < before) k++;
        if (k === all.ts.length) return void (await db.run('DELETE FROM readings_cold WHERE series = ? AND day = ?', [series, day]));
        const kept: BlockColumns = { ts: all.ts.subarray(k), values: all.values.subarray(k), quality: all.quality.subarray(k) };
        const data = encode(kept);
        await db.run('UPDATE readings_cold SET first_ts = ?, readings = ?, bytes = ?, version = version + 1, data = ? WHERE series = ? AND day = ?', [
          kept.ts[0], kept.ts.length, data.length, blobParam(data), series, day,
        ]);
      });
    }
  }
}

/** A block's readings with hot rows merged in (time-ordered; at an equal ts the hot row wins, the last of several). */
export function mergeColumns(old: BlockColumns | undefined, hot: BlockColumns): BlockColumns {
  if (!old) return dedupe(hot);
  const on = old.ts.length;
  const hn = hot.ts.length;
  const ts = new Float64Array(on + hn);
  const values = new Float64Array(on + hn);
  const quality = new Uint16Array(on + hn);
  let n = 0;
  const push = (c: BlockColumns, k: number) => {
    if (n && ts[n - 1] === c.ts[k]) n--; // the later reading at an equal ts replaces the earlier
    ts[n] = c.ts[k];
    values[n] = c.values[k];
    quality[n++] = c.quality[k];
  };
  let i = 0;
  let j = 0;
  while (i < on || j < hn) {
    const ht = j < hn ? hot.ts[j] : Infinity;
    if (i < on && old.ts[i] < ht) push(old, i++);
    else {
      if (i < on && old.ts[i] === ht) i++;
      push(hot, j++);
    }
  }
  return { ts: ts.subarray(0, n), values: values.subarray(0, n), quality: quality.subarray(0, n) };
}

/** Readings at an equal ts reduced to the last of them (in place). */
function dedupe(c: BlockColumns): BlockColumns {
  let n = 0;
  for (let k = 0; k < c.ts.length; k++) {
    if (n && c.ts[n - 1] === c.ts[k]) n--;
    c.ts[n] = c.ts[k];
    c.values[n] = c.values[k];
    c.quality[n++] = c.quality[k];
  }
  return n === c.ts.length ? c : { ts: c.ts.subarray(0, n), values: c.values.subarray(0, n), quality: c.quality.subarray(0, n) };
}
