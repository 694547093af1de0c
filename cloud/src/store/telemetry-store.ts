/**
 * The telemetry concern of the cloud store: the two lanes a gateway sends
 * (readings and events), committed once per seq range of a buffer epoch, with
 * the per-minute rollup, gap records and the queries charts and exports make.
 *
 *   ingest ─▶ commitTelemetry ─▶ readings, readings_1m, gaps, devices.last_ts
 *          ─▶ commitEvents    ─▶ events, alarms (current state)
 *   API    ─▶ readings / downsample / seriesPoints / activeMinutes / listGaps / listEvents / activeMinutesBetween / gapTotals
 */
import type { GapRecord, LaneEvent, Reading, SeriesColumns } from '@lifeline/shared';

/** The epoch of the event lane the cloud writes for a gateway itself (its own alarms about that gateway). */
export const CLOUD_EPOCH = -1;

/** A device's key in maps: devices are known by gateway and id (ids repeat across gateways). */
export const deviceKey = (gateway: string, device: string): string => `${gateway}\0${device}`;

/**
 * A telemetry batch as the ingest commits it (the wire's TelemetryBatch decoded,
 * its gateway taken from the topic).
 */
export interface TelemetryCommit {
  /** The gateway that authenticated (the topic), never a name from the payload: its devices are the only ones touched. */
  gateway: string;
  /** The gateway's buffer epoch: its own seq space (docs/wire-protocol.md §1.1). Default 0 (writers before epochs). */
  epoch?: number;
  firstSeq: number;
  lastSeq: number;
  /** The readings (or `series` instead). */
  readings?: Reading[];
  /**
   * The readings as columns per series, each series' readings in seq order, a series possibly in several
   * blocks (a run of batches, joined in the order given): the wire decoder's form, committed without an
   * object per reading. When given, `readings` is not read. Read-only (blocks may share a column).
   */
  series?: readonly SeriesColumns[];
  /** Thinned ranges the batch reports (gateway disk budget); stored with the batch, once. */
  gaps?: GapRecord[];
  /**
   * Store the range only if it extends the committed prefix (firstSeq = prefix + 1, nothing recorded
   * past it); otherwise store nothing and answer `skipped` (a duplicate is still answered as one). The
   * ingest commits several queued batches of a backlog as one such range, and one by one when skipped.
   */
  onlyInOrder?: boolean;
}

/** A commit's readings as Reading objects (made from its columns when it has them: series by series, each in seq order). */
export function commitReadings(batch: Pick<TelemetryCommit, 'readings' | 'series'>): Reading[] {
  if (batch.readings) return batch.readings;
  const out: Reading[] = [];
  for (const c of batch.series ?? []) {
    for (let i = 0; i < c.ts.length; i++) {
      const q = c.quality[i];
      out.push(q ? { device: c.device, point: c.point, ts: c.ts[i], value: c.value[i], quality: q - 1 } : { device: c.device, point: c.point, ts: c.ts[i], value: c.value[i] });
    }
  }
  return out;
}

/** An event-lane batch as the ingest commits it. */
export interface EventCommit {
  gateway: string;
  /** Buffer epoch, as in TelemetryCommit (default 0); the cloud's own alarms use CLOUD_EPOCH. */
  epoch?: number;
  firstSeq: number;
  lastSeq: number;
  events: LaneEvent[];
}

/** What the store did with a batch. */
export interface CommitResult {
  /** True if this exact range was already committed (nothing stored again). */
  duplicate: boolean;
  /** Highest seq of the batch's epoch such that every seq up to it is committed, for the gateway's ack. */
  committedUpTo: number;
  /** Set when an `onlyInOrder` range did not extend the prefix: nothing was stored. */
  skipped?: boolean;
}

/** A gap record as stored: a thinned range of one point, and what was kept of it. */
export interface GapInfo {
  id: number;
  gateway: string;
  device: string;
  point: string;
  /** Epoch ms, inclusive. */
  from: number;
  to: number;
  /** Gateway seq range (in its epoch) of the batch that reported it. */
  firstSeq: number;
  lastSeq: number;
  /** Per-minute aggregates kept (may be empty: nothing kept). */
  minutes: GapRecord['minutes'];
  /** Raw readings the kept minutes stand for. */
  keptReadings: number;
  committedAt: number;
}

/** Gap list filter; every field but limit optional. */
export interface GapQuery {
  gateway?: string;
  device?: string;
  point?: string;
  from?: number;
  to?: number;
  limit: number;
}

export interface ReadingsQuery {
  gateway: string;
  device: string;
  point: string;
  from: number;
  to: number;
  /** Maximum rows returned. */
  limit: number;
}

/** A downsampled query: buckets of `step` ms starting at `from`. */
export interface DownsampleQuery {
  gateway: string;
  device: string;
  point: string;
  /** Epoch ms, inclusive; bucket i starts at from + i·step. */
  from: number;
  /** Epoch ms, inclusive. */
  to: number;
  /** Bucket width, ms (≥ 1). */
  step: number;
}

