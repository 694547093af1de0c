import { AlarmLevel, Quality, gaussianSource, watchStage, type Reading } from '@lifeline/shared';
import { translateCause } from '@lifeline/shared/cause-zh';
import { describe, expect, it } from 'vitest';
import { MultivariateDetector } from './multivariate.js';
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

describe('the multivariate watch: what it writes is a Chinese cause and a watch stage the cloud can tell', () => {
  // A flow sagging slowly (watches withdrawn), then quickly (a watch the alarm confirms): the watch as shipped.
  const points = ['flow', 'pressure'];
  const d = new MultivariateDetector('pump-1/multivariate', 'pump-1', { points, warmup: 200, onDelayMs: 2000, offDelayMs: 5000, watch: 8, watchGate: 1 });
  const noise = gaussianSource(21);
  const events: DetectorEvent[] = [];
  for (let t = 0; t < 2000; t++) {
    const v = [50 + noise(), 3 + 0.1 * noise()];
    if (t >= 300 && t < 700) v[0] -= Math.min(1.5, 0.005 * (t - 300));
    if (t >= 1200 && t < 1600) v[0] -= Math.min(2, 0.02 * (t - 1200));
    for (let j = 0; j < 2; j++) {
      const e = d.update({ device: 'pump-1', point: points[j], ts: t * 1000, value: v[j] });
      if (e) events.push(e);
    }
  }
  const raised = events.filter((e) => e.level === AlarmLevel.Yellow);
  const withdrawn = events.filter((e) => e.withdrawn);
  const alarm = events.filter((e) => e.level === AlarmLevel.Orange || (e.level === AlarmLevel.Normal && !e.withdrawn));

  it('raises watches, withdraws some, and raises and clears the alarm', () => {
    expect(raised.length).toBeGreaterThanOrEqual(2);
    expect(withdrawn.length).toBeGreaterThanOrEqual(1);
    expect(alarm.some((e) => e.level === AlarmLevel.Orange && e.previous === AlarmLevel.Yellow)).toBe(true);
  });

  it.each(events.map((e) => [e.cause, e]))('%s', (cause, e) => {
    expect(translateCause(cause)).toMatch(/[\u4e00-\u9fff]/);
    const ev = e as DetectorEvent;
    expect(watchStage(cause)).toBe(ev.level === AlarmLevel.Yellow ? 'raised' : ev.withdrawn ? 'withdrawn' : null);
  });

  it.each([['flow watch withdrawn: not confirmed after restart'], ['flow watch withdrawn: pump-1 not answering']])('%s (written by the alarms feature)', (cause) => {
    expect(translateCause(cause)).toMatch(/预警撤销/);
    expect(watchStage(cause)).toBe('withdrawn');
  });
});
