/**
 * ARTime: a streaming anomaly detector whose memory is an adaptive-resonance-theory
 * category network (after Mark Hampton's ARTime, NAB 74.9 on the whole corpus; written
 * from the method's published description, not its code). Novelty is "this pattern
 * forms a new cluster", and the vigilance that decides it adapts to the stream.
 *
 *     x ─▶ blocks of `step` readings (step = warmup / (window·13): the warm-up yields ~13
 *          windows of downsampled points) ─▶ per block its mean, or its extreme when that
 *          stands out from the mean by > 10 % of the range (a spike survives downsampling)
 *       ─▶ scaled to [0,1] by the range seen so far, quantised to 80 levels, and snapped to
 *          the running median level when within 0.075 of it (noise around the usual level
 *          is one pattern, not many)
 *       ─▶ the last 8 points (on the [0,1] scale), their Haar wavelet coefficients, and
 *          their "energy" (mean level, spread)
 *       ─▶ dual-vigilance fuzzy ART (art.ts): resonance (learning rate `beta`), a variant of a
 *          known cluster, or novel
 *     warm-up: the features are kept; at its end the vigilance ρ is set to the mean match
 *          of the warm-up's patterns presented to a scratch network (least typical first,
 *          ρ = `rho`), and the network learns them at that vigilance
 *     after: novel and not masked → anomaly; confidence = 0.35·(ρ_ub − m)/(1 − m) +
 *          0.65·(ρ_lb − m)/(1 − m) + 1.5·(1 − energy match), capped at 1 (m: the match)
 *     masking: for 1.5·window points after an anomaly, or after a vigilance change until
 *          1.5·window points pass with no novel pattern, a novel pattern counts only if its
 *          match is below 0.9 (0.7) of the last anomaly's
 *     vigilance: 1.5·window points after an anomaly and every half warm-up, ρ_ub ← mean match
 *          so far (≤ 0.97); ρ_lb rises 19 % of the way to the lowest recent match, or falls by
 *          the mean recent shortfall under ρ_ub (≥ 0.01), not below the mean anomaly match
 *
 * Score per reading: the confidence on the reading that completed a novel block, else 0.
 * With `episode`, a confidence no higher than its event's highest so far (within `hold`) scores 0.
 * The alarm rises at score ≥ `threshold` and falls `hold` readings after the last one.
 * `published` follows the published description's encoding and search instead (worse on NAB).
 * Memory: ≤ 64 categories of 36 numbers, the warm-up's ~112 feature vectors (freed after),
 * an 81-bin median histogram, and a few small rings. No clock.
 */
import { AlarmLevel, type Reading } from '@lifeline/shared';
import { ArtOutcome, DualVigilanceArt } from './art.js';
import { describeLevel } from './levels.js';
import { isUnusable, type DetectorEvent, type ScoringDetector } from './types.js';

/** Options of one ARTime detector. */
export interface ArtimeOptions {
  /** Readings learned before it may score (≥ 10). */
  warmup: number;
  /** Confidence in (0, 1) that raises the alarm. Default 0.5. */
  threshold?: number;
  /** Initial vigilance of the scratch network that sets ρ at the end of the warm-up. Default 0.8. */
  rho?: number;
  /**
   * Learning rate of the ART memory on resonance, in (0, 1]: 1 is fast learning (a category's
   * box grows to take in every pattern it resonates with at once), lower keeps boxes tighter.
   * Default 0.3 (chosen by every fold of the nested cross-validation over {0.2, 0.3, 0.5, 1}).
   */
  beta?: number;
  /** Readings the alarm holds after the last anomalous one. Default 200. */
  hold?: number;
  /**
   * Score each event once, as the alarm raises once: within `hold` readings of the last
   * anomaly, a confidence no higher than the event's highest so far scores 0 (at any threshold
   * the alarm it would raise is already up). The alarm itself is unchanged. Default false.
   */
  episode?: boolean;
  /**
   * The published ARTime's description where ours departs: spike rule on 10 % of the mean; the 8
   * points and their Haar coefficients each min–max scaled (no level, spread); the newest point
   * as the energy; the best-matching category decides. Worse on NAB (docs). Default false.
   */
  published?: boolean;
  /** Bench-only ablation (not in the config schema): `published` but for one of its parts. */
  publishedWithout?: 'spike' | 'window' | 'order';
  /**
   * The point's declared range (its engineering range; NAB hands every detector the file's
   * minimum and maximum). Given both, values are scaled by it from the first reading instead
   * of by the range seen so far; a value beyond it still widens the range. Default: learned.
   */
  min?: number;
  max?: number;
  /** Level raised. Default yellow. */
  level?: AlarmLevel;
}

