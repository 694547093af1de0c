/**
 * A telemetry batch made ready for its commit: rows in (series, ts) order, the
 * rollup minutes, the device activity and each device's newest reading, without
 * a string key or map lookup per reading.
 *
 *   groupBySeries(readings) ─▶ distinct (device, point) + each reading's series index   (names only: ids come from the store)
 *   orderBatch(readings, grouped, ids) ─▶ stable counting sort by series (ordered by id), ts within each series
 *        ─▶ rows · minutes (one per run of a series' minute: already in (series, minute) order) · activity · newest
 *
 * Why sorted: the readings index is (series, ts); a draining backlog arrives one
 * poll round after another (every series at each timestamp), so in arrival order
 * each row lands on another index page. In (series, ts) order consecutive rows
 * share a page, and the batch's rows of one series sit together in the heap.
 */
import type { Reading } from '@lifeline/shared';
import { MINUTE } from './sql-common.js';
import { Activity } from './sql-activity.js';
import type { Minute, ReadingColumns } from './sql-telemetry.js';

/** The distinct series of a batch, in first-seen order, and each reading's index into them. */
export interface GroupedBatch {
  names: { device: string; point: string }[];
  of: Int32Array;
}

export function groupBySeries(readings: readonly Reading[]): GroupedBatch {
  const byDevice = new Map<string, Map<string, number>>();
  const names: { device: string; point: string }[] = [];
  const of = new Int32Array(readings.length);
  for (let i = 0; i < readings.length; i++) {
    const { device, point } = readings[i];
    let points = byDevice.get(device);
    if (!points) byDevice.set(device, (points = new Map()));
    let k = points.get(point);
    if (k === undefined) {
      points.set(point, (k = names.length));
      names.push({ device, point });
    }
    of[i] = k;
  }
  return { names, of };
}

export interface OrderedBatch {
  rows: ReadingColumns;
  /** Per (series, minute), in that order (the order rollup rows are locked in). */
  minutes: Minute[];
  activity: Activity;
  /** Newest timestamp per device. */
  newest: Map<string, number>;
}

/** `ids[k]` is the series id of `grouped.names[k]`. */
export function orderBatch(readings: readonly Reading[], grouped: GroupedBatch, ids: readonly number[]): OrderedBatch {
  const { names, of } = grouped;
  const k = names.length;
  // Series in id order; then a stable counting sort of the readings by their series' rank.
  const byId = Array.from({ length: k }, (_, i) => i).sort((a, b) => ids[a] - ids[b]);
  const start = new Int32Array(k + 1);
  for (let i = 0; i < of.length; i++) start[of[i] + 1]++;
  const rankStart = new Int32Array(k + 1);
  for (let r = 0; r < k; r++) rankStart[r + 1] = rankStart[r] + start[byId[r] + 1];
  const next = new Int32Array(k);
  for (let r = 0; r < k; r++) next[byId[r]] = rankStart[r];
  const order = new Int32Array(of.length);
  for (let i = 0; i < of.length; i++) order[next[of[i]]++] = i;
  const n = readings.length;
  const rows: ReadingColumns = { length: n, series: new Int32Array(n), ts: new Float64Array(n), value: new Float64Array(n), quality: new Int16Array(n), lo: Infinity, hi: -Infinity };
  const minutes: Minute[] = [];
  const activity = new Activity();
  const newest = new Map<string, number>();
  for (let r = 0; r < k; r++) {
    const from = rankStart[r];
    const to = rankStart[r + 1];
    // Seq order is time order for nearly every series; a series that is not gets sorted (stable: equal stamps keep seq order).
    for (let j = from + 1; j < to; j++) {
      if (readings[order[j]].ts < readings[order[j - 1]].ts) {
        order.set(Array.from(order.subarray(from, to)).sort((a, b) => readings[a].ts - readings[b].ts || a - b), from);
        break;
      }
    }
    const series = ids[byId[r]];
    const { device } = names[byId[r]];
    let m: Minute | undefined;
    for (let j = from; j < to; j++) {
      const x = readings[order[j]];
      const { ts, value } = x;
      rows.series[j] = series;
      rows.ts[j] = ts;
      rows.value[j] = value;
      rows.quality[j] = x.quality ?? 0;
      if (ts < rows.lo) rows.lo = ts;
      if (ts > rows.hi) rows.hi = ts;
      const minute = Math.floor(ts / MINUTE) * MINUTE;
      if (!m || m.minute !== minute) {
        minutes.push((m = { series, minute, min: Infinity, max: -Infinity, sum: 0, count: 0 }));
        activity.add(device, minute);
      }
      if (Number.isFinite(value)) {
        if (value < m.min) m.min = value;
        if (value > m.max) m.max = value;
        m.sum += value;
        m.count++;
      }
    }
    if (to > from) {
      const last = readings[order[to - 1]].ts;
      if ((newest.get(device) ?? -Infinity) < last) newest.set(device, last);
    }
  }
  return { rows, minutes, activity, newest };
}
