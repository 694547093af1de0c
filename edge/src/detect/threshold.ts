/**
 * Multi-level threshold detector: four warning colours on a high and a low side,
 * with deadband (hysteresis) and on-delay / off-delay.
 *
 * Each configured limit is a latch of its own:
 *
 *     value ≥ limit (raising)            held for onDelayMs   ──▶ latch on
 *     value < limit − deadband (clearing) held for offDelayMs  ──▶ latch off
 *
 * (mirrored for the low side). The output level is the highest latched level, so a
 * value climbing through yellow to red escalates yellow → red, each with its own
 * delay, and a value that hovers on a limit does not chatter. A NaN or Bad reading
 * changes nothing and is counted as a sensor-fault candidate; the range detector
 * raises the fault.
 */
import { AlarmLevel, type Reading } from '@lifeline/shared';
import { describeLevel, levelNames, levelOf, type LevelName } from './levels.js';
import { isUnusable, pointDetectorId, unitSuffix, type Detector, type DetectorEvent, type LimitCause } from './types.js';

/** Limits per colour; any subset. High limits rise blue→red, low limits fall blue→red. */
export type LevelLimits = Partial<Record<LevelName, number>>;

/** Options of one threshold detector (validated by config.ts before it gets here). */
export interface ThresholdOptions {
  high?: LevelLimits;
  low?: LevelLimits;
  /** Hysteresis in the point's unit: a latch clears only past limit ∓ deadband. Default 0. */
  deadband?: number;
  /** A limit must be exceeded this long before its level is raised. Default 0. */
  onDelayMs?: number;
  /** A limit must be clear this long before its level drops. Default 0. */
  offDelayMs?: number;
  /** Unit for causes, e.g. `m`. */
  unit?: string;
}

/**
 * The limits of one detector, highest level first (high before low at the same level), each a frozen
 * LimitCause. Detectors with the same limits share one list and its causes (`ThresholdLimits.of`):
 * the 500-device soak has 9,000 threshold detectors but a few dozen distinct limit sets (issue #18).
 */
export class ThresholdLimits {
  private readonly lists = new Map<string, readonly LimitCause[]>();
  private readonly causes = new Map<string, LimitCause>();

  /** The shared, sorted, frozen list of causes for these limits. */
  of(high: LevelLimits | undefined, low: LevelLimits | undefined): readonly LimitCause[] {
    const fresh: LimitCause[] = [];
    for (const [side, limits] of [['high', high], ['low', low]] as const) {
      if (!limits) continue;
      for (const name of levelNames) {
        const limit = limits[name];
        if (limit === undefined) continue;
        const level = levelOf(name);
        const key = `${side} ${level} ${limit}`;
        let cause = this.causes.get(key);
        if (!cause) this.causes.set(key, (cause = Object.freeze({ side, level, limit })));
        fresh.push(cause);
      }
    }
    // Highest level first, so the output is the first latch that is on (a stable sort: high before low).
    fresh.sort((a, b) => b.level - a.level);
    const key = fresh.map((c) => `${c.side} ${c.level} ${c.limit}`).join(',');
    let list = this.lists.get(key);
    if (!list) this.lists.set(key, (list = Object.freeze(fresh)));
    return list;
  }
}

export class ThresholdDetector implements Detector {
  readonly kind = 'threshold' as const;
  readonly points: readonly string[];
  level: AlarmLevel = AlarmLevel.Normal;
  /** Readings that were NaN or Bad (sensor-fault candidates; the range detector raises the fault). */
  faultCandidates = 0;
  /** Index in `limits` of the latch that sets the level; -1 when none is on. */
  private holding = -1;
  /** Each limit's latch, highest level first: shared and frozen (ThresholdLimits). */
  private readonly limits: readonly LimitCause[];
  /** Bit i set: latch i is on (at most 2 sides × the level names: a few bits). */
  private on = 0;
  /** Per latch: when its pending condition (raising or clearing) began; NaN when it is not holding. Unboxed doubles. */
  private readonly since: number[];
  private readonly deadband: number;
  private readonly onDelay: number;
  private readonly offDelay: number;
  private readonly unitName: string | undefined;
  /** Kept only when it is not the usual `<device>/<point>/threshold` (pointDetectorId). */
  private readonly ownId: string | undefined;

  /** `shared` interns the limit lists of many detectors (createDetectors passes one per detector set). */
  constructor(
    id: string,
    readonly device: string,
    point: string | readonly string[],
    opts: ThresholdOptions,
    shared: ThresholdLimits = new ThresholdLimits(),
  ) {
    this.points = typeof point === 'string' ? [point] : point;
    this.ownId = id === pointDetectorId(device, this.points[0], this.kind) ? undefined : id;
    this.deadband = opts.deadband ?? 0;
    this.onDelay = opts.onDelayMs ?? 0;
    this.offDelay = opts.offDelayMs ?? 0;
    this.unitName = opts.unit;
    this.limits = shared.of(opts.high, opts.low);
    this.since = this.limits.map(() => Number.NaN);
  }

  get id(): string {
    return this.ownId ?? pointDetectorId(this.device, this.points[0], this.kind);
  }

  update(r: Reading): DetectorEvent | null {
    if (isUnusable(r)) {
      this.faultCandidates++;
      return null;
    }
    const v = r.value;
    const ts = r.ts;
    const limits = this.limits;
    let top = -1;
    for (let i = 0; i < limits.length; i++) {
      const l = limits[i];
      const bit = 1 << i;
      const on = (this.on & bit) !== 0;
      // The condition that would flip this latch, given its state.
      const flipping = on
        ? l.side === 'high'
          ? v < l.limit - this.deadband
          : v > l.limit + this.deadband
        : l.side === 'high'
          ? v >= l.limit
          : v <= l.limit;
      let nowOn = on;
      if (!flipping) {
        this.since[i] = Number.NaN;
      } else {
        if (Number.isNaN(this.since[i])) this.since[i] = ts;
        if (ts - this.since[i] >= (on ? this.offDelay : this.onDelay)) {
          nowOn = !on;
          this.on ^= bit;
          this.since[i] = Number.NaN;
        }
      }
      if (nowOn && (top === -1 || l.level > limits[top].level)) top = i;
    }
    if (top === this.holding) return null;
    const previous = this.level;
    const was = this.holding === -1 ? undefined : limits[this.holding];
    const cause = top === -1 ? undefined : limits[top];
    this.holding = top;
    this.level = cause ? cause.level : AlarmLevel.Normal;
    const unit = unitSuffix(this.unitName);
    return {
      detector: this.id,
      kind: this.kind,
      device: this.device,
      point: this.points[0],
      ts,
      level: this.level,
      previous,
      value: v,
      cause: cause
        ? `${this.points[0]} ${v}${unit} ${cause.side === 'high' ? '≥' : '≤'} ${describeLevel(cause.level)} ${cause.side} limit ${cause.limit}${unit}`
        : `${this.points[0]} ${v}${unit} back within limits (${describeLevel(previous)} ${was?.side} limit ${was?.limit}${unit} cleared)`,
      limit: cause,
    };
  }
}
