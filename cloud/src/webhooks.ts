/**
 * Alarm notifications through a durable outbox: external systems and duty
 * officers' groups subscribe to alarm transitions (store.webhooks: generic
 * HMAC-signed webhooks, WeCom and DingTalk group robots, SMS gateways). Each
 * transition is first written to the outbox (store.notifications), one row per
 * receiver (per phone number for SMS), keyed so a transition published twice
 * is one row; a delivery loop then claims due rows and sends them. A cloud
 * restart loses nothing queued, and several cloud processes on one PostgreSQL
 * share the work (claims skip rows another process holds).
 *
 *   LiveHub 'events' ─▶ alarm transitions ─▶ (maintenance? skip) ─▶ outbox.enqueue(key = receiver:gateway:epoch:seq[:p<phone index>])
 *                                                                          │ kick, and every pollMs
 *   delivery loop ─▶ outbox.claim(due, lease) ─▶ per receiver, in id order ─▶ notify/receivers.ts send ─┬─▶ delivered
 *                                                      ▲                                                 ├─▶ retry at base·2^(n−1) ±jitter (≤ maxDelay)
 *                                                      └──────────── due again ◀─────────────────────────┘   dead after maxAttempts, with the reason
 *
 * Ingest only calls the live hub, which only enqueues: a slow or dead receiver
 * never holds up a commit. A transition of an alarm under a maintenance window
 * (maintenance.ts) is not queued. Generic webhook headers: X-Lifeline-Event:
 * alarm.transition, X-Lifeline-Delivery: <outbox key, the same on every retry>,
 * X-Lifeline-Timestamp: <epoch ms>, X-Lifeline-Signature: sha256=<hex>.
 */
import type { AlarmTransition } from '@lifeline/shared';
import type { Logger } from 'pino';
import type { LiveHub } from './live.js';
import { backoffMs, type NotificationRecord, type Store, type WebhookRecord } from './store/store.js';
import type { NotificationPayload } from './notify/messages.js';
import { send } from './notify/receivers.js';

export { signWebhook } from './notify/receivers.js';

export interface WebhookOptions {
  /** Attempts per notification, the first included, before it is dead. Default 6. */
  maxAttempts?: number;
  /** First retry delay, ms; doubled each time. Default 1000. */
  baseDelayMs?: number;
  /** Longest retry delay, ms. Default 60000. */
  maxDelayMs?: number;
  /** Spread of each retry delay, ± this fraction. Default 0.2. */
  jitter?: number;
  /** Per-request timeout, ms. Default 5000. */
  timeoutMs?: number;
  /** How often the outbox is looked at for rows due (retries, other processes' rows, rows left by a restart), ms. Default 1000. */
  pollMs?: number;
  /** Rows claimed at a time. Default 20. */
  batch?: number;
}

/** Delivery figures of one receiver in this process since it started, shown to admins (the outbox has the durable record). */
export interface WebhookStats {
  delivered: number;
  failedAttempts: number;
  /** Notifications dead-lettered (given up after maxAttempts). */
  dropped: number;
  lastStatus: number | null;
  lastError: string | null;
  lastDeliveredAt: number | null;
}

const emptyStats = (): WebhookStats => ({ delivered: 0, failedAttempts: 0, dropped: 0, lastStatus: null, lastError: null, lastDeliveredAt: null });

export class WebhookDispatcher {
  private hooks = new Map<number, WebhookRecord>();
  private readonly figures = new Map<number, WebhookStats>();
  private unsubscribe?: () => void;
  private poll?: NodeJS.Timeout;
  private wake?: { at: number; timer: NodeJS.Timeout };
  private stopped = false;
  private running?: Promise<void>;
  /** Receivers being sent to, each its claimed rows one after another. */
  private readonly lanes = new Map<number, Promise<void>>();
  private again = false;
  /** Aborts the requests in flight when the cloud stops. */
  private readonly halt = new AbortController();
  private readonly o: Required<WebhookOptions>;
  /** Hub messages are handled one after another, so rows are queued in the order transitions came. */
  private inbox: Promise<void> = Promise.resolve();