/**
 * One bucket of a downsampled series. Only buckets holding at least one
 * reading with a value are returned (readings without one, quality bad, are not counted).
 */
export interface Bucket {
  /** Bucket start, epoch ms. */
  ts: number;
  min: number;
  max: number;
  mean: number;
  /** Readings with a value in the bucket. */
  count: number;
}

/** Readings, rollups, buffer epochs, gaps and the event lane. */
export interface TelemetryStore {
  /** Commit a batch once; a range seen before is not stored again. Throws PAYLOAD_INVALID (SeqConflict) on an overlapping range. */
  commitTelemetry(batch: TelemetryCommit): Promise<CommitResult>;
  /** Same contract for the event lane; alarm transitions also update the alarms' current state. */
  commitEvents(batch: EventCommit): Promise<CommitResult>;
  /**
   * Record a gateway's buffer epoch on one lane; true the first time it is seen.
   * Every epoch is its own seq space (docs/wire-protocol.md §1.1): none is ever refused.
   */
  openEpoch(gateway: string, lane: 'telemetry' | 'events', epoch: number, at: number): Promise<boolean>;
  /** The committed prefix of one epoch of a lane (0 if none). */
  laneCommitted(gateway: string, lane: string, epoch: number): Promise<number>;
  /** Gap records, newest first. */
  listGaps(q: GapQuery): Promise<GapInfo[]>;
  /** Events of the event lane, newest first. */
  listEvents(q: { gateway?: string; limit: number }): Promise<(LaneEvent & { gateway: string })[]>;
  /** Points of one device that hold (or held) readings, sorted. */
  seriesPoints(gateway: string, device: string): Promise<string[]>;
  /** Time-ordered raw readings of one point. */
  readings(q: ReadingsQuery): Promise<{ ts: number; value: number }[]>;
  /** Per-bucket min/max/mean/count of one point, time-ordered. */
  downsample(q: DownsampleQuery): Promise<Bucket[]>;
  /** Minutes holding at least one reading since `since`, per device (keyed by deviceKey(gateway, device)). */
  activeMinutes(since: number): Promise<Map<string, number>>;
  /** Delete readings older than `before` (epoch ms); returns nothing useful but time. */
  applyRetention(before: number): Promise<void>;
  /**
   * Minutes whose start lies in [floor(from), to] holding at least one reading (kept gap minutes count),
   * per device (keyed by deviceKey), optionally of one gateway: one grouped query over readings_1m.
   */
  activeMinutesBetween(from: number, to: number, gateway?: string): Promise<Map<string, number>>;
  /** Gap records overlapping [from, to] and the raw readings they thinned, per device (keyed by deviceKey), optionally of one gateway. */
  gapTotals(from: number, to: number, gateway?: string): Promise<Map<string, GapTotals>>;
  /**
   * Compress the readings of days that ended `compressAfterDays` before `now` into per-series,
   * per-day blocks (sql-cold.ts), one series-day per transaction; late readings of a compressed
   * day are merged into its block. Every read answers the same before and after.
   * An aborted `signal` stops the run between two series-days (shutdown).
   */
  compact(now?: number, signal?: AbortSignal): Promise<CompactResult>;
  /** Storage per UTC day and district over [from, to) epoch ms: hot rows and cold blocks, bytes, readings, ratio. */
  storage(from: number, to: number): Promise<StorageReport>;
}

/** What one compaction run did. */
export interface CompactResult {
  /** Series-days written (new or merged blocks). */
  seriesDays: number;
  /** Hot readings moved into blocks. */
  readings: number;
  /** Block bytes written. */
  bytes: number;
  /** Series-days that could not be compressed, and why (their rows stay hot; the next run tries again). */
  failed: string[];
}

/** Storage of one UTC day and district. */
export interface StorageRow {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  /** The devices' district (the gateway's when the device has none); null when neither has one. */
  district: string | null;
  /** Readings still in rows, and the bytes they take (readings × hotBytesPerReading). */
  hot: { readings: number; bytes: number };
  /** Readings in compressed blocks, and the blocks' bytes. */
  cold: { readings: number; bytes: number };
  /** What all the day's readings would take as hot rows over what they take now (1 when all hot). */
  ratio: number;
}

/** Storage per day and district. */
export interface StorageReport {
  /** Bytes one hot reading takes on this engine (heap + index), measured where the engine can. */
  hotBytesPerReading: number;
  days: StorageRow[];
}

/** What the gap records of one device add up to over a range. */
export interface GapTotals {
  /** Gap records (thinned ranges) overlapping the range. */
  gaps: number;
  /** Raw readings those records thinned into kept minutes (whole records, even where they reach past the range). */
  thinnedReadings: number;
}
