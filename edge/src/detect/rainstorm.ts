/**
 * Rainstorm warning detector: rainfall accumulated over sliding windows, raising
 * the China Meteorological Administration's rainstorm warning colours from the
 * rain gauge itself (暴雨预警信号, annex of 气象灾害预警信号发布与传播办法, CMA
 * Order No. 16, 2007): blue ≥ 50 mm in 12 h, yellow ≥ 50 mm in 6 h, orange
 * ≥ 50 mm in 3 h, red ≥ 100 mm in 3 h. The CMA signals also cover "will reach"
 * (a forecast, the met office's job); a gauge knows only what has fallen
 * ("已达 ... 且降雨可能持续"), so this detector raises on observed totals.
 *
 *     reading ─▶ rain since last reading ─▶ bucket ring (bucketMs wide) ─▶ running sum per window
 *               (interval: one reading per     (ring of ⌈longest window / bucketMs⌉
 *                intervalMs; counter: Δtotal    buckets: bounded memory)
 *                with rollover / reset)                                   ─▶ highest colour reached
 *
 * Each reading costs O(windows) (four at most); a gap of k buckets costs
 * O(min(k, ring)). A window of w hours is the last w·3600000/bucketMs buckets,
 * the current (partial) one included, so a total may count up to one bucket of
 * rain older than w hours: warnings come at most one bucket early, never late.
 * Raising is immediate; a colour drops only after its total has stayed below
 * clearFraction of its amount for offDelayMs (hysteresis, no chatter on a
 * window edge).
 */
import { AlarmLevel, type Reading } from '@lifeline/shared';
import { cmaRainstormLevels, type RainstormConfig } from '@lifeline/shared/config';
import { describeLevel, levelNames, levelOf } from './levels.js';
import { isUnusable, type Detector, type DetectorEvent } from './types.js';

/** Options of one rainstorm detector (the config section, validated). */
export type RainstormOptions = RainstormConfig;

/** What the detector did with the readings it could not take as rain. */
export interface RainstormStats {
  /** Counter readings below the previous one taken as a wrap at `rollover`. */
  rollovers: number;
  /** Counter readings below the previous one taken as a device restart (counted from 0). */
  resets: number;
  /** Steps above maxStep, or negative interval readings, refused (the total re-baselined). */
  refused: number;
}

interface Colour {
  level: AlarmLevel;
  mm: number;
  hours: number;
  /** Index into the window sums. */
  w: number;
}

/** Per-point rainstorm warning detector. */
export class RainstormDetector implements Detector {
  readonly kind = 'rainstorm' as const;
  readonly points: readonly string[];
  level: AlarmLevel = AlarmLevel.Normal;
  readonly stats: RainstormStats = { rollovers: 0, resets: 0, refused: 0 };
  private readonly bucketMs: number;
  private readonly ring: Float64Array;
  /** Window lengths in buckets, one per distinct window. */
  private readonly widths: number[];
  /** Running rain total of each window. */
  private readonly sums: Float64Array;
  /** Colours lowest first. */
  private readonly colours: Colour[];
  private readonly clearFraction: number;
  private readonly offDelayMs: number;
  /** Absolute index (ts / bucketMs) of the current bucket; -Infinity before the first reading. */
  private bucket = -Infinity;
  /** Counter input: the previous total; interval input: ts of the last counted reading. */
  private prev = NaN;
  private lastTs = -Infinity;
  /** When the total first fell below the hold share of the current colour (NaN: it has not). */
  private belowSince = NaN;

  constructor(
    readonly id: string,
    readonly device: string,
    point: string,
    private readonly opts: RainstormOptions,
  ) {
    this.points = [point];
    this.bucketMs = opts.bucketMs ?? 300_000;
    this.clearFraction = opts.clearFraction ?? 0.8;
    this.offDelayMs = opts.offDelayMs ?? 1_800_000;
    const levels = opts.levels ?? cmaRainstormLevels;
    this.widths = [];
    this.colours = [];
    for (const name of levelNames) {
      const l = levels[name];
      if (!l) continue;
      const width = Math.max(1, Math.ceil((l.hours * 3_600_000) / this.bucketMs));
      let w = this.widths.indexOf(width);
      if (w < 0) w = this.widths.push(width) - 1;
      this.colours.push({ level: levelOf(name), mm: l.mm, hours: l.hours, w });
    }
    this.ring = new Float64Array(Math.max(...this.widths));
    this.sums = new Float64Array(this.widths.length);
  }

  /** Rain in the window of a colour, mm (for status and tests). */
  total(hours: number): number {
    const c = this.colours.find((x) => x.hours === hours);
    return c ? Math.max(0, this.sums[c.w]) : NaN;
  }

