/**
 * Cold storage of readings, on both engines: days older than `compressAfter`
 * move out of the readings table into one compressed block per series and
 * day (readings_cold, shared/src/wire/block.ts), and every read merges hot
 * rows and cold blocks.
 *
 *   compact(now) ─▶ engine.coldCandidates(before) ─▶ per (series, day), one transaction each, yielding between:
 *                     lock (series, day) ─▶ DELETE hot rows … RETURNING ─▶ merge into the day's block (a late
 *                     reading replaces the cold one at the same ts) ─▶ upsert block (version + 1)
 *   rows(series, from, to) ─▶ hot rows ∪ decoded frames (hot wins on an equal ts), time-ordered
 *   retention(before) ─▶ blocks wholly before `before` deleted; the one straddling it re-encoded
 *
 * What a DELETE … RETURNING took is exactly what the block gets, so a commit
 * landing between the two can neither be lost nor doubled; a late batch for a
 * compressed day goes to hot rows as usual (its ledger range dedupes it) and
 * the next compaction merges it. Decoded frames (128 MiB) and stored blocks
 * (32 MiB) are cached by (series, day, block version), so a block rewritten by
 * a merge is never read stale.
 */
import { inflateRawSync } from 'node:zlib';
import { blockFrames, decodeBlock, decodeFrame, encodeBlock, type BlockColumns, type FrameInfo } from '@lifeline/shared';
import type { Sql } from './sql.js';
import type { CompactResult, StorageReport, StorageRow } from './telemetry-store.js';

export const DAY = 86_400_000;

/** What each engine does its own way for the cold tier. */
export interface ColdEngine {
  /** (series, day) pairs holding hot readings older than `before` (a day boundary). */
  coldCandidates(before: number): Promise<{ series: number; day: number }[]>;
  /** After the hot rows of one day were compacted (PostgreSQL: VACUUM the day's partition). */
  afterColdDay(day: number): Promise<void>;
  /** Bytes one hot reading takes on this engine, measured (heap + index), or undefined when there is nothing to measure. */
  hotBytesPerReading(): Promise<number | undefined>;
}

/** Options of the cold tier. */
export interface ColdOptions {
  /** Days a day stays hot after it ends before it is compressed (default 1). */
  compressAfterDays?: number;
  /** Bytes of decoded frames kept in memory for reads (default 128 MiB; a quarter of it again for blocks as stored). */
  cacheBytes?: number;
}

/** One series' merged readings of a range, time-ordered. */
export interface RawRows {
  ts: number[];
  /** NaN: no value. */
  values: number[];
}

type ColdRow = { day: number; version: number; first_ts: number; last_ts: number };

/** A small LRU sized by bytes (decoded frames, or blocks as stored). */
class Lru<T> {
  private readonly map = new Map<string, { v: T; bytes: number }>();
  private bytes = 0;
  constructor(private readonly limit: number, private readonly size: (v: T) => number) {}
  get(key: string): T | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.v;
  }
  set(key: string, v: T): void {
    const bytes = this.size(v);
    if (bytes > this.limit) return;
    this.map.set(key, { v, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.map) {
      if (this.bytes <= this.limit) break;
      this.map.delete(k);
      this.bytes -= e.bytes;
    }
  }
}

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

const inflate = (b: Uint8Array): Uint8Array => inflateRawSync(b);
const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

export class SqlCold {
  readonly compressAfterDays: number;
  private readonly cache: Lru<BlockColumns>;
  /** Blocks as stored, by `series:day:version`: a frame not cached is decoded without fetching its block again. */
  private readonly stored: Lru<Uint8Array>;
  /** Parsed block headers by `series:day:version`. */
  private readonly headers: Lru<{ base: number; frames: FrameInfo[] }>;
  private running: Promise<CompactResult> | undefined;

  constructor(private readonly sql: Sql, private readonly engine: ColdEngine, opts: ColdOptions = {}) {
    this.compressAfterDays = opts.compressAfterDays ?? 1;
    const cacheBytes = opts.cacheBytes ?? 128 * 1024 * 1024;
    this.cache = new Lru<BlockColumns>(cacheBytes, (c) => c.ts.length * 18 + 64);
    this.stored = new Lru<Uint8Array>(cacheBytes / 4, (b) => b.length + 64);
    this.headers = new Lru<{ base: number; frames: FrameInfo[] }>(cacheBytes / 8, (h) => h.frames.length * 80 + 64);
  }

  /**
   * Compress every day that ended at least `compressAfterDays` before `now`
   * (a day boundary), one series-day per transaction. One run at a time per
   * store; a second call while one runs waits for it.
   */
  compact(now = Date.now(), signal?: AbortSignal): Promise<CompactResult> {
    this.running ??= this.compactOnce(now, signal).finally(() => (this.running = undefined));
    return this.running;
  }

