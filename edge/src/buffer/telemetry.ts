/**
 * The telemetry lane: readings in, one chunk row per append; a seq range out,
 * as readings with their seqs and the gap records of thinned seqs. Devices and
 * points are stored once (`series`) and named by id in the chunks.
 */
import { Quality, type GapRecord, type Reading } from '@lifeline/shared';
import { chunkColumns, unpackChunk, type ChunkHead, type ChunkRow, type GapMeta } from './chunk.js';
import type { Cursors } from './cursors.js';
import type { SyncLane } from './outbox.js';
import type { Db } from './database.js';
import type { TelemetryRange } from './types.js';

/** Reads telemetry ranges (works on a read-only handle: the inspect API uses it too). */
export class TelemetryReader {
  protected readonly pointIds = new Map<string, Map<string, number>>();
  protected readonly series = new Map<number, { device: string; point: string }>();
  private readonly overlapping;

  constructor(protected readonly db: Db) {
    for (const r of db.prepare('SELECT id, device, point FROM series').all() as { id: number; device: string; point: string }[]) this.remember(r.id, r.device, r.point);
    this.overlapping = db.prepare('SELECT * FROM chunks WHERE last_seq >= ? AND first_seq <= ? ORDER BY first_seq');
  }

  protected remember(id: number, device: string, point: string): void {
    let points = this.pointIds.get(device);
    if (!points) this.pointIds.set(device, (points = new Map()));
    points.set(point, id);
    this.series.set(id, { device, point });
  }

  /** The readings and gap records of seqs firstSeq..lastSeq, readings in seq order with their seqs. */
  range(firstSeq: number, lastSeq: number): TelemetryRange {
    const rows = this.overlapping.all(firstSeq, lastSeq) as ChunkRow[];
    const readings: Reading[] = [];
    const seqs: number[] = [];
    const gaps: GapRecord[] = [];
    for (const row of rows) {
      const c = unpackChunk(row);
      for (let i = 0; i < c.n; i++) {
        const seq = c.seqs ? c.seqs[i] : c.first + i;
        if (seq < firstSeq || seq > lastSeq) continue;
        const s = this.series.get(c.series[i])!;
        const reading: Reading = { device: s.device, point: s.point, ts: c.ts[i], value: c.value[i] };
        if (c.quality[i] !== Quality.Good) reading.quality = c.quality[i];
        readings.push(reading);
        seqs.push(seq);
      }
      // A chunk with gaps is never split, so its gaps belong to the range holding it.
      if (c.first >= firstSeq && c.last <= lastSeq) for (const g of c.gaps) gaps.push(this.gapRecord(g.meta, g.minutes));
    }
    return { readings, seqs, gaps };
  }

  private gapRecord(meta: GapMeta, m: Float64Array): GapRecord {
    const s = this.series.get(meta.series)!;
    const minutes = [];
    for (let k = 0; k < meta.minutes; k++) minutes.push({ ts: m[5 * k], count: m[5 * k + 1], min: m[5 * k + 2], max: m[5 * k + 3], mean: m[5 * k + 4] });
    return { device: s.device, point: s.point, from: meta.from, to: meta.to, minutes };
  }
}

/** The writer's telemetry lane: appends, and the chunk walks the outbox cuts ranges with. */
export class TelemetryLane extends TelemetryReader implements SyncLane {
  private readonly stmt;

  constructor(
    db: Db,
    private readonly cursors: Cursors,
  ) {
    super(db);
    this.stmt = {
      insertSeries: db.prepare('INSERT INTO series(device, point) VALUES (?, ?)'),
      insertChunk: db.prepare('INSERT INTO chunks(first_seq, last_seq, n, ts_min, ts_max, data) VALUES (?, ?, ?, ?, ?, ?)'),
      headsFrom: db.prepare('SELECT first_seq, last_seq, n, (seqs IS NOT NULL OR gaps IS NOT NULL) holes FROM chunks WHERE last_seq >= ? ORDER BY first_seq LIMIT ?'),
      headsBack: db.prepare('SELECT first_seq, last_seq, n, (seqs IS NOT NULL OR gaps IS NOT NULL) holes FROM chunks WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT ?'),
      deleteUpTo: db.prepare('DELETE FROM chunks WHERE last_seq <= ?'),
      deleteIn: db.prepare('DELETE FROM chunks WHERE first_seq >= ? AND last_seq <= ?'),
      backlog: db.prepare('SELECT COALESCE(SUM(n), 0) n, MIN(ts_min) t, COUNT(*) c FROM chunks WHERE last_seq > ?'),
    };
  }

