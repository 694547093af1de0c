/**
 * Reads of the cold tier: which blocks of a series overlap a range, their
 * frames decoded (cached by block version, sql-cold-cache.ts), and hot rows
 * merged over them.
 *
 *   merge(series, spans, hot) ─▶ frames(series, spans) ─▶ blocks overlapping ─▶ headers (cached, else one query for the missing blocks)
 *                                                        ─▶ frames holding a span ─▶ decoded (cached), or for a frame stored
 *                                                           bit-packed that the spans cover less than half of, read for the
 *                                                           first time, only the readings they cover ─▶ readings inside the spans
 *                             ─▶ ∪ hot rows (hot wins on an equal ts), time-ordered
 */
import { blockFrames, decodeFrame, type BlockColumns } from '@lifeline/shared';
import type { Sql } from './sql.js';
import { DAY, inflate, toBytes, type RawRows } from './sql-cold-block.js';
import { ColdCache, type BlockHead } from './sql-cold-cache.js';

type ColdRow = { day: number; version: number; first_ts: number; last_ts: number };

/** Whether `t` lies in one of the sorted spans. */
function inSpans(spans: [number, number][], t: number): boolean {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid][1] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo < spans.length && spans[lo][0] <= t;
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
    type Got = { head: BlockHead; bytes?: Uint8Array };
    const got = new Map<number, Got>();
    const keyOf = (b: ColdRow) => `${series}:${b.day}:${b.version}`;
    for (const b of rows) {
      const head = this.cache.headers.get(keyOf(b));
      if (head) got.set(Number(b.day), { head, bytes: this.cache.stored.get(keyOf(b)) });
    }
    // Blocks whose header is not cached: their bytes in one query, at the versions listed.
    const missing = rows.filter((b) => !got.has(Number(b.day)));
    if (missing.length) {
      const fetched = await this.sql.all<{ day: number; version: number; data: Uint8Array }>(
        `SELECT day, version, data FROM readings_cold WHERE series = ? AND day IN (${missing.map(() => '?').join(', ')})`,
        [series, ...missing.map((b) => b.day)],
      );
      for (const b of missing) {
        const g = fetched.find((f) => Number(f.day) === Number(b.day));
        if (!g || Number(g.version) !== Number(b.version)) return undefined;
        const bytes = toBytes(g.data);
        const head = blockFrames(bytes);
        this.cache.headers.set(keyOf(b), head);
        this.cache.stored.set(keyOf(b), bytes);
        got.set(Number(b.day), { head, bytes });
      }
    }
    const out: BlockColumns[] = [];
    let count = 0;
    for (const b of rows) {
      const g = got.get(Number(b.day))!;
      // Frames holding a span, each with the time the spans inside it cover ([from, to]).
      const wanted: { i: number; from: number; to: number }[] = [];
      let s = 0;
      g.head.frames.forEach((f, i) => {
        while (s < spans.length && spans[s][1] < f.firstTs) s++;
        if (s >= spans.length || spans[s][0] > f.lastTs) return;
        let e = s;
        while (e + 1 < spans.length && spans[e + 1][0] <= f.lastTs) e++;
        wanted.push({ i, from: Math.max(spans[s][0], f.firstTs), to: Math.min(spans[e][1], f.lastTs) });
      });
      for (const { i, from, to } of wanted) {
        const key = `${keyOf(b)}:${i}`;
        const f = g.head.frames[i];
        let cols = this.cache.frames.get(key);
        if (!cols) {
          if (!g.bytes) {
            const row = await this.sql.get<{ data: Uint8Array }>('SELECT data FROM readings_cold WHERE series = ? AND day = ? AND version = ?', [series, b.day, b.version]);
            if (!row) return undefined;
            g.bytes = toBytes(row.data);
            this.cache.stored.set(keyOf(b), g.bytes);
          }
          if (!f.deflated && enough === Infinity && to - from < (f.lastTs - f.firstTs) / 2 && !this.cache.touched.get(key)) {
            // A minute a bucket edge cuts, the first time: only its readings decoded (runs of 64 values);
            // read again, the frame is decoded whole and cached.
            cols = decodeFrame(g.bytes, g.head.base, f, inflate, from, to);
            this.cache.touched.set(key, true);
          } else {
            cols = decodeFrame(g.bytes, g.head.base, f, inflate);
            this.cache.frames.set(key, cols);
          }
        }
        out.push(cols);
        if (enough !== Infinity) {
          for (let k = 0; k < cols.ts.length; k++) if (inSpans(spans, cols.ts[k])) count++;
          if (count >= enough) return out;
        }
      }
    }
    return out;
  }

  /**
   * Readings of one series in the spans given, hot rows (`hot`, time-ordered) merged with cold frames:
   * at an equal ts the hot reading wins (late data not yet compacted replaces the cold one).
   */
  async merge(series: number, spans: [number, number][], hot: { ts: number; value: number | null }[], limit = Infinity): Promise<RawRows> {
    const frames = await this.frames(series, spans, limit);
    const cts: number[] = [];
    const cvs: number[] = [];
    for (const f of frames) {
      if (!f.ts.length) continue; // a part of a frame the spans found empty
      // The first span ending at or after the frame's first reading (binary search), then walk.
      let lo = 0;
      let hi = spans.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (spans[mid][1] < f.ts[0]) lo = mid + 1;
        else hi = mid;
      }
      // Each span overlapping the frame: its first reading by binary search, then its readings.
      const n = f.ts.length;
      for (let s = lo; s < spans.length && spans[s][0] <= f.ts[n - 1]; s++) {
        let a = 0;
        let b = n;
        while (a < b) {
          const mid = (a + b) >> 1;
          if (f.ts[mid] < spans[s][0]) a = mid + 1;
          else b = mid;
        }
        for (let i = a; i < n && f.ts[i] <= spans[s][1]; i++) {
          cts.push(f.ts[i]);
          cvs.push(f.values[i]);
        }
      }
    }
    const out: RawRows = { ts: [], values: [] };
    let i = 0;
    let j = 0;
    while (i < cts.length || j < hot.length) {
      const ht = j < hot.length ? Number(hot[j].ts) : Infinity;
      if (i < cts.length && cts[i] < ht) {
        out.ts.push(cts[i]);
        out.values.push(cvs[i++]);
      } else {
        if (i < cts.length && cts[i] === ht) i++; // the hot reading replaces the cold one
        out.ts.push(ht);
        out.values.push(hot[j].value ?? NaN);
        j++;
      }
    }
    return out;
  }
}