/** Downsampled points in one pattern. */
const WINDOW = 8;
/** Patterns the warm-up should yield. */
const WINDOWS_PER_WARMUP = 13;
/** Quantisation levels of the scaled value. */
const LEVELS = 80;
/** A point this close to the median level (in the [0,1] scale) is snapped to it. */
const CHOMP = 0.075;
/** Points of masking after an anomaly or a vigilance change. */
const MASK = Math.round(1.5 * WINDOW);
/** Categories the ART memory holds (64 or 256 score alike on NAB; 64 keeps a reading ≤ 20 µs). */
const CATEGORIES = 64;
/** Features: 8 wavelet coefficients, 8 points; energies: mean level, spread. */
const NF = 2 * WINDOW;
const NE = 2;

/** In-place orthonormal Haar transform of a power-of-two-long vector (uses `tmp`). */
function haar(v: Float64Array, tmp: Float64Array): void {
  for (let n = v.length; n > 1; n >>= 1) {
    const h = n >> 1;
    for (let k = 0; k < h; k++) {
      tmp[k] = (v[2 * k] + v[2 * k + 1]) * Math.SQRT1_2;
      tmp[h + k] = (v[2 * k] - v[2 * k + 1]) * Math.SQRT1_2;
    }
    for (let k = 0; k < n; k++) v[k] = tmp[k];
  }
}

/** Cosine similarity of two feature vectors (1 when both are zero). */
function cosine(a: Float64Array, b: Float64Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < a.length; k++) {
    ab += a[k] * b[k];
    aa += a[k] * a[k];
    bb += b[k] * b[k];
  }
  if (aa === 0 || bb === 0) return aa === bb ? 1 : 0;
  return ab / Math.sqrt(aa * bb);
}

export class ArtimeDetector implements ScoringDetector {
  readonly kind = 'anomaly' as const;
  readonly points: readonly string[];
  level: AlarmLevel = AlarmLevel.Normal;
  score = 0;
  ready = false;
  private readonly o: Required<Omit<ArtimeOptions, 'level' | 'min' | 'max' | 'published' | 'publishedWithout'>>;
  /** Highest confidence of the current event and readings since its last anomaly (`episode`). */
  private epMax = 0;
  private epAge = Infinity;
  private readonly raise: AlarmLevel;
  private readonly step: number;
  /** Downsampled points in the warm-up (the patterns learned before scoring). */
  private readonly trend: number;
  private readonly art: DualVigilanceArt;
  private readonly pub: boolean;
  /** Parts of `published`: the spike rule on the mean, the window-scaled pattern, best decides. */
  private readonly pubSpike: boolean;
  private readonly pubWindow: boolean;
  private readonly pubOrder: boolean;
  private n = 0;
  private lo = Infinity;
  private hi = -Infinity;
  private bSum = 0;
  private bMin = Infinity;
  private bMax = -Infinity;
  private bN = 0;
  private readonly median = new Float64Array(LEVELS + 1);
  private medianN = 0;
  private readonly ds = new Float64Array(WINDOW);
  private dsi = 0;
  private readonly f: Float64Array;
  private readonly tmp = new Float64Array(WINDOW);
  private warm: Float64Array[] | null = [];
  // Vigilance adaptation and masking, in downsampled points.
  private lastAnomaly = -1e9;
  private lastAnomalySim = 1;
  private lastRhoUpdate = 0;
  private maskAfterCat = true;
  private noNovel = 0;
  private simSum = 0;
  private simN = 0;
  private anomSimSum = 0;
  private anomSimN = 0;
  private readonly sims: Float64Array;
  private readonly diffs: Float64Array;
  private held = 0;

  constructor(
    readonly id: string,
    readonly device: string,
    point: string,
    opts: ArtimeOptions,
  ) {
    this.points = [point];
    this.o = { warmup: opts.warmup, threshold: opts.threshold ?? 0.5, rho: opts.rho ?? 0.8, beta: opts.beta ?? 0.3, hold: opts.hold ?? 200, episode: opts.episode ?? false };
    this.pub = opts.published ?? false;
    this.pubSpike = this.pub && opts.publishedWithout !== 'spike';
    this.pubWindow = this.pub && opts.publishedWithout !== 'window';
    this.pubOrder = this.pub && opts.publishedWithout !== 'order';
    this.art = this.network(CATEGORIES);
    this.art.beta = this.o.beta;
    this.f = new Float64Array(this.pub ? NF : NF + NE);
    if (opts.min !== undefined && opts.max !== undefined) {
      if (!(opts.min < opts.max)) throw new Error(`artime ${id}: min (${opts.min}) must be below max (${opts.max})`);
      this.lo = opts.min;
      this.hi = opts.max;
    }
    this.raise = opts.level ?? AlarmLevel.Yellow;
    this.step = Math.max(1, Math.floor(opts.warmup / (WINDOW * WINDOWS_PER_WARMUP)));
    this.trend = Math.max(WINDOW + 2, Math.floor(opts.warmup / this.step));
    this.sims = new Float64Array((this.trend >> 1) + 1).fill(1);
    this.diffs = new Float64Array(this.trend + 1);
  }

