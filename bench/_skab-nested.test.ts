import { describe, expect, it } from 'vitest';
import { FIELDS, FP, FN, N, S_STD, TN, TP, crossKnobs, crossValidate, figuresOf, foldsBy, nestedCrossValidate, tune, type MethodStats, type Procedure } from './_skab-nested.js';
import { changepointFileScore, changepointScore, changepointProfiles, outlierMetrics } from './score/skab.js';

/** Method stats from a table [combo][file] of {tp, fp, tn, fn, n, s} (other profiles 0). */
function method(name: string, table: { tp: number; fp: number; tn: number; fn: number; n: number; s: number }[][]): MethodStats {
  const files = table[0].length;
  const data = new Float64Array(table.length * files * FIELDS);
  table.forEach((row, c) =>
    row.forEach((x, i) => {
      const o = (c * files + i) * FIELDS;
      data[o + TP] = x.tp;
      data[o + FP] = x.fp;
      data[o + TN] = x.tn;
      data[o + FN] = x.fn;
      data[o + N] = x.n;
      data[o + S_STD] = x.s;
    }),
  );
  return { name, combos: table.length, files, data };
}
const good = { tp: 90, fp: 5, tn: 95, fn: 10, n: 2, s: 1.2 };
const bad = { tp: 50, fp: 40, tn: 60, fn: 50, n: 2, s: -1.5 };

describe('SKAB nested cross-validation', () => {
  it('pooled figures follow the scorer: F1/FAR/MAR from counts, NAB standard from S and N', () => {
    const v = new Float64Array(FIELDS);
    v[TP] = 90;
    v[FP] = 5;
    v[TN] = 95;
    v[FN] = 10;
    v[N] = 2;
    v[S_STD] = 1.2;
    const f = figuresOf(v);
    const m = outlierMetrics({ tp: 90, fp: 5, tn: 95, fn: 10 });
    expect(f.f1).toBeCloseTo(m.f1, 12);
    expect(f.far).toBeCloseTo(m.far, 12);
    // Two windows, S = 1.2: a hit at each window's start scores 2 → 100, none → −2 → 0.
    expect(f.nab_standard).toBeCloseTo((100 * (1.2 + 2)) / 4, 12);
    // Same normalisation as the scorer's, on a file with a late hit, a false alarm and a miss.
    const file = { ts: [0, 10_000, 20_000, 30_000, 40_000, 50_000, 200_000], changepoint: [1, 0, 0, 0, 0, 0, 1], pred: [0, 0, 1, 0, 0, 1, 1] };
    const r = changepointFileScore(file, changepointProfiles.standard);
    const w = new Float64Array(FIELDS);
    w[N] = r.n;
    w[S_STD] = r.s;
    expect(figuresOf(w).nab_standard).toBeCloseTo(changepointScore([file], changepointProfiles.standard), 12);
  });

  it('a staged procedure tunes its first step alone, then only the combinations that follow its choice', () => {
    // First step: combination 1 is the better alarm. Second: combinations 2–3 follow it, 0–1 follow 0;
    // combination 0 scores best of all but does not follow the first step's choice, so it is never taken.
    const first: Procedure = { name: 'a', method: method('a', [[bad], [good]]), combos: [0, 1] };
    const better = { ...good, s: 1.9 };
    const m = method('m', [[better], [bad], [good], [bad]]);
    const p: Procedure = { name: 'm/3+1', method: m, combos: [0, 1, 2, 3], staged: { first, follow: (c) => [2 * c, 2 * c + 1] } };
    expect(tune({ ...p, staged: undefined }, [0])).toBe(0);
    expect(tune(p, [0])).toBe(2);
  });

  it('tunes on the files it is given only', () => {
    // Combination 0 is good on files 0–1, bad on file 2; combination 1 the reverse.
    const m = method('m', [
      [good, good, bad],
      [bad, bad, good],
    ]);
    const p: Procedure = { name: 'm', method: m, combos: [0, 1] };
    expect(tune(p, [0, 1])).toBe(0);
    expect(tune(p, [2])).toBe(1);
    // Leave-one-file-out: file 2 is predicted by what 0 and 1 prefer (combination 0): bad.
    const cv = crossValidate(p, [0, 1, 2], [[0], [1], [2]]);
    expect(cv.choices).toEqual([0, 0, 0]);
  });

  it('chooses the procedure by inner folds of the outer-training files, never by the outer fold', () => {
    // Procedure A: one combination, good on every file but the last. Procedure B can tune to
    // anything, including the combination that is good on the last file only.
    const a = method('a', [[good, good, good, bad]]);
    const b = method('b', [
      [good, good, good, bad],
      [bad, bad, bad, good],
    ]);
    const procs: Procedure[] = [
      { name: 'a', method: a, combos: [0] },
      { name: 'b', method: b, combos: [0, 1] },
    ];
    const folds = [[0], [1], [2], [3]];
    const res = nestedCrossValidate(procs, folds, (train) => train.map((i) => [i]), 4);
    // Outer fold 3: the training files all favour combination 0, so file 3 scores badly:
    // the good combination for it is never chosen by looking at it.
    const last = res.outer[3];
    expect(last.combo).toBe(0);
    expect(last.stats[FP]).toBe(bad.fp);
    // Inner objectives are computed for every procedure.
    expect(last.inner).toHaveLength(2);
    const pooledFp = res.outer.reduce((s, o) => s + o.stats[FP], 0);
    expect(res.pooled[FP]).toBe(pooledFp);
  });

  it('groups folds by key in first-seen order', () => {
    expect(foldsBy([0, 1, 2, 3], (i) => (i % 2 ? 'odd' : 'even'))).toEqual([
      [0, 2],
      [1, 3],
    ]);
  });
});

describe('crossKnobs', () => {
  it('crosses the knobs of a method with every base combination, the last knob fastest', () => {
    const base = [{ k: 2 }, { k: 3 }];
    expect(crossKnobs(base, { cusum: [4, 8] })).toEqual([
      { k: 2, cusum: 4 },
      { k: 2, cusum: 8 },
      { k: 3, cusum: 4 },
      { k: 3, cusum: 8 },
    ]);
    expect(crossKnobs([{}], { a: [1, 2], b: [5] })).toEqual([{ a: 1, b: 5 }, { a: 2, b: 5 }]);
    expect(crossKnobs(base, {})).toEqual(base);
    expect(crossKnobs(base, { cusum: [] })).toEqual([]);
  });
});
