/**
 * Streaming multivariate anomaly detector over the points of one device
 * (pumps, valves, pipes: flow, pressure, current, vibration, temperature...).
 *
 *     readings ─▶ frame (one value per point, same ts) ─▶ warm-up buffer ─▶ baseline
 *                                                          (first `warmup` frames)
 *     after warm-up:  frame ─▶ EWMA per point ─▶ u_j = w_j·|z_j − μ_j| / (σ_j·h_j)
 *                     s = max(u₁, u₂/vote)  ─▶  raise when s ≥ k for onDelayMs (voteDelayMs if by u₂),
 *                                        clear when s' < max(k·clearRatio, relativeClear·peak) for offDelayMs
 *                                        (s' = s without the slow points that are recovering, see `recover`)
 *
 * - μ_j, σ_j, h_j (the band), w_j (the drift weight): learnt from the warm-up
 *   (multivariate-baseline.ts); frames assembled in multivariate-frame.ts.
 * - relativeClear: once the excursion has fallen to a fraction of its peak the episode
 *   is over, even if a point settles a little off its old baseline; the baseline mean is
 *   then re-learned for relearnMs (no alarm meanwhile), so the new operating point does
 *   not raise the alarm again at once. After relearnMs the alarm is armed again but the
 *   mean keeps averaging the frames since the episode until it has as many as the
 *   warm-up had (no knob): a process still settling after an episode is followed
 *   instead of frozen at its first 20 s.
 * - recover: a drifting point (w_j < recoverWeight) whose deviation has fallen below
 *   `recover` × its own peak of the episode is on its way back and no longer holds the
 *   alarm (a thermocouple cools for minutes after the fault is gone). The raise and the
 *   decision to re-learn still see every point.
 * - vote (two points agreeing): u₁ ≥ u₂ are the two largest deviations; two points
 *   each at vote·k (default 0.5·k: both at their warm-up band's edge) for voteDelayMs
 *   (default 5 s, longer than onDelayMs: weaker evidence must last longer, as in the
 *   Western Electric run rules) raise as one point at k does: a fault often moves several
 *   points a little before any one a lot (a valve closing slowly: vibration and flow both
 *   creep). Only the raise sees it; clearing still asks whether any single
 *   (non-recovering) point is beyond k·clearRatio, so an alarm raised by a weak pair
 *   that does not grow clears after offDelayMs. Holding by the pair as well was measured and is worse (the pair
 *   condition is common after an episode: FAR 25 % on SKAB, never chosen by the CV).
 *
 * - onset dating (issue 17): the alarm is raised once evidence has piled up (EWMA, on-delay,
 *   vote delay), so each event also says when its condition began (`onsetTs`, and in words in
 *   the cause): a clear, when the clear condition began to hold (offDelayMs earlier); a raise,
 *   by `onset` (raiseOnset, onset.ts: from the raising point's excursion beyond its band and a
 *   Bayesian online changepoint detector on its raw residual (x − μ)/σ, Adams & MacKay 2007).
 *   The alarm itself is still raised and cleared online, at `ts`.
 *
 * - cusum (issue 17, off by default): Page's CUSUM per point of u − 1, S = max(0, S + u − 1);
 *   when S reaches `cusum` × the largest S of the point's own warm-up (at least 1) and u ≥ k,
 *   the alarm is raised at once instead of after onDelayMs: a point hovering about k after a
 *   real change raises sooner. Reset at a raise and a clear; not armed while the mean is
 *   re-learned. On SKAB it raised earlier but added false alarms (FAR above 12 % under nested
 *   cross-validation), so it is not the default (docs/detection-results.md).
 *
 * - watch (issue 17, on by default since session 11: watch 8, watchGate 1; `watch: 0` turns it off): a two-stage raise. When a point's CUSUM (as above) reaches
 *   `watch` × its warm-up maximum, a yellow "watch" is raised at once; the orange alarm is raised
 *   by the usual rules (and may follow the watch); a watch not confirmed by orange within watchMs
 *   is withdrawn (back to normal, CUSUMs reset). watchGate: the point must also be at watchGate·k then. The watch tells when a change may have begun,
 *   online; the orange alarm keeps its point-wise behaviour, so only the raise's timing changes.
 *
 * Memory: O(d) after warm-up (the warm-up buffer, warmup·d numbers, is released), plus
 * 3·d·100 numbers for the changepoint run lengths with `onset: 'bocpd'`.
 * Cost per frame: O(d) (O(100·d) with `onset: 'bocpd'`). No clock: all delays are measured on the frames' `ts`.
 */
