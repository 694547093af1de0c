/**
 * Downsampling of one series, exact and fast: buckets [from + i·step,
 * from + (i+1)·step) clipped to `to`. Whole minutes inside one bucket come from
 * the rollup; the minutes a bucket edge (or from/to) cuts are read raw.
 *
 *   small step or short range ─▶ GROUP BY bucket over raw rows
 *   otherwise ─┬─▶ raw rows of the cut minutes (PostgreSQL: one index probe per minute)
 *              └─▶ readings_1m rows of the whole minutes ─▶ merge per bucket
 *   a cold block in range: the raw rows above are read as rows, merged with the
 *   cold blocks' readings (sql-cold.ts) and aggregated here; the rollup part is the same.
 */
import type { Sql } from './sql.js';
import type { Bucket, DownsampleQuery } from './telemetry-store.js';
import { MINUTE, listOf, listParam } from './sql-common.js';
import type { SqlCold } from './sql-cold.js';

type Part = { b: number; mn: number | null; mx: number | null; sm: number | null; n: number };

export async function downsample(sql: Sql, q: DownsampleQuery, cold: SqlCold): Promise<Bucket[]> {
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
  // Raw readings (hot ∪ cold) aggregated per bucket, as the SQL below does. SQLite's SUM is
  // Kahan-Babuska-Neumaier compensated (3.43+): done alike here, a mean comes out the same to the bit.
  const compensated = sql.dialect === 'sqlite';
  // Readings visited in time order (ColdReader.scan: hot ∪ cold), aggregated per bucket without an array of them.
  const parts = async (spans: [number, number][], hot: { ts: number; value: number | null }[]): Promise<Part[]> => {
    const out: (Part & { c: number })[] = [];
    let p: Part & { c: number } = { b: NaN, mn: null, mx: null, sm: null, n: 0, c: 0 };
    // The current bucket's [lo, hi): the division only when a reading leaves it.
    let lo = Infinity;
    let hi = -Infinity;
    await cold.scan(series.id, spans, hot, (t, v) => {
      // Time order: a bucket's readings come together, buckets ascending.
      if (!(t >= lo && t < hi)) {
        const b = Math.floor((t - from) / step);
        lo = from + b * step;
        hi = lo + step;
        out.push((p = { b, mn: null, mx: null, sm: null, n: 0, c: 0 }));
      }
      if (v !== v) return;
      if (p.mn === null || v < p.mn) p.mn = v;
      if (p.mx === null || v > p.mx) p.mx = v;
      const s = p.sm ?? 0;
      const t2 = s + v;
      if (compensated) p.c += Math.abs(s) >= Math.abs(v) ? s - t2 + v : v - t2 + s;
      p.sm = t2;
      p.n++;
    });
    return out.map(({ c, ...q }) => ({ ...q, sm: q.sm === null ? null : q.sm + c }));
  };
  const answer = async (hasCold: boolean): Promise<Bucket[]> => {
    acc.clear();
    const bucketOf = (col: string) => `CAST((${col} - CAST(? AS BIGINT)) / CAST(? AS BIGINT) AS BIGINT)`;
    const raw = `SELECT ${bucketOf('r.ts')} AS b, MIN(r.value) AS mn, MAX(r.value) AS mx, SUM(r.value) AS sm, COUNT(r.value) AS n`;
    if (step < 10 * MINUTE || to - from < 2 * step) {
      // Small steps: plain aggregation of raw rows (the range is short, the bucket cap saw to that).
      if (!hasCold) add(await sql.all(`${raw} FROM readings r WHERE r.series = ? AND r.ts >= ? AND r.ts <= ? GROUP BY b`, [from, step, series.id, from, to]));
      else {
        const hot = await sql.all<{ ts: number; value: number | null }>('SELECT ts, value FROM readings WHERE series = ? AND ts >= ? AND ts <= ? ORDER BY ts', [series.id, from, to]);
        add(await parts([[from, to]], hot));
      }
    } else {
      const cut = new Set<number>();
      const firstWhole = Math.ceil(from / MINUTE) * MINUTE;
      const lastWholeEnd = Math.floor((to + 1) / MINUTE) * MINUTE; // exclusive
      if (firstWhole > from) cut.add(firstWhole - MINUTE);
      if (lastWholeEnd <= to) cut.add(lastWholeEnd);
      for (let edge = from + step; edge <= to; edge += step) if (edge % MINUTE !== 0) cut.add(Math.floor(edge / MINUTE) * MINUTE);
      const cuts = [...cut].sort((a, b) => a - b);
      // Both engines must probe the index once per cut minute (PostgreSQL: LATERAL); left to themselves they may scan the range.
      const cutRows =
        sql.dialect === 'postgres'
          ? `${listOf(sql.dialect)} m CROSS JOIN LATERAL (SELECT ts, value FROM readings r WHERE r.series = ? AND r.ts >= m.v AND r.ts < m.v + ${MINUTE}) r`
          : // CROSS JOIN fixes SQLite's join order: left to itself it scans the whole range and probes the list per row.
            `${listOf(sql.dialect)} m CROSS JOIN readings r ON r.series = ? AND r.ts >= m.v AND r.ts < m.v + ${MINUTE}`;
      // SQLite: [from, to] goes into the ON clause too, or it scans the whole range once per cut minute (44 s for 100 minutes of 300,000 rows; 2 ms so).
      const within = sql.dialect === 'postgres' ? 'WHERE' : 'AND';
      // The two halves are independent: run them side by side (two pool connections on PostgreSQL).
      const cutPart = async (): Promise<Part[]> => {
        if (!hasCold) return sql.all<Part>(`${raw} FROM ${cutRows} ${within} r.ts >= ? AND r.ts <= ? GROUP BY b`, [from, step, listParam(sql.dialect, cuts), series.id, from, to]);
        const hot = await sql.all<{ ts: number; value: number | null }>(`SELECT r.ts, r.value FROM ${cutRows} ${within} r.ts >= ? AND r.ts <= ? ORDER BY r.ts`, [
          listParam(sql.dialect, cuts), series.id, from, to,
        ]);
        const spans = cuts.map((m): [number, number] => [Math.max(m, from), Math.min(m + MINUTE - 1, to)]).filter(([a, b]) => a <= b);
        return parts(spans, hot);
      };
      const [cutRowsPart, wholePart] = await Promise.all([
        cutPart(),
        // Whole minutes inside [from, to] whose first and last ms fall in the same bucket.
        sql.all<Part>(
          `SELECT ${bucketOf('m.minute')} AS b, MIN(m.min) AS mn, MAX(m.max) AS mx, SUM(m.sum) AS sm, SUM(m.count) AS n
           FROM readings_1m m WHERE m.series = ? AND m.minute >= ? AND m.minute + ${MINUTE - 1} <= ?
             AND ${bucketOf('m.minute')} = ${bucketOf(`(m.minute + ${MINUTE - 1})`)}
           GROUP BY b`,
          [from, step, series.id, firstWhole, to, from, step, from, step],
        ),
      ]);
      add(cutRowsPart);
      add(wholePart);
    }
    return [...acc.entries()]
      .sort((a, b) => a[0] - b[0])
      .filter(([, a]) => a.count > 0)
      .map(([b, a]) => ({ ts: from + b * step, min: a.min!, max: a.max!, mean: a.sum / a.count, count: a.count }));
  };
  const withCold = await cold.overlaps(series.id, from, to);
  const out = await answer(withCold);
  // A compaction may have moved the range's rows into a block while the rows-only path read: again, with the blocks.
  if (!withCold && (await cold.overlaps(series.id, from, to))) return answer(true);
  return out;
}
