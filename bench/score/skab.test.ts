import { describe, expect, it } from 'vitest';
import {
  addCounts,
  changepointFileScore,
  changepointProfiles,
  changepointScore,
  changepointWindows,
  outlierMetrics,
  predictedChangepoints,
  rampScore,
  type ChangepointFile,
} from './skab.js';

const { standard, lowFp, lowFn } = changepointProfiles;
/** 200 rows one second apart; true changepoints at the given rows; prediction 1 on [on, off). */
function file(cps: number[], on: number, off: number, n = 200): ChangepointFile {
  const ts = Array.from({ length: n }, (_, i) => i * 1000);
  return {
    ts,
    changepoint: ts.map((_, i) => (cps.includes(i) ? 1 : 0)),
    pred: ts.map((_, i) => (i >= on && i < off ? 1 : 0)),
  };
}

describe('SKAB outlier metrics', () => {
  it('pools counts and computes F1, FAR, MAR as the README defines them', () => {
    const c = addCounts({ tp: 0, fp: 0, tn: 0, fn: 0 }, [0, 0, 1, 1, 1, 0], [0, 1, 1, 0, 1, 0]);
    expect(c).toEqual({ tp: 2, fp: 1, tn: 2, fn: 1 });
    addCounts(c, [1, 0], [1, 0]); // a second file: tp 3, tn 3
    const m = outlierMetrics(c);
    expect(m.f1).toBeCloseTo(3 / (3 + 1), 12); // TP / (TP + (FP+FN)/2)
    expect(m.far).toBeCloseTo(25, 12); // 100·1/(1+3)
    expect(m.mar).toBeCloseTo(25, 12); // 100·1/(1+3)
  });

  it('rejects a prediction of the wrong length', () => {
    expect(() => addCounts({ tp: 0, fp: 0, tn: 0, fn: 0 }, [0, 1], [0])).toThrow(/2 rows/);
  });
});

describe('SKAB changepoint (NAB-style) score', () => {
  it('builds [t, t+60 s] windows and cuts the right one where they overlap', () => {
    expect(changepointWindows(file([10, 100], 0, 0))).toEqual([
      [10_000, 70_000],
      [100_000, 160_000],
    ]);
    expect(changepointWindows(file([10, 40], 0, 0))).toEqual([
      [10_000, 70_000],
      [70_000, 100_000],
    ]);
  });

  it('predicted changepoints are |diff(pred)| with the first row counting as pred[0]', () => {
    expect(predictedChangepoints(file([], 0, 5, 10))).toEqual([0, 5000]);
    expect(predictedChangepoints(file([], 3, 10, 10))).toEqual([3000]);
  });

  it('ramp: A_tp at the window start, A_fp at its end, the tanh curve between', () => {
    expect(rampScore(10_000, 10_000, 70_000, standard)).toBeCloseTo(1, 12);
    expect(rampScore(70_000, 10_000, 70_000, standard)).toBeCloseTo(-0.11, 12);
    // e = 250: x = −π/2 + 250π/999 = −0.78461, tanh x = −0.65560, /tanh(π/2) = −0.71482:
    // 0.555·0.71482 + 0.555 − 0.11 = 0.84157
    expect(rampScore(25_000, 10_000, 70_000, standard)).toBeCloseTo(0.84157, 4);
  });

  it('a hit at the first window start, a miss and a false alarm, for all three profiles', () => {
    // Rises at row 10 (window 1 start: +1), falls at 170 (outside [100 s, 160 s]: A_fp); window 2 missed: A_fn.
    const f = file([10, 100], 10, 170);
    expect(changepointFileScore(f, standard)).toEqual({ s: expect.closeTo(1 - 1 - 0.11, 12), n: 2 });
    expect(changepointScore([f], standard)).toBeCloseTo((100 * (-0.11 + 2)) / 4, 10); // 47.25
    expect(changepointScore([f], lowFp)).toBeCloseTo((100 * (-0.22 + 2)) / 4, 10); // 44.5
    expect(changepointScore([f], lowFn)).toBeCloseTo((100 * (1 - 2 - 0.11 + 4)) / (2 + 4), 10); // 48.1667
  });

  it('only the first detection in a window counts; later ones inside are free', () => {
    // Rises at 25 (e = 250), falls at 40 (inside window 1): ignored. Window 2 missed.
    const f = file([10, 100], 25, 40);
    expect(changepointFileScore(f, standard).s).toBeCloseTo(0.84157 - 1, 4);
  });

  it('sums over files before normalising', () => {
    const perfect = file([10], 10, 200);
    const none = file([10], 0, 0);
    expect(changepointScore([perfect], standard)).toBeCloseTo(100, 10);
    expect(changepointScore([none], standard)).toBeCloseTo(0, 10);
    expect(changepointScore([perfect, none], standard)).toBeCloseTo(50, 10);
  });
});
