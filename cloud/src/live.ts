/**
 * The live hub: an in-process fan-out of committed readings and events to
 * Server-Sent Events streams and webhooks. It knows no store and never
 * blocks its publisher: a listener's failure is logged and swallowed, and
 * listeners are called synchronously (they only queue work of their own).
 *
 *   ingest ─ store.telemetry.commit* ─▶ (committed, not a duplicate) ─▶ hub.publishReadings / hub.publishEvents
 *                                                              ├─▶ SSE streams (api/routes/live.ts)
 *                                                              └─▶ webhooks (webhooks.ts)
 *
 * `withLive(store, hub)` wraps a store's telemetry so every committed batch is published (readings
 * only while someone listens: a batch committed as columns gets its Reading objects made only then);
 * the cloud passes that wrapped store to its ingest workers.
 */
import type { LaneEvent, Reading } from '@lifeline/shared';
import type { Logger } from 'pino';
import { wrapTelemetry, type Store } from './store/store.js';
import { commitReadings } from './store/telemetry-store.js';

/** What the hub delivers. */
export type LiveMessage =
  | { type: 'readings'; gateway: string; readings: readonly Reading[] }
  | { type: 'events'; gateway: string; events: readonly LaneEvent[]; /** The batch's buffer epoch (0 when not told). */ epoch?: number };

/** A subscriber; must not throw (the hub catches if it does) and must not block. */
export type LiveListener = (msg: LiveMessage) => void;

export class LiveHub {
  private readonly listeners = new Set<LiveListener>();
  /** Messages published, and listener failures, for health checks. */
  readonly counters = { published: 0, listenerErrors: 0 };

  constructor(private readonly log?: Logger) {}

  /** Committed readings of one gateway (call after a successful, non-duplicate commit). */
  publishReadings(gateway: string, readings: readonly Reading[]): void {
    if (readings.length) this.emit({ type: 'readings', gateway, readings });
  }

  /** Committed event-lane items (alarm transitions, gateway events) of one gateway. */
  publishEvents(gateway: string, events: readonly LaneEvent[], epoch = 0): void {
    if (events.length) this.emit({ type: 'events', gateway, events, epoch });
  }

  /** Subscribe; returns the unsubscribe function. */
  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  private emit(msg: LiveMessage): void {
    this.counters.published++;
    for (const l of this.listeners) {
      try {
        l(msg);
      } catch (err) {
        this.counters.listenerErrors++;
        this.log?.error({ err }, 'live listener failed');
      }
    }
  }
}

/** A store whose commits also publish to the hub (duplicates are not published again). */
export function withLive(store: Store, hub: LiveHub): Store {
  return wrapTelemetry(store, (telemetry) => ({
    async commitTelemetry(batch) {
      const r = await telemetry.commitTelemetry(batch);
      if (!r.duplicate && !r.skipped && hub.subscribers) hub.publishReadings(batch.gateway, commitReadings(batch));
      return r;
    },
    async commitEvents(batch) {
      const r = await telemetry.commitEvents(batch);
      if (!r.duplicate) hub.publishEvents(batch.gateway, batch.events, batch.epoch ?? 0);
      return r;
    },
  }));
}
