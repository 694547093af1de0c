import { AlarmLevel, Quality, type Reading } from '@lifeline/shared';
import { translateCause } from '@lifeline/shared/cause-zh';
import { describe, expect, it } from 'vitest';
import { RangeDetector } from './range.js';
import { RateDetector } from './rate.js';
import { StuckDetector } from './stuck.js';
import { ThresholdDetector } from './threshold.js';
import type { DetectorEvent } from './types.js';

// What the detectors write must be a cause shape the console and the duty officers' messages show in Chinese
// (shared/src/cause-zh.ts). A cause reworded here without its rule there would reach them in English.
const r = (ts: number, value: number, quality?: Quality): Reading => ({ device: 'd', point: 'water_level', ts, value, quality });

function causes(d: { update(r: Reading): DetectorEvent | null }, values: (number | [number, Quality])[]): string[] {
  return values
    .map((v, i) => (Array.isArray(v) ? d.update(r(i * 1000, v[0], v[1])) : d.update(r(i * 1000, v))))
    .filter((e): e is DetectorEvent => e !== null)
    .map((e) => e.cause);
}

describe('the causes the detectors write have a Chinese form', () => {
  const written = [
    ...causes(new ThresholdDetector('t', 'd', 'water_level', { high: { yellow: 2, red: 3.2 }, unit: 'm' }), [1, 2.5, 3.4, 2.5, 1]),
    ...causes(new ThresholdDetector('t', 'd', 'water_level', { low: { orange: 0.15 } }), [1, 0.1, 1]),
    ...causes(new RateDetector('r', 'd', 'water_level', { windowMs: 10_000, fall: 0.2, level: AlarmLevel.Red, unit: 'MPa' }), [1, 1, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]),
    ...causes(new RateDetector('r', 'd', 'water_level', { windowMs: 5000, rise: 1 }), [0, 0, 2, 2, 2, 2, 2, 2, 2, 2]),
    ...causes(new StuckDetector('s', 'd', 'water_level', { epsilon: 0.01, durationMs: 3000, unit: 'µε' }), [5, 5, 5, 5, 5, 6]),
    ...causes(new RangeDetector('x', 'd', 'water_level', { min: 0, max: 10, unit: 'm' }), [5, -0.4, 4, 10.5, 4]),
    ...causes(new RangeDetector('x', 'd', 'water_level', { badCount: 2 }), [Number.NaN, Number.NaN, 1, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 1, [3, Quality.Bad], [3, Quality.Bad]]),
  ];

  it('drives every simple detector through raise and clear', () => {
    expect(written.length).toBeGreaterThanOrEqual(14);
  });

  it.each(written.map((c) => [c]))('%s', (cause) => {
    const zh = translateCause(cause);
    expect(zh, `no Chinese form for the cause ${JSON.stringify(cause)}`).not.toBeNull();
    expect(zh).toMatch(/[\u4e00-\u9fff]/);
  });
});
