/**
 * Stuck (flatline) detector: a sensor whose value has not moved by more than
 * `epsilon` for `durationMs` is probably frozen (a strain gauge that froze reads
 * normal and is wrong). It clears at the first reading that moves.
 *
 * State is three numbers: since when, and the min / max seen since then; when
 * max − min exceeds epsilon the run restarts at the current reading.
 */
import { AlarmLevel, type Reading } from '@lifeline/shared';
import { describeLevel } from './levels.js';
import { isUnusable, pointDetectorId, unitSuffix, type Detector, type DetectorEvent } from './types.js';

/** Options of one stuck detector. */
export interface StuckOptions {
  /** Largest change still counted as "no change" (point's unit, ≥ 0). */
  epsilon: number;
  /** How long without change before it fires, ms (> 0). */
  durationMs: number;
  /** Level raised. Default yellow. */
  level?: AlarmLevel;
  /** Unit for causes. */
  unit?: string;
}

/** Per-point flatline detector. */
export class StuckDetector implements Detector {
  readonly kind = 'stuck' as const;
  readonly points: readonly string[];
  level: AlarmLevel = AlarmLevel.Normal;
  private since = Number.NaN;
  private lo = 0;
  private hi = 0;
  private readonly raise: AlarmLevel;
  // The options' fields, not the options object: one object less per point (issue #18).
  private readonly epsilon: number;
  private readonly durationMs: number;
  private readonly unitName: string | undefined;
  /** Kept only when it is not the usual `<device>/<point>/stuck` (pointDetectorId). */
  private readonly ownId: string | undefined;

  constructor(
    id: string,
    readonly device: string,
    point: string | readonly string[],
    opts: StuckOptions,
  ) {
    this.points = typeof point === 'string' ? [point] : point;
    this.ownId = id === pointDetectorId(device, this.points[0], this.kind) ? undefined : id;
    this.raise = opts.level ?? AlarmLevel.Yellow;
    this.epsilon = opts.epsilon;
    this.durationMs = opts.durationMs;
    this.unitName = opts.unit;
  }

  update(r: Reading): DetectorEvent | null {
    // A missing value is neither a change nor evidence of a flatline.
    if (isUnusable(r)) return null;
    const { ts, value: v } = r;
    if (Number.isNaN(this.since)) {
      this.since = ts;
      this.lo = this.hi = v;
      return null;
    }
    const lo = v < this.lo ? v : this.lo;
    const hi = v > this.hi ? v : this.hi;
    if (hi - lo > this.epsilon) {
      this.since = ts;
      this.lo = this.hi = v;
      if (this.level === AlarmLevel.Normal) return null;
      this.level = AlarmLevel.Normal;
      return this.event(ts, v, this.raise, `${this.points[0]} moving again (${v}${this.unit()})`);
    }
    this.lo = lo;
    this.hi = hi;
    if (this.level !== AlarmLevel.Normal || ts - this.since < this.durationMs) return null;
    this.level = this.raise;
    return this.event(
      ts,
      v,
      AlarmLevel.Normal,
      `${this.points[0]} stuck at ${v}${this.unit()}: no change beyond ${this.epsilon}${this.unit()} for ${(ts - this.since) / 1000} s: ${describeLevel(this.raise)}`,
    );
  }

  get id(): string {
    return this.ownId ?? pointDetectorId(this.device, this.points[0], this.kind);
  }

  private unit(): string {
    return unitSuffix(this.unitName);
  }

  private event(ts: number, value: number, previous: AlarmLevel, cause: string): DetectorEvent {
    return { detector: this.id, kind: this.kind, device: this.device, point: this.points[0], ts, level: this.level, previous, value, cause };
  }
}
