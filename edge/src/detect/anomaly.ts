/**
 * Streaming anomaly detector for one point: one pass, bounded memory, learns its
 * baseline online.
 *
 *     x ─▶ running min/max ─▶ last `window` values, scaled to [0,1] (the "shape" now)
 *       ─▶ raw = mean distance to its `neighbours` nearest shapes among the last
 *          `memory` shapes seen (k-NN novelty: has this stream looked like this before?)
 *       ─▶ surprise: short-term mean of raw against raw's own long-term mean and spread
 *          (after Numenta's "anomaly likelihood": what matters is a novelty unusual
 *          *for this stream*, not its absolute size)
 *       ─▶ score = −log10(tail probability) / 5, in [0, 1]
 *       ─▶ or 1 when x lies beyond the range seen so far by more than `extreme` of it and
 *          by more than `extremeStep` of the stream's typical step (EW mean |Δx|)
 *     x ─▶ distribution change (after the Relative Entropy detector, Wang et al. 2011):
 *          histogram of the last `entropy` readings over `bins` bins of the warm-up's range;
 *          a histogram unlike every remembered one (χ² test of 2·W·KL, 99 %) becomes a new
 *          remembered one, and scores −log10(rate of such new histograms so far) / 5 —
 *          news only in a stream where new histograms are rare
 *     x ─▶ seasonal (a value normal at noon is anomalous at midnight): an online period
 *          detector (autocorrelation of 4-reading block means, periods up to 1024 readings);
 *          once a period is found, the mean of the last 4 readings against the nearest such
 *          mean 1–3 periods back, as a novelty scored like the k-NN one
 *     x ─▶ level (a stream running higher than it usually does, in no new shape or value):
 *          mean of the last `drift` readings against the long-term (EW, `driftLong`) mean
 *          and spread of such means, that spread starting from `driftPrior` pseudo-means as
 *          spread out as single readings → z, scored like the k-NN surprise
 *       ─▶ score = the largest of the four
 *       ─▶ score ≥ threshold: raise, and keep the episode (score reported as 0 and the
 *          alarm held) for `suppress` readings — one alarm per event, not one per reading;
 *          a value beyond the range by more than the range itself starts a new episode;
 *          and while the level part still scores ≥ `hold`·threshold the episode does not
 *          end (a standing shift is one event: no "back to usual" while it stands)
 *
 * Memory: memory·window + entropy + 64·bins + 3,300 (seasonal part) + drift + a few dozen numbers,
 * all preallocated; a reading allocates nothing unless it changes the level. Cost:
 * O(memory·window + entropy + 64·bins) per reading, plus every 128 readings a period search
 * of 512·256 multiply-adds. No clock.
 */
import { AlarmLevel, type Reading } from '@lifeline/shared';
import { anomalyDefaultBins } from '@lifeline/shared/config';
import { describeLevel } from './levels.js';
import { isUnusable, type DetectorEvent, type ScoringDetector } from './types.js';

/** Options of one per-point anomaly detector. */
export interface AnomalyOptions {
  /** Readings learned before it may score (≥ 10). */
  warmup: number;
  /** Score in (0, 1) that raises the alarm and starts an episode. Default 0.5. */
  threshold?: number;
  /** Readings in one shape (≥ 2). Default 10. */
  window?: number;
  /** Past shapes remembered (≥ neighbours). Default 400. */
  memory?: number;
  /** Nearest shapes averaged. Default 1. */
  neighbours?: number;
  /** Readings in the short-term mean of the novelty. Default 30. */
  short?: number;
  /** Readings of the long-term statistics of the novelty (EW). Default 500. */
  long?: number;
  /** Readings an episode lasts: the alarm holds and no new detection is reported. Default 200. */
  suppress?: number;
  /**
   * A value beyond the range seen so far by more than this fraction of the range scores 1
   * (a new extreme is news whatever its shape); false turns it off. Default 0.001.
   */
  extreme?: number | false;
  /**
   * ... and by more than this many of the stream's typical steps (EW mean of |Δx| over
   * `long` readings): a noisy or drifting stream sets new highs by a hair all the time,
   * and a record by a fraction of one step is noise, not news. 0 turns it off. Default 0.1.
   */
  extremeStep?: number;
  /** Readings in the histogram of the distribution-change score; 0 turns it off. Default 24. */
  entropy?: number;
  /** Bins of that histogram (≥ 2). Default 4. */
  bins?: number;
  /**
   * Autocorrelation a period must reach for the seasonal score (a value unusual for this
   * point of the stream's cycle); 0 turns that part off. Default 0.5.
   */
  season?: number;
  /**
   * Readings in the mean of the level score (the mean of the last `drift` readings against
   * the long-term mean and spread of such means: a level unusual for this stream); 0 turns
   * it off. Default 150.
   */
  drift?: number;
  /** Readings of the long-term (EW) statistics of the level score's means. Default 5000. */
  driftLong?: number;
  /**
   * Pseudo-means, as spread out as single readings, that the level score's spread starts
   * from (the real means outweigh them as they come): a young stream needs a larger shift.
   * Default 50.
   */
  driftPrior?: number;
  /**
   * An episode does not end while the level score is still at least this fraction of the
   * threshold (whatever part raised it): a level that stays shifted is one event, not one
   * alarm every `suppress` readings with a "back to usual" between them. 0 turns it off.
   * Default 0.5.
   */
  hold?: number;
  /** Level raised. Default yellow. */
  level?: AlarmLevel;
}

