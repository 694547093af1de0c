/**
 * The outbox and the cloud's acknowledgements. A range, once cut, is stable:
 * a resend after a restart covers the same seqs, so the cloud can tell a
 * resend from new data. An ack reclaims a lane's prefix; a commit ahead of
 * the prefix marks its range done and reclaims the chunks wholly inside it.
 *
 * On a disk that refuses the outbox's writes (a file system the kernel made
 * read-only) the outbox goes on in memory (`volatile`): the held backlog is cut
 * from the oldest up, no live ranges (nothing new is stored), so a restart on the
 * unchanged file cuts the same ranges again and the cloud answers them as
 * duplicates. Acks move the lane's cursor in memory only; `persist()` writes it
 * all once the disk takes writes again.
 */
import type { Cursors } from './cursors.js';
import type { Db } from './database.js';
import type { TelemetryLane } from './telemetry.js';
import type { LaneName, OutboxRange } from './types.js';

/** What the outbox needs of a lane (telemetry.ts, events.ts). */
export interface SyncLane {
  /** The end of a range from `start` (up to `limit`) of at most `max` items. */
  rangeEnd(start: number, limit: number, max: number): number;
  /** Reclaims the rows up to `seq` (acked). */
  deleteUpTo(seq: number): void;
}

/** Lists a lane's outbox ranges (works on a read-only handle). */
export class OutboxReader {
  private readonly all;

  constructor(protected readonly db: Db) {
    this.all = db.prepare('SELECT first_seq, last_seq, done FROM outbox WHERE lane = ? ORDER BY first_seq');
  }

  /** Ranges cut and not yet reclaimed, in seq order (done ones included). */
  list(lane: LaneName): OutboxRange[] {
    return (this.all.all(lane) as { first_seq: number; last_seq: number; done: number }[]).map((r) => ({
      lane,
      firstSeq: r.first_seq,
      lastSeq: r.last_seq,
      done: r.done === 1,
    }));
  }
}

/** The writer's outbox: cuts ranges, splits them, and applies the cloud's acks. */
export class Outbox extends OutboxReader {
  private readonly stmt;
  /** The ranges kept in memory while the disk refuses writes (undefined: the database holds them). */
  private memory?: Record<LaneName, OutboxRange[]>;

  constructor(
    db: Db,
    private readonly cursors: Cursors,
    private readonly lanes: { telemetry: TelemetryLane; events: SyncLane },
  ) {
    super(db);
    this.stmt = {
      insert: db.prepare('INSERT INTO outbox(lane, first_seq, last_seq) VALUES (?, ?, ?)'),
      delete: db.prepare('DELETE FROM outbox WHERE lane = ? AND first_seq = ?'),
      deleteUpTo: db.prepare('DELETE FROM outbox WHERE lane = ? AND last_seq <= ?'),
      markDone: db.prepare('UPDATE outbox SET done = 1 WHERE lane = ? AND first_seq = ? AND last_seq = ?'),
    };
  }

  /** Whether ranges and acks are kept in memory (the disk refuses writes). */
  get volatile(): boolean {
    return this.memory !== undefined;
  }

  override list(lane: LaneName): OutboxRange[] {
    if (!this.memory) return super.list(lane);
    return this.memory[lane].filter((r) => r.lastSeq > this.cursors.acked[lane]).map((r) => ({ ...r }));
  }

  /** From now on keep ranges and acks in memory (the disk refused an outbox write). */
  goVolatile(): void {
    if (!this.memory) this.memory = { telemetry: super.list('telemetry'), events: super.list('events') };
  }

  /** The disk takes writes again: write what memory holds (acks, ranges) and go back to the database. */
  persist(): void {
    const memory = this.memory;
    if (!memory) return;
    const acked = { ...this.cursors.acked };
    const saved = (lane: LaneName): number => (this.db.prepare('SELECT acked FROM cursors WHERE lane = ?').get(lane) as { acked: number }).acked;
    this.db.transaction(() => {
      for (const lane of ['telemetry', 'events'] as const) {
        if (acked[lane] > saved(lane)) {
          this.lanes[lane].deleteUpTo(acked[lane]);
          this.cursors.saveAcked(lane, acked[lane]);
        }
        this.db.prepare('DELETE FROM outbox WHERE lane = ?').run(lane);
        for (const r of memory[lane]) {
          if (r.lastSeq <= acked[lane]) continue;
          this.stmt.insert.run(lane, r.firstSeq, r.lastSeq);
          if (r.done) this.markDone(lane, r.firstSeq, r.lastSeq);
        }
      }
    })();
    this.memory = undefined;
  }

