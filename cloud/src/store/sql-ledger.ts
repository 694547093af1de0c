/**
 * The sync ledger both lanes commit through: a gateway's batches are ranges of
 * seqs within one buffer epoch, each stored once, and the ack is the contiguous
 * prefix committed so far.
 *
 *   commit(range, write) ─▶ tx{ lock lane row ─▶ inside prefix or seen? duplicate
 *                                             ─▶ onlyInOrder and not prefix + 1, or touching an early range? skipped, nothing written
 *                                             ─▶ overlaps? SeqConflict
 *                                             ─▶ write(db) ─▶ record early range ─▶ grow prefix through early ranges }
 */
import { ErrorCodes, LifelineError, RejectReason } from '@lifeline/shared';
import type { Sql } from './sql.js';
import type { CommitResult } from './telemetry-store.js';

export class SqlLedger {
  /** Gateway lanes whose `committed` row exists (rows are never deleted). */
  private knownLanes = new Set<string>();

  constructor(private readonly sql: Sql) {}

  /**
   * Commit a lane's range once: a range inside the committed prefix, or seen
   * before, is a duplicate; a range overlapping another one is refused.
   */
  async commit(lane: string, gateway: string, epoch: number, firstSeq: number, lastSeq: number, write: (db: Sql) => Promise<void>, onlyInOrder = false): Promise<CommitResult> {
    const key = `${gateway}\0${lane}\0${epoch}`;
    const out = await this.sql.tx(async (db): Promise<CommitResult> => {
      // Lock the gateway's lane row so two workers never commit the same gateway at once.
      // Cached only after a commit: a rolled-back insert must be made again.
      if (!this.knownLanes.has(key)) await db.run('INSERT INTO committed(gateway, lane, epoch, up_to) VALUES (?, ?, ?, 0) ON CONFLICT(gateway, lane, epoch) DO NOTHING', [gateway, lane, epoch]);
      const lock = db.dialect === 'postgres' ? ' FOR UPDATE' : '';
      // With it, whether any early range is recorded: in-order batches (a backlog draining) then skip both lookups of `batches`.
      const lane0 = (await db.get<{ up_to: number; early: number | boolean }>(
        `SELECT up_to, EXISTS(SELECT 1 FROM batches b WHERE b.gateway = committed.gateway AND b.lane = committed.lane AND b.epoch = committed.epoch) AS early
         FROM committed WHERE gateway = ? AND lane = ? AND epoch = ?${lock}`,
        [gateway, lane, epoch],
      ))!;
      const upTo = Number(lane0.up_to);
      const early = Boolean(lane0.early);
      if (lastSeq <= upTo) return { duplicate: true, committedUpTo: upTo };
      // Several batches as one range: only where they extend the prefix (else the caller commits them one by one).
      if (onlyInOrder && firstSeq !== upTo + 1) return { duplicate: false, committedUpTo: upTo, skipped: true };
      // Any recorded (early) batch touching this range: the same range is a duplicate, another one a conflict.
      const touching = !early
        ? []
        : await db.all<{ first_seq: number; last_seq: number }>(
            'SELECT first_seq, last_seq FROM batches WHERE gateway = ? AND lane = ? AND epoch = ? AND first_seq <= ? AND last_seq >= ? LIMIT 2',
            [gateway, lane, epoch, lastSeq, firstSeq],
          );
      if (touching.length === 1 && Number(touching[0].first_seq) === firstSeq && Number(touching[0].last_seq) === lastSeq) return { duplicate: true, committedUpTo: upTo };
      // A run touching a recorded range is committed batch by batch (each early batch stays its own duplicate). One that
      // touches none commits even with early ranges recorded further on (a gateway sends its newest second live first).
      if (onlyInOrder && touching.length) return { duplicate: false, committedUpTo: upTo, skipped: true };
      if (firstSeq <= upTo || touching.length) {
        throw new LifelineError(ErrorCodes.PayloadInvalid, `${lane} batch ${gateway} epoch ${epoch} [${firstSeq}, ${lastSeq}] overlaps a committed range (committed up to ${upTo})`, {
          details: { rejectReason: RejectReason.SeqConflict },
        });
      }
      await write(db);
      let next = upTo;
      if (firstSeq === upTo + 1) next = lastSeq; // in order: the prefix grows, nothing to record
      else await db.run('INSERT INTO batches(gateway, lane, epoch, first_seq, last_seq, committed_at) VALUES (?, ?, ?, ?, ?, ?)', [gateway, lane, epoch, firstSeq, lastSeq, Date.now()]);
      // Extend the contiguous prefix through any batches that arrived early.
      let absorbed = false;
      while (early) {
        const row = await db.get<{ last_seq: number }>('SELECT last_seq FROM batches WHERE gateway = ? AND lane = ? AND epoch = ? AND first_seq = ?', [gateway, lane, epoch, next + 1]);
        if (!row) break;
        next = Number(row.last_seq);
        absorbed = true;
      }
      if (next !== upTo) await db.run('UPDATE committed SET up_to = ? WHERE gateway = ? AND lane = ? AND epoch = ?', [next, gateway, lane, epoch]);
      // Ranges inside the prefix are answered by `lastSeq <= upTo`; keep the table small.
      if (absorbed) await db.run('DELETE FROM batches WHERE gateway = ? AND lane = ? AND epoch = ? AND last_seq <= ?', [gateway, lane, epoch, next]);
      return { duplicate: false, committedUpTo: next };
    });
    this.knownLanes.add(key);
    return out;
  }

  async openEpoch(gateway: string, lane: 'telemetry' | 'events', epoch: number, at: number): Promise<boolean> {
    // Each epoch is its own seq space: nothing to map, only a record of when it was first seen.
    return (await this.sql.run('INSERT INTO sync_epochs(gateway, lane, epoch, base, opened_at) VALUES (?, ?, ?, 0, ?) ON CONFLICT(gateway, lane, epoch) DO NOTHING', [gateway, lane, epoch, at])) > 0;
  }

  async laneCommitted(gateway: string, lane: string, epoch: number): Promise<number> {
    const r = await this.sql.get<{ up_to: number }>('SELECT up_to FROM committed WHERE gateway = ? AND lane = ? AND epoch = ?', [gateway, lane, epoch]);
    return r ? Number(r.up_to) : 0;
  }
}
