/**
 * Thinning's arithmetic, pure: raw chunk rows in, one replacement chunk out
 * that holds no readings, only per-series per-minute min/max/mean (the gap
 * records the cloud is sent for the thinned seqs). budget.ts decides when.
 */
import { CHUNK_BYTES_PER_READING, unpackChunk, type ChunkRow, type GapMeta } from './chunk.js';

const MINUTE = 60_000;

/** What replaces the first `rows` of the input. */
export interface Thinned {
  /** The rows folded in (a prefix of the input). */
  rows: ChunkRow[];
  /** Gap metadata of the replacement chunk, and its minutes (5 f64 each). */
  metas: GapMeta[];
  gapdata: Float64Array;
  /** Raw readings replaced. */
  thinned: number;
  /** Aggregate minutes not kept (see below). */
  droppedMinutes: number;
}

/**
 * Folds the first chunks of `all` into per-series per-minute aggregates,
 * keeping gap records already there. Stops after ~2,000 aggregate minutes so
 * that the batch carrying the gap records stays small (≈ 60 KB).
 */
export function thinRows(all: ChunkRow[]): Thinned {
  const perSeries = new Map<number, { from: number; to: number; minutes: Map<number, number[]> }>();
  let thinned = 0;
  let droppedMinutes = 0;
  let minuteCount = 0;
  const carried: { meta: GapMeta; minutes: Float64Array }[] = [];
  const rows: ChunkRow[] = [];
  for (const row of all) {
    if (rows.length && minuteCount >= 2000) break;
    rows.push(row);
    const c = unpackChunk(row);
    for (const g of c.gaps) minuteCount += g.meta.minutes;
    carried.push(...c.gaps);
    for (let i = 0; i < c.n; i++) {
      const s = c.series[i];
      const t = c.ts[i];
      let e = perSeries.get(s);
      if (!e) perSeries.set(s, (e = { from: t, to: t, minutes: new Map() }));
      if (t < e.from) e.from = t;
      if (t > e.to) e.to = t;
      const minute = Math.floor(t / MINUTE) * MINUTE;
      let m = e.minutes.get(minute);
      if (!m) {
        e.minutes.set(minute, (m = [0, Infinity, -Infinity, 0, 0]));
        minuteCount++;
      }
      m[0]++;
      const v = c.value[i];
      if (Number.isFinite(v)) {
        if (v < m[1]) m[1] = v;
        if (v > m[2]) m[2] = v;
        m[3] += v;
        m[4]++;
      }
      thinned++;
    }
  }
  const metas: GapMeta[] = [];
  const parts: Float64Array[] = [];
  for (const g of carried) {
    metas.push(g.meta);
    parts.push(g.minutes);
  }
  for (const [series, e] of perSeries) {
    const keys = [...e.minutes.keys()].sort((a, b) => a - b);
    const arr = new Float64Array(keys.length * 5);
    keys.forEach((k, j) => {
      const m = e.minutes.get(k)!;
      arr[5 * j] = k;
      arr[5 * j + 1] = m[0];
      arr[5 * j + 2] = m[4] ? m[1] : NaN;
      arr[5 * j + 3] = m[4] ? m[2] : NaN;
      arr[5 * j + 4] = m[4] ? m[3] / m[4] : NaN;
    });
    metas.push({ series, from: e.from, to: e.to, minutes: keys.length });
    parts.push(arr);
  }
  // Aggregates of a point read about once a minute are no smaller than its readings: then
  // nothing is kept of the newly thinned minutes but the gap record (from, to, no minutes).
  const fresh = metas.length - carried.length;
  const freshMinutes = parts.slice(carried.length).reduce((a, p) => a + p.length / 5, 0);
  if (freshMinutes * 40 > thinned * CHUNK_BYTES_PER_READING * 0.6) {
    for (let k = carried.length; k < carried.length + fresh; k++) {
      droppedMinutes += metas[k].minutes;
      metas[k] = { ...metas[k], minutes: 0 };
      parts[k] = new Float64Array(0);
    }
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const gapdata = new Float64Array(total);
  let off = 0;
  for (const p of parts) {
    gapdata.set(p, off);
    off += p.length;
  }
  return { rows, metas, gapdata, thinned, droppedMinutes };
}
