/**
 * Downsampling of one series, exact and fast: buckets [from + i·step,
 * from + (i+1)·step) clipped to `to`. Whole minutes inside one bucket come from
 * the rollup; the minutes a bucket edge (or from/to) cuts are read raw.
 *
 *   small step or short range ─▶ GROUP BY bucket over raw rows
 *   otherwise ─┬─▶ raw rows of the cut minutes (PostgreSQL: one index probe per minute)
 *              └─▶ readings_1m rows of the whole minutes ─▶ merge per bucket
 */
import type { Sql } from './sql.js';
import type { Bucket, DownsampleQuery } from './telemetry-store.js';
import { MINUTE, listOf, listParam } from './sql-common.js';

type Part = { b: number; mn: number | null; mx: number | null; sm: number | null; n: number };

export async function downsample(sql: Sql, q: DownsampleQuery): Promise<Bucket[]> {
  const series = await sql.get<{ id: number }>('SELECT id FROM series WHERE gateway = ? AND device = ? AND point = ?', [q.gateway, q.device, q.point]);
  if (!series) return [];
  const { from, to, step } = q;
  const acc = new Map<number, { min: number | null; max: number | null; sum: number; count: number }>();
  const add = (rows: Part[]) => {
    for (const r of rows) {
      const a = acc.get(r.b);
      if (!a) acc.set(r.b, { min: r.mn, max: r.mx, sum: r.sm ?? 0, count: r.n });
      else {
        if (r.mn !== null && (a.min === null || r.mn < a.min)) a.min = r.mn;
        if (r.mx !== null && (a.max === null || r.mx > a.max)) a.max = r.mx;
        a.sum += r.sm ?? 0;
        a.count += r.n;
      }
    }
  };
  const bucketOf = (col: string) => `CAST((${col} - CAST(? AS BIGINT)) / CAST(? AS BIGINT) AS BIGINT)`;
  const raw = `SELECT ${bucketOf('r.ts')} AS b, MIN(r.value) AS mn, MAX(r.value) AS mx, SUM(r.value) AS sm, COUNT(r.value) AS n`;
  if (step < 10 * MINUTE || to - from < 2 * step) {
    // Small steps: plain aggregation of raw rows (the range is short, the bucket cap saw to that).
    add(await sql.all(`${raw} FROM readings r WHERE r.series = ? AND r.ts >= ? AND r.ts <= ? GROUP BY b`, [from, step, series.id, from, to]));
  } else {
    const cut = new Set<number>();
    const firstWhole = Math.ceil(from / MINUTE) * MINUTE;
    const lastWholeEnd = Math.floor((to + 1) / MINUTE) * MINUTE; // exclusive
    if (firstWhole > from) cut.add(firstWhole - MINUTE);
    if (lastWholeEnd <= to) cut.add(lastWholeEnd);
    for (let edge = from + step; edge <= to; edge += step) if (edge % MINUTE !== 0) cut.add(Math.floor(edge / MINUTE) * MINUTE);
    const cuts = [...cut].sort((a, b) => a - b);
    // PostgreSQL must probe the index once per cut minute (LATERAL); left to itself it may hash-join a full scan.
    const cutRows =
      sql.dialect === 'postgres'
        ? `${listOf(sql.dialect)} m CROSS JOIN LATERAL (SELECT ts, value FROM readings r WHERE r.series = ? AND r.ts >= m.v AND r.ts < m.v + ${MINUTE}) r`
        : `${listOf(sql.dialect)} m JOIN readings r ON r.series = ? AND r.ts >= m.v AND r.ts < m.v + ${MINUTE}`;
    // The two halves are independent: run them side by side (two pool connections on PostgreSQL).
    const [cutPart, wholePart] = await Promise.all([
      sql.all<Part>(`${raw} FROM ${cutRows} WHERE r.ts >= ? AND r.ts <= ? GROUP BY b`, [from, step, listParam(sql.dialect, cuts), series.id, from, to]),
      // Whole minutes inside [from, to] whose first and last ms fall in the same bucket.
      sql.all<Part>(
        `SELECT ${bucketOf('m.minute')} AS b, MIN(m.min) AS mn, MAX(m.max) AS mx, SUM(m.sum) AS sm, SUM(m.count) AS n
         FROM readings_1m m WHERE m.series = ? AND m.minute >= ? AND m.minute + ${MINUTE - 1} <= ?
           AND ${bucketOf('m.minute')} = ${bucketOf(`(m.minute + ${MINUTE - 1})`)}
         GROUP BY b`,
        [from, step, series.id, firstWhole, to, from, step, from, step],
      ),
    ]);
    add(cutPart);
    add(wholePart);
  }
  return [...acc.entries()]
    .sort((a, b) => a[0] - b[0])
    .filter(([, a]) => a.count > 0)
    .map(([b, a]) => ({ ts: from + b * step, min: a.min!, max: a.max!, mean: a.sum / a.count, count: a.count }));
}
