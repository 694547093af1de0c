import { describe, expect, it } from 'vitest';
import { nabNormalise, nabProfiles, nabScore, nabScoreAt, probationRows, scaledSigmoid, sweepRows, type NabFile } from './nab.js';

const { standard, reward_low_FP_rate: lowFp } = nabProfiles;
const scores = (n: number, set: Record<number, number>) => Array.from({ length: n }, (_, i) => set[i] ?? 0);

describe('NAB scorer', () => {
  it('probation is min(floor(0.15·n), 750)', () => {
    expect(probationRows(20)).toBe(3);
    expect(probationRows(4032)).toBe(604);
    expect(probationRows(10_000)).toBe(750);
  });

  it('scaled sigmoid matches the rules', () => {
    // 2/(1+e^(−5)) − 1 = 0.98661
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3)).toBe(-1);
  });

  it('sweep scores: 1 at the window start, less later; FP −fpW before the window, milder just after it', () => {
    const f: NabFile = { name: 'a', scores: scores(20, {}), windows: [[10, 13]] };
    const { sweep, window } = sweepRows(f, standard);
    expect(sweep[10]).toBeCloseTo(1, 12);
    // σ(−3/4)/σ(−1) = 0.95405/0.98661
    expect(sweep[11]).toBeCloseTo(0.96699, 5);
    expect(sweep[5]).toBeCloseTo(-0.11, 12);
    // |13−14|/(4−1) = 1/3: σ(1/3)·0.11 = −0.68226·0.11
    expect(sweep[14]).toBeCloseTo(-0.07505, 5);
    // |13−15|/3: σ(2/3)·0.11
    expect(sweep[15]).toBeCloseTo(-0.10242, 5);
    expect(Array.from(window.slice(0, 4))).toEqual([-2, -2, -2, -1]);
    expect(window[12]).toBe(0);
  });

  it('picks the best threshold: the in-window detection alone, not the FP below it, ignoring probation', () => {
    // Row 1 (probation) scores highest but is not scored; row 11 is in the window; row 5 is a false positive.
    const f: NabFile = { name: 'a', scores: scores(20, { 1: 1, 11: 0.9, 5: 0.8 }), windows: [[10, 13]] };
    const r = nabScore([f], standard);
    expect(r.threshold).toBe(0.9);
    expect(r.raw).toBeCloseTo(0.96699, 5);
    expect(r.null).toBe(-1);
    expect(r.perfect).toBe(1);
    expect(r.score).toBeCloseTo((100 * (0.96699 + 1)) / 2, 3); // 98.35
  });

  it('one threshold for the whole corpus', () => {
    // File a wants T ≤ 0.5 (row 12 in its window: σ(−2/4)/σ(−1) = 0.85979); file b then pays one FP at 0.6.
    const a: NabFile = { name: 'a', scores: scores(20, { 12: 0.5 }), windows: [[10, 13]] };
    const b: NabFile = { name: 'b', scores: scores(20, { 10: 0.6 }), windows: [] };
    const r = nabScore([a, b], standard);
    expect(r.threshold).toBe(0.5);
    expect(r.raw).toBeCloseTo(0.85979 - 0.11, 5);
    expect(r.score).toBeCloseTo((100 * (0.85979 - 0.11 + 1)) / 2, 3); // 87.49
    // With FPs twice as dear the trade is still worth it, and costs twice as much.
    expect(nabScore([a, b], lowFp).raw).toBeCloseTo(0.85979 - 0.22, 5);
  });

  it('no detection is the null score (0); detecting at every window start is perfect (100)', () => {
    const f: NabFile = { name: 'a', scores: scores(400, { 100: 1, 300: 1 }), windows: [[100, 103], [300, 303]] };
    expect(nabScore([f], standard).score).toBeCloseTo(100, 10);
    const flat = nabScore([{ ...f, scores: scores(400, {}) }], standard);
    expect(flat.score).toBeCloseTo(0, 10);
    expect(flat.threshold).toBe(1.1);
  });

  it('a constant score is scored as "detect everything" when that beats detecting nothing', () => {
    // 20 rows, probation 3: rows 3..9 are FPs before the window (−0.77), the window scores 1,
    // rows 14..19 are mild FPs after it: total > −1, so threshold 0 wins.
    const f: NabFile = { name: 'a', scores: scores(20, {}), windows: [[10, 13]] };
    const r = nabScore([f], standard);
    expect(r.threshold).toBe(0);
    const { sweep } = sweepRows(f, standard);
    const expected = 1 + [3, 4, 5, 6, 7, 8, 9, 14, 15, 16, 17, 18, 19].reduce((a, i) => a + sweep[i], 0);
    expect(r.raw).toBeCloseTo(expected, 12);
  });

  it('a window wholly inside probation is not scored', () => {
    const f: NabFile = { name: 'a', scores: scores(100, { 50: 1 }), windows: [[2, 5], [50, 55]] };
    const r = nabScore([f], standard);
    expect(r.windows).toBe(1);
    expect(r.score).toBeCloseTo(100, 10);
  });
});

describe('NAB scorer at a fixed threshold', () => {
  it('agrees with the sweep at the threshold the sweep chose, and pools over files', () => {
    const a: NabFile = { name: 'a', scores: scores(20, { 1: 1, 11: 0.9, 5: 0.8, 17: 0.95 }), windows: [[10, 13]] };
    const b: NabFile = { name: 'b', scores: scores(30, { 8: 0.7, 22: 0.92 }), windows: [[20, 24]] };
    const swept = nabScore([a, b], standard);
    const ra = nabScoreAt([a], standard, swept.threshold);
    const rb = nabScoreAt([b], standard, swept.threshold);
    const pooled = { raw: ra.raw + rb.raw, null: ra.null + rb.null, perfect: ra.perfect + rb.perfect };
    expect(nabNormalise(pooled)).toBeCloseTo(swept.score, 10);
    expect(pooled.raw).toBeCloseTo(swept.raw, 10);
  });

  it('counts a missed window as −fn and a false positive by its sweep score; probation rows never count', () => {
    const f: NabFile = { name: 'a', scores: scores(20, { 1: 1, 5: 0.8 }), windows: [[10, 13]] };
    // Threshold 0.5: row 5 is a false positive before the window (−0.11), the window is missed (−1).
    expect(nabScoreAt([f], standard, 0.5).raw).toBeCloseTo(-1.11, 12);
    // Threshold 0.9: row 1 is probation, nothing else: the window is missed.
    expect(nabScoreAt([f], standard, 0.9)).toEqual({ raw: -1, null: -1, perfect: 1 });
  });
});