  update(r: Reading): DetectorEvent | null {
    if (isUnusable(r)) return null;
    const x = r.value;
    this.n++;
    if (x < this.lo) this.lo = x;
    if (x > this.hi) this.hi = x;
    this.bSum += x;
    this.bN++;
    if (x < this.bMin) this.bMin = x;
    if (x > this.bMax) this.bMax = x;
    let s = 0;
    if (this.bN >= this.step) {
      s = this.block();
      this.bSum = 0;
      this.bN = 0;
      this.bMin = Infinity;
      this.bMax = -Infinity;
    }
    this.score = this.o.episode ? this.once(s) : s;
    return this.decide(r, s);
  }

  /** One downsampled point; returns its anomaly confidence (0 when none). */
  private block(): number {
    const range = this.hi - this.lo;
    const mean = this.bSum / this.bN;
    const rep0 = this.bMax - mean >= mean - this.bMin ? this.bMax : this.bMin;
    const rep = Math.abs(rep0 - mean) > 0.1 * (this.pubSpike ? Math.abs(mean) : range) ? rep0 : mean;
    let v = range > 0 ? (rep - this.lo) / range : 0.5;
    let lvl = Math.round(v * LEVELS);
    lvl = lvl < 0 ? 0 : lvl > LEVELS ? LEVELS : lvl;
    v = lvl / LEVELS;
    this.median[lvl]++;
    this.medianN++;
    let acc = 0;
    let med = 0;
    while (med < LEVELS && (acc += this.median[med]) < this.medianN / 2) med++;
    if (Math.abs(v - med / LEVELS) < CHOMP) v = med / LEVELS;
    this.ds[this.dsi % WINDOW] = v;
    const i = ++this.dsi;
    if (i < WINDOW) return 0;
    this.features(i);
    if (this.warm) {
      this.warm.push(this.f.slice());
      if (i >= this.trend) this.learnWarmup();
      return 0;
    }
    return this.detect(i);
  }

  /** An ART memory of this detector's pattern layout. */
  private network(capacity: number): DualVigilanceArt {
    const art = new DualVigilanceArt(NF, this.pub ? 0 : NE, capacity);
    art.energyLast = this.pub;
    art.bestDecides = this.pubOrder;
    return art;
  }

