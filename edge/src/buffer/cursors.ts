/**
 * Where each lane stands: the highest seq written and the highest the cloud
 * has committed contiguously. Kept in memory, saved in `cursors` so a seq is
 * never reused after its rows are reclaimed.
 */
import type { Db } from './database.js';
import type { LaneName } from './types.js';

/** The lanes, in the order they are read at open. */
export const LANES: readonly LaneName[] = ['telemetry', 'events'];

/** A lane's position as a file records it. */
export interface LanePosition {
  /** Highest seq the cloud committed contiguously. */
  acked: number;
  /** Highest seq written: the cursor, the acked seq or the newest row, whichever is highest. */
  lastSeq: number;
}

/** Reads both lanes' positions (works on a read-only handle). */
export function readPositions(db: Db): Record<LaneName, LanePosition> {
  const cursor = db.prepare('SELECT acked, last_seq FROM cursors WHERE lane = ?');
  const out = {} as Record<LaneName, LanePosition>;
  for (const lane of LANES) {
    const cur = cursor.get(lane) as { acked: number; last_seq: number } | undefined;
    const maxRow =
      lane === 'telemetry'
        ? ((db.prepare('SELECT MAX(last_seq) m FROM chunks').get() as { m: number | null }).m ?? 0)
        : ((db.prepare('SELECT MAX(seq) m FROM events').get() as { m: number | null }).m ?? 0);
    const acked = cur?.acked ?? 0;
    out[lane] = { acked, lastSeq: Math.max(maxRow, cur?.last_seq ?? 0, acked) };
  }
  return out;
}

/** The writer's lane positions: in memory for the hot path, saved when they must survive. */
export class Cursors {
  readonly last: Record<LaneName, number> = { telemetry: 0, events: 0 };
  readonly acked: Record<LaneName, number> = { telemetry: 0, events: 0 };
  private readonly stmt;

  constructor(private readonly db: Db) {
    const pos = readPositions(db);
    for (const lane of LANES) {
      this.acked[lane] = pos[lane].acked;
      this.last[lane] = pos[lane].lastSeq;
      db.prepare('INSERT OR IGNORE INTO cursors(lane, acked, last_seq) VALUES (?, 0, 0)').run(lane);
    }
    this.stmt = {
      saveLast: db.prepare('UPDATE cursors SET last_seq = ? WHERE lane = ?'),
      saveAcked: db.prepare('UPDATE cursors SET acked = ?, last_seq = MAX(last_seq, ?) WHERE lane = ?'),
    };
  }

  /** Saves a lane's last seq (call inside the transaction that wrote or reclaimed it). */
  saveLast(lane: LaneName, seq: number): void {
    this.stmt.saveLast.run(seq, lane);
  }

  /** Saves the lane's acked seq, and its last seq with it. */
  saveAcked(lane: LaneName, upTo: number): void {
    this.stmt.saveAcked.run(upTo, this.last[lane], lane);
  }
}
