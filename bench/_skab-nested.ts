/**
 * Nested cross-validation over precomputed per-file figures (used by bench/_skab-cv.ts).
 *
 *   outer fold F ─▶ training files T = all − F
 *       inner folds of T ─▶ for each procedure: tune on T − G, predict G, pool ─▶ inner score
 *       the procedure with the best inner score is tuned on all of T (constants fixed)
 *   ─▶ predicts F; the outer folds' predictions are pooled into the reported figures.
 *
 * A procedure is a way of producing changepoints (a method) plus the knob combinations
 * it may tune; "tune" = the combination with the best objective on the given files.
 * Files are represented only by sufficient statistics, so a fold's score is a sum:
 * confusion counts and the raw changepoint score S and window count N per profile.
 */
import type { SkabFigures } from './_skab.js';
import { outlierMetrics } from './score/skab.js';

/** Fields of one file's statistics. */
export const TP = 0;
export const FP = 1;
export const TN = 2;
export const FN = 3;
/** Number of changepoint windows. */
export const N = 4;
/** Raw changepoint scores S for the standard, low-FP and low-FN profiles. */
export const S_STD = 5;
export const S_LOWFP = 6;
export const S_LOWFN = 7;
export const FIELDS = 8;

/** Per-file statistics of every combination of one method: [combo][file][field]. */
export interface MethodStats {
  name: string;
  combos: number;
  files: number;
  data: Float64Array;
}

/** A procedure: a method and the combinations (indices into its stats) it may choose from. */
export interface Procedure {
  name: string;
  method: MethodStats;
  combos: readonly number[];
  /**
   * Tuned in two steps: `first` is tuned (its own objective), then only `follow(its choice)` of
   * `combos` compete — e.g. the alarm's knobs chosen for the alarm alone, then a watch factor.
   */
  staged?: { first: Procedure; follow: (firstCombo: number) => readonly number[] };
}

/** Figures of a summed statistics vector (the bench's figures but the online changepoint score and file count). */
export type PooledFigures = Omit<SkabFigures, 'nab_dated_standard' | 'nab_dated_lowfp' | 'nab_dated_lowfn' | 'files'>;

/** 100·(S − N·A_fn)/(N·A_tp − N·A_fn) for a profile with A_tp = 1 (0 without windows), as bench/score/skab.ts. */
const nab = (s: number, n: number, afn: number) => (n === 0 ? 0 : (100 * (s - n * afn)) / (n - n * afn));

export function figuresOf(v: Float64Array): PooledFigures {
  return {
    ...outlierMetrics({ tp: v[TP], fp: v[FP], tn: v[TN], fn: v[FN] }),
    nab_standard: nab(v[S_STD], v[N], -1),
    nab_lowfp: nab(v[S_LOWFP], v[N], -1),
    nab_lowfn: nab(v[S_LOWFN], v[N], -2),
  };
}

/** The objective every tuning step maximises (fixed before any held-out figure was seen, issue 6). */
export function objective(v: Float64Array): number {
  const f = figuresOf(v);
  return f.f1 / 0.8 + f.nab_standard / 33 - 0.05 * Math.max(0, f.far - 12);
}

/** Sum of the statistics of files `idx` under combination c of method m. */
export function sumOf(m: MethodStats, c: number, idx: readonly number[], into = new Float64Array(FIELDS)): Float64Array {
  into.fill(0);
  const base = c * m.files * FIELDS;
  for (const i of idx) for (let k = 0; k < FIELDS; k++) into[k] += m.data[base + i * FIELDS + k];
  return into;
}

/** The combination of a procedure with the best objective on files `idx` (first wins ties). */
export function tune(p: Procedure, idx: readonly number[]): number {
  const v = new Float64Array(FIELDS);
  const combos = p.staged ? p.staged.follow(tune(p.staged.first, idx)) : p.combos;
  let best = combos[0];
  let bo = -Infinity;
  for (const c of combos) {
    const o = objective(sumOf(p.method, c, idx, v));
    if (o > bo) {
      bo = o;
      best = c;
    }
  }
  return best;
}

/** Pooled statistics of a plain cross-validation: each fold predicted by the combination tuned on the rest of `idx`. */
export function crossValidate(p: Procedure, idx: readonly number[], folds: readonly (readonly number[])[]): { pooled: Float64Array; choices: number[] } {
  const pooled = new Float64Array(FIELDS);
  const v = new Float64Array(FIELDS);
  const choices: number[] = [];
  for (const fold of folds) {
    const inFold = new Set(fold);
    const c = tune(p, idx.filter((i) => !inFold.has(i)));
    choices.push(c);
    sumOf(p.method, c, fold, v);
    for (let k = 0; k < FIELDS; k++) pooled[k] += v[k];
  }
  return { pooled, choices };
}

/** What one outer fold of a nested cross-validation chose and scored. */
export interface OuterResult {
  fold: readonly number[];
  /** Index into the procedures. */
  procedure: number;
  /** Inner cross-validated objective of every procedure. */
  inner: number[];
  combo: number;
  stats: Float64Array;
}

/**
 * Nested cross-validation: for each outer fold, the procedure is chosen by a
 * cross-validation over the outer-training files only (`innerFolds` splits them),
 * then tuned on all outer-training files, then scores the outer fold.
 */
export function nestedCrossValidate(
  procs: readonly Procedure[],
  outerFolds: readonly (readonly number[])[],
  innerFolds: (train: readonly number[]) => number[][],
  files: number,
): { pooled: Float64Array; outer: OuterResult[] } {
  const pooled = new Float64Array(FIELDS);
  const outer: OuterResult[] = [];
  for (const fold of outerFolds) {
    const inFold = new Set(fold);
    const train = [...Array(files).keys()].filter((i) => !inFold.has(i));
    const folds = innerFolds(train);
    const inner = procs.map((p) => objective(crossValidate(p, train, folds).pooled));
    let pi = 0;
    inner.forEach((o, i) => {
      if (o > inner[pi]) pi = i;
    });
    const combo = tune(procs[pi], train);
    const stats = sumOf(procs[pi].method, combo, fold);
    for (let k = 0; k < FIELDS; k++) pooled[k] += stats[k];
    outer.push({ fold, procedure: pi, inner, combo, stats });
  }
  return { pooled, outer };
}

/** Folds grouping `idx` by a key (e.g. folder), in first-seen order. */
export function foldsBy(idx: readonly number[], key: (i: number) => string): number[][] {
  const m = new Map<string, number[]>();
  for (const i of idx) {
    const k = key(i);
    const g = m.get(k);
    if (g) g.push(i);
    else m.set(k, [i]);
  }
  return [...m.values()];
}

/**
 * Every combination of the values of `grid`'s knobs, each added to every combination of
 * `base` (knobs in the grid's order, the last varying fastest): how a method's own knobs
 * (e.g. the CUSUM factor) are crossed with the shared `/3` combinations.
 */
export function crossKnobs<T extends object>(base: readonly T[], grid: Record<string, readonly number[]>): T[] {
  let out: T[] = [...base];
  for (const [k, vs] of Object.entries(grid)) out = out.flatMap((c) => vs.map((v) => ({ ...c, [k]: v })));
  return out;
}
