/**
 * Out-of-range / sensor-fault detector: a value outside the sensor's physical
 * range (a 4–20 mA loop reading 2 mA is a broken wire, not a dry river), a run of
 * NaN or Bad-quality readings (the sensor or its link is gone). It clears at the
 * first good, in-range reading.
 */
import { AlarmLevel, Quality, type Reading } from '@lifeline/shared';
import { describeLevel } from './levels.js';
import { isUnusable, pointDetectorId, unitSuffix, type Detector, type DetectorEvent } from './types.js';

/** Options of one range / sensor-fault detector. */
export interface RangeOptions {
  /** Physical minimum of the sensor; absent: unchecked. */
  min?: number;
  /** Physical maximum of the sensor; absent: unchecked. */
  max?: number;
  /** Consecutive unusable (NaN / Bad) readings before a fault. Default 3. */
  badCount?: number;
  /** Level raised. Default yellow. */
  level?: AlarmLevel;
  /** Unit for causes. */
  unit?: string;
}

/** Per-point physical-range and sensor-fault detector. */
export class RangeDetector implements Detector {
  readonly kind = 'range' as const;
  readonly points: readonly string[];
  level: AlarmLevel = AlarmLevel.Normal;
  /** Unusable readings in a row. */
  private bad = 0;
  private readonly raise: AlarmLevel;
  private readonly badCount: number;
  private readonly unitName: string | undefined;
  /** Kept only when it is not the usual `<device>/<point>/range` (pointDetectorId). */
  private readonly ownId: string | undefined;
  private readonly min: number | undefined;
  private readonly max: number | undefined;

  constructor(
    id: string,
    readonly device: string,
    point: string | readonly string[],
    opts: RangeOptions,
  ) {
    this.points = typeof point === 'string' ? [point] : point;
    this.ownId = id === pointDetectorId(device, this.points[0], this.kind) ? undefined : id;
    // The options' fields, not the options object: one object less per point (issue #18).
    this.min = opts.min;
    this.max = opts.max;
    this.raise = opts.level ?? AlarmLevel.Yellow;
    this.badCount = opts.badCount ?? 3;
    this.unitName = opts.unit;
  }

  get id(): string {
    return this.ownId ?? pointDetectorId(this.device, this.points[0], this.kind);
  }

  private get unit(): string {
    return unitSuffix(this.unitName);
  }

  update(r: Reading): DetectorEvent | null {
    const p = this.points[0];
    if (isUnusable(r)) {
      this.bad++;
      if (this.level !== AlarmLevel.Normal || this.bad < this.badCount) return null;
      const what = Number.isNaN(r.value) || r.quality === Quality.Bad ? 'no usable value' : `non-finite value ${r.value}`;
      return this.raiseAt(r, `${p}: ${what} for ${this.bad} readings in a row (sensor fault)`);
    }
    this.bad = 0;
    const v = r.value;
    const { min, max } = this;
    const below = min !== undefined && v < min;
    const above = max !== undefined && v > max;
    if (below || above) {
      if (this.level !== AlarmLevel.Normal) return null;
      return this.raiseAt(r, `${p} ${v}${this.unit} ${below ? `below the sensor's physical minimum ${min}` : `above the sensor's physical maximum ${max}`}${this.unit} (sensor fault)`);
    }
    if (this.level === AlarmLevel.Normal) return null;
    this.level = AlarmLevel.Normal;
    return { detector: this.id, kind: this.kind, device: this.device, point: p, ts: r.ts, level: AlarmLevel.Normal, previous: this.raise, value: v, cause: `${p} ${v}${this.unit} valid again` };
  }

  private raiseAt(r: Reading, cause: string): DetectorEvent {
    this.level = this.raise;
    return { detector: this.id, kind: this.kind, device: this.device, point: this.points[0], ts: r.ts, level: this.raise, previous: AlarmLevel.Normal, value: r.value, cause: `${cause}: ${describeLevel(this.raise)}` };
  }
}
