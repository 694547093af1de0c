import { AlarmLevel, Quality, type Reading } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { createDetectors, fromDetectors, highestLevel } from './engine.js';
import { RangeDetector } from './range.js';
import { StuckDetector } from './stuck.js';
import { ThresholdDetector } from './threshold.js';

const cfg = {
  points: [
    {
      device: 'flood-1',
      point: 'level',
      unit: 'm',
      threshold: { high: { yellow: 2, red: 3 } },
      rate: { windowMs: 10_000, rise: 1, level: 'red' as const },
      range: { min: 0, max: 10, badCount: 2 },
      stuck: { epsilon: 0, durationMs: 60_000 },
    },
    { device: 'flood-2', point: 'level', threshold: { high: { red: 1 } } },
  ],
};
const r = (device: string, ts: number, value: number, quality?: Quality): Reading => ({ device, point: 'level', ts, value, quality });

describe('createDetectors', () => {
  it('builds one detector per configured check, with stable ids', () => {
    const set = createDetectors(cfg);
    expect(set.detectors.map((d) => d.id)).toEqual([
      'flood-1/level/range',
      'flood-1/level/threshold',
      'flood-1/level/rate',
      'flood-1/level/stuck',
      'flood-2/level/threshold',
    ]);
    expect(set.get('flood-1/level/rate')?.kind).toBe('rate');
  });

  it('finds every detector by id, across calls, and keeps an id that is not the usual one', async () => {
    const set = createDetectors(cfg);
    for (const d of set.detectors) expect(set.get(d.id)).toBe(d);
    await Promise.resolve(); // the id map of one run of calls is dropped; a later call builds it again
    expect(set.get('flood-2/level/threshold')?.device).toBe('flood-2');
    expect(set.get('flood-2/level/stuck')).toBeUndefined();
    const own = fromDetectors([
      new ThresholdDetector('north bank', 'flood-1', 'level', { high: { red: 1 }, unit: 'm' }),
      new RangeDetector('flood-1/level/range-2', 'flood-1', 'level', { max: 5 }),
      new StuckDetector('s', 'flood-1', 'level', { epsilon: 0, durationMs: 1 }),
    ]);
    expect(own.detectors.map((d) => d.id)).toEqual(['north bank', 'flood-1/level/range-2', 's']);
    const events = own.onReading(r('flood-1', 0, 6));
    expect(events.map((e) => [e.detector, e.cause])).toEqual([
      ['north bank', 'level 6 m ≥ red (I) high limit 1 m'],
      ['flood-1/level/range-2', "level 6 above the sensor's physical maximum 5 (sensor fault): yellow (III)"],
    ]);
    expect(own.get('north bank')?.kind).toBe('threshold');
  });

  it('routes readings to their point only and returns every level change', () => {
    const set = createDetectors(cfg);
    expect(set.onReading(r('flood-1', 0, 1))).toEqual([]);
    // A 2.5 m jump in one second: yellow threshold and red rate of change at once.
    const events = set.onReading(r('flood-1', 1000, 3.5 - 1));
    expect(events.map((e) => [e.detector, e.level])).toEqual([
      ['flood-1/level/threshold', AlarmLevel.Yellow],
      ['flood-1/level/rate', AlarmLevel.Red],
    ]);
    expect(highestLevel(set)).toBe(AlarmLevel.Red);
    // flood-2 is independent.
    expect(set.onReading(r('flood-2', 1000, 0.5))).toEqual([]);
    expect(set.get('flood-2/level/threshold')!.level).toBe(AlarmLevel.Normal);
  });

  it('a quiet stream allocates no result: the same frozen empty array every time', () => {
    const set = createDetectors(cfg);
    const a = set.onReading(r('flood-1', 0, 1));
    const b = set.onReading(r('flood-1', 1, 1));
    const c = set.onReading(r('nobody', 2, 1));
    expect(a).toBe(b);
    expect(a).toBe(c);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('bad readings: no threshold alarm, counted, and a sensor fault after badCount', () => {
    const set = createDetectors(cfg);
    expect(set.onReading(r('flood-1', 0, 99, Quality.Bad))).toEqual([]);
    const events = set.onReading(r('flood-1', 1, Number.NaN));
    expect(events.map((e) => [e.kind, e.level])).toEqual([['range', AlarmLevel.Yellow]]);
    expect((set.get('flood-1/level/threshold') as unknown as { faultCandidates: number }).faultCandidates).toBe(2);
  });

  it('rejects a config that cannot work, listing every error', () => {
    expect(() =>
      createDetectors({ points: [{ device: 'd', point: 'p', threshold: { high: { yellow: 5, red: 4 } }, rate: { windowMs: -1, rise: 1 } }] }),
    ).toThrow(/2 error\(s\)[\s\S]*rate\.windowMs[\s\S]*high\.red/);
  });

  it('runs a multivariate detector over the points of one device', () => {
    const set = createDetectors({ multivariate: [{ device: 'pump', points: ['a', 'b'], warmup: 20, onDelayMs: 0 }] });
    const det = set.get('pump/multivariate')!;
    for (let t = 0; t < 20; t++) {
      set.onReading({ device: 'pump', point: 'a', ts: t, value: t % 2 });
      set.onReading({ device: 'pump', point: 'b', ts: t, value: (t % 3) / 3 });
    }
    set.onReading({ device: 'pump', point: 'a', ts: 20, value: 50 });
    const events = set.onReading({ device: 'pump', point: 'b', ts: 20, value: 0 });
    expect(events.map((e) => [e.detector, e.point, e.level])).toEqual([['pump/multivariate', 'a', AlarmLevel.Orange]]);
    expect(det.level).toBe(AlarmLevel.Orange);
  });
});