/** The defaults, exported for docs and benches. */
export const anomalyDefaults = {
  threshold: 0.5,
  window: 10,
  memory: 400,
  neighbours: 1,
  short: 30,
  long: 500,
  suppress: 200,
  extreme: 0.001 as number | false,
  extremeStep: 0.1,
  entropy: 24,
  bins: anomalyDefaultBins,
  season: 0.5,
  drift: 150,
  driftLong: 5000,
  driftPrior: 50,
  hold: 0.5,
};

/** Histograms remembered by the distribution-change score. */
const HISTOGRAMS = 64;
/** Smallest probability a remembered histogram gives a bin (keeps KL finite). */
const FLOOR = 1e-3;

/**
 * Distribution change of one stream: histogram of the last W readings against the
 * remembered ones. Bin edges are the range seen when the warm-up ends (before it: the
 * range so far); readings outside fall in the end bins.
 */
class HistogramNovelty {
  /** Latest score in [0, 1]. */
  score = 0;
  private readonly ring: Float64Array;
  private n = 0;
  private readonly p: Float64Array;
  /** log p of the current histogram (0 where p = 0). */
  private readonly lp: Float64Array;
  /** Remembered histograms as log max(q, FLOOR): one log per bin per reading, not per comparison. */
  private readonly logq: Float64Array;
  private readonly seen: Float64Array;
  private count = 0;
  private lo = 0;
  private hi = 0;
  private frozen = false;
  /** χ² 99 % point for bins − 1 degrees of freedom (Wilson–Hilferty). */
  private readonly chi2: number;
  /** EW rate of new histograms per reading, and readings counted. */
  private rate = 0;
  private rated = 0;

  constructor(
    private readonly W: number,
    private readonly B: number,
    private readonly long: number,
  ) {
    this.ring = new Float64Array(W);
    this.p = new Float64Array(B);
    this.lp = new Float64Array(B);
    this.logq = new Float64Array(HISTOGRAMS * B);
    this.seen = new Float64Array(HISTOGRAMS);
    const k = B - 1;
    this.chi2 = k * (1 - 2 / (9 * k) + 2.326 * Math.sqrt(2 / (9 * k))) ** 3;
  }

  /** Fixes the bin edges (at the end of the warm-up). */
  freeze(lo: number, hi: number): void {
    this.frozen = true;
    this.lo = lo;
    this.hi = hi;
  }

