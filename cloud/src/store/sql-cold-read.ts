/**
 * Reads of the cold tier: which blocks of a series overlap a range, their
 * frames decoded (cached by block version, sql-cold-cache.ts), and hot rows
 * merged over them.
 *
 *   scan(series, spans, hot, visit) ─▶ frames(series, spans) ─▶ blocks overlapping ─▶ headers (cached, else one query for the missing blocks)
 *                                    ─▶ frames holding a span ─▶ decoded whole and cached, else (bytes in one query for the
 *                                       blocks not cached) decoded ─▶ each reading inside the spans, merged with hot rows
 *                                       (hot wins on an equal ts), time-ordered, handed to `visit` (no array built)
 *   merge(series, spans, hot) ─▶ scan into arrays
 */
import { blockFrames, decodeFrame, firstAtOrAfter, type BlockColumns } from '@lifeline/shared';
import type { Sql } from './sql.js';
import { DAY, inflate, toBytes, type RawRows } from './sql-cold-block.js';
import { ColdCache } from './sql-cold-cache.js';

type ColdRow = { day: number; version: number; first_ts: number; last_ts: number };

/** Whether `t` lies in one of the sorted spans. */
function inSpans(spans: [number, number][], t: number): boolean {
  const s = firstSpanEndingAtOrAfter(spans, t);
  return s < spans.length && spans[s][0] <= t;
}

export class ColdReader {
  constructor(private readonly sql: Sql, private readonly cache: ColdCache) {}

  /** Blocks of one series overlapping [from, to], ascending. */
  private blocks(series: number, from: number, to: number): Promise<ColdRow[]> {
    return this.sql.all<ColdRow>(
      'SELECT day, version, first_ts, last_ts FROM readings_cold WHERE series = ? AND day >= ? AND day <= ? AND last_ts >= ? AND first_ts <= ? ORDER BY day',
      [series, Math.floor(from / DAY) - 1, Math.floor(to / DAY), from, to],
    );
  }

  /** True when a block of the series overlaps [from, to] (reads then merge the cold tier). */
  async overlaps(series: number, from: number, to: number): Promise<boolean> {
    return (await this.blocks(series, from, to)).length > 0;
  }

  /**
   * Decoded frames of one series that hold readings in any of `spans` ([from, to] inclusive, sorted,
   * not overlapping), time-ordered; with `enough`, stops after the frame that brings the count of
   * readings inside the spans to it. Frames come from the cache when their block has not changed.
   */
  async frames(series: number, spans: [number, number][], enough = Infinity): Promise<BlockColumns[]> {
    if (!spans.length) return [];
    // A block rewritten (merged, trimmed) between our queries: read the new versions again.
    for (let attempt = 1; ; attempt++) {
      const got = await this.framesOnce(series, spans, enough);
      if (got) return got;
      if (attempt === 5) throw new Error(`cold blocks of series ${series} were rewritten during 5 reads in a row`);
    }
  }

  /** One consistent read of `frames`; undefined when a block changed version under it. */
  private async framesOnce(series: number, spans: [number, number][], enough: number): Promise<BlockColumns[] | undefined> {
    const rows = await this.blocks(series, spans[0][0], spans[spans.length - 1][1]);
    const keyOf = (b: ColdRow) => `${series}:${b.day}:${b.version}`;
    const heads = rows.map((b) => this.cache.headers.get(keyOf(b)));
    const bytes = rows.map((b, k) => (heads[k] ? this.cache.stored.get(keyOf(b)) : undefined));
    // Blocks whose header is not cached: their bytes in one query, at the versions listed.
    if (!(await this.fetch(series, rows, bytes, (k) => !heads[k]))) return undefined;
    rows.forEach((b, k) => {
      if (heads[k]) return;
      this.cache.headers.set(keyOf(b), (heads[k] = blockFrames(bytes[k]!)));
      this.cache.stored.set(keyOf(b), bytes[k]!);
    });
    // Per block, the frames holding a span, and each one decoded when the cache has it.
    type Want = { k: number; i: number; key: string; cols?: BlockColumns };
    const wants: Want[] = [];
    // Per span, its frames by binary search (a 30-day query has ~1,000 one-minute spans over ~4,000 frames).
    rows.forEach((b, k) => {
      const fs = heads[k]!.frames;
      if (!fs.length) return;
      const blockKey = keyOf(b);
      let last = -1; // the last frame taken: spans are sorted, so frames come ascending
      for (let s = firstSpanEndingAtOrAfter(spans, fs[0].firstTs); s < spans.length && spans[s][0] <= fs[fs.length - 1].lastTs; s++) {
        for (let i = Math.max(last + 1, firstFrameEndingAtOrAfter(fs, spans[s][0])); i < fs.length && fs[i].firstTs <= spans[s][1]; i++) {
          const key = `${blockKey}:${i}`;
          wants.push({ k, i, key, cols: this.cache.frames.get(key) });
          last = i;
        }
      }
    });
    // Blocks a frame must be decoded from whose bytes are not cached: in one query.
    const need = new Set(wants.filter((w) => !w.cols && !bytes[w.k]).map((w) => w.k));
    if (!(await this.fetch(series, rows, bytes, (k) => need.has(k)))) return undefined;
    for (const k of need) this.cache.stored.set(keyOf(rows[k]), bytes[k]!);
    const out: BlockColumns[] = [];
    let count = 0;
    for (const w of wants) {
      let cols = w.cols;
      if (!cols) {
        // Decoded whole and kept: the next query cutting a minute of this frame (a chart panned, zoomed or
        // refreshed) reads it from memory. Decoding a cut minute alone first and the frame on a second read
        // made the 30-day query's p95 worse (session 8: the second reads bunch up in the next queries).
        const head = heads[w.k]!;
        cols = decodeFrame(bytes[w.k]!, head.base, head.frames[w.i], inflate);
        this.cache.frames.set(w.key, cols);
      }
      out.push(cols);
      if (enough !== Infinity) {
        for (let j = 0; j < cols.ts.length; j++) if (inSpans(spans, cols.ts[j])) count++;
        if (count >= enough) return out;
      }
    }
    return out;
  }