  private seriesId(device: string, point: string): number {
    const id = this.pointIds.get(device)?.get(point);
    if (id !== undefined) return id;
    const created = Number(this.stmt.insertSeries.run(device, point).lastInsertRowid);
    this.remember(created, device, point);
    return created;
  }

  /** Stores readings (at least one) durably as one chunk; returns the bytes written. */
  append(readings: readonly Reading[]): number {
    const n = readings.length;
    const { blob: ab, ts, value, series, quality } = chunkColumns(n);
    let tmin = Infinity;
    let tmax = -Infinity;
    let lastDevice = '';
    let points: Map<string, number> | undefined;
    for (let i = 0; i < n; i++) {
      const r = readings[i];
      // Poll batches come device by device: keep the device's point map across its readings.
      if (r.device !== lastDevice || !points) {
        lastDevice = r.device;
        points = this.pointIds.get(r.device);
      }
      let id = points?.get(r.point);
      if (id === undefined) {
        id = this.seriesId(r.device, r.point);
        points = this.pointIds.get(r.device);
      }
      const t = r.ts;
      ts[i] = t;
      value[i] = r.value;
      series[i] = id;
      quality[i] = r.quality ?? Quality.Good;
      if (t < tmin) tmin = t;
      if (t > tmax) tmax = t;
    }
    const first = this.cursors.last.telemetry + 1;
    const last = first + n - 1;
    const blob = Buffer.from(ab);
    this.stmt.insertChunk.run(first, last, n, tmin, tmax, blob);
    this.cursors.last.telemetry = last;
    return blob.length;
  }

  /**
   * The end of a range from `start` (up to `limit`) holding at most `max`
   * readings: whole chunks, a chunk split only when it has no holes.
   */
  rangeEnd(start: number, limit: number, max: number): number {
    let count = 0;
    let end = start - 1;
    let from = start;
    for (;;) {
      const heads = this.stmt.headsFrom.all(from, 256) as ChunkHead[];
      if (!heads.length) return limit;
      for (const h of heads) {
        if (h.first_seq > limit) return end;
        const lo = Math.max(h.first_seq, start);
        const hi = Math.min(h.last_seq, limit);
        const items = h.holes ? h.n : hi - lo + 1;
        if (count + items <= max || count === 0) {
          if (!h.holes && count + items > max) return lo + (max - count) - 1; // split a plain chunk
          count += items;
          end = hi;
          if (count >= max) return end;
          continue;
        }
        if (!h.holes) return lo + (max - count) - 1;
        return end;
      }
      from = heads[heads.length - 1].last_seq + 1;
    }
  }

  /** The start of the newest range after `tail` ending at `end` with about `max` readings (whole chunks, walking back). */
  liveStart(tail: number, end: number, max: number): number {
    let start = end + 1;
    let count = 0;
    for (const h of this.stmt.headsBack.all(end, 64) as ChunkHead[]) {
      if (h.last_seq <= tail || (count > 0 && count + h.n > max)) break;
      start = Math.max(h.first_seq, tail + 1);
      count += h.n;
      if (count >= max) break;
    }
    return start;
  }

  /** Reclaims the chunks up to `seq` (acked). */
  deleteUpTo(seq: number): void {
    this.stmt.deleteUpTo.run(seq);
  }

  /** Reclaims the chunks wholly inside a range the cloud committed. */
  deleteIn(firstSeq: number, lastSeq: number): void {
    this.stmt.deleteIn.run(firstSeq, lastSeq);
  }

  /** Readings after `acked` and the time of the oldest. */
  backlog(acked: number): { depth: number; oldestTs: number | null } {
    const r = this.stmt.backlog.get(acked) as { n: number; t: number | null };
    return { depth: r.n, oldestTs: r.t };
  }
}