  push(x: number, lo: number, hi: number): void {
    const W = this.W;
    const B = this.B;
    this.ring[this.n++ % W] = x;
    this.score = 0;
    if (this.n < W) return;
    const a = this.frozen ? this.lo : lo;
    const span = (this.frozen ? this.hi : hi) - a || 1;
    const p = this.p.fill(0);
    for (let j = 0; j < W; j++) {
      const k = Math.floor(((this.ring[j] - a) / span) * B);
      p[k < 0 ? 0 : k >= B ? B - 1 : k] += 1 / W;
    }
    const lp = this.lp;
    for (let k = 0; k < B; k++) lp[k] = p[k] > 0 ? Math.log(p[k]) : 0;
    let best = Infinity;
    let at = -1;
    const logq = this.logq;
    for (let h = 0; h < this.count; h++) {
      // KL(p ‖ q) = Σ p·(log p − log q) over the bins where p > 0.
      let d = 0;
      for (let k = 0, o = h * B; k < B; k++, o++) if (p[k] > 0) d += p[k] * (lp[k] - logq[o]);
      if (d < best) {
        best = d;
        at = h;
      }
    }
    const isNew = at < 0 || 2 * W * best >= this.chi2;
    const before = this.rate;
    this.rate += Math.max(1 / this.long, 1 / ++this.rated) * ((isNew ? 1 : 0) - this.rate);
    if (!isNew) {
      this.seen[at]++;
      return;
    }
    // Remember it, in place of the least seen one when full.
    let h = this.count;
    if (h < HISTOGRAMS) this.count++;
    else {
      h = 0;
      for (let q = 1; q < HISTOGRAMS; q++) if (this.seen[q] < this.seen[h]) h = q;
    }
    for (let k = 0; k < B; k++) logq[h * B + k] = Math.log(Math.max(p[k], FLOOR));
    this.seen[h] = 1;
    // A new histogram is as surprising as new histograms have been rare.
    this.score = Math.min(1, -Math.log10(Math.max(before, 1e-300)) / 5);
  }
}


/** Readings per block of the period detector's buffer. */
const BLOCK = 4;
/** Blocks in that buffer: periods up to BLOCKS / 2 blocks (1024 readings) can be found. */
const BLOCKS = 512;
/** Readings between two searches for the period. */
const EVERY = 128;
/** Readings in each mean the seasonal residual compares. */
const SPAN = 4;
/** Periods back the seasonal residual looks (the nearest counts: one odd day is not the context). */
const CYCLES = 3;

/**
 * Contextual novelty of one stream: an online period detector (autocorrelation of block
 * means) and, once a period P is found, the distance from the mean of the last SPAN
 * readings to the nearest mean of SPAN readings one period earlier (± a block), in units
 * of the range: "is this value usual for this time of the cycle?"
 */
class SeasonalNovelty {
  /** Latest residual (0 while no period is known). */
  raw = 0;
  period = 0;
  private readonly blocks = new Float64Array(BLOCKS);
  private nb = 0;
  private acc = 0;
  private readonly ring = new Float64Array(BLOCKS * BLOCK);
  private n = 0;
  private readonly acf = new Float64Array(BLOCKS / 2 + 1);
  private readonly flat = new Float64Array(BLOCKS);
  private readonly last = new Float64Array(SPAN);
  constructor(private readonly rho: number) {}

  push(x: number, range: number): void {
    const R = this.ring.length;
    const i = this.n++;
    // The ring holds the mean of the last SPAN readings at each reading.
    this.last[i % SPAN] = x;
    let sum = 0;
    for (let j = 0; j < SPAN; j++) sum += this.last[j];
    this.ring[i % R] = sum / SPAN;
    this.acc += x;
    if ((i + 1) % BLOCK === 0) {
      this.blocks[this.nb++ % BLOCKS] = this.acc / BLOCK;
      this.acc = 0;
    }
    if ((i + 1) % EVERY === 0) this.findPeriod();
    this.raw = 0;
    const P = this.period;
    if (P === 0 || i < P + SPAN + BLOCK) return;
    const now = this.ring[i % R];
    // Nearest of the periods back (up to CYCLES, as the buffer holds), each ± a block.
    let best = Infinity;
    for (let c = 1; c <= CYCLES && c * P + BLOCK + SPAN <= Math.min(i, R - 1); c++)
      for (let d = -BLOCK; d <= BLOCK; d++) {
        const q = Math.abs(now - this.ring[(i - c * P + d) % R]);
        if (q < best) best = q;
      }
    this.raw = best === Infinity ? 0 : best / range;
  }

