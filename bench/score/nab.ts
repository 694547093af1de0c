/**
 * NAB scorer, implemented from the rules in ../shared/data/README.md (after
 * numenta/NAB's sweeper):
 *
 *     per file: probation rows dropped (min(floor(0.15·n), 750));
 *               each row gets a sweep score if it were a detection:
 *                 in window [L,R] (w = R−L+1):  σ(−(R−i+1)/w)·tpW/σ(−1)
 *                 before the first window:      −fpW
 *                 after a window:               σ(|R_prev − i|/(w_prev − 1))·fpW
 *     corpus:   rows of all files sorted by anomaly score; for each threshold T
 *               (a row is a detection when score ≥ T) the total is
 *               Σ FP sweep scores + Σ per window (best detection, or −fnW);
 *               the T with the best total wins (one T for the whole corpus).
 *     normalised = 100·(total − null)/(perfect − null), null = −fnW, perfect = tpW per window.
 */

/** Weights of one NAB profile. */
export interface NabProfile {
  tp: number;
  fp: number;
  fn: number;
}

/** The three NAB profiles. */
export const nabProfiles = {
  standard: { tp: 1, fp: 0.11, fn: 1 },
  reward_low_FP_rate: { tp: 1, fp: 0.22, fn: 1 },
  reward_low_FN_rate: { tp: 1, fp: 0.11, fn: 2 },
} as const satisfies Record<string, NabProfile>;

/** One scored file: anomaly score per row and its windows as inclusive row ranges. */
export interface NabFile {
  name: string;
  scores: ArrayLike<number>;
  windows: readonly (readonly [number, number])[];
}

/** σ of the NAB rules: −1 past 3, else 2/(1+e^(5y)) − 1. */
export function scaledSigmoid(y: number): number {
  return y >= 3 ? -1 : 2 / (1 + Math.exp(5 * y)) - 1;
}

/** Rows of probation of a file of n rows. */
export function probationRows(n: number): number {
  return Math.min(Math.floor(0.15 * n), 750);
}

/** Per-row sweep scores (weighted) and window ids (−1 outside windows, −2 probation). */
export function sweepRows(file: NabFile, p: NabProfile): { sweep: Float64Array; window: Int32Array } {
  const n = file.scores.length;
  const sweep = new Float64Array(n);
  const window = new Int32Array(n);
  const prob = probationRows(n);
  const maxTp = scaledSigmoid(-1);
  let w = 0;
  let prevR = -1;
  let prevW = 0;
  for (let i = 0; i < n; i++) {
    while (w < file.windows.length && i > file.windows[w][1]) {
      prevR = file.windows[w][1];
      prevW = file.windows[w][1] - file.windows[w][0] + 1;
      w++;
    }
    const inWin = w < file.windows.length && i >= file.windows[w][0] && i <= file.windows[w][1];
    if (inWin) {
      const [l, r] = file.windows[w];
      const width = r - l + 1;
      sweep[i] = (scaledSigmoid(-(r - i + 1) / width) * p.tp) / maxTp;
      window[i] = w;
    } else {
      const pos = prevR < 0 ? 3 : Math.abs(prevR - i) / (prevW - 1);
      sweep[i] = scaledSigmoid(pos) * p.fp;
      window[i] = -1;
    }
    if (i < prob) window[i] = -2;
  }
  return { sweep, window };
}

/** Result of the corpus-wide threshold sweep for one profile. */
export interface NabResult {
  /** Normalised score (0 = null detector, 100 = perfect). */
  score: number;
  /** Best threshold: rows with anomaly score ≥ threshold are detections. */
  threshold: number;
  raw: number;
  null: number;
  perfect: number;
  /** Windows scored (those with at least one row after probation). */
  windows: number;
}

