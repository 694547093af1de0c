import { gaussianSource } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { BocpdOnset } from './onset.js';

describe('BocpdOnset', () => {
  it('dates a step in the mean of a noisy residual to within a few frames', () => {
    const b = new BocpdOnset(2);
    const noise = gaussianSource(7);
    for (let t = 0; t < 400; t++) {
      b.update(0, noise() + (t >= 350 ? 3 : 0), t * 1000);
      b.update(1, noise(), t * 1000);
    }
    expect(Math.abs(b.onset(0) - 350_000)).toBeLessThanOrEqual(3000);
    // The quiet point's most probable run is the oldest kept (100 frames): no change seen.
    expect(b.onset(1)).toBeLessThanOrEqual(301_000);
  });

  it('keeps its memory bounded and stays finite on wild input', () => {
    const b = new BocpdOnset(1, 250, 3, 50);
    for (let t = 0; t < 1000; t++) b.update(0, t % 100 === 0 ? 1e12 : 0, t);
    const on = b.onset(0);
    expect(Number.isFinite(on)).toBe(true);
    // At most maxRun frames back.
    expect(on).toBeGreaterThanOrEqual(999 - 50);
  });

  it('knows nothing before its first residual', () => {
    expect(new BocpdOnset(1).onset(0)).toBeNaN();
  });
});