  private async compactOnce(now: number, signal: AbortSignal | undefined): Promise<CompactResult> {
    const before = (Math.floor(now / DAY) - this.compressAfterDays) * DAY;
    const out: CompactResult = { seriesDays: 0, readings: 0, bytes: 0, failed: [] };
    const candidates = (await this.engine.coldCandidates(before)).sort((a, b) => a.day - b.day || a.series - b.series);
    for (let i = 0; i < candidates.length && !signal?.aborted; i++) {
      const { series, day } = candidates[i];
      let r: { readings: number; bytes: number } | undefined;
      try {
        r = await this.compactSeriesDay(series, day);
      } catch (err) {
        // Its rows stay hot (the transaction rolled back) and readable; the others go on.
        out.failed.push(`series ${series} day ${new Date(day * DAY).toISOString().slice(0, 10)}: ${(err as Error).message}`);
      }
      if (r) {
        out.seriesDays++;
        out.readings += r.readings;
        out.bytes += r.bytes;
      }
      if (i + 1 === candidates.length || candidates[i + 1].day !== day) await this.engine.afterColdDay(day);
      await yieldLoop(); // ingest and the API run between series-days
    }
    return out;
  }

  /** Move one series-day's hot rows into its block (merging a block already there). */
  async compactSeriesDay(series: number, day: number): Promise<{ readings: number; bytes: number } | undefined> {
    const from = day * DAY;
    return this.sql.tx(async (db) => {
      // Two compactors of one series-day (two cloud processes) would overwrite each other's block.
      if (db.dialect === 'postgres') await db.run('SELECT pg_advisory_xact_lock(?, ?)', [series, day]);
      const hot = await db.all<{ ts: number; value: number | null; quality: number }>(
        'DELETE FROM readings WHERE series = ? AND ts >= ? AND ts < ? RETURNING ts, value, quality',
        [series, from, from + DAY],
      );
      if (!hot.length) return undefined;
      hot.sort((a, b) => Number(a.ts) - Number(b.ts));
      const old = await db.get<{ data: Uint8Array }>('SELECT data FROM readings_cold WHERE series = ? AND day = ?', [series, day]);
      const merged = mergeColumns(old ? decodeAll(toBytes(old.data)) : undefined, hot);
      const data = encodeBlock(merged);
      const n = merged.ts.length;
      await db.run(
        `INSERT INTO readings_cold(series, day, first_ts, last_ts, readings, bytes, version, data) VALUES (?, ?, ?, ?, ?, ?, 1, ?)
         ON CONFLICT(series, day) DO UPDATE SET first_ts = excluded.first_ts, last_ts = excluded.last_ts, readings = excluded.readings,
           bytes = excluded.bytes, version = readings_cold.version + 1, data = excluded.data`,
        [series, day, merged.ts[0], merged.ts[n - 1], n, data.length, blobParam(db, data)],
      );
      return { readings: hot.length, bytes: data.length };
    });
  }

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
    type Got = { head: { base: number; frames: FrameInfo[] }; bytes?: Uint8Array };
    const got = new Map<number, Got>();
    const keyOf = (b: ColdRow) => `${series}:${b.day}:${b.version}`;
    for (const b of rows) {
      const head = this.headers.get(keyOf(b));
      if (head) got.set(Number(b.day), { head, bytes: this.stored.get(keyOf(b)) });
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
        this.headers.set(keyOf(b), head);
        this.stored.set(keyOf(b), bytes);
        got.set(Number(b.day), { head, bytes });
      }
    }
    const out: BlockColumns[] = [];
    let count = 0;
    for (const b of rows) {
      const g = got.get(Number(b.day))!;
      const wanted: number[] = [];
      let s = 0;
      g.head.frames.forEach((f, i) => {
        while (s < spans.length && spans[s][1] < f.firstTs) s++;
        if (s < spans.length && spans[s][0] <= f.lastTs) wanted.push(i);
      });
      for (const i of wanted) {
        const key = `${keyOf(b)}:${i}`;
        let cols = this.cache.get(key);
        if (!cols) {
          if (!g.bytes) {
            const row = await this.sql.get<{ data: Uint8Array }>('SELECT data FROM readings_cold WHERE series = ? AND day = ? AND version = ?', [series, b.day, b.version]);
            if (!row) return undefined;
            g.bytes = toBytes(row.data);
            this.stored.set(keyOf(b), g.bytes);
          }
          cols = decodeFrame(g.bytes, g.head.base, g.head.frames[i], inflate);
          this.cache.set(key, cols);
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
      // The first span ending at or after the frame's first reading (binary search), then walk.
      let lo = 0;
      let hi = spans.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (spans[mid][1] < f.ts[0]) lo = mid + 1;
        else hi = mid;
      }
      for (let i = 0, s = lo; i < f.ts.length && s < spans.length; i++) {
        const t = f.ts[i];
        while (s < spans.length && spans[s][1] < t) s++;
        if (s < spans.length && t >= spans[s][0]) {
          cts.push(t);
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
        const data = encodeBlock(kept);
        await db.run('UPDATE readings_cold SET first_ts = ?, readings = ?, bytes = ?, version = version + 1, data = ? WHERE series = ? AND day = ?', [
          kept.ts[0], kept.ts.length, data.length, blobParam(db, data), series, day,
        ]);
      });
    }
  }

  /** Storage per UTC day and district over [from, to) (epoch ms; whole days). */
  async storage(from: number, to: number): Promise<StorageReport> {
    const d0 = Math.floor(from / DAY);
    const d1 = Math.ceil(to / DAY);
    const district = 'COALESCE(d.district, g.district)';
    const joins = 'JOIN series s ON s.id = x.series LEFT JOIN devices d ON d.gateway = s.gateway AND d.id = s.device LEFT JOIN gateways g ON g.id = s.gateway';
    const [cold, hot, per] = await Promise.all([
      this.sql.all<{ day: number; district: string | null; n: number; b: number }>(
        `SELECT x.day AS day, ${district} AS district, SUM(x.readings) AS n, SUM(x.bytes) AS b FROM readings_cold x ${joins}
         WHERE x.day >= ? AND x.day < ? GROUP BY x.day, ${district}`,
        [d0, d1],
      ),
      this.sql.all<{ day: number; district: string | null; n: number }>(
        `SELECT CAST(x.ts / ${DAY} AS BIGINT) AS day, ${district} AS district, COUNT(*) AS n FROM readings x ${joins}
         WHERE x.ts >= ? AND x.ts < ? GROUP BY CAST(x.ts / ${DAY} AS BIGINT), ${district}`,
        [d0 * DAY, d1 * DAY],
      ),
      this.engine.hotBytesPerReading(),
    ]);
    const perReading = per ?? HOT_BYTES_PER_READING;
    const rows = new Map<string, StorageRow>();
    const row = (day: number, district: string | null): StorageRow => {
      const key = `${day}\0${district ?? ''}`;
      let r = rows.get(key);
      if (!r) rows.set(key, (r = { day: new Date(day * DAY).toISOString().slice(0, 10), district, hot: { readings: 0, bytes: 0 }, cold: { readings: 0, bytes: 0 }, ratio: 1 }));
      return r;
    };
    for (const c of cold) {
      const r = row(Number(c.day), c.district);
      r.cold.readings += Number(c.n);
      r.cold.bytes += Number(c.b);
    }
    for (const h of hot) {
      const r = row(Number(h.day), h.district);
      r.hot.readings += Number(h.n);
      r.hot.bytes += Math.round(Number(h.n) * perReading);
    }
    for (const r of rows.values()) {
      const bytes = r.hot.bytes + r.cold.bytes;
      r.ratio = bytes ? Math.round((((r.hot.readings + r.cold.readings) * perReading) / bytes) * 10) / 10 : 1;
    }
    const days = [...rows.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : (a.district ?? '\uffff') < (b.district ?? '\uffff') ? -1 : 1));
    return { hotBytesPerReading: Math.round(perReading * 10) / 10, days };
  }
}

