/**
 * A read-only look into a buffer file, for tools (chaos, benches, a
 * technician's debugging) while the agent may be writing it: WAL lets a
 * reader in. No SQL outside the buffer; the readers are the lanes' own.
 *
 *   inspectBuffer(path) ─▶ lanes()            acked / last seq per lane
 *                        ─▶ outbox(lane)       ranges cut, done or not
 *                        ─▶ chunks()           chunk heads (seq range, count, time span, thinned)
 *                        ─▶ telemetryRange()   readings and gap records of a seq range
 *                        ─▶ events()           events of a seq range
 */
import { readPositions, type LanePosition } from './cursors.js';
import { openBufferDbReadonly, readEpoch } from './database.js';
import { EventReader } from './events.js';
import { OutboxReader } from './outbox.js';
import { TelemetryReader } from './telemetry.js';
import type { BufferedEvent, LaneName, OutboxRange, TelemetryRange } from './types.js';

export type { LanePosition } from './cursors.js';

/** One chunk row, without its readings. */
export interface ChunkInfo {
  firstSeq: number;
  lastSeq: number;
  /** Raw readings held (0 once thinned). */
  n: number;
  tsMin: number | null;
  tsMax: number | null;
  /** Thinning left holes or gap records in it. */
  thinned: boolean;
}

/** A buffer file opened read-only. */
export interface BufferInspection {
  /** The file's epoch (undefined on a file that never finished opening). */
  readonly epoch: number | undefined;
  /** Where each lane stands. */
  lanes(): Record<LaneName, LanePosition>;
  outbox(lane: LaneName): OutboxRange[];
  /** Every chunk in seq order. */
  chunks(): ChunkInfo[];
  telemetryRange(firstSeq: number, lastSeq: number): TelemetryRange;
  events(firstSeq: number, lastSeq: number): BufferedEvent[];
  close(): void;
}

/** Opens a buffer file read-only; the file must exist. */
export function inspectBuffer(path: string): BufferInspection {
  const db = openBufferDbReadonly(path);
  try {
    const telemetry = new TelemetryReader(db);
    const events = new EventReader(db);
    const outbox = new OutboxReader(db);
    const chunks = db.prepare('SELECT first_seq, last_seq, n, ts_min, ts_max, (seqs IS NOT NULL OR gaps IS NOT NULL) holes FROM chunks ORDER BY first_seq');
    return {
      epoch: readEpoch(db),
      lanes: () => readPositions(db),
      outbox: (lane) => outbox.list(lane),
      chunks: () =>
        (chunks.all() as { first_seq: number; last_seq: number; n: number; ts_min: number | null; ts_max: number | null; holes: number }[]).map((r) => ({
          firstSeq: r.first_seq,
          lastSeq: r.last_seq,
          n: r.n,
          tsMin: r.ts_min,
          tsMax: r.ts_max,
          thinned: r.holes === 1,
        })),
      telemetryRange: (first, last) => telemetry.range(first, last),
      events: (first, last) => events.range(first, last),
      close: () => db.close(),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
