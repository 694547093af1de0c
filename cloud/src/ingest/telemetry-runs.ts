/**
 * Run assembly: which of a gateway's queued telemetry batches (a backlog draining) the worker
 * commits as one range in one transaction, each acked after it.
 */
import { MessageType, gatewayOfTopic, topics, type Reading, type SeriesColumns, type Uplink, type UplinkColumns } from '@lifeline/shared';

/**
 * A message decoded on arrival: the batch, or why it could not be. A telemetry topic's batch is decoded
 * into columns per series (no object per reading, down to the store's COPY); a Live frame into readings.
 */
export type Decoded = { msg?: Uplink | UplinkColumns; err?: unknown };
export type Job = { topic: string; payload: Buffer; decoded: Decoded };

/** A telemetry batch of a backlog as a run may take it: decoded, on the telemetry topic, no gaps, no dictionary. */
export type TelemetryRun = { epoch?: number; firstSeq: number; lastSeq: number; series: SeriesColumns[]; order: Uint32Array };

export function runnable(job: Job): TelemetryRun | undefined {
  const msg = job.decoded.msg;
  if (!msg || msg.type !== MessageType.Telemetry || job.topic !== topics.telemetry(gatewayOfTopic(job.topic) ?? '')) return undefined;
  const b = msg.batch;
  if (!('series' in b) || b.gaps?.length || b.dictionary || !b.order.length) return undefined;
  return b;
}

/**
 * How many of a queue's first jobs commit as one range: consecutive decoded telemetry batches of one
 * epoch, each starting where the last ended, without gaps or a dictionary, up to runReadings readings.
 */
export function runLength(queue: readonly Job[], runReadings: number): number {
  let n = 0;
  let readings = 0;
  let prev: TelemetryRun | undefined;
  for (const job of queue) {
    const b = runnable(job);
    if (!b || (prev && (b.epoch !== prev.epoch || b.firstSeq !== prev.lastSeq + 1)) || (n && readings + b.order.length > runReadings)) break;
    n++;
    readings += b.order.length;
    prev = b;
  }
  return Math.max(n, 1);
}

/** Readings in a decoded telemetry batch. */
export const readingCount = (b: { readings: Reading[] } | { order: Uint32Array }): number => ('order' in b ? b.order.length : b.readings.length);