/**
 * Bytes per hot reading when the engine has nothing to measure yet: PostgreSQL's
 * row (60 heap + 32 index), as measured in issue #19.
 */
export const HOT_BYTES_PER_READING = 91.8;

/** A blob column as bytes (better-sqlite3 and pg give Buffers, which are Uint8Arrays). */
function toBytes(v: Uint8Array): Uint8Array {
  return v instanceof Uint8Array ? v : new Uint8Array(v);
}

/** A blob parameter: Buffer for both drivers (pg sends it as bytea). */
function blobParam(_db: Sql, data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Every reading of a block. */
const decodeAll = (block: Uint8Array): BlockColumns => decodeBlock(block, -Infinity, Infinity, inflate);

/** A block's readings with hot rows merged in (time-ordered; at an equal ts the hot row wins, the last of several). */
function mergeColumns(old: BlockColumns | undefined, hot: { ts: number; value: number | null; quality: number }[]): BlockColumns {
  const ts: number[] = [];
  const values: number[] = [];
  const quality: number[] = [];
  const push = (t: number, v: number, q: number) => {
    if (ts.length && ts[ts.length - 1] === t) {
      values[values.length - 1] = v;
      quality[quality.length - 1] = q;
      return;
    }
    ts.push(t);
    values.push(v);
    quality.push(q);
  };
  let i = 0;
  let j = 0;
  const on = old?.ts.length ?? 0;
  while (i < on || j < hot.length) {
    const ht = j < hot.length ? Number(hot[j].ts) : Infinity;
    if (i < on && old!.ts[i] < ht) {
      push(old!.ts[i], old!.values[i], old!.quality[i]);
      i++;
    } else {
      if (i < on && old!.ts[i] === ht) i++;
      push(ht, hot[j].value ?? NaN, Number(hot[j].quality));
      j++;
    }
  }
  return { ts: Float64Array.from(ts), values: Float64Array.from(values), quality: Uint16Array.from(quality) };
}