  /** Records a new range (in the database, or in memory while volatile). */
  private add(lane: LaneName, firstSeq: number, lastSeq: number): OutboxRange {
    const range = { lane, firstSeq, lastSeq, done: false };
    if (this.memory) this.memory[lane].push(range);
    else this.stmt.insert.run(lane, firstSeq, lastSeq);
    return { ...range };
  }

  /** The oldest seqs not yet in any range, cut into a new range of at most `max` items. */
  cutBacklog(lane: LaneName, max: number): OutboxRange | undefined {
    const ranges = this.list(lane);
    let start = this.cursors.acked[lane] + 1;
    let limit = this.cursors.last[lane];
    for (const r of ranges) {
      if (r.lastSeq < start) continue;
      if (r.firstSeq <= start) {
        start = r.lastSeq + 1;
        continue;
      }
      limit = r.firstSeq - 1;
      break;
    }
    if (start > limit) return undefined;
    const end = this.lanes[lane].rangeEnd(start, limit, max);
    if (end < start) return undefined;
    return this.add(lane, start, end);
  }

  /** The newest uncut telemetry (at most `max` readings) as its own range. */
  cutLive(max: number): OutboxRange | undefined {
    // Nothing new is stored while volatile, and in-order ranges are what a restart cuts again.
    if (this.memory) return undefined;
    const ranges = this.list('telemetry');
    const tail = Math.max(this.cursors.acked.telemetry, ranges.length ? ranges[ranges.length - 1].lastSeq : 0);
    const end = this.cursors.last.telemetry;
    if (end <= tail) return undefined;
    const start = this.lanes.telemetry.liveStart(tail, end, max);
    if (start > end) return undefined;
    // A live range must not cut a chunk with holes in two.
    return this.add('telemetry', start, end);
  }

  /** Splits a range in two at `at` (the first half ends at `at`). */
  split(lane: LaneName, firstSeq: number, at: number): void {
    const r = this.list(lane).find((o) => o.firstSeq === firstSeq);
    if (!r || at < firstSeq || at >= r.lastSeq) return;
    if (this.memory) {
      const ranges = this.memory[lane];
      ranges.splice(ranges.findIndex((o) => o.firstSeq === firstSeq), 1, { lane, firstSeq, lastSeq: at, done: false }, { lane, firstSeq: at + 1, lastSeq: r.lastSeq, done: false });
      return;
    }
    this.db.transaction(() => {
      this.stmt.delete.run(lane, firstSeq);
      this.stmt.insert.run(lane, firstSeq, at);
      this.stmt.insert.run(lane, at + 1, r.lastSeq);
    })();
  }

  /** The cloud committed everything up to `upTo`: reclaim it. False if it was old news. */
  ack(lane: LaneName, upTo: number): boolean {
    if (upTo <= this.cursors.acked[lane]) return false;
    const capped = Math.min(upTo, this.cursors.last[lane]);
    if (this.memory) {
      // Nothing reclaimed on disk: a restart resends from the saved cursor, and the cloud answers duplicates.
      this.memory[lane] = this.memory[lane].filter((r) => r.lastSeq > capped);
      this.cursors.acked[lane] = capped;
      return true;
    }
    this.db.transaction(() => {
      this.lanes[lane].deleteUpTo(capped);
      this.stmt.deleteUpTo.run(lane, capped);
      this.cursors.saveAcked(lane, capped);
    })();
    this.cursors.acked[lane] = capped;
    return true;
  }

  /** The cloud committed this exact range ahead of its prefix: mark it done, reclaim its chunks. False if unknown. */
  committed(lane: LaneName, firstSeq: number, lastSeq: number): boolean {
    if (lastSeq <= this.cursors.acked[lane]) return false;
    if (this.memory) {
      const r = this.memory[lane].find((o) => o.firstSeq === firstSeq && o.lastSeq === lastSeq);
      if (r) r.done = true;
      return r !== undefined;
    }
    let changed = false;
    this.db.transaction(() => (changed = this.markDone(lane, firstSeq, lastSeq)))();
    return changed;
  }

  /** Marks a range done and reclaims its chunks (inside a transaction). */
  private markDone(lane: LaneName, firstSeq: number, lastSeq: number): boolean {
    const changed = this.stmt.markDone.run(lane, firstSeq, lastSeq).changes > 0;
    if (changed && lane === 'telemetry') {
      this.lanes.telemetry.deleteIn(firstSeq, lastSeq);
      // The newest chunks may be gone now: the cursor keeps the last seq so it is never reused.
      this.cursors.saveLast('telemetry', this.cursors.last.telemetry);
    }
    return changed;
  }
}
