/**
 * ARTime: a streaming anomaly detector whose memory is an adaptive-resonance-theory
 * category network (after Mark Hampton's ARTime, NAB 74.9 on the whole corpus; written
 * from the method's published description, not its code). Novelty is "this pattern
 * forms a new cluster", and the vigilance that decides it adapts to the stream.
 *
 *     x ─▶ patterns (artime-pattern.ts): blocks of `step` readings (step = warmup / (window·13):
 *          the warm-up yields ~13 windows of downsampled points), each a point scaled to [0,1],
 *          quantised and snapped to the median; the last 8 points, their Haar coefficients and
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
import type { ArtimeOptions } from './artime-options.js';
import { NE, NF, PatternEncoder, WINDOW } from './artime-pattern.js';
import { describeLevel } from './levels.js';
import { isUnusable, type DetectorEvent, type ScoringDetector } from './types.js';

export type { ArtimeOptions } from './artime-options.js';


/** Patterns the warm-up should yield. */
const WINDOWS_PER_WARMUP = 13;
/** Points of masking after an anomaly or a vigilance change. */
const MASK = Math.round(1.5 * WINDOW);
/** Categories the ART memory holds (64 or 256 score alike on NAB; 64 keeps a reading ≤ 20 µs). */
const CATEGORIES = 64;
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
  /** Part of `published`: the best-matching category decides. */
  private readonly pubOrder: boolean;
  private readonly encoder: PatternEncoder;
  /** The encoder's latest pattern. */
  private readonly f: Float64Array;
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
    this.pubOrder = this.pub && opts.publishedWithout !== 'order';
    this.art = this.network(CATEGORIES);
    this.art.beta = this.o.beta;
    let range: { min: number; max: number } | undefined;
    if (opts.min !== undefined && opts.max !== undefined) {
      if (!(opts.min < opts.max)) throw new Error(`artime ${id}: min (${opts.min}) must be below max (${opts.max})`);
      range = { min: opts.min, max: opts.max };
    }
    this.raise = opts.level ?? AlarmLevel.Yellow;
    this.step = Math.max(1, Math.floor(opts.warmup / (WINDOW * WINDOWS_PER_WARMUP)));
    const style = { spikeOnMean: this.pub && opts.publishedWithout !== 'spike', windowScaled: this.pub && opts.publishedWithout !== 'window', noEnergy: this.pub };
    this.encoder = new PatternEncoder(this.step, style, range);
    this.f = this.encoder.pattern;
    this.trend = Math.max(WINDOW + 2, Math.floor(opts.warmup / this.step));
    this.sims = new Float64Array((this.trend >> 1) + 1).fill(1);
    this.diffs = new Float64Array(this.trend + 1);
  }

  update(r: Reading): DetectorEvent | null {
    if (isUnusable(r)) return null;
    const s = this.encoder.add(r.value) ? this.pattern(this.encoder.points) : 0;
    this.score = this.o.episode ? this.once(s) : s;
    return this.decide(r, s);
  }

  /** The `i`-th downsampled point's pattern is in: learn it (warm-up) or judge it; its anomaly confidence (0: none). */
  private pattern(i: number): number {
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
    this.lastRhoUpdate = this.encoder.points;
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
