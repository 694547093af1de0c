/**
 * The notifications concern of the cloud store: a durable outbox of what is to
 * be told to which receiver (webhooks.ts enqueues and delivers). A row is
 * written before anything is sent, so a cloud restart loses nothing queued;
 * its key makes enqueueing idempotent (one transition, one receiver, one row,
 * however often the transition is committed or published).
 *
 *   enqueue ─▶ pending ─ claim (lease: nextAt = at + lease, attempts + 1) ─▶ send ─┬─▶ delivered
 *                 ▲                                                                ├─▶ retry  (nextAt = at + backoff)
 *                 └────────── requeue / requeueReceiver (admin) ◀── dead ◀─────────────┴─▶ dead   (after N attempts, with the reason)
 *
 * A claim is a lease, not a lock held open: a process that dies mid-send leaves
 * its rows pending with a nextAt a little ahead, and any process claims them again.
 */

/** Where a notification stands. */
export type NotificationStatus = 'pending' | 'delivered' | 'dead';

/** The statuses, for validation and docs. */
export const notificationStatuses: readonly NotificationStatus[] = ['pending', 'delivered', 'dead'];

/** One outbox row. */
export interface NotificationRecord {
  id: number;
  /** Idempotency key: receiver, gateway, buffer epoch and seq of the transition. */
  key: string;
  /** The webhook record (receiver) it goes to. */
  receiverId: number;
  /** What to tell, as JSON text (webhooks.ts NotificationPayload); the receiver's format is applied at send time. */
  payload: string;
  status: NotificationStatus;
  /** Send attempts begun so far. */
  attempts: number;
  /** Epoch ms it is due (pending), or its lease ends (claimed). */
  nextAt: number;
  createdAt: number;
  /** The last failure: HTTP status, vendor errcode and errmsg, or the network error; null if none. */
  lastError: string | null;
  deliveredAt: number | null;
  /** Epoch ms it was dead-lettered; null otherwise. */
  deadAt: number | null;
}

/** Outbox list filter. */
export interface NotificationFilter {
  status?: NotificationStatus;
  receiverId?: number;
  limit: number;
}

/** The durable outbox. */
export interface NotificationStore {
  /**
   * Add a pending row due at `at`; false (and nothing changed) when the key is already there. Rows of one
   * `thread` (one alarm at one receiver) are claimed one at a time in the order they were added.
   */
  enqueue(n: { key: string; receiverId: number; payload: string; at: number; thread?: string }): Promise<boolean>;
  /**
   * Take up to `limit` pending rows due at `at` (oldest first): each gets attempts + 1 and
   * nextAt = at + leaseMs, so no other process takes it until the lease runs out. PostgreSQL
   * skips rows another process is claiming (FOR UPDATE SKIP LOCKED). Rows of the receivers in
   * `busy` are left (this process is still sending to them), so a hung receiver's rows never wait past their lease.
   * A row waits while an older row of its thread is pending (due later, or claimed by any process): a clear never
   * overtakes its raise. A dead row holds nothing back.
   */
  claim(at: number, limit: number, leaseMs: number, busy?: number[]): Promise<NotificationRecord[]>;
  /** A pending row was delivered. */
  delivered(id: number, at: number): Promise<boolean>;
  /** A pending row failed: due again at `nextAt`, with the reason kept. */
  retry(id: number, error: string, nextAt: number): Promise<boolean>;
  /** A pending row is given up: dead, with the reason. */
  dead(id: number, error: string, at: number): Promise<boolean>;
  /** A dead row back to pending, due at `at`, attempts counted from zero; undefined when it is not dead (or unknown). */
  requeue(id: number, at: number): Promise<NotificationRecord | undefined>;
  /**
   * Every dead row of a receiver back to pending, due at `at`, attempts from zero (a receiver back after an
   * outage longer than the retries last); they go out oldest first, each alarm's in order. How many.
   */
  requeueReceiver(receiverId: number, at: number): Promise<number>;
  get(id: number): Promise<NotificationRecord | undefined>;
  /** Newest first. */
  list(f: NotificationFilter): Promise<NotificationRecord[]>;
}

/**
 * Delay before the next attempt after `attempts` attempts: base·2^(attempts−1), capped at
 * `max`, with ±`jitter` spread (0.2 = ±20 %) so receivers that fail together do not all come back together.
 */
export function backoffMs(attempts: number, o: { baseMs: number; maxMs: number; jitter: number }, random: () => number = Math.random): number {
  const d = Math.min(o.maxMs, o.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.max(0, Math.round(d * (1 + o.jitter * (2 * random() - 1))));
}
