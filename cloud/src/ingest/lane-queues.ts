/**
 * The ingest worker's queues, one per gateway and lane (status rides with the
 * telemetry lane: both write the gateway's device rows). One queue commits in
 * arrival order, one batch (or run of batches) at a time: the store's committed
 * prefix and epoch bases rely on it. Up to `concurrency` queues commit at once,
 * taken round-robin. At `maxPending` messages held (queued or committing) the
 * broker's next PUBACK is held back, so the broker's inflight window holds the
 * rest, not us.
 */
import type { Logger } from 'pino';

export class LaneQueues<J> {
  /** `gateway\0lane` → its messages not yet handled, oldest first; present while it has some. */
  private readonly queues = new Map<string, J[]>();
  /** Queues with messages and none committing, in the order they became so. */
  private readonly ready: string[] = [];
  private active = 0;
  private pendingCount = 0;
  /** The PUBACK callback of the message that filled the bound: mqtt.js reads nothing more until it runs. */
  private held?: () => void;
  private idleWaiters: (() => void)[] = [];

  /**
   * @param take how many of a queue's first jobs to hand over at once (at least 1)
   * @param handle commits the jobs taken; a failure is logged, never stops the queue
   */
  constructor(
    private readonly concurrency: number,
    private readonly maxPending: number,
    private readonly take: (queue: readonly J[]) => number,
    private readonly handle: (jobs: J[]) => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** Messages held now (queued or committing). */
  get pending(): number {
    return this.pendingCount;
  }

  /** Queue a job behind its gateway and lane's others. */
  push(key: string, job: J): void {
    const queue = this.queues.get(key);
    this.pendingCount++;
    if (queue) queue.push(job);
    else {
      this.queues.set(key, [job]);
      this.ready.push(key);
      this.pump();
    }
  }

  /** Run the broker's PUBACK now, or once the count held falls below maxPending. */
  hold(puback: () => void): void {
    if (this.pendingCount >= this.maxPending) this.held = puback;
    else puback();
  }

  /** Let a held PUBACK go. */
  release(): void {
    const held = this.held;
    this.held = undefined;
    held?.();
  }

  /** Resolves once nothing is queued or committing. */
  async idle(): Promise<void> {
    if (this.pendingCount) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** Start the next ready queues' heads, up to the concurrency bound. */
  private pump(): void {
    while (this.active < this.concurrency && this.ready.length) {
      const key = this.ready.shift()!;
      const queue = this.queues.get(key)!;
      const n = this.take(queue);
      this.active++;
      void this.handle(queue.slice(0, n))
        .catch((err) => this.log.error({ err }, 'ingest failed on a message'))
        .finally(() => this.done(key, n));
    }
  }

  private done(key: string, n: number): void {
    this.active--;
    this.pendingCount -= n;
    const queue = this.queues.get(key)!;
    queue.splice(0, n);
    // To the back of the line: a gateway with a deep queue does not starve the others.
    if (queue.length) this.ready.push(key);
    else this.queues.delete(key);
    if (this.pendingCount < this.maxPending) this.release();
    this.pump();
    if (this.pendingCount === 0) for (const r of this.idleWaiters.splice(0)) r();
  }
}
