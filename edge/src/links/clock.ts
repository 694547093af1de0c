/**
 * A coarse clock shared by every poller and TCP link of the process: things
 * due at about the same time run in one timer callback on a tick grid instead
 * of one timer each.
 *
 *   schedule(entry, due) ─▶ min-heap by run time ─▶ one timer, armed for the earliest run time
 *      run time = the tick boundary ≥ due       └▶ one setImmediate when something is due already
 *      (or due itself for an `exact` entry)
 *
 * Why: at 500 devices polled once a second, a timer per device wakes the
 * process ~500 times a second and each reply arrives on its own; on a tick the
 * requests of every device due in it leave together, their replies come back
 * together and one wake-up handles many sockets. An entry runs at most one
 * tick late and never early; owners that reschedule from the due time (not the
 * run time) keep their cadence exact on average. Owners whose intervals are
 * short next to the tick (a 100 ms poll, a 30 ms timeout) ask for `exact`:
 * those run at their due time (the one timer is armed for it), as before.
 *
 * Entries are objects the owner keeps: scheduling allocates nothing.
 */

/** One thing the clock runs when due. */
export class ClockEntry {
  /** performance.now() at or after which it runs. */
  due = 0;
  /** When the clock runs it: `due`, or the tick boundary at or after it. */
  at = 0;
  /** Position in the clock's heap; -1 when not scheduled, -2 when taken off to run in the current batch. */
  index = -1;
  constructor(readonly run: () => void) {}
  /** Whether it is waiting to run. */
  get scheduled(): boolean {
    return this.index !== -1;
  }
}

/** The coarse clock. */
export class TickClock {
  private readonly heap: ClockEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The boundary the timer is armed for (Infinity when none). */
  private timerAt = Infinity;
  private immediate: NodeJS.Immediate | null = null;
  /** Entries taken off the heap in one run, reused. */
  private readonly batch: ClockEntry[] = [];
  private readonly onTimerBound = () => this.onTimer();
  private readonly onImmediateBound = () => this.onImmediate();

  /** @param tickMs the grid, ms: entries run up to this late, and this much apart at least */
  constructor(readonly tickMs = 20) {
    if (!(tickMs >= 1 && tickMs <= 1000)) throw new Error(`clock tickMs must be 1..1000 ms, got ${tickMs}`);
  }

  /** Entries waiting. */
  get size(): number {
    return this.heap.length;
  }

  /**
   * Run `e` at `due` (performance.now() ms): on the first tick boundary at or
   * after it, or exactly then if `exact`, or on the next immediate if it has
   * passed. Reschedules it if it was waiting.
   */
  schedule(e: ClockEntry, due: number, exact = false): void {
    e.due = due;
    // Due already (a poll that overran, a retry at once): run on the next immediate, not the next tick.
    e.at = exact || due <= performance.now() ? due : Math.ceil(due / this.tickMs) * this.tickMs;
    if (e.index === -2) e.index = -1;
    if (e.index >= 0) {
      this.siftUp(e.index);
      this.siftDown(e.index);
    } else {
      e.index = this.heap.length;
      this.heap.push(e);
      this.siftUp(e.index);
    }
    this.arm();
  }

  /** Whether an owner waiting `ms` at a time should ask for `exact`: a tick would be more than a tenth of it. */
  wantsExact(ms: number): boolean {
    return ms < 10 * this.tickMs;
  }

  /** Take `e` off the clock (no-op if it is not waiting). */
  cancel(e: ClockEntry): void {
    const i = e.index;
    e.index = -1;
    if (i < 0) return;
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.index = i;
      this.siftUp(i);
      this.siftDown(last.index);
    }
    if (this.heap.length === 0) this.disarm();
  }

  /** Make sure something will run the earliest entry in time. */
  private arm(): void {
    if (this.heap.length === 0) return;
    const at = this.heap[0].at;
    const now = performance.now();
    if (at <= now) {
      this.immediate ??= setImmediate(this.onImmediateBound);
      return;
    }
    if (at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onTimerBound, Math.max(1, Math.ceil(at - now)));
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
  }

  private onTimer(): void {
    // The event loop's clock may lag performance.now() by a fraction of a ms: run what the timer was armed for.
    const armedFor = this.timerAt;
    this.timer = null;
    this.timerAt = Infinity;
    this.runDue(Math.max(armedFor, performance.now()));
  }

  private onImmediate(): void {
    this.immediate = null;
    this.runDue(performance.now());
  }

  /** Run everything due by `limit`. Entries that reschedule themselves as due at once wait for the next immediate. */
  private runDue(limit: number): void {
    const batch = this.batch;
    while (this.heap.length > 0 && this.heap[0].at <= limit) {
      const e = this.heap[0];
      this.cancel(e);
      e.index = -2;
      batch.push(e);
    }
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i];
      batch[i] = NOTHING;
      // A run before it in this batch may have rescheduled or cancelled it.
      if (e.index !== -2) continue;
      e.index = -1;
      try {
        e.run();
      } catch {
        // Owners handle their own failures; one must not stop the others.
      }
    }
    batch.length = 0;
    this.arm();
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const e = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= e.at) break;
      h[i] = h[p];
      h[i].index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r].at < h[l].at ? r : l;
      if (h[c].at >= e.at) break;
      h[i] = h[c];
      h[i].index = i;
      i = c;
    }
    h[i] = e;
    e.index = i;
  }
}

const NOTHING = new ClockEntry(() => {});

/** The process's clock: every poller and TCP link uses it unless given another. */
export const sharedClock = new TickClock(50);
