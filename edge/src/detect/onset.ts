/**
 * Onset estimators for a detector that raises once evidence has piled up: when the
 * alarm is confirmed, when did the change begin? Fed one standardised residual per
 * point per frame (e = (x − μ)/σ against the warm-up baseline), asked only at a raise.
 *
 * - `CusumOnset` (Page 1954; the change-point estimate of Page's CUSUM): two one-sided
 *   sums S⁺ = max(0, S⁺ + e − κ), S⁻ = max(0, S⁻ − e − κ); the onset is the last frame
 *   the larger sum was 0.
 * - `BocpdOnset` (Adams & MacKay 2007, Bayesian online changepoint detection): the
 *   run-length posterior of a Gaussian with known unit variance and unknown mean
 *   (prior N(0, τ²): the warm-up baseline), constant hazard 1/`gap`; run lengths
 *   truncated at `maxRun` (mass beyond is lumped into the last). The onset is the start
 *   of the most probable run.
 *
 * Memory O(d) (CUSUM) or O(d·maxRun) (BOCPD); cost per frame the same order. No clock.
 */

/** Page's CUSUM onset per point. */
export class CusumOnset {
  private readonly up: Float64Array;
  private readonly down: Float64Array;
  private readonly zeroUp: Float64Array;
  private readonly zeroDown: Float64Array;

  constructor(
    d: number,
    private readonly kappa = 0.5,
  ) {
    this.up = new Float64Array(d);
    this.down = new Float64Array(d);
    this.zeroUp = new Float64Array(d).fill(Number.NaN);
    this.zeroDown = new Float64Array(d).fill(Number.NaN);
  }

  update(j: number, e: number, ts: number): void {
    this.up[j] = Math.max(0, this.up[j] + e - this.kappa);
    this.down[j] = Math.max(0, this.down[j] - e - this.kappa);
    if (this.up[j] === 0) this.zeroUp[j] = ts;
    if (this.down[j] === 0) this.zeroDown[j] = ts;
  }

  /** Estimated onset of point j's change (NaN: unknown). */
  onset(j: number): number {
    return this.up[j] >= this.down[j] ? this.zeroUp[j] : this.zeroDown[j];
  }

  reset(): void {
    this.up.fill(0);
    this.down.fill(0);
  }
}

/** Bayesian online changepoint detection (Adams & MacKay 2007) per point, run length truncated. */
export class BocpdOnset {
  /** Per point × run length: posterior probability, sum of the run's residuals, start ts. */
  private readonly p: Float64Array;
  private readonly sum: Float64Array;
  private readonly start: Float64Array;
  private readonly len: Uint16Array;
  private readonly ll: Float64Array;
  /** By run length r: prior precision + r, 1/predictive variance, −½·log predictive variance. */
  private readonly prec: Float64Array;
  private readonly invS: Float64Array;
  private readonly logNorm: Float64Array;
  private readonly h: number;

  constructor(
    d: number,
    gap = 250,
    tau = 3,
    private readonly maxRun = 100,
  ) {
    const size = d * maxRun;
    this.p = new Float64Array(size);
    this.sum = new Float64Array(size);
    this.start = new Float64Array(size);
    this.len = new Uint16Array(d);
    this.ll = new Float64Array(maxRun);
    this.h = 1 / gap;
    this.prec = new Float64Array(maxRun);
    this.invS = new Float64Array(maxRun);
    this.logNorm = new Float64Array(maxRun);
    for (let r = 0; r < maxRun; r++) {
      this.prec[r] = 1 / (tau * tau) + r;
      const s = 1 + 1 / this.prec[r];
      this.invS[r] = 1 / s;
      this.logNorm[r] = -0.5 * Math.log(s);
    }
  }

  update(j: number, e: number, ts: number): void {
    const R = this.maxRun;
    const o = j * R;
    const { p, sum, start, ll, prec, invS, logNorm } = this;
    let L = this.len[j];
    if (L === 0) {
      p[o] = 1;
      sum[o] = 0;
      start[o] = ts;
      L = 1;
    }
    // Predictive log density of e under each run (unit noise + posterior variance of its mean).
    let max = -Infinity;
    for (let r = 0; r < L; r++) {
      const dx = e - sum[o + r] / prec[r];
      const v = logNorm[r] - 0.5 * dx * dx * invS[r];
      ll[r] = v;
      if (v > max) max = v;
    }
    // Growth (shift by one) and changepoint mass; the last slot absorbs what would fall off.
    let cp = 0;
    let tail = 0;
    const grow = 1 - this.h;
    for (let r = L - 1; r >= 0; r--) {
      const w = p[o + r] * Math.exp(ll[r] - max);
      cp += w;
      if (r === R - 1) {
        tail = w;
        continue;
      }
      p[o + r + 1] = (w + (r + 1 === R - 1 ? tail : 0)) * grow;
      sum[o + r + 1] = sum[o + r] + e;
      start[o + r + 1] = start[o + r];
    }
    p[o] = cp * this.h;
    sum[o] = 0;
    start[o] = ts;
    const n = Math.min(L + 1, R);
    let z = 0;
    for (let r = 0; r < n; r++) z += p[o + r];
    for (let r = 0; r < n; r++) p[o + r] = Math.max(p[o + r] / z, 1e-300);
    this.len[j] = n;
  }

  /** Start ts of point j's most probable run (NaN: nothing seen). */
  onset(j: number): number {
    const o = j * this.maxRun;
    let best = -1;
    let bp = -1;
    for (let r = 0; r < this.len[j]; r++) {
      if (this.p[o + r] > bp) {
        bp = this.p[o + r];
        best = r;
      }
    }
    return best < 0 ? Number.NaN : this.start[o + best];
  }

  reset(): void {
    this.len.fill(0);
  }
}

/**
 * When the change began that a detector raised its alarm for at `ts` (multivariate.ts), from
 * its raising point `j` and, for a pair, `j2` (-1: none; the earlier of the two), by `mode`:
 * `band`, the first frame of the point's excursion beyond its band (`outSince`, NaN: inside);
 * `bocpd`, the later of that and the start of the most probable run of `bocpd`; `off`, ts.
 * Never before `notBefore` (the previous clear), never after ts.
 */
export function raiseOnset(mode: 'off' | 'band' | 'bocpd', outSince: Float64Array, bocpd: BocpdOnset | null, j: number, j2: number, ts: number, notBefore: number): number {
  const one = (i: number): number => {
    if (i < 0) return Number.NaN;
    if (mode === 'band') return outSince[i];
    if (mode === 'bocpd') return Math.max(bocpd!.onset(i), outSince[i]);
    return ts;
  };
  let t = one(j);
  const t2 = one(j2);
  if (!Number.isNaN(t2) && t2 < t) t = t2;
  return Number.isNaN(t) || t > ts ? ts : Math.max(t, notBefore);
}
