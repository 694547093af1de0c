/**
 * The ARTime detector's options (the method: artime.ts).
 */
import type { AlarmLevel } from '@lifeline/shared';

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
