import { describe, expect, it } from 'vitest';
import { prng } from '../random.js';
import { medianDelta } from './columns.js';

describe('medianDelta', () => {
  it('is the middle of the sorted deltas, counted or sorted (jittered, wide, negative, fractional, two readings)', () => {
    const rand = prng(5);
    const sorted = (ts: number[]) => {
      const d = Float64Array.from(ts.slice(1), (t, i) => t - ts[i]).sort();
      return d[d.length >> 1];
    };
    const cases: number[][] = [[0, 1000], [5, 5, 5], [0, 3, 1, 7]];
    for (let k = 0; k < 200; k++) {
      const n = 2 + Math.floor(rand() * 700);
      const spread = [16, 1000, 1e7, 0.5][k % 4];
      let t = 1_800_000_000_000;
      cases.push(Array.from({ length: n }, () => (t += (k % 5 === 0 ? -1 : 1) * Math.floor(rand() * spread) + (spread < 1 ? rand() : 1000))));
    }
    for (const ts of cases) expect(medianDelta(ts)).toBe(sorted(ts));
  });
});