  private findPeriod(): void {
    const m = Math.min(this.nb, BLOCKS);
    const maxLag = m >> 1;
    if (maxLag < 4) return;
    // The blocks oldest first, centred, in one flat array: the lag loop below is the cost.
    const y = this.flat;
    const start = this.nb - m;
    let mu = 0;
    for (let t = 0; t < m; t++) mu += (y[t] = this.blocks[(start + t) % BLOCKS]);
    mu /= m;
    let v = 0;
    for (let t = 0; t < m; t++) {
      y[t] -= mu;
      v += y[t] * y[t];
    }
    v /= m;
    if (v <= 0) {
      this.period = 0;
      return;
    }
    // Past the first dip below 0 (a smooth signal correlates with itself at short lags),
    // the highest autocorrelation is the period, if it is high enough.
    let dipped = 0;
    let best = -1;
    for (let L = 1; L <= maxLag; L++) {
      let c = 0;
      for (let t = 0, e = m - L; t < e; t++) c += y[t] * y[t + L];
      c /= (m - L) * v;
      this.acf[L] = c;
      if (!dipped) dipped = c < 0 ? L : 0;
      else if (c > best) best = c;
    }
    // The first peak nearly as high as the highest: the period, not a multiple of it.
    let at = 0;
    if (dipped && best >= this.rho)
      for (let L = dipped + 1; L < maxLag; L++) {
        const c = this.acf[L];
        if (c >= 0.9 * best && c >= this.acf[L - 1] && c >= this.acf[L + 1]) {
          at = L;
          break;
        }
      }
    this.period = at * BLOCK;
  }
}

/** Exponentially weighted mean and variance over about `long` values (a plain average until then). */
class EwStats {
  mean = 0;
  variance = 0;
  /** Values pushed. */
  n = 0;
  constructor(private readonly long: number) {}
  push(x: number): void {
    const b = Math.max(1 / this.long, 1 / ++this.n);
    const d = x - this.mean;
    this.mean += b * d;
    this.variance = (1 - b) * (this.variance + b * d * d);
  }
}

/**
 * Level of one stream: the mean of its last S readings against the long-term (EW) mean
 * and spread of such means, as a z ("is the stream running higher than it usually does?").
 * Until many means have been seen their spread is not known: it is taken as
 * √(var of the means + var of the readings · prior / means seen), i.e. `prior` pseudo-means
 * as spread out as single readings (the most a mean can vary), which the real means
 * outweigh as they come. Scale-free: shifting or scaling the stream leaves z as it is.
 * The running sum is recomputed exactly once per S readings, so rounding cannot build up.
 */
class LevelShift {
  private readonly ring: Float64Array;
  private sum = 0;
  private head = 0;
  /** The readings, and the means of S readings. */
  private readonly readings: EwStats;
  private readonly means: EwStats;
  constructor(
    S: number,
    long: number,
    private readonly prior: number,
  ) {
    this.ring = new Float64Array(S);
    this.readings = new EwStats(long);
    this.means = new EwStats(long);
  }
  /** The z of the mean of the last S readings (0 until two such means are in). */
  push(x: number): number {
    const S = this.ring.length;
    this.readings.push(x);
    this.sum += x - this.ring[this.head];
    this.ring[this.head] = x;
    this.head = (this.head + 1) % S;
    if (this.head === 0) {
      let t = 0;
      for (let j = 0; j < S; j++) t += this.ring[j];
      this.sum = t;
    }
    // Means of S readings only: the first S − 1 readings make none.
    if (this.readings.n < S) return 0;
    const m = this.sum / S;
    const { means } = this;
    const n = means.n + 1;
    const z = (m - means.mean) / (Math.sqrt(means.variance + (this.readings.variance * this.prior) / n) + 1e-9);
    means.push(m);
    return n > 1 ? z : 0;
  }
}

/** Short-term mean of a novelty against its own long-term (EW) mean and spread, as a z. */
class Surprise {
  private readonly ring: Float64Array;
  private sum = 0;
  private head = 0;
  private readonly stats: EwStats;
  constructor(short: number, long: number) {
    this.ring = new Float64Array(short);
    this.stats = new EwStats(long);
  }
  /** Novelties seen. */
  get n(): number {
    return this.stats.n;
  }
  push(raw: number): number {
    const S = this.ring.length;
    this.sum += raw - this.ring[this.head];
    this.ring[this.head] = raw;
    this.head = (this.head + 1) % S;
    const z = (this.sum / S - this.stats.mean) / (Math.sqrt(this.stats.variance) + 1e-9);
    this.stats.push(raw);
    return z;
  }
}

