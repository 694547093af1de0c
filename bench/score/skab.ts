/**
 * SKAB scorers, implemented from the rules in ../shared/data/README.md (after the
 * SKAB repository's `tsad` metrics):
 *
 * - outlier metric, pooled over every test row of every file:
 *   F1 = TP / (TP + (FP+FN)/2), FAR = 100·FP/(FP+TN), MAR = 100·FN/(FN+TP);
 * - changepoint metric, NAB-style: each true changepoint t opens a window [t, t+60 s]
 *   (a window that reaches the next one pushes the next one's start to its end);
 *   predicted changepoints are |diff(pred)| (first value = pred[0]); the first
 *   detection in a window scores on a tanh ramp from A_tp (at its start) to A_fp
 *   (at its end), a window without one scores A_fn, and every detection outside all
 *   windows scores A_fp. Result = 100·(S − N·A_fn)/(N·A_tp − N·A_fn).
 */

/** Confusion counts of a binary prediction against labels. */
export interface Counts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** The three outlier figures (FAR and MAR in percent). */
export interface OutlierMetrics {
  f1: number;
  far: number;
  mar: number;
}

/** Adds the counts of one file (0/1 per row, same length) into `into`. */
export function addCounts(into: Counts, truth: ArrayLike<number>, pred: ArrayLike<number>): Counts {
  if (truth.length !== pred.length) throw new RangeError(`truth has ${truth.length} rows, prediction ${pred.length}`);
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] === 1;
    const p = pred[i] === 1;
    if (t && p) into.tp++;
    else if (p) into.fp++;
    else if (t) into.fn++;
    else into.tn++;
  }
  return into;
}

/** F1 / FAR / MAR from pooled counts; a ratio with a zero denominator is 0. */
export function outlierMetrics(c: Counts): OutlierMetrics {
  const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return {
    f1: div(c.tp, c.tp + (c.fp + c.fn) / 2),
    far: 100 * div(c.fp, c.fp + c.tn),
    mar: 100 * div(c.fn, c.fn + c.tp),
  };
}

/** Weights of one NAB-style profile. */
export interface ChangepointProfile {
  tp: number;
  fp: number;
  fn: number;
}

/** The three SKAB changepoint profiles (A_tp, A_fp, A_fn). */
export const changepointProfiles = {
  standard: { tp: 1, fp: -0.11, fn: -1 },
  lowFp: { tp: 1, fp: -0.22, fn: -1 },
  lowFn: { tp: 1, fp: -0.11, fn: -2 },
} as const satisfies Record<string, ChangepointProfile>;

/** One file for the changepoint metric: row times (ms), true changepoints and prediction (0/1 per row). */
export interface ChangepointFile {
  ts: ArrayLike<number>;
  changepoint: ArrayLike<number>;
  pred: ArrayLike<number>;
}

/** Default width of a changepoint's scoring window. */
export const CHANGEPOINT_WINDOW_MS = 60_000;

/** Windows [l, r] (ms) of one file's true changepoints, overlaps cut as the rules say. */
export function changepointWindows(file: ChangepointFile, widthMs = CHANGEPOINT_WINDOW_MS): [number, number][] {
  const w: [number, number][] = [];
  for (let i = 0; i < file.changepoint.length; i++) if (file.changepoint[i] === 1) w.push([file.ts[i], file.ts[i] + widthMs]);
  for (let i = 0; i + 1 < w.length; i++) if (w[i][1] >= w[i + 1][0]) w[i + 1][0] = w[i][1];
  return w;
}

/** Times (ms) of the predicted changepoints: |diff(pred)|, the first row counting as pred[0]. */
export function predictedChangepoints(file: ChangepointFile): number[] {
  const out: number[] = [];
  for (let i = 0; i < file.pred.length; i++) {
    const prev = i === 0 ? 0 : file.pred[i - 1];
    if (file.pred[i] !== prev) out.push(file.ts[i]);
  }
  return out;
}

/** Score of the first detection `td` in window [l, r] (the README's tanh ramp). */
export function rampScore(td: number, l: number, r: number, p: ChangepointProfile): number {
  const e = r === l ? 0 : Math.min(Math.trunc(((td - l) / (r - l)) * 1000), 999);
  const x = -Math.PI / 2 + (e * Math.PI) / 999;
  return ((p.tp - p.fp) / 2) * (-Math.tanh(x) / Math.tanh(Math.PI / 2)) + (p.tp - p.fp) / 2 + p.fp;
}

/** Raw score S of one file and its number of windows N. */
export function changepointFileScore(file: ChangepointFile, p: ChangepointProfile, widthMs = CHANGEPOINT_WINDOW_MS): { s: number; n: number } {
  const windows = changepointWindows(file, widthMs);
  const det = predictedChangepoints(file);
  let s = 0;
  if (windows.length === 0) return { s: det.length * p.fp, n: 0 };
  for (const t of det) {
    // Outside every window: before the first, strictly between two, after the last.
    let inside = false;
    for (const [l, r] of windows) if (t >= l && t <= r) inside = true;
    if (!inside) s += p.fp;
  }
  for (const [l, r] of windows) {
    const first = det.find((t) => t >= l && t <= r);
    s += first === undefined ? p.fn : rampScore(first, l, r, p);
  }
  return { s, n: windows.length };
}

/** Normalised changepoint score over all files for one profile: 0 = no detection, 100 = perfect. */
export function changepointScore(files: readonly ChangepointFile[], p: ChangepointProfile, widthMs = CHANGEPOINT_WINDOW_MS): number {
  let s = 0;
  let n = 0;
  for (const f of files) {
    const r = changepointFileScore(f, p, widthMs);
    s += r.s;
    n += r.n;
  }
  if (n === 0) return 0;
  return (100 * (s - n * p.fn)) / (n * p.tp - n * p.fn);
}
