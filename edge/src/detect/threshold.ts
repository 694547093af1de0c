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
import { isUnusable, type Detector, type DetectorEvent, type LimitCause } from './types.js';

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

/** One limit's latch. `since` is NaN when its pending condition is not holding. */
interface Latch {
  readonly side: 'high' | 'low';
  readonly level: AlarmLevel;
  readonly limit: number;
  readonly cause: LimitCause;
  on: boolean;
  since: number;
}

/** Per-point multi-level threshold detector. */
export class ThresholdDetector implements Detector {
  readonly kind = 'threshold' as const;
  readonly points: readonly string[];
  level: AlarmLevel = AlarmLevel.Normal;
  /** NaN or Bad readings seen (never fire a threshold): sensor-fault candidates. */
  faultCandidates = 0;
  /** The latch behind the current level (null when normal). */
  private holding: Latch | null = null;
  private readonly latches: Latch[];
  private readonly deadband: number;
  private readonly onDelay: number;
  private readonly offDelay: number;
  private readonly unit: string;

  constructor(
    readonly id: string,
    readonly device: string,
    point: string,
    opts: ThresholdOptions,
  ) {
    this.points = [point];
    this.deadband = opts.deadband ?? 0;
    this.onDelay = opts.onDelayMs ?? 0;
    this.offDelay = opts.offDelayMs ?? 0;
    this.unit = opts.unit ? ` ${opts.unit}` : '';
    this.latches = [];
    for (const side of ['high', 'low'] as const) {
      const limits = opts[side];
      if (!limits) continue;
      for (const name of levelNames) {
        const limit = limits[name];
        if (limit === undefined) continue;
        const level = levelOf(name);
        this.latches.push({ side, level, limit, cause: { side, level, limit }, on: false, since: Number.NaN });
      }
    }
    // Highest level first, so the output is the first latch that is on.
    this.latches.sort((a, b) => b.level - a.level);
  }

  update(r: Reading): DetectorEvent | null {
    if (isUnusable(r)) {
      this.faultCandidates++;
      return null;
    }
    const v = r.value;
    const ts = r.ts;
    let top: Latch | null = null;
    for (const l of this.latches) {
      // The condition that would flip this latch, given its state.
      const flipping = l.on
        ? l.side === 'high'
          ? v < l.limit - this.deadband
          : v > l.limit + this.deadband
        : l.side === 'high'
          ? v >= l.limit
          : v <= l.limit;
      if (!flipping) {
        l.since = Number.NaN;
      } else {
        if (Number.isNaN(l.since)) l.since = ts;
        if (ts - l.since >= (l.on ? this.offDelay : this.onDelay)) {
          l.on = !l.on;
          l.since = Number.NaN;
        }
      }
      if (l.on && (top === null || l.level > top.level)) top = l;
    }
    if (top === this.holding) return null;
    const previous = this.level;
    const was = this.holding;
    this.holding = top;
    this.level = top ? top.level : AlarmLevel.Normal;
    return {
      detector: this.id,
      kind: this.kind,
      device: this.device,
      point: this.points[0],
      ts,
      level: this.level,
      previous,
      value: v,
      cause: top
        ? `${this.points[0]} ${v}${this.unit} ${top.side === 'high' ? '≥' : '≤'} ${describeLevel(top.level)} ${top.side} limit ${top.limit}${this.unit}`
        : `${this.points[0]} ${v}${this.unit} back within limits (${describeLevel(previous)} ${was?.side} limit ${was?.limit}${this.unit} cleared)`,
      limit: top ? top.cause : undefined,
    };
  }
}