/** Per-point streaming anomaly detector. */
export class AnomalyDetector implements ScoringDetector {
  readonly kind = 'anomaly' as const;
  readonly points: readonly string[];
  level: AlarmLevel = AlarmLevel.Normal;
  score = 0;
  ready = false;
  /** Latest k-NN novelty (distance in units of the stream's range). */
  raw = 0;
  /** The latest reading lay beyond the range seen before it. */
  beyond = false;
  /** The latest score came from the distribution-change part. */
  changed = false;
  /** The latest reading lay beyond the range by more than the range itself. */
  leap = false;
  /** The latest score came from the seasonal part. */
  offCycle = false;
  /** The latest score came from the level part. */
  shifted = false;

  private readonly o: typeof anomalyDefaults & { warmup: number };
  private readonly raise: AlarmLevel;
  private n = 0;
  private lo = Infinity;
  private hi = -Infinity;
  /** EW mean |Δx| (the stream's typical step) and the previous reading. */
  private step = 0;
  private prev = NaN;
  /** Last `window` raw values (ring). */
  private readonly recent: Float64Array;
  /** The current shape, scaled. */
  private readonly shape: Float64Array;
  /** Remembered shapes, `memory` × `window`, as raw values (scaled at comparison time). */
  private readonly mem: Float64Array;
  private memN = 0;
  private memHead = 0;
  private readonly best: Float64Array;
  /** Surprise of the k-NN novelty. */
  private readonly surprise: Surprise;
  /** Readings left in the current episode, and readings it has lasted. */
  private episode = 0;
  private lasted = 0;
  /** The latest level score. */
  private ds = 0;
  private readonly hist: HistogramNovelty | null;
  private readonly season: SeasonalNovelty | null;
  private readonly seasonZ: Surprise | null;
  private readonly drift: LevelShift | null;

  constructor(
    readonly id: string,
    readonly device: string,
    point: string,
    opts: AnomalyOptions,
  ) {
    this.points = [point];
    const o = { ...anomalyDefaults, warmup: opts.warmup } as typeof anomalyDefaults & { warmup: number };
    for (const [k, v] of Object.entries(opts)) if (v !== undefined && k !== 'level') (o as Record<string, unknown>)[k] = v;
    this.o = o;
    this.raise = opts.level ?? AlarmLevel.Yellow;
    this.recent = new Float64Array(o.window);
    this.shape = new Float64Array(o.window);
    this.mem = new Float64Array(o.memory * o.window);
    this.best = new Float64Array(o.neighbours);
    this.surprise = new Surprise(o.short, o.long);
    this.hist = o.entropy > 0 ? new HistogramNovelty(o.entropy, o.bins, o.long) : null;
    this.season = o.season > 0 ? new SeasonalNovelty(o.season) : null;
    this.seasonZ = o.season > 0 ? new Surprise(o.short, o.long) : null;
    this.drift = o.drift > 0 ? new LevelShift(o.drift, o.driftLong, o.driftPrior) : null;
  }

