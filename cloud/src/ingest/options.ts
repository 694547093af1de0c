/** What an ingest worker is configured with and what it counts (worker.ts). */
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';

export interface IngestOptions {
  url: string;
  store: Pick<Store, 'telemetry' | 'registry' | 'alarms'>;
  log: Logger;
  clientId?: string;
  /** Use a shared subscription (needs a broker that supports MQTT 5 / $share). */
  shared?: boolean;
  username?: string;
  password?: string;
  /**
   * Batches of different gateways committed at once (default 4). One gateway's
   * lane always commits in arrival order. A PgStore's pool needs at least this
   * many connections, plus what the API uses.
   */
  concurrency?: number;
  /** Messages held in memory (queued or committing) before the worker stops reading from the broker (default 8 × concurrency). */
  maxPending?: number;
  /**
   * Readings stamped further than this before or after the gateway's clock are dropped and counted
   * (default 20 years / 1 day: a far-future stamp would make a dead device look fresh for ever).
   */
  timeWindow?: { pastMs?: number; futureMs?: number };
  /** Largest message taken, bytes (default 1 MiB); a larger batch is answered TooLarge without being decoded. */
  maxMessageBytes?: number;
  /** Series dictionaries held in memory (default 10,000; wire version 2). */
  maxDictionaries?: number;
  /**
   * Most readings committed as one range when a gateway's telemetry batches queue up (a backlog
   * draining): consecutive queued batches of one epoch go into one transaction, each acked after it
   * (default 100,000; 1 commits every batch alone).
   */
  runReadings?: number;
}

/** What a worker has done, for health checks and tests. */
export interface IngestCounters {
  batches: number;
  /** Buffer epochs opened (a gateway's first batch, or a gateway that lost its database). */
  epochsOpened: number;
  duplicates: number;
  readings: number;
  events: number;
  rejected: number;
  statuses: number;
  badStatuses: number;
  /** Readings dropped for a timestamp outside the window around their gateway's clock. */
  readingsOutOfWindow: number;
  /** Series dictionaries learned from gateways (wire version 2). */
  dictionariesLearned: number;
  /** Live frames naming a dictionary this worker does not hold (answered UnknownDictionary: not a fault). */
  unknownDictionaries: number;
}

export function positiveInt(field: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new LifelineError(ErrorCodes.ConfigInvalid, `${field}: expected an integer ≥ 1, got ${JSON.stringify(v)}`);
  return v;
}
