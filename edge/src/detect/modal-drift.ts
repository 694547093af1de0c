/**
 * First-natural-frequency drift, temperature-compensated: the classic damage
 * indicator of a bridge (a stiffness loss lowers its frequencies), which
 * temperature alone moves by 1–3 % over a cycle.
 *
 *     temperature reading ─▶ latest T
 *     frequency reading ─┬─ warm-up: least-squares line f = a + b·T over `warmup` bursts
 *                        └─ then: r = f / (a + b·T) − 1 ─▶ mean of the last `average` r
 *                                  ─▶ |mean| ≥ share raises; |mean| < share/2 clears
 *
 * Why one regression line rather than a baseline per temperature band: a
 * band baseline needs bursts in every band before it can judge, so a bridge
 * commissioned in spring could not be watched until winter; a line learned
 * over a few days' thermal cycles (≥ 3 °C of spread) extrapolates across the
 * season, and decks stay close to linear above freezing. Below 0 °C frozen
 * bearings and moisture stiffen a deck beyond the line: the detector reports
 * temperatures outside the learned range in its causes, and a site with hard
 * winters should re-learn with a winter warm-up (a new detector config).
 * The baseline is frozen after warm-up on purpose: a baseline that kept
 * learning would absorb the slow damage it is there to see.
 */
import { AlarmLevel, type Reading } from '@lifeline/shared';
import { describeLevel } from './levels.js';
import { isUnusable, type Detector, type DetectorEvent } from './types.js';

/** Options of a modal drift detector. */
export interface ModalDriftOptions {
  /** Point carrying the first natural frequency, Hz. */
  frequency: string;
  /** Point carrying the structure's temperature, °C. */
  temperature: string;
  /** Relative drift that raises (default 0.01). */
  share?: number;
  /** Bursts learned for the baseline (default 432). */
  warmup?: number;
  /** Bursts averaged before judging (default 6). */
  average?: number;
  /** Level raised (default orange). */
  level?: AlarmLevel;
}

/** Temperatures closer together than this leave the slope unknown: the baseline is then flat. */
const MIN_SPREAD_C = 3;

/** Temperature-compensated drift of a first natural frequency. */
export class ModalDriftDetector implements Detector {
  readonly kind = 'modal' as const;
  readonly points: readonly string[];
  level: AlarmLevel = AlarmLevel.Normal;
  private readonly share: number;
  private readonly warmup: number;
  private readonly raise: AlarmLevel;
  private temperature = NaN;
  // Warm-up sums for the least-squares line.
  private n = 0;
  private st = 0;
  private sf = 0;
  private stt = 0;
  private stf = 0;
  private tMin = Infinity;
  private tMax = -Infinity;
  /** Baseline f = a + b·T once learned. */
  private a = NaN;
  private b = 0;
  private readonly ring: Float64Array;
  private filled = 0;
  private next = 0;
  private sum = 0;

  constructor(
    readonly id: string,
    readonly device: string,
    private readonly opts: ModalDriftOptions,
  ) {
    this.points = [opts.frequency, opts.temperature];
    this.share = opts.share ?? 0.01;
    this.warmup = opts.warmup ?? 432;
    this.raise = opts.level ?? AlarmLevel.Orange;
    this.ring = new Float64Array(opts.average ?? 6);
  }

  /** True once the baseline is learned. */
  get ready(): boolean {
    return !Number.isNaN(this.a);
  }

  /** The learned baseline: frequency at 0 °C and change per °C (NaN before warm-up ends). */
  get baseline(): { intercept: number; slope: number; range: [number, number] } {
    return { intercept: this.a, slope: this.b, range: [this.tMin, this.tMax] };
  }

  /** Mean relative drift of the last `average` bursts (NaN until the window is full). */
  get drift(): number {
    return this.filled === this.ring.length ? this.sum / this.filled : NaN;
  }

  update(r: Reading): DetectorEvent | null {
    if (isUnusable(r)) return null;
    if (r.point === this.opts.temperature) {
      this.temperature = r.value;
      return null;
    }
    const t = this.temperature;
    const f = r.value;
    if (Number.isNaN(t) || !(f > 0)) return null;
    if (!this.ready) {
      this.learn(t, f);
      return null;
    }
    const expected = this.a + this.b * t;
    const residual = f / expected - 1;
    if (this.filled === this.ring.length) this.sum -= this.ring[this.next];
    else this.filled++;
    this.ring[this.next] = residual;
    this.sum += residual;
    this.next = (this.next + 1) % this.ring.length;
    if (this.filled < this.ring.length) return null;
    const drift = this.sum / this.filled;
    const firing = this.level !== AlarmLevel.Normal;
    const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
    const outside = t < this.tMin || t > this.tMax ? ` (at ${t.toFixed(1)} °C, outside the learned ${this.tMin.toFixed(1)}..${this.tMax.toFixed(1)} °C)` : '';
    if (!firing && Math.abs(drift) >= this.share) {
      this.level = this.raise;
      return this.event(r, AlarmLevel.Normal, `${this.opts.frequency} ${drift < 0 ? 'fell' : 'rose'} ${pct(Math.abs(drift))} from its temperature-compensated baseline ${expected.toFixed(3)} Hz${outside} over ${this.filled} bursts (limit ${pct(this.share)}): ${describeLevel(this.raise)}`);
    }
    if (firing && Math.abs(drift) < this.share / 2) {
      this.level = AlarmLevel.Normal;
      return this.event(r, this.raise, `${this.opts.frequency} back within ${pct(this.share / 2)} of its baseline`);
    }
    return null;
  }

  private learn(t: number, f: number): void {
    this.n++;
    this.st += t;
    this.sf += f;
    this.stt += t * t;
    this.stf += t * f;
    if (t < this.tMin) this.tMin = t;
    if (t > this.tMax) this.tMax = t;
    if (this.n < this.warmup) return;
    const n = this.n;
    const varT = this.stt / n - (this.st / n) ** 2;
    this.b = this.tMax - this.tMin >= MIN_SPREAD_C && varT > 0 ? (this.stf / n - (this.st / n) * (this.sf / n)) / varT : 0;
    this.a = this.sf / n - this.b * (this.st / n);
  }

  private event(r: Reading, previous: AlarmLevel, cause: string): DetectorEvent {
    return { detector: this.id, kind: this.kind, device: this.device, point: this.opts.frequency, ts: r.ts, level: this.level, previous, value: r.value, cause };
  }
}
