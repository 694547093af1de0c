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
import type { AlarmPayload, NotificationPayload } from './notify/messages.js';
import { send } from './notify/receivers.js';
import { AlarmRouter, type GatewaySites } from './notify/router.js';

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
  /** How often lanes committed past their queued mark are caught up, and rules re-read (another process may have changed them), ms. Default 10000. */
  catchUpMs?: number;
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
  private catchUpTimer?: NodeJS.Timeout;
  /** Who is told of what (the routing rules). */
  readonly router: AlarmRouter;
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
    private readonly store: Pick<Store, 'webhooks' | 'notifications' | 'registry' | 'routing' | 'alarms'>, private readonly hub: LiveHub, private readonly log: Logger, opts: WebhookOptions = {},
    private readonly suppressed?: (gateway: string, t: AlarmTransition) => Promise<boolean>,
  ) {
    // 12 attempts span about 6 minutes (1, 2, 4 … 60 s): a robot or SMS gateway down for a few minutes loses nothing.
    this.o = { maxAttempts: 12, baseDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.2, timeoutMs: 5000, pollMs: 1000, batch: 20, catchUpMs: 10_000, ...opts };
    this.router = new AlarmRouter(store);
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
      const seqs = msg.events.map((e) => e.seq);
      const epoch = msg.epoch ?? 0;
      this.inbox = this.inbox
        .then(async () => {
          if (alarms.length) await this.enqueue(msg.gateway, epoch, alarms);
          if (!this.stopped) await this.store.routing.markQueued(msg.gateway, epoch, Math.min(...seqs), Math.max(...seqs));
        })
        .catch((err: unknown) => {
          // The transitions stay in the event lane past the mark: the next catch-up queues them.
          this.log.error({ err, gateway: msg.gateway }, 'could not queue alarm notifications; the catch-up will');
        });
    });
    this.poll = setInterval(() => this.kick(), this.o.pollMs);
    this.poll.unref();
    this.catchUpTimer = setInterval(() => this.catchUp(true), this.o.catchUpMs);
    this.catchUpTimer.unref();
    this.catchUp(false); // transitions a killed run committed but never queued
    this.kick(); // rows a previous run left
  }

  /** Re-read the receivers and the routing rules (after one is added, changed or deleted). */
  async reload(): Promise<void> {
    this.hooks = new Map((await this.store.webhooks.listWebhooks()).map((h) => [h.id, h]));
    await this.router.reload();
  }

  /** The receivers as last loaded. */
  receivers(): WebhookRecord[] {
    return [...this.hooks.values()];
  }

  /**
   * Queue one notification to `hook` (one row per phone for SMS, `key:p<i>`), due at `at`; the number of rows
   * new (0 when the key was queued before). Escalations and digests come this way.
   */
  async queue(hook: WebhookRecord, key: string, payload: NotificationPayload, at: number, kick = true): Promise<number> {
    let queued = 0;
    // One alarm's messages to one receiver (one phone) go in the order queued: raise, escalation, clear.
    const thread = payload.type === 'alarm.transition' ? `${hook.id}:${payload.gateway}:${payload.transition.alarmId}` : undefined;
    if (hook.kind === 'sms') {
      // By the number's place in the list (fixed: a receiver is not edited), so the key, which operators see, holds no phone number.
      for (const [i, phone] of (hook.sms?.phones ?? []).entries()) {
        const row = { key: `${key}:p${i}`, receiverId: hook.id, payload: JSON.stringify({ ...payload, phone }), at, thread: thread && `${thread}:p${i}` };
        queued += +(await this.store.notifications.enqueue(row));
      }
    } else {
      queued += +(await this.store.notifications.enqueue({ key, receiverId: hook.id, payload: JSON.stringify(payload), at, thread }));
    }
    if (queued && at > Date.now()) this.wakeAt(at);
    else if (queued && kick) this.kick();
    return queued;
  }

  /** Queue what lanes committed past their mark hold, in the hub's order (tests call it to wait for one). */
  catchUp(reload: boolean): Promise<void> {
    this.inbox = this.inbox
      .then(async () => {
        if (this.stopped) return;
        if (reload) await this.reload();
        for (const lane of await this.store.routing.lagging(100)) {
          const limit = 5000;
          const rows = await this.store.routing.alarmsInLane(lane.gateway, lane.epoch, lane.mark, lane.committed, limit);
          if (rows.length) {
            this.log.info({ gateway: lane.gateway, epoch: lane.epoch, from: lane.mark + 1, to: lane.committed, alarms: rows.length }, 'queueing alarm transitions committed but not yet queued');
            await this.enqueue(lane.gateway, lane.epoch, rows.map((r) => r.transition));
          }
          if (this.stopped) return;
          await this.store.routing.setMark(lane.gateway, lane.epoch, rows.length === limit ? rows[rows.length - 1].transition.seq : lane.committed);
        }
      })
      .catch((err: unknown) => this.log.error({ err }, 'notification catch-up failed; tried again later'));
    return this.inbox;
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
    clearInterval(this.catchUpTimer);
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
    if (!hooks.length) return;
    // Rules and people read kinds, names and districts: looked up once per batch.
    let sites: GatewaySites | undefined;
    let queued = 0;
    for (const t of alarms) {
      // Fail open: a real alarm not told is worse than one told during maintenance.
      const skip = this.suppressed
        ? await this.suppressed(gateway, t).catch((err: unknown) => {
            this.log.error({ err, gateway, alarmId: t.alarmId }, 'webhook maintenance check failed; sending the transition');
            return false;
          })
        : false;
      if (skip) continue;
      sites ??= await this.router.sites(gateway);
      const site = AlarmRouter.siteOf(sites, t.device);
      const routes = await this.router.route(gateway, epoch, t, site, hooks, Date.now());
      const pointLabel = sites.pointLabels.get(t.device)?.get(t.point);
      const base: AlarmPayload = { type: 'alarm.transition', gateway, epoch, transition: t, site, ...(pointLabel ? { pointLabel } : {}) };
      for (const { hook, at } of routes) {
        // One kick for the batch, below: a claim per row only competes with the inserts.
        queued += await this.queue(hook, `${hook.id}:${gateway}:${epoch}:${t.seq}`, base, at, false);
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
