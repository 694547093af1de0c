/**
 * Webhooks: external systems (the grid-management dispatch, say) subscribe to
 * alarm transitions. Each delivery is a JSON POST signed with HMAC-SHA256 over
 * `<timestamp>.<body>` with the webhook's secret, retried with exponential
 * backoff; a bounded queue per webhook, delivered in order, one at a time.
 * Ingest only calls the live hub, which only enqueues: a slow or dead
 * receiver never holds up a commit.
 *
 *   LiveHub 'events' ─▶ alarm transitions ─▶ queue per webhook (≤ queueMax, oldest dropped) ─▶ fetch POST
 *                                                   ▲                                   │ non-2xx / error
 *                                                   └──── wait base·2^attempt (≤ maxDelay) ◀┘ until maxAttempts
 *
 * A transition of an alarm under a maintenance window (maintenance.ts) is not sent.
 *
 * Headers: X-Lifeline-Event: alarm.transition, X-Lifeline-Delivery: <uuid>,
 * X-Lifeline-Timestamp: <epoch ms>, X-Lifeline-Signature: sha256=<hex>.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { AlarmTransition } from '@lifeline/shared';
import type { Logger } from 'pino';
import type { LiveHub } from './live.js';
import type { Store, WebhookRecord } from './store/store.js';

export interface WebhookOptions {
  /** Attempts per delivery, the first included. Default 6. */
  maxAttempts?: number;
  /** First retry delay, ms; doubled each time. Default 1000. */
  baseDelayMs?: number;
  /** Longest retry delay, ms. Default 60000. */
  maxDelayMs?: number;
  /** Per-request timeout, ms. Default 5000. */
  timeoutMs?: number;
  /** Deliveries queued per webhook before the oldest are dropped. Default 1000. */
  queueMax?: number;
}

/** Delivery figures of one webhook, shown to admins. */
export interface WebhookStats {
  delivered: number;
  failedAttempts: number;
  /** Deliveries given up after maxAttempts, or dropped from a full queue. */
  dropped: number;
  queued: number;
  lastStatus: number | null;
  lastError: string | null;
  lastDeliveredAt: number | null;
}

/** The signature a receiver must compute to check a delivery. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

interface Delivery {
  id: string;
  body: string;
}

class Queue {
  items: Delivery[] = [];
  busy = false;
  stats: WebhookStats = { delivered: 0, failedAttempts: 0, dropped: 0, queued: 0, lastStatus: null, lastError: null, lastDeliveredAt: null };
  constructor(public hook: WebhookRecord) {}
}

export class WebhookDispatcher {
  private queues = new Map<number, Queue>();
  private unsubscribe?: () => void;
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly o: Required<WebhookOptions>;
  /** Hub messages are filtered one after another, so deliveries keep their order. */
  private inbox: Promise<void> = Promise.resolve();

  /** `suppressed` says whether a transition is not to be sent (its alarm is in maintenance). */
  constructor(
    private readonly store: Pick<Store, 'webhooks'>, private readonly hub: LiveHub, private readonly log: Logger, opts: WebhookOptions = {},
    private readonly suppressed?: (gateway: string, t: AlarmTransition) => Promise<boolean>,
  ) {
    this.o = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 60_000, timeoutMs: 5000, queueMax: 1000, ...opts };
  }

  async start(): Promise<void> {
    await this.reload();
    this.unsubscribe = this.hub.subscribe((msg) => {
      if (msg.type !== 'events') return;
      const alarms = msg.events.filter((e): e is AlarmTransition => e.kind === 'alarm');
      if (!alarms.length) return;
      if (!this.suppressed) return void alarms.forEach((e) => this.enqueue(msg.gateway, e));
      this.inbox = this.inbox.then(async () => {
        for (const e of alarms) {
          // Fail open: a real alarm not told is worse than one told during maintenance.
          const skip = await this.suppressed!(msg.gateway, e).catch((err: unknown) => {
            this.log.error({ err, gateway: msg.gateway, alarmId: e.alarmId }, 'webhook maintenance check failed; sending the transition');
            return false;
          });
          if (!skip) this.enqueue(msg.gateway, e);
        }
      });
    });
  }

  /** Re-read the webhook list (after one is added or deleted). */
  async reload(): Promise<void> {
    const hooks = await this.store.webhooks.listWebhooks();
    const keep = new Set(hooks.map((h) => h.id));
    for (const id of this.queues.keys()) if (!keep.has(id)) this.queues.delete(id);
    for (const h of hooks) {
      const q = this.queues.get(h.id);
      if (q) q.hook = h;
      else this.queues.set(h.id, new Queue(h));
    }
  }

  /** Delivery figures by webhook id. */
  stats(id: number): WebhookStats | undefined {
    const q = this.queues.get(id);
    return q && { ...q.stats, queued: q.items.length };
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private enqueue(gateway: string, t: AlarmTransition): void {
    for (const q of this.queues.values()) {
      if (t.level < q.hook.minLevel) continue;
      const body = JSON.stringify({ type: 'alarm.transition', gateway, transition: t });
      q.items.push({ id: randomUUID(), body });
      if (q.items.length > this.o.queueMax) {
        q.items.shift();
        q.stats.dropped++;
      }
      if (!q.busy) void this.pump(q);
    }
  }

  private async pump(q: Queue): Promise<void> {
    q.busy = true;
    try {
      while (!this.stopped && q.items.length && this.queues.get(q.hook.id) === q) {
        const d = q.items[0];
        let ok = false;
        for (let attempt = 0; attempt < this.o.maxAttempts && !this.stopped; attempt++) {
          if (attempt > 0) await this.sleep(Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (attempt - 1)));
          ok = await this.post(q, d);
          if (ok) break;
        }
        q.items.shift();
        if (ok) {
          q.stats.delivered++;
          q.stats.lastDeliveredAt = Date.now();
        } else if (!this.stopped) {
          q.stats.dropped++;
          this.log.warn({ webhook: q.hook.id, url: q.hook.url, delivery: d.id }, 'webhook delivery given up');
        }
      }
    } finally {
      q.busy = false;
    }
  }

  private async post(q: Queue, d: Delivery): Promise<boolean> {
    const ts = String(Date.now());
    try {
      const res = await fetch(q.hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-lifeline-event': 'alarm.transition',
          'x-lifeline-delivery': d.id,
          'x-lifeline-timestamp': ts,
          'x-lifeline-signature': signWebhook(q.hook.secret, ts, d.body),
        },
        body: d.body,
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      q.stats.lastStatus = res.status;
      if (res.ok) return true;
      q.stats.lastError = `HTTP ${res.status}`;
    } catch (err) {
      q.stats.lastStatus = null;
      q.stats.lastError = (err as Error).message;
    }
    q.stats.failedAttempts++;
    return false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => (this.timers.delete(t), resolve()), ms);
      this.timers.add(t);
    });
  }
}
