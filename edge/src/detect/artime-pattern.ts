/**
 * ARTime's encoding of a stream into patterns (the detector: artime.ts):
 *
 *     x ─▶ blocks of `step` readings ─▶ per block its mean, or its extreme when that stands
 *          out from the mean by > 10 % of the range (a spike survives downsampling)
 *       ─▶ scaled to [0,1] by the range seen so far (or the declared one), quantised to 80
 *          levels, and snapped to the running median level when within 0.075 of it (noise
 *          around the usual level is one pattern, not many)
 *       ─▶ the last 8 points (on the [0,1] scale), their Haar wavelet coefficients, and
 *          their "energy" (mean level, spread)
 *
 * `published` follows the published description instead: the spike rule on 10 % of the mean,
 * the 8 points and their Haar coefficients each min–max scaled, no energy of its own.
 * No allocation per reading.
 */

/** Downsampled points in one pattern. */
export const WINDOW = 8;
/** Quantisation levels of the scaled value. */
const LEVELS = 80;
/** A point this close to the median level (in the [0,1] scale) is snapped to it. */
const CHOMP = 0.075;
/** Features: 8 wavelet coefficients, 8 points; energies: mean level, spread. */
export const NF = 2 * WINDOW;
export const NE = 2;

/** Which parts of the published encoding to follow (all false: ours). */
export interface PatternStyle {
  /** The spike rule on the mean rather than the range. */
  spikeOnMean: boolean;
  /** Points and coefficients each min–max scaled. */
  windowScaled: boolean;
  /** No energy components (the ART memory takes the newest point as the energy). */
  noEnergy: boolean;
}

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

/** Turns one point's readings into ARTime patterns, one per block once WINDOW blocks are in. */
export class PatternEncoder {
  /** The latest pattern (valid after `add` returned true). */
  readonly pattern: Float64Array;
  /** Downsampled points so far. */
  points = 0;
  private lo = Infinity;
  private hi = -Infinity;
  private bSum = 0;
  private bMin = Infinity;
  private bMax = -Infinity;
  private bN = 0;
  private readonly median = new Float64Array(LEVELS + 1);
  private medianN = 0;
  private readonly ds = new Float64Array(WINDOW);
  private readonly tmp = new Float64Array(WINDOW);

  /** `range`: the point's declared range (values are scaled by it from the first reading). */
  constructor(
    private readonly step: number,
    private readonly style: PatternStyle,
    range?: { min: number; max: number },
  ) {
    this.pattern = new Float64Array(style.noEnergy ? NF : NF + NE);
    if (range) {
      this.lo = range.min;
      this.hi = range.max;
    }
  }

  /** Adds a reading; true when it completed a block and `pattern` holds the last WINDOW points' pattern. */
  add(x: number): boolean {
    if (x < this.lo) this.lo = x;
    if (x > this.hi) this.hi = x;
    this.bSum += x;
    this.bN++;
    if (x < this.bMin) this.bMin = x;
    if (x > this.bMax) this.bMax = x;
    if (this.bN < this.step) return false;
    this.block();
    this.bSum = 0;
    this.bN = 0;
    this.bMin = Infinity;
    this.bMax = -Infinity;
    if (this.points < WINDOW) return false;
    if (this.style.windowScaled) this.publishedFeatures(this.points);
    else this.features(this.points);
    return true;
  }

  /** One downsampled point from the block just completed. */
  private block(): void {
    const range = this.hi - this.lo;
    const mean = this.bSum / this.bN;
    const rep0 = this.bMax - mean >= mean - this.bMin ? this.bMax : this.bMin;
    const rep = Math.abs(rep0 - mean) > 0.1 * (this.style.spikeOnMean ? Math.abs(mean) : range) ? rep0 : mean;
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
    this.ds[this.points % WINDOW] = v;
    this.points++;
  }

  /** Fills `pattern` with the pattern of the last WINDOW points. */
  private features(i: number): void {
    const f = this.pattern;
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
    if (this.style.noEnergy) return; // the energy is the newest point: no level and spread components
    f[NF] = sum / WINDOW;
    f[NF + 1] = hi - lo;
  }

  /** The published pattern: [Haar coefficients; points], each part min–max scaled (flat: zeros). */
  private publishedFeatures(i: number): void {
    const f = this.pattern;
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
}