  /** `suppressed` says whether a transition is not to be sent (its alarm is in maintenance). */
  constructor(
    private readonly store: Pick<Store, 'webhooks' | 'notifications' | 'registry'>, private readonly hub: LiveHub, private readonly log: Logger, opts: WebhookOptions = {},
    private readonly suppressed?: (gateway: string, t: AlarmTransition) => Promise<boolean>,
  ) {
    this.o = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.2, timeoutMs: 5000, pollMs: 1000, batch: 20, ...opts };
  }

  /** A claim's lease: long enough for a lane (at most one batch) to time out one by one. */
  private get leaseMs(): number {
    return this.o.timeoutMs * this.o.batch + 30_000;
  }

  async start(): Promise<void> {
    await this.reload();
    this.unsubscribe = this.hub.subscribe((msg) => {
      if (msg.type !== 'events') return;
      const alarms = msg.events.filter((e): e is AlarmTransition => e.kind === 'alarm');
      if (!alarms.length) return;
      this.inbox = this.inbox.then(() => this.enqueue(msg.gateway, msg.epoch ?? 0, alarms)).catch((err: unknown) => {
        // The transitions stay in the event lane and alarm history; only this notification is lost.
        this.log.error({ err, gateway: msg.gateway }, 'could not queue alarm notifications');
      });
    });
    this.poll = setInterval(() => this.kick(), this.o.pollMs);
    this.poll.unref();
    this.kick(); // rows a previous run left
  }

  /** Re-read the receiver list (after one is added or deleted). */
  async reload(): Promise<void> {
    this.hooks = new Map((await this.store.webhooks.listWebhooks()).map((h) => [h.id, h]));
  }

  /** Delivery figures by receiver id. */
  stats(id: number): WebhookStats | undefined {
    return this.hooks.has(id) ? { ...(this.figures.get(id) ?? emptyStats()) } : undefined;
  }

  /** Stop taking transitions and sending; requests in flight are aborted and their rows left due at once for the next run. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.poll);
    if (this.wake) clearTimeout(this.wake.timer);
    this.halt.abort();
    await this.inbox;
    await this.running;
    await Promise.all(this.lanes.values());
  }

  /** Wait until the queued transitions are in the outbox (tests). */
  async settled(): Promise<void> {
    await this.inbox;
  }

  /** Deliver what is due now, without waiting for the poll. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) return void (this.again = true);
    this.running = this.drain().finally(() => (this.running = undefined));
  }

  private async enqueue(gateway: string, epoch: number, alarms: AlarmTransition[]): Promise<void> {
    if (this.stopped) return;
    const hooks = [...this.hooks.values()];
    let sites: Map<string, { name: string | null; district: string | null }> | undefined;
    let queued = 0;
    for (const t of alarms) {
      const to = hooks.filter((h) => t.level >= h.minLevel);
      if (!to.length) continue;
      // Fail open: a real alarm not told is worse than one told during maintenance.
      const skip = this.suppressed
        ? await this.suppressed(gateway, t).catch((err: unknown) => {
            this.log.error({ err, gateway, alarmId: t.alarmId }, 'webhook maintenance check failed; sending the transition');
            return false;
          })
        : false;
      if (skip) continue;
      // People read names and districts; looked up once per batch, and only when a person is told.
      if (!sites && to.some((h) => h.kind !== 'webhook')) {
        sites = new Map((await this.store.registry.listDevices()).filter((d) => d.gateway === gateway).map((d) => [d.id, { name: d.name ?? null, district: d.location?.district ?? null }]));
      }
      const base: NotificationPayload = { type: 'alarm.transition', gateway, epoch, transition: t, site: sites?.get(t.device) ?? null };
      const at = Date.now();
      for (const h of to) {
        const key = `${h.id}:${gateway}:${epoch}:${t.seq}`;
        if (h.kind === 'sms') {
          // By the number's place in the list (fixed: a receiver is not edited), so the key, which operators see, holds no phone number.
          for (const [i, phone] of (h.sms?.phones ?? []).entries())
            queued += +(await this.store.notifications.enqueue({ key: `${key}:p${i}`, receiverId: h.id, payload: JSON.stringify({ ...base, phone }), at }));
        } else {
          queued += +(await this.store.notifications.enqueue({ key, receiverId: h.id, payload: JSON.stringify(base), at }));
        }
      }
    }
    if (queued) this.kick();
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        const rows = await this.store.notifications.claim(Date.now(), this.o.batch, this.leaseMs, [...this.lanes.keys()]);
        if (!rows.length) break;
        if (rows.some((r) => !this.hooks.has(r.receiverId))) await this.reload(); // another process may have added it
        const byReceiver = new Map<number, NotificationRecord[]>();
        for (const r of rows) byReceiver.set(r.receiverId, [...(byReceiver.get(r.receiverId) ?? []), r]);
        // A lane per receiver, its rows in order; lanes run side by side, so a hung robot holds up no one else.
        for (const [id, rs] of byReceiver) {
          const lane = (async () => {
            for (const r of rs) await this.deliver(r).catch((err: unknown) => this.log.error({ err, notification: r.id }, 'notification delivery failed; due again when its lease ends'));
          })().finally(() => (this.lanes.delete(id), this.kick()));
          this.lanes.set(id, lane);
        }
        if (rows.length === this.o.batch) this.again = true;
      } while (this.again && !this.stopped);
    } catch (err) {
      if (!this.stopped) this.log.error({ err }, 'notification delivery loop failed; retried at the next poll');
    }
  }

  private async deliver(r: NotificationRecord): Promise<void> {
    const hook = this.hooks.get(r.receiverId);
    // A row older than its receiver was for a deleted one whose id came round again.
    if (!hook || hook.createdAt > r.createdAt) {
      await this.store.notifications.dead(r.id, `receiver ${r.receiverId} deleted`, Date.now());
      return;
    }
    const f = this.figures.get(hook.id) ?? emptyStats();
    this.figures.set(hook.id, f);
    if (this.stopped) return void (await this.store.notifications.retry(r.id, 'cloud stopped before sending', Date.now()));
    const out = await send(hook, JSON.parse(r.payload) as NotificationPayload, r.key, AbortSignal.any([this.halt.signal, AbortSignal.timeout(this.o.timeoutMs)]));
    const now = Date.now();
    f.lastStatus = out.status;
    if (out.ok) {
      f.delivered++;
      f.lastDeliveredAt = now;
      await this.store.notifications.delivered(r.id, now);
      return;
    }
    if (this.stopped) {
      // Cut off by shutdown, not refused: due at once for whichever process runs next.
      await this.store.notifications.retry(r.id, 'cloud stopped mid-delivery', now);
      return;
    }
    f.failedAttempts++;
    f.lastError = out.error;
    if (r.attempts >= this.o.maxAttempts) {
      f.dropped++;
      this.log.warn({ webhook: hook.id, kind: hook.kind, notification: r.id, attempts: r.attempts, error: out.error }, 'notification dead-lettered');
      await this.store.notifications.dead(r.id, out.error, now);
      return;
    }
    const next = now + backoffMs(r.attempts, { baseMs: this.o.baseDelayMs, maxMs: this.o.maxDelayMs, jitter: this.o.jitter });
    await this.store.notifications.retry(r.id, out.error, next);
    this.wakeAt(next);
  }

  /** Drain again at `at` (a retry due before the next poll). */
  private wakeAt(at: number): void {
    if (this.stopped || (this.wake && this.wake.at <= at)) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => ((this.wake = undefined), this.kick()), Math.max(0, at - Date.now()));
    timer.unref();
    this.wake = { at, timer };
  }
}