  update(r: Reading): DetectorEvent | null {
    if (isUnusable(r)) return null;
    const o = this.o;
    const L = o.window;
    const x = r.value;
    const i = this.n++;
    const ext = o.extreme;
    const margin = ext === false ? 0 : Math.max(ext * (this.hi - this.lo), o.extremeStep * this.step);
    const beyond = (this.beyond = ext !== false && i >= L && (x - this.hi > margin || this.lo - x > margin));
    if (i > 0) this.step += Math.max(1 / o.long, 1 / i) * (Math.abs(x - this.prev) - this.step);
    this.prev = x;
    // Beyond by more than the whole range so far: a bigger event than any episode under way.
    this.leap = beyond && (x - this.hi > this.hi - this.lo || this.lo - x > this.hi - this.lo);
    if (x < this.lo) this.lo = x;
    if (x > this.hi) this.hi = x;
    let hs = 0;
    if (this.hist) {
      if (i === o.warmup) this.hist.freeze(this.lo, this.hi);
      this.hist.push(x, this.lo, this.hi);
      hs = this.hist.score;
    }
    let zs = 0;
    let seasonal = false;
    if (this.season) {
      this.season.push(x, this.hi - this.lo || 1);
      if (this.season.period > 0) {
        zs = this.seasonZ!.push(this.season.raw);
        seasonal = this.seasonZ!.n > o.short;
      }
    }
    const zd = this.drift ? this.drift.push(x) : 0;
    this.recent[i % L] = x;
    if (i + 1 < L) return null;
    // The current shape, oldest first. Distances are taken in raw units and scaled by the
    // range seen so far at the end: (a−lo)/range − (b−lo)/range = (a−b)/range, so the
    // memory can stay unscaled while the range grows.
    const range = this.hi - this.lo || 1;
    for (let j = 0; j < L; j++) this.shape[j] = this.recent[(i + 1 + j) % L];
    let raw = 0;
    const K = o.neighbours;
    if (this.memN >= K) {
      const best = this.best.fill(Infinity);
      const mem = this.mem;
      const shape = this.shape;
      for (let m = 0; m < this.memN; m++) {
        const off = m * L;
        const worst = best[K - 1];
        let d = 0;
        for (let j = 0; j < L && d < worst; j++) {
          const q = shape[j] - mem[off + j];
          d += q * q;
        }
        if (d < worst) {
          let p = K - 1;
          while (p > 0 && best[p - 1] > d) {
            best[p] = best[p - 1];
            p--;
          }
          best[p] = d;
        }
      }
      for (let k = 0; k < K; k++) raw += Math.sqrt(best[k]);
      raw /= K * range;
    }
    // Remember this shape (unscaled).
    const off = this.memHead * L;
    this.mem.set(this.shape, off);
    this.memHead = (this.memHead + 1) % o.memory;
    if (this.memN < o.memory) this.memN++;
    this.raw = raw;
    // Surprise of the short-term novelty against its own long-term statistics.
    const z = this.surprise.push(raw);
    if (i < o.warmup) {
      this.score = 0;
      return null;
    }
    this.ready = true;
    const s = beyond ? 1 : z <= 0 ? 0 : Math.min(1, -Math.log10(Math.max(tail(z), 1e-300)) / 5);
    const ss = seasonal && zs > 0 ? Math.min(1, -Math.log10(Math.max(tail(zs), 1e-300)) / 5) : 0;
    const ds = zd > 0 ? Math.min(1, -Math.log10(Math.max(tail(zd), 1e-300)) / 5) : 0;
    // The cause named is the part with the largest score.
    this.changed = !beyond && hs > s && hs >= ds;
    this.offCycle = !beyond && ss > s && ss > hs && ss >= ds;
    this.shifted = !beyond && ds > s && ds > hs && ds > ss;
    this.ds = ds;
    return this.decide(r, Math.max(s, hs, ss, ds));
  }

  /** Period found by the seasonal part, in readings (0: none, or the part is off). */
  get period(): number {
    return this.season?.period ?? 0;
  }

  private decide(r: Reading, s: number): DetectorEvent | null {
    // An episode holds back one event's echoes, not a far bigger event: that one is scored.
    if (this.episode > 0 && this.leap) this.episode = 0;
    if (this.episode > 0) {
      // Inside an episode: one alarm per event, not one per reading; a level still
      // shifted keeps it going.
      this.score = 0;
      this.lasted++;
      if (this.o.hold > 0 && this.ds >= this.o.hold * this.o.threshold) this.episode = Math.max(this.episode, 2);
      if (--this.episode > 0 || this.level === AlarmLevel.Normal) return null;
      this.level = AlarmLevel.Normal;
      return this.event(r, this.raise, `${this.points[0]} back to usual after ${this.lasted} readings`);
    }
    this.score = s;
    if (s < this.o.threshold) return null;
    this.episode = this.o.suppress;
    this.lasted = 0;
    if (this.level !== AlarmLevel.Normal) return null;
    this.level = this.raise;
    const why = this.beyond
      ? 'beyond its range so far'
      : this.changed
        ? 'its recent spread of values unlike any seen before'
        : this.offCycle
          ? `unlike the same point of its ${this.period}-reading cycle`
          : this.shifted
            ? `its mean over the last ${this.o.drift} readings higher than usual`
            : 'unlike anything in its recent history';
    return this.event(r, AlarmLevel.Normal, `${this.points[0]} ${r.value} ${why} (anomaly score ${s.toFixed(2)} ≥ ${this.o.threshold}): ${describeLevel(this.raise)}`);
  }

  private event(r: Reading, previous: AlarmLevel, cause: string): DetectorEvent {
    return { detector: this.id, kind: this.kind, device: this.device, point: this.points[0], ts: r.ts, level: this.level, previous, value: r.value, cause, score: this.score };
  }
}

/** Upper tail of the standard normal, Q(z) = P(Z > z) (Abramowitz–Stegun 7.1.26). */
export function tail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return x >= 0 ? y / 2 : 1 - y / 2;
}
