/**
 * A telemetry batch made ready for its commit: rows in (series, ts) order, the
 * rollup minutes, the device activity and each device's newest reading, without
 * a string key, map lookup or object per reading.
 *
 *   wire decoder ─▶ columns per series (SeriesColumns) ─┐        (the ingest's path: no Reading objects)
 *   Reading[] ─▶ columnsOf ─────────────────────────────┤        (live frames, tests, other callers)
 *                                                      ▼
 *   orderBatch(columns, ids) ─▶ series by id, each series' columns copied in (a series' blocks in batch order), ts sorted where not
 *        ─▶ rows · minutes (one per run of a series' minute: already in (series, minute) order) · activity · newest
 *
 * Why sorted: the readings index is (series, ts); a draining backlog arrives one
 * poll round after another (every series at each timestamp), so in arrival order
 * each row lands on another index page. In (series, ts) order consecutive rows
 * share a page, and the batch's rows of one series sit together in the heap.
 */
import type { Reading, SeriesColumns } from '@lifeline/shared';
import { MINUTE } from './sql-common.js';
import { Activity } from './sql-activity.js';
import type { Minute, ReadingColumns } from './sql-telemetry.js';

/** Readings as columns per distinct series (first-seen order), each series' readings in the given order. */
export function columnsOf(readings: readonly Reading[]): SeriesColumns[] {
  const byDevice = new Map<string, Map<string, number>>();
  const names: { device: string; point: string }[] = [];
  const of = new Int32Array(readings.length);
  const counts: number[] = [];
  for (let i = 0; i < readings.length; i++) {
    const { device, point } = readings[i];
    let points = byDevice.get(device);
    if (!points) byDevice.set(device, (points = new Map()));
    let k = points.get(point);
    if (k === undefined) {
      points.set(point, (k = names.length));
      names.push({ device, point });
      counts.push(0);
    }
    of[i] = k;
    counts[k]++;
  }
  const out = names.map(({ device, point }, k) => ({ device, point, ts: new Float64Array(counts[k]), value: new Float64Array(counts[k]), quality: new Uint8Array(counts[k]) }));
  const next = new Int32Array(names.length);
  for (let i = 0; i < readings.length; i++) {
    const c = out[of[i]];
    const j = next[of[i]]++;
    const r = readings[i];
    c.ts[j] = r.ts;
    c.value[j] = r.value;
    c.quality[j] = r.quality === undefined ? 0 : r.quality + 1;
  }
  return out;
}

export interface OrderedBatch {
  rows: ReadingColumns;
  /** Per (series, minute), in that order (the order rollup rows are locked in). */
  minutes: Minute[];
  activity: Activity;
  /** Newest timestamp per device. */
  newest: Map<string, number>;
}

/** Sort rows from..to by ts (stable: equal stamps keep their order). */
function sortByTs(rows: ReadingColumns, from: number, to: number): void {
  const idx = Array.from({ length: to - from }, (_, i) => from + i).sort((a, b) => rows.ts[a] - rows.ts[b] || a - b);
  const ts = rows.ts.slice(from, to);
  const value = rows.value.slice(from, to);
  const quality = rows.quality.slice(from, to);
  for (let i = 0; i < idx.length; i++) {
    rows.ts[from + i] = ts[idx[i] - from];
    rows.value[from + i] = value[idx[i] - from];
    rows.quality[from + i] = quality[idx[i] - from];
  }
}

/**
 * `ids[k]` is the series id of `series[k]`; a series may come in several blocks (the batches of a run),
 * which are joined in the order given. Quality as stored: the wire's code − 1, none given = Good (0).
 */
export function orderBatch(series: readonly SeriesColumns[], ids: readonly number[]): OrderedBatch {
  const k = series.length;
  // Blocks in id order, a series' blocks in the order given.
  const byId = Array.from({ length: k }, (_, i) => i).sort((a, b) => ids[a] - ids[b] || a - b);
  let n = 0;
  for (const c of series) n += c.ts.length;
  const rows: ReadingColumns = { length: n, series: new Int32Array(n), ts: new Float64Array(n), value: new Float64Array(n), quality: new Int16Array(n), lo: Infinity, hi: -Infinity };
  const minutes: Minute[] = [];
  const activity = new Activity();
  const newest = new Map<string, number>();
  let to = 0;
  for (let r = 0; r < k; ) {
    const id = ids[byId[r]];
    const { device } = series[byId[r]];
    const from = to;
    for (; r < k && ids[byId[r]] === id; r++) {
      const c = series[byId[r]];
      rows.ts.set(c.ts, to);
      rows.value.set(c.value, to);
      const q = c.quality;
      for (let i = 0; i < q.length; i++) rows.quality[to + i] = q[i] && q[i] - 1;
      to += c.ts.length;
    }
    if (to === from) continue;
    rows.series.fill(id, from, to);
    // Seq order is time order for nearly every series; a series that is not gets sorted.
    for (let j = from + 1; j < to; j++) {
      if (rows.ts[j] < rows.ts[j - 1]) {
        sortByTs(rows, from, to);
        break;
      }
    }
    if (rows.ts[from] < rows.lo) rows.lo = rows.ts[from];
    if (rows.ts[to - 1] > rows.hi) rows.hi = rows.ts[to - 1];
    let m: Minute | undefined;
    for (let j = from; j < to; j++) {
      const ts = rows.ts[j];
      const value = rows.value[j];
      const minute = Math.floor(ts / MINUTE) * MINUTE;
      if (!m || m.minute !== minute) {
        minutes.push((m = { series: id, minute, min: Infinity, max: -Infinity, sum: 0, count: 0 }));
        activity.add(device, minute);
      }
      if (Number.isFinite(value)) {
        if (value < m.min) m.min = value;
        if (value > m.max) m.max = value;
        m.sum += value;
        m.count++;
      }
    }
    if ((newest.get(device) ?? -Infinity) < rows.ts[to - 1]) newest.set(device, rows.ts[to - 1]);
  }
  return { rows, minutes, activity, newest };
}