/** Sweeps one threshold over the whole corpus and returns the best normalised score. */
export function nabScore(files: readonly NabFile[], p: NabProfile): NabResult {
  let total = 0;
  for (const f of files) total += f.scores.length;
  const score = new Float64Array(total);
  const sweep = new Float64Array(total);
  const win = new Int32Array(total); // global window id, −1 outside, −2 probation
  let k = 0;
  let windows = 0;
  const unscorable = new Set<number>();
  for (const f of files) {
    const rows = sweepRows(f, p);
    const seen = new Set<number>();
    for (let i = 0; i < f.scores.length; i++, k++) {
      const v = f.scores[i];
      score[k] = Number.isFinite(v) ? v : 0;
      sweep[k] = rows.sweep[i];
      const w = rows.window[i];
      if (w >= 0) seen.add(w);
      win[k] = w < 0 ? w : windows + w;
    }
    windows += f.windows.length;
    // Windows lying wholly in probation are not scored: mark them so below.
    for (let w = 0; w < f.windows.length; w++) if (!seen.has(w)) unscorable.add(windows - f.windows.length + w);
  }
  const order = Array.from({ length: total }, (_, i) => i)
    .filter((i) => win[i] !== -2)
    .sort((a, b) => score[b] - score[a]);
  const best = new Float64Array(windows).fill(-p.fn);
  let scored = 0;
  for (let w = 0; w < windows; w++) if (!unscorable.has(w)) scored++;
  let fp = 0;
  let winSum = -p.fn * scored;
  let bestTotal = winSum;
  let bestT = 1.1;
  for (let j = 0; j < order.length; ) {
    const t = score[order[j]];
    // Every row with this score becomes a detection at threshold t.
    while (j < order.length && score[order[j]] === t) {
      const i = order[j++];
      if (win[i] === -1) fp += sweep[i];
      else if (sweep[i] > best[win[i]]) {
        winSum += sweep[i] - best[win[i]];
        best[win[i]] = sweep[i];
      }
    }
    if (fp + winSum > bestTotal) {
      bestTotal = fp + winSum;
      bestT = t;
    }
  }
  const nul = -p.fn * scored;
  const perfect = p.tp * scored;
  return {
    score: perfect === nul ? 0 : (100 * (bestTotal - nul)) / (perfect - nul),
    threshold: bestT,
    raw: bestTotal,
    null: nul,
    perfect,
    windows: scored,
  };
}

/** Raw total of one profile with the threshold fixed in advance (nested cross-validation). */
export interface NabFixed {
  raw: number;
  null: number;
  perfect: number;
}

/**
 * Scores files at a threshold chosen before they were seen: rows with anomaly score ≥
 * `threshold` are detections. Totals add over disjoint sets of files, so the outer folds
 * of a nested cross-validation pool as 100·(Σraw − Σnull)/(Σperfect − Σnull).
 */
export function nabScoreAt(files: readonly NabFile[], p: NabProfile, threshold: number): NabFixed {
  let raw = 0;
  let scored = 0;
  for (const f of files) {
    const rows = sweepRows(f, p);
    const best = new Float64Array(f.windows.length).fill(Number.NaN);
    for (let i = 0; i < f.scores.length; i++) {
      const w = rows.window[i];
      if (w !== -2 && Number.isNaN(best[w] ?? 0)) best[w] = -p.fn; // window has rows after probation
      if (w === -2 || !(f.scores[i] >= threshold)) continue;
      if (w === -1) raw += rows.sweep[i];
      else if (rows.sweep[i] > best[w]) best[w] = rows.sweep[i];
    }
    for (const b of best) {
      if (Number.isNaN(b)) continue;
      raw += b;
      scored++;
    }
  }
  return { raw, null: -p.fn * scored, perfect: p.tp * scored };
}

/** Normalised score of pooled fixed-threshold totals. */
export function nabNormalise(t: NabFixed): number {
  return t.perfect === t.null ? 0 : (100 * (t.raw - t.null)) / (t.perfect - t.null);
}
