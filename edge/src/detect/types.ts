/**
 * What every detector shares: the event it emits and the shape the engine drives.
 *
 *     Reading ──▶ engine (device → point → detectors) ──▶ Detector.update(r) ──▶ DetectorEvent | null
 *
 * Detectors are pure state machines over readings: they never read the clock;
 * every duration is measured between readings' `ts`, so tests drive them with
 * fake time and a replayed file gives the same answer at any speed.
 */
import { Quality, type AlarmLevel, type Reading } from '@lifeline/shared';

/** The families of detectors, as named in configs, events and docs. */
export type DetectorKind =
  /** Multi-level high/low limits with deadband and delays. */
  | 'threshold'
  /** Rise or fall larger than allowed within a time window (burst, sudden level rise). */
  | 'rate'
  /** Flatline: no change beyond epsilon for too long. */
  | 'stuck'
  /** Outside the sensor's physical range, NaN, or bad quality: a sensor fault. */
  | 'range'
  /** Streaming anomaly score of one point against its own learned baseline. */
  | 'anomaly'
  /** Streaming anomaly score of several points of one device together. */
  | 'multivariate'
  /** Rainfall over sliding windows against the CMA rainstorm warning colours. */
  | 'rainstorm'
  /** Temperature-compensated drift of a structure's first natural frequency. */
  | 'modal';

/** Which limit of a threshold detector caused a level. */
export interface LimitCause {
  /** `high` limits fire at or above the limit, `low` at or below. */
  side: 'high' | 'low';
  /** Level the limit belongs to. */
  level: AlarmLevel;
  /** The configured limit, in the point's unit. */
  limit: number;
}

/**
 * A level change of one detector. Emitted only on change (raise, escalate,
 * de-escalate, clear): a detector that stays at one level emits nothing.
 */
export interface DetectorEvent {
  /** Detector id: `<device>/<point>/<kind>` or the configured name. */
  detector: string;
  kind: DetectorKind;
  device: string;
  /** The point that caused it; for a multivariate detector the point that contributes most. */
  point: string;
  /** `ts` of the reading that caused the change (epoch ms). */
  ts: number;
  /** Level after the change; `AlarmLevel.Normal` when cleared. */
  level: AlarmLevel;
  /** Level before the change. */
  previous: AlarmLevel;
  /** The value that caused the change (for anomaly detectors: the reading's value). */
  value: number;
  /** A short sentence for an operator: which limit, the value, the window. */
  cause: string;
  /** Threshold detectors: the limit that now holds (absent when cleared). */
  limit?: LimitCause;
  /** Anomaly detectors: the score in [0, 1] at the change. */
  score?: number;
  /**
   * The detector's estimate of when the condition this event reports began (≤ ts): a
   * raise confirmed after evidence piled up dates the change's onset; a clear dates the
   * return to normal. Absent when the detector does not estimate it (then it is `ts`).
   */
  onsetTs?: number;
  /**
   * A clear that withdraws a provisional raise (the multivariate detector's yellow watch that
   * the alarm did not confirm): the alarm manager returns it to normal without waiting for an
   * acknowledgement, unless it had been higher in the same unacknowledged episode.
   */
  withdrawn?: boolean;
}

/** One running detector. `update` is on the hot path: no allocation unless it returns an event. */
export interface Detector {
  readonly id: string;
  readonly kind: DetectorKind;
  readonly device: string;
  /** Points this detector listens to (one, except for multivariate detectors). */
  readonly points: readonly string[];
  /** Current output level. */
  readonly level: AlarmLevel;
  /** Feed one reading of one of `points`; returns the level change it caused, if any. */
  update(r: Reading): DetectorEvent | null;
}

/** Detectors that also produce a continuous anomaly score. */
export interface ScoringDetector extends Detector {
  /** Latest anomaly score in [0, 1]; 0 during warm-up. */
  readonly score: number;
  /** True once the warm-up is over and the baseline is in use. */
  readonly ready: boolean;
}

/** `<device>/<point>/<kind>`: the id createDetectors gives a per-point detector. Range, threshold and stuck
 * detectors build it when asked (events, start) instead of keeping 20,000 id strings (~1.7 MB at 500 devices, issue #18). */
export function pointDetectorId(device: string, point: string, kind: string): string {
  return `${device}/${point}/${kind}`;
}

/** ` <unit>` for a cause, '' without a unit: built per event, not kept per detector (issue #18). */
export function unitSuffix(unit: string | undefined): string {
  return unit ? ` ${unit}` : '';
}

/**
 * True when a reading carries no usable value: NaN/±Infinity or a Bad quality flag.
 * Uncertain readings stay usable: an over-range flood gauge is exactly when red must fire.
 */
export function isUnusable(r: Reading): boolean {
  return r.quality === Quality.Bad || !Number.isFinite(r.value);
}
