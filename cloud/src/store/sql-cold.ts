/**
 * Cold storage of readings, on both engines: days older than `compressAfter`
 * move out of the readings table into one compressed block per series and
 * day (readings_cold, shared/src/wire/block.ts), and every read merges hot
 * rows and cold blocks. This is the tier's face; the work is split by concern:
 *
 *   compact(now) ─▶ engine.coldCandidates(before) ─▶ per day (two in flight where the engine takes whole days):
 *                     engine.compactDay(day, series) (PostgreSQL: a day partition in one transaction, pg-cold-day.ts;
 *                       SQLite: per series-day a read and a write transaction, encoded between on a worker thread, sqlite-cold.ts)
 *                     or per (series, day), one transaction each, yielding between:
 *                     ColdWriter.compactSeriesDay (sql-cold-write.ts)        ─▶ engine.afterColdDay(day) per day
 *   overlaps, frames, merge ─▶ ColdReader (sql-cold-read.ts) ─▶ ColdCache (sql-cold-cache.ts)
 *   retention(before) ─▶ ColdWriter.retention
 *   storage(from, to) ─▶ coldStorage (sql-cold-storage.ts)
 *
 * What the take of a series-day removed is exactly what the block gets (one
 * DELETE … RETURNING; on SQLite a DELETE of the rows read, checked to remove as many
 * as were read, sqlite-cold.ts; for a PostgreSQL day partition, the rows its snapshot
 * saw, then TRUNCATE, pg-cold-day.ts), so a commit can neither be lost nor doubled; a late batch for a
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
  /**
   * Compact every listed series of one day at once, or return undefined to have it done series by series
   * (PostgreSQL: a day with its own partition, read by COPY and emptied by TRUNCATE, pg-cold-day.ts; SQLite:
   * reads and writes here, encoding on a worker thread, sqlite-cold.ts). `signal` may stop it between series.
   */
  compactDay?(day: number, series: number[], signal?: AbortSignal): Promise<DayCompacted> | undefined;
  /** Days compactDay runs at once (default 2). */
  daysInFlight?(): number;
  /** Take one series-day's hot rows the engine's fastest way (default: one `DELETE … RETURNING`, sql-cold-write.ts). */
  takeHot?: TakeHot;
}

/** What ColdEngine.compactDay did; `failed`: series-days whose rows stay hot, and why (a rejection fails the whole day). */
export interface DayCompacted {
  seriesDays: number;
  readings: number;
  bytes: number;
  failed?: string[];
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
   * (a day boundary), each series-day committed on its own. One run at a time per
   * store; a second call while one runs waits for it.
   */
  compact(now = Date.now(), signal?: AbortSignal): Promise<CompactResult> {
    this.running ??= this.compactOnce(now, signal).finally(() => (this.running = undefined));
    return this.running;
  }

  private async compactOnce(now: number, signal: AbortSignal | undefined): Promise<CompactResult> {
    const before = (Math.floor(now / DAY) - this.compressAfterDays) * DAY;
    const out: CompactResult = { seriesDays: 0, readings: 0, bytes: 0, failed: [] };
    const byDay = new Map<number, number[]>();
    for (const { series, day } of await this.engine.coldCandidates(before)) (byDay.get(day) ?? byDay.set(day, []).get(day)!).push(series);
    const days = [...byDay.keys()].sort((a, b) => a - b);
    const add = (r: { seriesDays?: number; readings: number; bytes: number; failed?: string[] }) => {
      out.seriesDays += r.seriesDays ?? 1;
      out.readings += r.readings;
      out.bytes += r.bytes;
      if (r.failed) out.failed.push(...r.failed);
    };
    const dayName = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);
    let next = 0;
    const worker = async () => {
      while (next < days.length && !signal?.aborted) {
        const day = days[next++];
        const series = byDay.get(day)!.sort((a, b) => a - b);
        // A whole day at once, the engine's way (PostgreSQL: one day partition, pg-cold-day.ts), when it has one.
        const whole = this.engine.compactDay?.(day, series, signal);
        if (whole) {
          // Its rows stay hot (the transaction rolled back) and readable; the other days go on.
          await whole.then(add, (err: Error) => out.failed.push(`day ${dayName(day)}: ${err.message}`));
          continue;
        }
        for (let i = 0; i < series.length && !signal?.aborted; i++) {
          try {
            const r = await this.writer.compactSeriesDay(series[i], day);
            if (r) add(r);
          } catch (err) {
            out.failed.push(`series ${series[i]} day ${dayName(day)}: ${(err as Error).message}`);
          }
          await yieldLoop(); // ingest and the API run between series-days
        }
        await this.engine.afterColdDay(day);
      }
    };
    // Days in flight where the engine takes whole days: PostgreSQL reads one while this process encodes the other;
    // SQLite reads ahead while its encoder thread works (and while it starts).
    await Promise.all(Array.from({ length: this.engine.compactDay ? (this.engine.daysInFlight?.() ?? 2) : 1 }, worker));
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
