/**
 * Rate-of-change detector: a rise or a fall larger than allowed within a sliding
 * time window (a main bursting: pressure falls faster than any threshold notices;
 * a culvert filling: the level climbs).
 *
 *     reading ─▶ ring of (ts, value) inside windowMs ─▶ max − v (fall), v − min (rise) ─▶ level
 *
 * The window's max and min come from monotonic deques, so each reading costs O(1)
 * amortised and memory is bounded by `maxSamples` (when a window holds more readings
 * than that, the oldest are dropped and the window is effectively shorter).
 * It clears once the change within the window is below half the limit, so a change
 * hovering on the limit does not chatter.
 */
import { AlarmLevel, type Reading } from '@lifeline/shared';
import { describeLevel } from './levels.js';
import { isUnusable, type Detector, type DetectorEvent } from './types.js';

/** Options of one rate-of-change detector. */
export interface RateOptions {
  /** Window length, ms (> 0). */
  windowMs: number;
  /** Largest allowed rise within the window (point's unit); absent: rises are not checked. */
  rise?: number;
  /** Largest allowed fall within the window (positive number); absent: falls are not checked. */
  fall?: number;
  /** Level raised. Default orange. */
  level?: AlarmLevel;
  /** Ring capacity; default 1024 readings. */
  maxSamples?: number;
  /** Unit for causes. */
  unit?: string;
}

/** Fixed-capacity deque of sample indexes into the ring, monotonic in value. */
class MonoDeque {
  private readonly idx: Float64Array;
  private head = 0;
  private size = 0;
  constructor(private readonly cap: number) {
    this.idx = new Float64Array(cap);
  }
  get length(): number {
    return this.size;
  }
  front(): number {
    return this.idx[this.head];
  }
  back(): number {
    return this.idx[(this.head + this.size - 1) % this.cap];
  }
  popFront(): void {
    this.head = (this.head + 1) % this.cap;
    this.size--;
  }
  popBack(): void {
    this.size--;
  }
  push(i: number): void {
    this.idx[(this.head + this.size) % this.cap] = i;
    this.size++;
  }
}

/** Per-point rate-of-change detector. */
export class RateDetector implements Detector {
  readonly kind = 'rate' as const;
  readonly points: readonly string[];
  level: AlarmLevel = AlarmLevel.Normal;
  private readonly cap: number;
  private readonly ts: Float64Array;
  private readonly vs: Float64Array;
  /** Sequence number of the next sample; sample n lives at n % cap. */
  private n = 0;
  /** Oldest sequence number still in the window. */
  private first = 0;
  private readonly maxQ: MonoDeque;
  private readonly minQ: MonoDeque;
  private readonly raise: AlarmLevel;
  private readonly unit: string;

  constructor(
    readonly id: string,
    readonly device: string,
    point: string,
    private readonly opts: RateOptions,
  ) {
    this.points = [point];
    this.cap = opts.maxSamples ?? 1024;
    this.ts = new Float64Array(this.cap);
    this.vs = new Float64Array(this.cap);
    this.maxQ = new MonoDeque(this.cap);
    this.minQ = new MonoDeque(this.cap);
    this.raise = opts.level ?? AlarmLevel.Orange;
    this.unit = opts.unit ? ` ${opts.unit}` : '';
  }

  update(r: Reading): DetectorEvent | null {
    if (isUnusable(r)) return null;
    const { ts, value: v } = r;
    // Forget what left the window (or the ring).
    const oldest = Math.max(this.first, this.n - this.cap + 1);
    this.first = oldest;
    while (this.first < this.n && this.ts[this.first % this.cap] < ts - this.opts.windowMs) this.first++;
    while (this.maxQ.length && this.maxQ.front() < this.first) this.maxQ.popFront();
    while (this.minQ.length && this.minQ.front() < this.first) this.minQ.popFront();
    // Add this sample.
    const i = this.n++;
    this.ts[i % this.cap] = ts;
    this.vs[i % this.cap] = v;
    while (this.maxQ.length && this.vs[this.maxQ.back() % this.cap] <= v) this.maxQ.popBack();
    this.maxQ.push(i);
    while (this.minQ.length && this.vs[this.minQ.back() % this.cap] >= v) this.minQ.popBack();
    this.minQ.push(i);

    const hi = this.vs[this.maxQ.front() % this.cap];
    const lo = this.vs[this.minQ.front() % this.cap];
    const fell = hi - v;
    const rose = v - lo;
    const { rise, fall } = this.opts;
    const firing = this.level !== AlarmLevel.Normal;
    const k = firing ? 0.5 : 1; // clear below half the limit
    const fallHit = fall !== undefined && fell >= fall * k;
    const riseHit = rise !== undefined && rose >= rise * k;
    if (fallHit || riseHit) {
      if (firing) return null;
      this.level = this.raise;
      const what = fallHit ? `fell ${round(fell)}${this.unit}` : `rose ${round(rose)}${this.unit}`;
      const lim = fallHit ? fall : rise;
      return this.event(ts, v, AlarmLevel.Normal, `${this.points[0]} ${what} within ${this.opts.windowMs / 1000} s (limit ${lim}${this.unit}): ${describeLevel(this.raise)}`);
    }
    if (!firing) return null;
    this.level = AlarmLevel.Normal;
    return this.event(ts, v, this.raise, `${this.points[0]} change within ${this.opts.windowMs / 1000} s back below half the limit`);
  }

  private event(ts: number, value: number, previous: AlarmLevel, cause: string): DetectorEvent {
    return { detector: this.id, kind: this.kind, device: this.device, point: this.points[0], ts, level: this.level, previous, value, cause };
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
