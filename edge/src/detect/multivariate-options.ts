/**
 * The multivariate detector's options and their defaults (the method: multivariate.ts).
 */
import type { AlarmLevel } from '@lifeline/shared';

/** Options of one multivariate detector. */
export interface MultivariateOptions {
  /** Points of the device taken together (≥ 1; all must report for a frame to be complete). */
  points: readonly string[];
  /** Frames used to learn the baseline before the detector may fire (≥ 10). */
  warmup: number;
  /** EWMA weight of a new frame, 0 < λ ≤ 1. Default 0.2. */
  lambda?: number;
  /** Raise when the score s reaches k times the warm-up band. Default 2. */
  k?: number;
  /** Quantile of the warm-up's smoothed deviations that defines the band (0.5..1). Default 0.99. */
  quantile?: number;
  /** η₀ of the drift weighting (> 0; larger = drifting points count less). Default 0.8. */
  eta0?: number;
  /** Clear below k·clearRatio (hysteresis, 0..1). Default 0.7. */
  clearRatio?: number;
  /** Clear also below this fraction of the episode's peak score (0 = off). Default 0.15. */
  relativeClear?: number;
  /** s ≥ k must hold this long before raising, ms. Default 2000. */
  onDelayMs?: number;
  /** The clear condition must hold this long before clearing, ms. Default 9000. */
  offDelayMs?: number;
  /** Baseline mean follows the smoothed value by this fraction per normal frame (0 = frozen). Default 0. */
  adaptRate?: number;
  /**
   * After an episode cleared by the relative rule, the process may have settled at a
   * new operating point: re-learn the baseline mean over this long (no alarm meanwhile), ms. 0 = off. Default 20000.
   */
  relearnMs?: number;
  /**
   * During an episode, a drifting point (drift weight w < recoverWeight) whose deviation has
   * fallen below this fraction of its own episode peak no longer holds the alarm (0 = off). Default 0.8.
   */
  recover?: number;
  /** Drift weight below which a point is treated as slow by `recover` (0..1; 1 = every drifting point). Default 0.5. */
  recoverWeight?: number;
  /**
   * Two points agreeing: the score is also the second-highest point's deviation divided by
   * `vote`, so two points at vote·k raise as one point at k does (0 = off, one point decides).
   * Only the raise sees it: the alarm is held, as before, by a single point above k·clearRatio. Default 0.5.
   */
  vote?: number;
  /** A raise by two points agreeing (see `vote`) needs s ≥ k this long, ms (at least onDelayMs). Default 5000. */
  voteDelayMs?: number;
  /** Level raised. Default orange. */
  level?: AlarmLevel;
  /**
   * How a raise dates the change's onset (`onsetTs` of the event; a clear always dates the
   * return to normal): `off` = the raise's own ts; `band` = the first frame of the raising
   * point's current excursion beyond its warm-up band (a pair: the earlier point); `bocpd` = the later of that and the start of
   * the most probable run of a Bayesian online changepoint detector on the point's residual
   * (onset.ts). Default bocpd (chosen by the nested cross-validation of issue 17).
   */
  onset?: 'off' | 'band' | 'bocpd';
  /**
   * A second, faster way to raise (issue 17): Page's CUSUM per point of its band score beyond
   * the band, S = max(0, S + u − 1); when S reaches `cusum` times the largest S of the point's
   * own warm-up (at least 1) and u ≥ k at the same frame, raise at once (the CUSUM is the
   * evidence the on-delay waits for). 0 = off. Default 0.
   */
  cusum?: number;
  /**
   * Two-stage raise (issue 17): a yellow watch when a point's band-score CUSUM (as `cusum`) reaches
   * `watch` times its warm-up maximum; withdrawn if orange does not follow within watchMs. 0 = off.
   * Default 8 (session 11: nested CV 38.8 folder-out / 38.6 file-out with watchGate 1); 0 when the
   * detector's own level is yellow or lower (a watch below the alarm would then have no level left).
   */
  watch?: number;
  /** How long a watch waits for the orange alarm before it is withdrawn, ms. Default 30000. */
  watchMs?: number;
  /** The watch also needs the point's score u at watchGate·k at the same frame (0 = no gate; 1 = as the `cusum` raise). Default 1. */
  watchGate?: number;
}

/** The defaults, exported so docs and the bench can quote them. */
export const multivariateDefaults = {
  lambda: 0.2,
  k: 2,
  quantile: 0.99,
  eta0: 0.8,
  clearRatio: 0.7,
  relativeClear: 0.15,
  onDelayMs: 2000,
  offDelayMs: 9000,
  adaptRate: 0,
  relearnMs: 20_000,
  recover: 0.8,
  recoverWeight: 0.5,
  vote: 0.5,
  voteDelayMs: 5000,
  onset: 'bocpd',
  cusum: 0,
  watch: 8,
  watchMs: 30_000,
  watchGate: 1,
} as const;

/** `{a: 1, b: undefined}` → `{a: 1}`, so defaults survive a spread. */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