  /** Fills `this.f` with the pattern of the last WINDOW points. */
  private features(i: number): void {
    if (this.pubWindow) return this.publishedFeatures(i);
    const f = this.f;
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    for (let k = 0; k < WINDOW; k++) {
      const v = this.ds[(i + k) % WINDOW];
      f[WINDOW + k] = v;
      sum += v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    // The points stay on the stream's own scale (a level shift changes the pattern);
    // the Haar coefficients of 8 values in [0,1] are mapped back into [0,1]: the
    // average a ∈ [0, 2√2], the details d ∈ [−1, 1] (orthonormal transform).
    for (let k = 0; k < WINDOW; k++) f[k] = f[WINDOW + k];
    haar(f.subarray(0, WINDOW), this.tmp);
    f[0] /= 2 * Math.SQRT2;
    for (let k = 1; k < WINDOW; k++) f[k] = 0.5 + f[k] / 2;
    if (this.pub) return; // the energy is the newest point: no level and spread components
    f[NF] = sum / WINDOW;
    f[NF + 1] = hi - lo;
  }

  /** The published pattern: [Haar coefficients; points], each part min–max scaled (flat: zeros). */
  private publishedFeatures(i: number): void {
    const f = this.f;
    for (let k = 0; k < WINDOW; k++) f[WINDOW + k] = this.ds[(i + k) % WINDOW];
    const scale = (from: number): void => {
      let lo = Infinity;
      let hi = -Infinity;
      for (let k = from; k < from + WINDOW; k++) {
        if (f[k] < lo) lo = f[k];
        if (f[k] > hi) hi = f[k];
      }
      for (let k = from; k < from + WINDOW; k++) f[k] = hi > lo ? (f[k] - lo) / (hi - lo) : 0;
    };
    scale(WINDOW);
    for (let k = 0; k < WINDOW; k++) f[k] = f[WINDOW + k];
    haar(f.subarray(0, WINDOW), this.tmp);
    scale(0);
  }

  /** End of the warm-up: sets ρ from the warm-up's patterns and learns them. */
  private learnWarmup(): void {
    const warm = this.warm!;
    this.warm = null;
    // Least typical first: a scratch network then founds its clusters on the outliers.
    const total = warm.map((a) => warm.reduce((t, b) => t + cosine(a, b), 0));
    const order = warm.map((_, k) => k).sort((a, b) => total[a] - total[b]);
    const scratch = this.network(256);
    scratch.rhoLb = scratch.rhoUb = this.o.rho;
    scratch.beta = this.o.beta;
    let m = 0;
    let mN = 0;
    order.forEach((k, j) => {
      scratch.train(warm[k]);
      if (j >= order.length >> 1) {
        m += scratch.match;
        mN++;
      }
    });
    const rho = mN > 0 ? Math.min(0.97, m / mN) : this.o.rho;
    this.art.rhoLb = this.art.rhoUb = rho;
    for (const f of warm) {
      this.art.train(f);
      this.simSum += this.art.match;
      this.simN++;
    }
    this.lastRhoUpdate = this.dsi;
    this.ready = true;
  }

  private detect(i: number): number {
    const art = this.art;
    const afterAnomaly = i - this.lastAnomaly;
    const maskAfterAnomaly = afterAnomaly <= MASK;
    if (this.maskAfterCat && this.noNovel >= MASK) this.maskAfterCat = false;
    const out = art.train(this.f);
    const sim = art.match;
    this.noNovel = out === ArtOutcome.Novel ? 0 : this.noNovel + 1;
    this.simSum += sim;
    this.simN++;
    this.sims[i % this.sims.length] = sim;
    this.diffs[i % this.diffs.length] = art.rhoUb - sim;
    if (maskAfterAnomaly && sim < this.lastAnomalySim) this.lastAnomalySim = sim;
    let conf = 0;
    const masked = this.maskAfterCat || maskAfterAnomaly;
    if (out === ArtOutcome.Novel && (!masked || sim < this.lastAnomalySim * (maskAfterAnomaly ? 0.9 : 0.7))) {
      const m = Math.min(sim, 0.999);
      const ub = (art.rhoUb - m) / (1 - m);
      const lb = (art.rhoLb - m) / (1 - m);
      conf = Math.max(0, Math.min(1, 0.35 * ub + 0.65 * lb + 1.5 * (1 - art.energy)));
      this.anomSimSum += sim;
      this.anomSimN++;
      this.lastAnomaly = i;
      this.lastAnomalySim = sim;
    }
    if (afterAnomaly === MASK || i - this.lastRhoUpdate >= this.trend >> 1) this.adapt(i);
    return conf;
  }

  /** Moves the vigilances towards the matches the stream has been making. */
  private adapt(i: number): void {
    const art = this.art;
    const ub = Math.min(0.97, this.simSum / this.simN);
    let minSim = Infinity;
    for (const v of this.sims) if (v < minSim) minSim = v;
    let lb = art.rhoLb;
    if (lb <= minSim) lb += 0.19 * (minSim - lb);
    else {
      let t = 0;
      let c = 0;
      for (const d of this.diffs) {
        if (d > 0.05) {
          t += Math.min(d, 0.37);
          c++;
        }
      }
      lb -= Math.max(0.01, c > 0 ? t / c : 0.01);
      if (this.anomSimN > 0) lb = Math.max(lb, this.anomSimSum / this.anomSimN);
    }
    art.rhoUb = ub;
    art.rhoLb = Math.min(lb, ub);
    this.lastRhoUpdate = i;
    this.maskAfterCat = true;
  }

  /** The confidence if it would raise an alarm not already up at some threshold, else 0. */
  private once(s: number): number {
    if (++this.epAge > this.o.hold) this.epMax = 0;
    if (s <= 0) return 0;
    this.epAge = 0;
    if (s <= this.epMax) return 0;
    this.epMax = s;
    return s;
  }

  private decide(r: Reading, s: number): DetectorEvent | null {
    if (s >= this.o.threshold) {
      this.held = this.o.hold;
      if (this.level !== AlarmLevel.Normal) return null;
      this.level = this.raise;
      return this.event(r, AlarmLevel.Normal, `${this.points[0]} ${r.value}: a pattern unlike every one learned (ARTime confidence ${s.toFixed(2)} ≥ ${this.o.threshold}): ${describeLevel(this.raise)}`);
    }
    if (this.level === AlarmLevel.Normal || --this.held > 0) return null;
    this.level = AlarmLevel.Normal;
    return this.event(r, this.raise, `${this.points[0]} back to learned patterns for ${this.o.hold} readings`);
  }

  private event(r: Reading, previous: AlarmLevel, cause: string): DetectorEvent {
    return { detector: this.id, kind: this.kind, device: this.device, point: this.points[0], ts: r.ts, level: this.level, previous, value: r.value, cause, score: this.score };
  }
}
