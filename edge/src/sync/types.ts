/** Sync's counters and options (sync.ts); the types the agent, the CLI and tests share with it. */
import type { GatewayStatusMessage } from '@lifeline/shared';
import type { CommandHandler } from './command-handler.js';
import type { LiveDictionaryOptions } from './live-dictionary.js';

/** What sync tells about itself (status message, CLI, tests). */
export interface SyncCounters {
  batchesSent: number;
  batchesResent: number;
  /** Live ranges cut (newest data sent ahead of a backlog). */
  liveBatches: number;
  acks: number;
  /** Acks naming another buffer epoch (ignored). */
  staleAcks: number;
  rejects: number;
  /** Ranges given up after a reject: sent again empty, reported as a `batch_rejected` event. */
  abandoned: number;
  /** Ranges split because their encoding passed maxBatchBytes. */
  splits: number;
  badDownlinks: number;
}

/** Tuning of sync; the defaults suit a gateway behind AWS IoT Core. */
export interface SyncOptions {
  /** Unacknowledged ranges allowed per lane (default 8). */
  window?: number;
  /** Largest message sent, bytes (default 120,000: AWS IoT Core refuses messages over 128 KB). */
  maxBatchBytes?: number;
  /** Status message period, ms (default 30,000). */
  statusIntervalMs?: number;
  /** Downlink commands; without one, commands are ignored. */
  commands?: CommandHandler;
  /** How the last config pushed from the cloud fared, for the status message. */
  configApply?: () => GatewayStatusMessage['configApply'];
  /**
   * Live ranges as Live frames against a series dictionary (wire version 2, docs/wire-protocol.md §7);
   * `false` sends every range as version 1 (default: on, falling back by itself for an older cloud).
   */
  liveDictionary?: LiveDictionaryOptions | false;
}
