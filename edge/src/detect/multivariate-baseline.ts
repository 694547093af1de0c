/**
 * The multivariate detector's baseline (multivariate.ts), learnt from its warm-up frames:
 *
 * - μ_j, σ_j: mean and standard deviation of point j over the warm-up; σ_j is scaled
 *   to the EWMA's own noise (σ·√(λ/(2−λ))), so u is in "standard errors of the smoothed value".
 * - h_j: the `quantile` of the smoothed deviations seen during the warm-up itself: a
 *   point that wandered during the warm-up gets a wider band, a quiet one a narrow band.
 * - w_j = min(1, η_j/η₀), with η_j the von Neumann ratio var(Δx)/(2·var(x)) over the
 *   warm-up: ≈1 for a noisy point (flow, pressure, current), ≈0 for one that drifts
 *   smoothly (temperatures). Slow drift after the warm-up is what makes a baseline
 *   detector cry wolf; weighting by η lets a drifting point raise only on a large change.
 * - for `cusum` and `watch`: the largest CUSUM of u − 1 each point reaches while the
 *   warm-up is replayed, what normal running reaches.
 */

/** The detector's per-point arrays the warm-up fills (its own, written in place). */
export interface BaselineArrays {
  mu: Float64Array;
  /** Raw warm-up sd per point. */
  rawSd: Float64Array;
  /** sd scaled to the EWMA. */
  sd: Float64Array;
  /** Drift weight. */
  w: Float64Array;
  /** Band: quantile of the smoothed deviations. */
  band: Float64Array;
  /** EWMA state: left at the end of the warm-up's replay. */
  z: Float64Array;
}

/** One step of a CUSUM of u − 1 (Page): the new sum. */
export const cusumStep = (sum: number, u: number): number => Math.max(0, sum + u - 1);

/**
 * Learns the baseline from `n` frames of `d` points in `buf` (frame-major) into `out`.
 * With `cusumMost`, also the largest CUSUM each point reached over the warm-up (at least 1).
 */
export function learnBaseline(buf: Float64Array, n: number, d: number, o: { lambda: number; eta0: number; quantile: number }, out: BaselineArrays, cusumMost?: Float64Array): void {
  const lam = o.lambda;
  const scale = Math.sqrt(lam / (2 - lam));
  const dev: Float64Array[] = [];
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += buf[i * d + j];
    m /= n;
    let v = 0;
    let dv = 0;
    for (let i = 0; i < n; i++) {
      v += (buf[i * d + j] - m) ** 2;
      if (i > 0) dv += (buf[i * d + j] - buf[(i - 1) * d + j]) ** 2;
    }
    v /= n - 1;
    dv /= n - 1;
    out.mu[j] = m;
    // A constant point (v = 0) gets a tiny sd so any change shows; relative to its size.
    out.rawSd[j] = Math.max(Math.sqrt(v), 1e-9 * (Math.abs(m) + 1));
    out.sd[j] = out.rawSd[j] * scale;
    out.w[j] = v > 0 ? Math.min(1, dv / (2 * v) / o.eta0) : 1;
    dev.push(new Float64Array(n));
  }
  // Replay the warm-up through the EWMA: the band is a quantile of its own deviations.
  for (let j = 0; j < d; j++) out.z[j] = buf[j];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      out.z[j] += lam * (buf[i * d + j] - out.z[j]);
      dev[j][i] = Math.abs(out.z[j] - out.mu[j]) / out.sd[j];
    }
  }
  for (let j = 0; j < d; j++) {
    const a = Float64Array.from(dev[j]).sort();
    out.band[j] = Math.max(a[Math.min(n - 1, Math.floor(o.quantile * n))], 0.5);
  }
  if (!cusumMost) return;
  // Replay the warm-up through the CUSUM: its largest sum is what normal running reaches.
  for (let j = 0; j < d; j++) {
    let sum = 0;
    let most = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      sum = cusumStep(sum, (out.w[j] * dev[j][i]) / out.band[j]);
      if (sum > most) most = sum;
    }
    cusumMost[j] = Math.max(most, 1);
  }
}
