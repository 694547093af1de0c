/**
 * The disk budget. Synced data is already gone (an ack reclaims it at once);
 * beyond that, the oldest unsent telemetry is merged into per-minute gap
 * records (thin.ts), oldest first, and if even the aggregates do not fit, the
 * oldest aggregates are dropped (the gap record stays, with no minutes).
 * Events and alarms are never touched.
 */
import { statSync } from 'node:fs';
import { unpackChunk, type ChunkHead, type ChunkRow } from './chunk.js';
import type { Cursors } from './cursors.js';
import type { Db } from './database.js';
import type { OutboxReader } from './outbox.js';
import { thinRows } from './thin.js';
import type { ThinningCounters } from './types.js';

/** Keeps the buffer's file inside its budget. */
export class DiskBudget {
  readonly thinning: ThinningCounters = { thinnedReadings: 0, droppedMinutes: 0, runs: 0 };
  private configured = 0;
  /** The budget in force: the configured one, or lower while the file system is full (shrink). */
  private bytes = 0;
  /** Bytes appended since the budget was last checked (an estimate). */
  private sinceCheck = 0;
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly path: string,
    private readonly cursors: Cursors,
    private readonly outbox: OutboxReader,
  ) {
    this.stmt = {
      rawHeads: db.prepare('SELECT first_seq, last_seq, n, 0 holes FROM chunks WHERE first_seq > ? AND n > 0 ORDER BY first_seq LIMIT ?'),
      between: db.prepare('SELECT * FROM chunks WHERE first_seq BETWEEN ? AND ? ORDER BY first_seq'),
      oldest: db.prepare('SELECT * FROM chunks WHERE first_seq > ? AND last_seq < ? ORDER BY first_seq LIMIT ?'),
      delete: db.prepare('DELETE FROM chunks WHERE first_seq = ?'),
      insert: db.prepare('INSERT INTO chunks(first_seq, last_seq, n, ts_min, ts_max, data, seqs, gaps, gapdata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    };
  }

  /** Changes the budget (bytes; 0 = none) and sizes the WAL to it. */
  set(bytes: number): void {
    this.configured = bytes;
    this.apply(bytes);
  }

  /** Puts a budget in force and sizes the WAL to it. */
  private apply(bytes: number): void {
    this.bytes = bytes;
    if (!bytes) return;
    const page = this.db.pragma('page_size', { simple: true }) as number;
    // The WAL counts against the budget: checkpoint often enough that it stays a small share of it
    // (an eighth at most; 4 MiB for budgets over 32 MiB). Each checkpoint costs an fsync.
    const walBytes = Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(bytes / 8)));
    this.db.pragma(`wal_autocheckpoint = ${Math.max(16, Math.floor(walBytes / page))}`);
    this.db.pragma(`journal_size_limit = ${walBytes}`);
  }

  /** Counts an append's bytes; checks the budget every 1/256 of it. */
  wrote(bytes: number): void {
    this.sinceCheck += bytes + 64;
    if (this.bytes && this.sinceCheck > this.bytes / 256) this.enforce();
  }

  /** Bytes the buffer takes on disk: the database file and its WAL. */
  diskBytes(): number {
    if (this.path === ':memory:') {
      return (this.db.pragma('page_count', { simple: true }) as number) * (this.db.pragma('page_size', { simple: true }) as number);
    }
    let total = 0;
    for (const f of [this.path, `${this.path}-wal`]) {
      try {
        total += statSync(f).size;
      } catch {
        // absent WAL
      }
    }
    return total;
  }

  /** Bytes of the database in use: pages not on the free list. */
  private pageBytes(): number {
    const page = this.db.pragma('page_size', { simple: true }) as number;
    return ((this.db.pragma('page_count', { simple: true }) as number) - (this.db.pragma('freelist_count', { simple: true }) as number)) * page;
  }

  /** Bytes of the database in use (pages not on the free list) plus the WAL. */
  usedBytes(): number {
    let wal = 0;
    if (this.path !== ':memory:') {
      try {
        wal = statSync(`${this.path}-wal`).size;
      } catch {
        wal = 0;
      }
    }
    return this.pageBytes() + wal;
  }

  /** Thins until the pages fit; returns the readings thinned by this call. */
  enforce(): number {
    this.sinceCheck = 0;
    if (!this.bytes) return 0;
    // Database pages stay under 82 % of the budget, leaving room for the WAL (≤ 12.5 %) and one transaction.
    const walShare = Math.min(4 * 1024 * 1024, this.bytes / 8);
    const high = this.bytes * 0.95 - walShare;
    const low = high - this.bytes * 0.12;
    if (this.pageBytes() <= high) return 0;
    this.thinning.runs++;
    let thinned = 0;
    // Outbox ranges already sent keep their content; thin only what no range covers yet.
    const ranges = this.outbox.list('telemetry');
    const floor = Math.max(this.cursors.acked.telemetry, ...ranges.map((r) => r.lastSeq));
    let progress = true;
    while (this.pageBytes() > low && progress) {
      progress = false;
      const heads = this.stmt.rawHeads.all(floor, 2048) as ChunkHead[];
      // Never thin the newest data (the live range the operator sees): keep the last chunk.
      if (heads.length && heads[heads.length - 1].last_seq === this.cursors.last.telemetry) heads.pop();
      // Consecutive chunks only (a thinned chunk covers one contiguous seq range), ~20,000 readings a round.
      let k = 1;
      let raw = heads[0]?.n ?? 0;
      while (k < heads.length && heads[k].first_seq === heads[k - 1].last_seq + 1 && raw < 20_000) raw += heads[k++].n;
      const take = heads.length ? (this.stmt.between.all(heads[0].first_seq, heads[k - 1].first_seq) as ChunkRow[]) : [];
      if (take.some((r) => r.n > 0)) {
        thinned += this.thin(take);
        progress = true;
        this.compact();
        continue;
      }
      // Nothing raw left to thin: drop the oldest aggregates.
      progress = this.dropOldestAggregates(floor);
      this.compact();
    }
    this.thinning.thinnedReadings += thinned;
    return thinned;
  }

  /**
   * The file system is full: lower the budget to 30 % below what the database holds
   * now (or to what it holds plus half of `freeBytes`, the file system's free space
   * beyond the reserve, if that is more) and thin the oldest unsent telemetry to it (aggregates kept, alarms and events
   * never touched), giving the pages back. Returns the readings thinned.
   */
  shrink(freeBytes = 0): number {
    // The lower budget stays in force until the space is back (uncap): what thinning frees stays free.
    // Half of what the file system still has may be used, so thinning runs in steps, not on every append.
    let target = Math.max(256 * 1024, Math.floor((this.pageBytes() * 0.7) / 0.83), Math.floor(this.pageBytes() + freeBytes / 2));
    // Each further failure only lowers it.
    if (this.bytes !== this.configured) target = Math.min(target, this.bytes);
    // A small WAL too: it lives in the same full file system.
    this.apply(this.bytes ? Math.min(this.bytes, target) : target);
    return this.enforce();
  }

  /**
   * Last resort on a full file system, for an alarm or event that must be written:
   * delete the oldest tenth of the unsent telemetry chunks outright (raw and thinned),
   * never the newest. Their pages become free inside the file for the next write.
   * Returns the raw readings deleted (the caller counts them as lost).
   */
  evict(): number {
    const ranges = this.outbox.list('telemetry');
    const floor = Math.max(this.cursors.acked.telemetry, ...ranges.map((r) => r.lastSeq));
    const rows = this.stmt.oldest.all(floor, this.cursors.last.telemetry, 1_000_000) as ChunkRow[];
    const take = rows.slice(0, Math.max(1, Math.ceil(rows.length / 10)));
    if (!rows.length) return 0;
    this.db.transaction(() => {
      for (const r of take) this.stmt.delete.run(r.first_seq);
    })();
    return take.reduce((a, r) => a + r.n, 0);
  }

  /** The space is back: the configured budget again. */
  uncap(): void {
    this.apply(this.configured);
    if (!this.configured) {
      this.db.pragma('wal_autocheckpoint = 1000');
      this.db.pragma('journal_size_limit = -1');
    }
  }

  /** Gives free pages back to the file system and empties the WAL. */
  private compact(): void {
    this.db.pragma('incremental_vacuum');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Replaces the first chunks of `all` by one chunk of aggregates. */
  private thin(all: ChunkRow[]): number {
    const t = thinRows(all);
    this.thinning.droppedMinutes += t.droppedMinutes;
    const first = t.rows[0].first_seq;
    const last = t.rows[t.rows.length - 1].last_seq;
    this.db.transaction(() => {
      for (const r of t.rows) this.stmt.delete.run(r.first_seq);
      this.stmt.insert.run(first, last, 0, null, null, Buffer.alloc(0), null, JSON.stringify(t.metas), Buffer.from(t.gapdata.buffer));
    })();
    return t.thinned;
  }

  /** Empties the minutes of the oldest thinned chunk with any left; false if none. */
  private dropOldestAggregates(floor: number): boolean {
    const rows = this.stmt.oldest.all(floor, Number.MAX_SAFE_INTEGER, 64) as ChunkRow[];
    for (const row of rows) {
      const c = unpackChunk(row);
      if (!c.gaps.some((g) => g.meta.minutes > 0)) continue;
      const metas = c.gaps.map((g) => ({ ...g.meta, minutes: 0 }));
      this.thinning.droppedMinutes += c.gaps.reduce((a, g) => a + g.meta.minutes, 0);
      this.db.transaction(() => {
        this.stmt.delete.run(row.first_seq);
        this.stmt.insert.run(row.first_seq, row.last_seq, c.n, row.ts_min, row.ts_max, row.data, row.seqs, JSON.stringify(metas), Buffer.alloc(0));
      })();
      return true;
    }
    return false;
  }
}