  update(r: Reading): DetectorEvent | null {
    if (isUnusable(r)) return null;
    const rain = this.rainOf(r);
    if (rain === null) return null;
    this.advance(Math.floor(r.ts / this.bucketMs));
    if (rain > 0) {
      // A late reading (older bucket still in the ring) goes to its own bucket and the windows that hold it.
      const b = Math.max(Math.floor(r.ts / this.bucketMs), this.bucket - this.ring.length + 1);
      const age = this.bucket - b;
      this.ring[b % this.ring.length] += rain;
      for (let w = 0; w < this.widths.length; w++) if (age < this.widths[w]) this.sums[w] += rain;
    }
    return this.evaluate(r);
  }

  /** Rain since the previous reading, or null when this reading adds nothing to count. */
  private rainOf(r: Reading): number | null {
    const v = r.value;
    const { maxStep } = this.opts;
    if (this.opts.input === 'interval') {
      if (v < 0) return this.refuse();
      const every = this.opts.intervalMs;
      if (every !== undefined) {
        // The device reports a rolling total of its last interval: count one reading per interval.
        if (r.ts < this.lastTs + every) return null;
        this.lastTs = r.ts;
      }
      if (maxStep !== undefined && v > maxStep) return this.refuse();
      return v;
    }
    const prev = this.prev;
    this.prev = v;
    if (Number.isNaN(prev)) return 0; // the first total is a baseline, not rain
    let d = v - prev;
    if (d < 0) {
      const roll = this.opts.rollover;
      // A wrap lands near zero from near the top; anything else is a restart counting from 0.
      if (roll !== undefined && prev > roll / 2 && v < roll / 2) {
        d += roll;
        this.stats.rollovers++;
      } else {
        d = v;
        this.stats.resets++;
      }
    }
    if (maxStep !== undefined && d > maxStep) return this.refuse();
    return d;
  }

  /** Refuses a reading's rain and counts it; a counter keeps the new total as its baseline, so one bad step never poisons the next. */
  private refuse(): null {
    this.stats.refused++;
    return null;
  }

  /** Moves the current bucket forward to `b`, dropping from each window what left it. */
  private advance(b: number): void {
    if (b <= this.bucket) return;
    const n = this.ring.length;
    if (this.bucket === -Infinity || b - this.bucket >= n) {
      this.ring.fill(0);
      this.sums.fill(0);
      this.bucket = b;
      return;
    }
    for (let j = this.bucket + 1; j <= b; j++) {
      for (let w = 0; w < this.widths.length; w++) {
        const leaving = j - this.widths[w];
        this.sums[w] -= this.ring[((leaving % n) + n) % n];
      }
      this.ring[j % n] = 0;
      // Running sums drift by rounding: re-add them exactly once per turn of the ring.
      if (j % n === 0) this.resum(j);
    }
    this.bucket = b;
  }

  private resum(current: number): void {
    const n = this.ring.length;
    for (let w = 0; w < this.widths.length; w++) {
      let s = 0;
      for (let k = 0; k < this.widths[w]; k++) s += this.ring[(((current - k) % n) + n) % n];
      this.sums[w] = s;
    }
  }

  private evaluate(r: Reading): DetectorEvent | null {
    let reached = AlarmLevel.Normal;
    let reachedBy: Colour | undefined;
    let held = AlarmLevel.Normal;
    for (const c of this.colours) {
      const s = this.sums[c.w];
      if (s >= c.mm - 1e-9) {
        reached = c.level;
        reachedBy = c;
      }
      if (c.level <= this.level && s >= c.mm * this.clearFraction - 1e-9) held = c.level;
    }
    if (reached > this.level) {
      const previous = this.level;
      this.level = reached;
      this.belowSince = NaN;
      const c = reachedBy!;
      const total = round(this.sums[c.w]);
      return this.event(r, previous, `${this.points[0]}: ${total} mm in ${c.hours} h reached ${c.mm} mm: rainstorm ${describeLevel(c.level)}`, c);
    }
    if (held >= this.level) {
      this.belowSince = NaN;
      return null;
    }
    if (Number.isNaN(this.belowSince)) this.belowSince = r.ts;
    if (r.ts - this.belowSince < this.offDelayMs) return null;
    const previous = this.level;
    this.level = Math.max(held, reached) as AlarmLevel;
    this.belowSince = NaN;
    const c = this.colours.find((x) => x.level === previous)!;
    return this.event(
      r,
      previous,
      `${this.points[0]}: ${round(this.sums[c.w])} mm in ${c.hours} h stayed below ${round(c.mm * this.clearFraction)} mm for ${this.offDelayMs / 60_000} min: ${describeLevel(this.level)}`,
      this.colours.find((x) => x.level === this.level),
    );
  }

  private event(r: Reading, previous: AlarmLevel, cause: string, c: Colour | undefined): DetectorEvent {
    return {
      detector: this.id,
      kind: this.kind,
      device: this.device,
      point: this.points[0],
      ts: r.ts,
      level: this.level,
      previous,
      value: r.value,
      cause,
      ...(c && this.level !== AlarmLevel.Normal ? { limit: { side: 'high' as const, level: c.level, limit: c.mm } } : {}),
    };
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
