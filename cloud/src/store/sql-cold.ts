/**
 * Cold storage of readings, on both engines: days older than `compressAfter`
 * move out of the readings table into one compressed block per series and
 * day (readings_cold, shared/src/wire/block.ts), and every read merges hot
 * rows and cold blocks. This is the tier's face; the work is split by concern:
 *
 *   compact(now) ─▶ engine.coldCandidates(before) ─▶ per (series, day), one transaction each, yielding between:
 *                     ColdWriter.compactSeriesDay (sql-cold-write.ts)        ─▶ engine.afterColdDay(day) per day
 *   overlaps, frames, merge ─▶ ColdReader (sql-cold-read.ts) ─▶ ColdCache (sql-cold-cache.ts)
 *   retention(before) ─▶ ColdWriter.retention
 *   storage(from, to) ─▶ coldStorage (sql-cold-storage.ts)
 *
 * What the take of a series-day removed is exactly what the block gets (one
 * DELETE … RETURNING; on SQLite reads and a DELETE in one write transaction,
 * which no commit can enter), so a commit can neither be lost nor doubled; a late batch for a
 * compressed day goes to hot rows as usual (its ledger range dedupes it) and
 * the next compaction merges it. Decoded frames (128 MiB) and stored blocks
 * (32 MiB) are cached by (series, day, block version), so a block rewritten by
 * a merge is never read stale.
 */
import type { BlockColumns } from '@lifeline/shared';
import type { Sql } from './sql.js';
import type { CompactResult, StorageReport } from './telemetry-store.js';
import { DAY, type RawRows } from './sql-cold-block.js';
import { ColdCache } from './sql-cold-cache.js';
import { ColdReader } from './sql-cold-read.js';
import { ColdWriter, type TakeHot } from './sql-cold-write.js';
import { coldStorage } from './sql-cold-storage.js';

export { DAY, type RawRows } from './sql-cold-block.js';
export { HOT_BYTES_PER_READING } from './sql-cold-storage.js';
export type { TakeHot } from './sql-cold-write.js';

/** What each engine does its own way for the cold tier. */
export interface ColdEngine {
  /** (series, day) pairs holding hot readings older than `before` (a day boundary). */
  coldCandidates(before: number): Promise<{ series: number; day: number }[]>;
  /** After the hot rows of one day were compacted (PostgreSQL: VACUUM the day's partition). */
  afterColdDay(day: number): Promise<void>;
  /** Bytes one hot reading takes on this engine, measured (heap + index), or undefined when there is nothing to measure. */
  hotBytesPerReading(): Promise<number | undefined>;
  /** Take one series-day's hot rows the engine's fastest way (default: one `DELETE … RETURNING`, sql-cold-write.ts). */
  takeHot?: TakeHot;
}

/** Options of the cold tier. */
export interface ColdOptions {
  /** Days a day stays hot after it ends before it is compressed (default 1). */
  compressAfterDays?: number;
  /** Bytes of decoded frames kept in memory for reads (default 128 MiB; a quarter of it again for blocks as stored). */
  cacheBytes?: number;
}

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

export class SqlCold {
  readonly compressAfterDays: number;
  private readonly reader: ColdReader;
  private readonly writer: ColdWriter;
  private running: Promise<CompactResult> | undefined;

  constructor(private readonly sql: Sql, private readonly engine: ColdEngine, opts: ColdOptions = {}) {
    this.compressAfterDays = opts.compressAfterDays ?? 1;
    this.reader = new ColdReader(sql, new ColdCache(opts.cacheBytes));
    this.writer = new ColdWriter(sql, engine.takeHot);
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
        r = await this.writer.compactSeriesDay(series, day);
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
  compactSeriesDay(series: number, day: number): Promise<{ readings: number; bytes: number } | undefined> {
    return this.writer.compactSeriesDay(series, day);
  }

  /** True when a block of the series overlaps [from, to] (reads then merge the cold tier). */
  overlaps(series: number, from: number, to: number): Promise<boolean> {
    return this.reader.overlaps(series, from, to);
  }

  /** Decoded frames of one series holding readings in `spans` (see ColdReader.frames). */
  frames(series: number, spans: [number, number][], enough = Infinity): Promise<BlockColumns[]> {
    return this.reader.frames(series, spans, enough);
  }

  /** Readings of one series in `spans`, hot rows merged over cold frames (see ColdReader.merge). */
  merge(series: number, spans: [number, number][], hot: { ts: number; value: number | null }[], limit = Infinity): Promise<RawRows> {
    return this.reader.merge(series, spans, hot, limit);
  }

  /** Visit the readings of one series in `spans`, hot rows merged over cold frames, time-ordered (see ColdReader.scan). */
  scan(series: number, spans: [number, number][], hot: { ts: number; value: number | null }[], visit: (ts: number, value: number) => void): Promise<void> {
    return this.reader.scan(series, spans, hot, visit);
  }

  /** Drop blocks wholly before `before`; re-encode the one straddling it without its older readings. */
  retention(before: number): Promise<void> {
    return this.writer.retention(before);
  }

  /** Storage per UTC day and district over [from, to) (epoch ms; whole days). */
  storage(from: number, to: number): Promise<StorageReport> {
    return coldStorage(this.sql, () => this.engine.hotBytesPerReading(), from, to);
  }
}
