/**
 * The event lane: alarm transitions, comm changes and command answers, each
 * synced to disk before `append` returns (an action may depend on it), sent
 * ahead of any telemetry backlog.
 */
import type { Cursors } from './cursors.js';
import type { SyncLane } from './outbox.js';
import { durably, type Db } from './database.js';
import type { BufferedEvent } from './types.js';

/** Reads event ranges (works on a read-only handle). */
export class EventReader {
  private readonly rangeStmt;

  constructor(protected readonly db: Db) {
    this.rangeStmt = db.prepare('SELECT seq, ts, kind, body FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq');
  }

  /** The events of seqs firstSeq..lastSeq. */
  range(firstSeq: number, lastSeq: number): BufferedEvent[] {
    return (this.rangeStmt.all(firstSeq, lastSeq) as { seq: number; ts: number; kind: string; body: string }[]).map((r) => ({
      seq: r.seq,
      ts: r.ts,
      kind: r.kind,
      body: JSON.parse(r.body) as unknown,
    }));
  }
}

/** The writer's event lane. */
export class EventLane extends EventReader implements SyncLane {
  private readonly stmt;

  constructor(
    db: Db,
    private readonly cursors: Cursors,
  ) {
    super(db);
    this.stmt = {
      insert: db.prepare('INSERT INTO events(seq, ts, kind, body) VALUES (?, ?, ?, ?)'),
      seqsFrom: db.prepare('SELECT seq FROM events WHERE seq >= ? ORDER BY seq LIMIT ?'),
      deleteUpTo: db.prepare('DELETE FROM events WHERE seq <= ?'),
      backlog: db.prepare('SELECT COUNT(*) n, MIN(ts) t FROM events WHERE seq > ?'),
    };
  }

  /** Stores one event, synced to disk; returns its seq. */
  append(ts: number, kind: string, body: unknown): number {
    const seq = this.cursors.last.events + 1;
    durably(this.db, () =>
      this.db.transaction(() => {
        this.stmt.insert.run(seq, ts, kind, JSON.stringify(body));
        this.cursors.saveLast('events', seq);
      })(),
    );
    this.cursors.last.events = seq;
    return seq;
  }

  /** The end of a range from `start` (up to `limit`) of at most `max` events. */
  rangeEnd(start: number, limit: number, max: number): number {
    const rows = this.stmt.seqsFrom.all(start, max) as { seq: number }[];
    let end = start - 1;
    for (const r of rows) if (r.seq <= limit) end = r.seq;
    // Seqs with no row (none are expected in the event lane) are covered up to the next row.
    return rows.length < max ? limit : end;
  }

  /** Reclaims the events up to `seq` (acked). */
  deleteUpTo(seq: number): void {
    this.stmt.deleteUpTo.run(seq);
  }

  /** Events after `acked` and the time of the oldest. */
  backlog(acked: number): { depth: number; oldestTs: number | null } {
    const r = this.stmt.backlog.get(acked) as { n: number; t: number | null };
    return { depth: r.n, oldestTs: r.t };
  }
}