import { AlarmLevel, type Reading } from '@lifeline/shared';
import { describeLevel } from './levels.js';
import { cusumStep, learnBaseline } from './multivariate-baseline.js';
import { FrameAssembler } from './multivariate-frame.js';
import { BocpdOnset, raiseOnset } from './onset.js';
import type { DetectorEvent, ScoringDetector } from './types.js';
import { multivariateDefaults, stripUndefined, type MultivariateOptions } from './multivariate-options.js';

export { multivariateDefaults, type MultivariateOptions } from './multivariate-options.js';

/** Streaming anomaly detector across several points of one device. */
export class MultivariateDetector implements ScoringDetector {
  readonly kind = 'multivariate' as const;
  readonly points: readonly string[];
  level: AlarmLevel = AlarmLevel.Normal;
  score = 0;
  ready = false;
  /** Latest raw score s (multiples of the warm-up band; alarm at ≥ k). */
  raw = 0;

  /** Whether this detector raises a yellow watch before its alarm (`watch` > 0). */
  get watches(): boolean {
    return this.o.watch > 0;
  }

  private readonly d: number;
  private readonly index = new Map<string, number>();
  private readonly o: Required<Omit<MultivariateOptions, 'points' | 'level'>>;
  private readonly raise: AlarmLevel;
  private readonly frames: FrameAssembler;
  /** The frame being assembled and evaluated (frames.values). */
  private readonly frame: Float64Array;
  // Warm-up.
  private buf: Float64Array | null;
  private n = 0;
  // Baseline.
  private readonly mu: Float64Array;
  private readonly sd: Float64Array;
  private readonly band: Float64Array;
  private readonly w: Float64Array;
  private readonly z: Float64Array;
  // Alarm state machine.
  private since = Number.NaN;
  private peak = 0;
  private top = 0;
  /** Re-learning the mean until this ts, with no alarm (NaN: not re-learning). */
  private relearnUntil = Number.NaN;
  /** Frames averaged into the re-learned mean since the episode (0: not learning). */
  private learnN = 0;
  /** Per point: peak deviation of the current episode. */
  private readonly peakJ: Float64Array;
  /** Per point: ts of the first frame of its current excursion beyond its band (NaN: inside). */
  private readonly outSince: Float64Array;
  private readonly bocpd: BocpdOnset | null;
  /** Raw warm-up sd per point (sd is scaled to the EWMA). */
  private readonly rawSd: Float64Array;
  /** Page's CUSUM of u − 1 per point, and its raise threshold (cusum × its warm-up max; +∞: off). */
  private readonly cus: Float64Array;
  private readonly cusH: Float64Array;
  /** The watch's CUSUM threshold per point (watch × its warm-up max), when the watch began and its point. */
  private readonly watchH: Float64Array;
  private watchSince = Number.NaN;
  private watchTop = 0;
  /** ts of the last clear: a new episode cannot have begun before it. */
  private clearedTs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly id: string,
    readonly device: string,
    opts: MultivariateOptions,
  ) {
    this.points = [...opts.points];
    this.d = this.points.length;
    this.points.forEach((p, i) => this.index.set(p, i));
    this.o = { ...multivariateDefaults, ...stripUndefined(opts) } as typeof this.o;
    this.raise = opts.level ?? AlarmLevel.Orange;
    if (this.raise <= AlarmLevel.Yellow) {
      // The watch is yellow: below a blue or yellow alarm it has no level of its own. Off by default then; asked for, an error.
      if ((opts.watch ?? 0) > 0) throw new RangeError(`${id}: watch needs an alarm level above yellow, got level ${describeLevel(this.raise)}`);
      this.o.watch = 0;
    }
    const d = this.d;
    this.frames = new FrameAssembler(d);
    this.frame = this.frames.values;
    this.buf = new Float64Array(opts.warmup * d);
    this.mu = new Float64Array(d);
    this.sd = new Float64Array(d);
    this.band = new Float64Array(d);
    this.w = new Float64Array(d);
    this.z = new Float64Array(d);
    this.peakJ = new Float64Array(d);
    this.outSince = new Float64Array(d).fill(Number.NaN);
    this.rawSd = new Float64Array(d);
    this.bocpd = this.o.onset === 'bocpd' ? new BocpdOnset(d) : null;
    this.cus = new Float64Array(d);
    this.cusH = new Float64Array(d).fill(Number.POSITIVE_INFINITY);
    this.watchH = new Float64Array(d).fill(Number.POSITIVE_INFINITY);
  }

  update(r: Reading): DetectorEvent | null {
    const j = this.index.get(r.point);
    if (j === undefined) return null;
    let ev: DetectorEvent | null = null;
    // A newer frame started before the current one was complete: evaluate what we have.
    if (this.frames.newerThanOpen(r.ts)) ev = this.closeFrame();
    if (this.frames.add(j, r)) ev = this.closeFrame() ?? ev;
    return ev;
  }

  private closeFrame(): DetectorEvent | null {
    if (!this.frames.close()) return null;
    if (this.buf) {
      this.buf.set(this.frame, this.n * this.d);
      if (++this.n === this.o.warmup) this.learn();
      return null;
    }
    return this.evaluate(this.frames.ts);
  }

  /** End of warm-up: the baseline from the buffered frames, and the CUSUM thresholds. */
  private learn(): void {
    const cusOn = this.o.cusum > 0 || this.o.watch > 0;
    const most = cusOn ? new Float64Array(this.d) : undefined;
    learnBaseline(this.buf!, this.n, this.d, this.o, { mu: this.mu, rawSd: this.rawSd, sd: this.sd, w: this.w, band: this.band, z: this.z }, most);
    if (most) {
      for (let j = 0; j < this.d; j++) {
        this.watchH[j] = this.o.watch > 0 ? this.o.watch * most[j] : Number.POSITIVE_INFINITY;
        this.cusH[j] = this.o.cusum > 0 ? this.o.cusum * most[j] : Number.POSITIVE_INFINITY;
      }
    }
    this.buf = null;
    this.ready = true;
  }

  private evaluate(ts: number): DetectorEvent | null {
    const { d, o } = this;
    let s = 0;
    let top = 0;
    /** Second-highest point deviation and its point. */
    let s2 = 0;
    let second = -1;
    /** Score of the points still holding the alarm (recovering slow points left out). */
    let hold = 0;
    /** The point whose CUSUM reached its threshold with u ≥ k (-1: none), and its u. */
    let cj = -1;
    let cs = 0;
    /** The point furthest past its watch threshold (-1: none). */
    let wj = -1;
    let wr = 1;
    const alarmed = this.level === this.raise;
    const cusOn = o.cusum > 0 || o.watch > 0;
    for (let j = 0; j < d; j++) {
      this.z[j] += o.lambda * (this.frame[j] - this.z[j]);
      const u = (this.w[j] * Math.abs(this.z[j] - this.mu[j])) / (this.sd[j] * this.band[j]);
      if (u <= 1) this.outSince[j] = Number.NaN;
      else if (Number.isNaN(this.outSince[j])) this.outSince[j] = ts;
      this.bocpd?.update(j, (this.frame[j] - this.mu[j]) / this.rawSd[j], ts);
      const S = cusOn ? (this.cus[j] = cusumStep(this.cus[j], u)) : 0;
      if (S >= this.cusH[j] && u >= o.k && u > cs) {
        cs = u;
        cj = j;
      }
      if (S / this.watchH[j] >= wr && u >= o.watchGate * o.k) {
        wr = S / this.watchH[j];
        wj = j;
      }
      if (u > s) {
        s2 = s;
        second = top;
        s = u;
        top = j;
      } else if (u > s2) {
        s2 = u;
        second = j;
      }
      if (alarmed) {
        if (u > this.peakJ[j]) this.peakJ[j] = u;
        const recovering = this.w[j] < o.recoverWeight && u < o.recover * this.peakJ[j];
        if (!recovering && u > hold) hold = u;
      }
    }
    /** Raised by two points agreeing rather than by one alone. */
    let pair = false;
    if (o.vote > 0 && d > 1 && s2 / o.vote > s) {
      s = s2 / o.vote;
      pair = true;
    }
    this.raw = s;
    this.score = s / (s + o.k);
    if (!Number.isNaN(this.relearnUntil)) {
      // Running mean of the raw values since the episode ended becomes the new baseline
      // (the smoothed values still carry the episode's tail).
      this.learnMean();
      if (ts >= this.relearnUntil) {
        this.relearnUntil = Number.NaN;
        this.z.set(this.mu);
      }
      this.cus.fill(0);
      this.score = 0;
      return null;
    }
    if (this.level !== this.raise) {
      const prev = this.level;
      if (this.learnN > 0) {
        // Armed again; the mean keeps averaging the frames since the episode up to a warm-up's worth.
        if (this.learnN < o.warmup) this.learnMean();
        else this.learnN = 0;
      }
      if (o.adaptRate > 0) for (let j = 0; j < d; j++) this.mu[j] += o.adaptRate * (this.z[j] - this.mu[j]);
      // The CUSUM's threshold assumes the warm-up's mean: not armed while the mean is re-learned.
      const byCusum = cj >= 0 && this.learnN === 0;
      if (this.learnN > 0) {
        this.cus.fill(0);
      }
      if (s < o.k) this.since = Number.NaN;
      else if (Number.isNaN(this.since)) this.since = ts;
      // Two points at the band's edge are weaker evidence than one beyond k: they must last longer.
      const held = !Number.isNaN(this.since) && ts - this.since >= (pair ? Math.max(o.onDelayMs, o.voteDelayMs) : o.onDelayMs);
      if (!held && !byCusum) return this.watchStep(ts, wj);
      if (!held) {
        s = cs;
        top = cj;
        pair = false;
      }
      this.since = Number.NaN;
      const sum = this.cus[top];
      this.cus.fill(0);
      this.learnN = 0;
      this.peakJ.fill(0);
      this.watchSince = Number.NaN;
      this.level = this.raise;
      this.peak = s;
      this.top = top;
      const onsetTs = raiseOnset(o.onset, this.outSince, this.bocpd, top, pair ? second : -1, ts, this.clearedTs);
      const what = !held
        ? `${this.points[top]} ${this.frame[top]} is ${round(s)}× outside its learned band and its excess beyond the band has piled up to ${round(sum)} (CUSUM; alarm at ${round(this.cusH[top])}, ${o.cusum}× the most it reached while learning)`
        : pair
        ? `${this.points[top]} ${this.frame[top]} and ${this.points[second]} ${this.frame[second]} are both off their learned bands (${round(s * o.vote)}× each at least, two points together alarm at ${round(o.k * o.vote)}×)`
        : `${this.points[top]} ${this.frame[top]} is ${round(s)}× outside its learned band (${this.d} points together, alarm at ${o.k}×)`;
      return this.event(ts, prev, top, `${what}: ${describeLevel(this.raise)}${began(onsetTs, ts)}`, onsetTs);
    }
    if (s > this.peak) this.peak = s;
    const absolute = o.k * o.clearRatio;
    if (hold >= Math.max(absolute, o.relativeClear * this.peak)) {
      this.since = Number.NaN;
      return null;
    }
    if (Number.isNaN(this.since)) this.since = ts;
    if (ts - this.since < o.offDelayMs) return null;
    const backSince = this.since;
    this.since = Number.NaN;
    this.clearedTs = ts;
    this.cus.fill(0);
    if (s >= absolute && o.relearnMs > 0) {
      this.relearnUntil = ts + o.relearnMs;
      this.learnN = 0;
    }
    const prev = this.level;
    this.level = AlarmLevel.Normal;
    const peak = this.peak;
    this.peak = 0;
    return this.event(ts, prev, this.top, `${this.points[this.top]} back within its learned band (score ${round(hold)}×, episode peak ${round(peak)}×; back for ${Math.round((ts - backSince) / 1000)} s)`, backSince);
  }

  /**
   * While not alarmed: raise a yellow watch when point wj's CUSUM has reached its watch threshold
   * (armed only on the warm-up's mean, as the CUSUM raise); withdraw it after watchMs unconfirmed.
   */
  private watchStep(ts: number, wj: number): DetectorEvent | null {
    if (this.level === AlarmLevel.Yellow) {
      if (ts - this.watchSince < this.o.watchMs) return null;
      this.level = AlarmLevel.Normal;
      this.watchSince = Number.NaN;
      this.cus.fill(0);
      const j = this.watchTop;
      const ev = this.event(ts, AlarmLevel.Yellow, j, `${this.points[j]} watch withdrawn: not confirmed within ${Math.round(this.o.watchMs / 1000)} s (score ${round(this.raw)}×)`, ts);
      ev.withdrawn = true;
      return ev;
    }
    if (wj < 0 || this.learnN > 0) return null;
    this.level = AlarmLevel.Yellow;
    this.watchSince = ts;
    this.watchTop = wj;
    const onsetTs = raiseOnset(this.o.onset, this.outSince, this.bocpd, wj, -1, ts, this.clearedTs);
    const what = `${this.points[wj]} ${this.frame[wj]} has been beyond its learned band and its excess has piled up to ${round(this.cus[wj])} (CUSUM; watch at ${round(this.watchH[wj])}, ${this.o.watch}× the most it reached while learning)`;
    return this.event(ts, AlarmLevel.Normal, wj, `${what}: ${describeLevel(AlarmLevel.Yellow)}${began(onsetTs, ts)}`, onsetTs);
  }

  /** Adds the current frame to the running mean of the frames since the episode ended. */
  private learnMean(): void {
    const n = ++this.learnN;
    for (let j = 0; j < this.d; j++) this.mu[j] += (this.frame[j] - this.mu[j]) / n;
  }

  private event(ts: number, previous: AlarmLevel, j: number, cause: string, onsetTs: number): DetectorEvent {
    return {
      onsetTs,
      detector: this.id,
      kind: this.kind,
      device: this.device,
      point: this.points[j],
      ts,
      level: this.level,
      previous,
      value: this.frame[j],
      cause,
      score: this.score,
    };
  }
}

/** The cause's words for an onset before the raise. */
function began(onsetTs: number, ts: number): string {
  return onsetTs < ts ? `; the change began about ${Math.round((ts - onsetTs) / 1000)} s earlier` : '';
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
