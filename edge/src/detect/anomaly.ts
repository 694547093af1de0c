/**
 * Streaming anomaly detector for one point: one pass, bounded memory, learns its
 * baseline online.
 *
 *     x ─▶ prediction error e = |x − m| / s    (EW mean m, EW spread s; learns always)
 *       ─▶ surprise: short-term mean of e vs its long-term distribution (after Numenta's
 *          "anomaly likelihood": what matters is an error unusual *for this stream*)
 *       ─▶ score = −log10(tail probability) / 5, clipped to [0, 1]
 *       ─▶ level: raise when score ≥ threshold, hold at least holdMs
 *
 * Memory: a ring of `window` errors plus a dozen numbers. No clock.
 */
import { AlarmLevel, type Reading } from '@lifeline/shared';
import { describeLevel } from './levels.js';
import { isUnusable, type DetectorEvent, type ScoringDetector } from './types.js';

/** Options of one per-point anomaly detector. */
export interface AnomalyOptions {
  /** Readings learned before it may score (≥ 10). */
  warmup: number;
  /** Score in (0, 1) that raises the alarm. Default 0.8. */
  threshold?: number;
  /** Readings in the short-term window of errors. Default 8. */
  window?: number;
  /** Once raised, the alarm holds at least this long, ms. Default 0. */
  holdMs?: number;
  /** Level raised. Default yellow. */
  level?: AlarmLevel;
}

/** Per-point streaming anomaly detector. */
export class AnomalyDetector implements ScoringDetector {
  readonly kind = 'anomaly' as const;
  readonly points: readonly string[];
  level: AlarmLevel = AlarmLevel.Normal;
  score = 0;
  ready = false;

  private n = 0;
  private m = 0;
  private v = 0;
  private readonly alpha: number;
  private readonly ring: Float64Array;
  private ringSum = 0;
  private head = 0;
  // Long-term distribution of the short-term mean error.
  private lm = 0;
  private lv = 0;
  private readonly beta: number;
  private raisedAt = Number.NaN;
  private readonly threshold: number;
  private readonly holdMs: number;
  private readonly raise: AlarmLevel;

  constructor(
    readonly id: string,
    readonly device: string,
    point: string,
    private readonly opts: AnomalyOptions,
  ) {
    this.points = [point];
    const w = opts.window ?? 8;
    this.ring = new Float64Array(w);
    this.alpha = 2 / (opts.warmup + 1);
    this.beta = 1 / Math.max(opts.warmup, 50);
    this.threshold = opts.threshold ?? 0.8;
    this.holdMs = opts.holdMs ?? 0;
    this.raise = opts.level ?? AlarmLevel.Yellow;
  }

  update(r: Reading): DetectorEvent | null {
    if (isUnusable(r)) return null;
    const x = r.value;
    const n = ++this.n;
    if (n === 1) {
      this.m = x;
      return null;
    }
    const sd = Math.sqrt(this.v) + 1e-9 * (Math.abs(this.m) + 1);
    const e = Math.min(Math.abs(x - this.m) / sd, 50);
    const d = x - this.m;
    this.m += this.alpha * d;
    this.v = (1 - this.alpha) * (this.v + this.alpha * d * d);
    // Short-term mean error.
    const w = this.ring.length;
    this.ringSum += e - this.ring[this.head];
    this.ring[this.head] = e;
    this.head = (this.head + 1) % w;
    const short = this.ringSum / Math.min(n - 1, w);
    // Surprise of the short-term mean against its own history.
    const lsd = Math.sqrt(this.lv) + 1e-6;
    const zs = (short - this.lm) / lsd;
    const dl = short - this.lm;
    this.lm += this.beta * dl;
    this.lv = (1 - this.beta) * (this.lv + this.beta * dl * dl);
    if (n <= this.opts.warmup) {
      this.score = 0;
      return null;
    }
    this.ready = true;
    this.score = zs <= 0 ? 0 : Math.min(1, -Math.log10(Math.max(tail(zs), 1e-300)) / 5);
    return this.decide(r);
  }

  private decide(r: Reading): DetectorEvent | null {
    if (this.level === AlarmLevel.Normal) {
      if (this.score < this.threshold) return null;
      this.level = this.raise;
      this.raisedAt = r.ts;
      return this.event(r, AlarmLevel.Normal, `${this.points[0]} ${r.value} unusual for this stream (anomaly score ${this.score.toFixed(2)} ≥ ${this.threshold}): ${describeLevel(this.raise)}`);
    }
    if (this.score >= this.threshold || r.ts - this.raisedAt < this.holdMs) return null;
    this.level = AlarmLevel.Normal;
    return this.event(r, this.raise, `${this.points[0]} back to usual (anomaly score ${this.score.toFixed(2)})`);
  }

  private event(r: Reading, previous: AlarmLevel, cause: string): DetectorEvent {
    return { detector: this.id, kind: this.kind, device: this.device, point: this.points[0], ts: r.ts, level: this.level, previous, value: r.value, cause, score: this.score };
  }
}

/** Upper tail of the standard normal, Q(z) = P(Z > z) (Abramowitz–Stegun 7.1.26 via erfc). */
export function tail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return x >= 0 ? y / 2 : 1 - y / 2;
}