  /** Fills `bytes[k]` for the blocks `which(k)` picks, in one query at the versions listed; false when one changed. */
  private async fetch(series: number, rows: ColdRow[], bytes: (Uint8Array | undefined)[], which: (k: number) => boolean): Promise<boolean> {
    const ks = rows.map((_, k) => k).filter(which);
    if (!ks.length) return true;
    const fetched = await this.sql.all<{ day: number; version: number; data: Uint8Array }>(
      `SELECT day, version, data FROM readings_cold WHERE series = ? AND day IN (${ks.map(() => '?').join(', ')})`,
      [series, ...ks.map((k) => rows[k].day)],
    );
    const byDay = new Map(fetched.map((f) => [Number(f.day), f]));
    for (const k of ks) {
      const g = byDay.get(Number(rows[k].day));
      if (!g || Number(g.version) !== Number(rows[k].version)) return false;
      bytes[k] = toBytes(g.data);
    }
    return true;
  }

  /**
   * Visits the readings of one series in the spans given, time-ordered, hot rows (`hot`, time-ordered)
   * merged with cold frames: at an equal ts the hot reading wins (late data not yet compacted replaces
   * the cold one). No array of the readings is built: a downsample aggregates as it goes.
   */
  async scan(series: number, spans: [number, number][], hot: { ts: number; value: number | null }[], visit: (ts: number, value: number) => void, limit = Infinity): Promise<void> {
    const frames = await this.frames(series, spans, limit);
    let j = 0;
    let ht = hot.length ? Number(hot[0].ts) : Infinity;
    const nextHot = () => {
      visit(ht, hot[j].value ?? NaN);
      ht = ++j < hot.length ? Number(hot[j].ts) : Infinity;
    };
    for (const f of frames) {
      const n = f.ts.length;
      if (!n) continue; // a part of a frame the spans found empty
      const fts = f.ts;
      const fvs = f.values;
      // Each span overlapping the frame (the first by binary search): its first reading by binary search, then its readings.
      for (let s = firstSpanEndingAtOrAfter(spans, fts[0]); s < spans.length && spans[s][0] <= fts[n - 1]; s++) {
        const end = spans[s][1];
        for (let i = firstAtOrAfter(fts, spans[s][0]); i < n; i++) {
          const t = fts[i];
          if (t > end) break;
          if (ht <= t) {
            while (ht < t) nextHot();
            if (ht === t) {
              while (ht === t) nextHot(); // the hot reading replaces the cold one
              continue;
            }
          }
          visit(t, fvs[i]);
        }
      }
    }
    while (j < hot.length) nextHot();
  }

  /** Readings of one series in the spans given, hot rows merged over cold frames (see scan). */
  async merge(series: number, spans: [number, number][], hot: { ts: number; value: number | null }[], limit = Infinity): Promise<RawRows> {
    const out: RawRows = { ts: [], values: [] };
    await this.scan(series, spans, hot, (t, v) => (out.ts.push(t), out.values.push(v)), limit);
    return out;
  }
}

/** The first of a block's frames (time-ordered) ending at or after `t`, or frames.length. */
function firstFrameEndingAtOrAfter(frames: { lastTs: number }[], t: number): number {
  let lo = 0;
  let hi = frames.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid].lastTs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first of the sorted spans ending at or after `t`, or spans.length. */
function firstSpanEndingAtOrAfter(spans: [number, number][], t: number): number {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid][1] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

