/** The buffer's public types, shared by its concern modules and the façade. */
import type { GapRecord, Reading } from '@lifeline/shared';

/** The sync lanes: telemetry, and alarms/events which go ahead of any backlog. */
export type LaneName = 'telemetry' | 'events';

/** A contiguous range of one lane as recorded in the outbox. */
export interface OutboxRange {
  lane: LaneName;
  firstSeq: number;
  lastSeq: number;
  /** The cloud said it committed this range (ahead of its contiguous prefix). */
  done: boolean;
}

/** An event (alarm transition, comm change) buffered for the cloud. */
export interface BufferedEvent {
  seq: number;
  ts: number;
  kind: string;
  body: unknown;
}

/** The readings of a telemetry range: raw readings (with seqs) and the gap records of thinned seqs. */
export interface TelemetryRange {
  readings: Reading[];
  seqs: number[];
  gaps: GapRecord[];
}

import type { BufferClock } from './clock-steps.js';

/** Buffer options. */
export interface BufferOptions {
  /** Disk budget in bytes (database + WAL); 0 or absent: no budget. */
  diskBudgetBytes?: number;
  /** Clock for gap bookkeeping (tests). */
  now?: () => number;
  /**
   * Bytes of the reserve file kept beside the database and deleted when the file system
   * fills, so alarms and thinning still have room (disk-guard.ts; default 1 MiB, 0: none).
   */
  diskReserveBytes?: number;
  /** How often a full buffer checks whether space is back, ms (default 5000). */
  diskCheckMs?: number;
  /**
   * Told when the disk becomes full or failing and when it recovers (the agent logs it:
   * on a read-only file system even the disk_full event cannot be written), and with
   * `deleted` once each time the buffer's file is found deleted or replaced under it.
   */
  onDisk?: (state: { full: boolean; lastError: string | null; droppedReadings: number; deleted?: true }) => void;
  /** The gateway id this buffer belongs to: a file written by another one is set aside (database.ts). */
  gateway?: string;
  /** Devices that stamp their own readings (SL 651 stations): a step of this box's clock does not move them (clock-steps.ts). */
  clockExempt?: ReadonlySet<string>;
  /** The clocks clock steps are measured with (tests; default: this machine's). */
  clock?: BufferClock;
}

/** What thinning has done since the buffer opened. */
export interface ThinningCounters {
  /** Raw readings replaced by per-minute aggregates. */
  thinnedReadings: number;
  /** Aggregate minutes dropped because even they did not fit. */
  droppedMinutes: number;
  /** Times enforceBudget had to act. */
  runs: number;
}

/** A handled command as the audit log keeps it. */
export interface CommandRecord {
  id: string;
  ts: number;
  type: string;
  by: string;
  body: unknown;
  answer: unknown;
}
