import { describe, expect, it } from 'vitest';
import { AlarmLevel, Quality, type Reading } from '@lifeline/shared';
import { detectorsConfigIssues } from '@lifeline/shared/config';
import { createDetectors } from './engine.js';
import { RainstormDetector, type RainstormOptions } from './rainstorm.js';
import type { DetectorEvent } from './types.js';

// Bucket-aligned start (5-minute buckets), so the hand-worked windows below are exact.
const T0 = Date.UTC(2026, 6, 20, 0, 0);
const MIN = 60_000;
const r = (min: number, value: number): Reading => ({ device: 'rain-1', point: 'rainfall', ts: T0 + min * MIN, value, quality: Quality.Good });

/** Feeds (minute, value) pairs; returns `level@minute` for each event. */
function run(d: RainstormDetector, series: [number, number][]): string[] {
  const out: string[] = [];
  for (const [m, v] of series) {
    const e = d.update(r(m, v));
    if (e) out.push(`${AlarmLevel[e.level]}@${m}`);
  }
  return out;
}
const every10 = (fromMin: number, n: number, mm: number): [number, number][] => Array.from({ length: n }, (_, k) => [fromMin + 10 * k, mm]);
const make = (o: RainstormOptions) => new RainstormDetector('rain-1/rainfall/rainstorm', 'rain-1', 'rainfall', o);

describe('rainstorm detector (CMA colours: blue 50 mm/12 h, yellow 50/6 h, orange 50/3 h, red 100/3 h)', () => {
  it('6 mm/h for 12 h: blue at the 50th 10-minute reading (50 mm in 8 h 10 min); 6 h never holds 50 mm', () => {
    const d = make({ input: 'interval' });
    // 1 mm every 10 min: the 12 h total is 50 mm at reading 50 (minute 490); 6 h hold at most 36 readings = 36 mm.
    expect(run(d, every10(0, 72, 1))).toEqual(['Blue@490']);
    expect(d.total(12)).toBe(72);
    expect(d.total(6)).toBe(36);
  });

  it('12 mm/h: straight to yellow at minute 240 (50 mm in 4 h 10 min), the 3 h total then only 36 mm', () => {
    const d = make({ input: 'interval' });
    const events: DetectorEvent[] = [];
    for (const [m, v] of every10(0, 25, 2)) {
      const e = d.update(r(m, v));
      if (e) events.push(e);
    }
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ level: AlarmLevel.Yellow, previous: AlarmLevel.Normal, ts: T0 + 240 * MIN, limit: { side: 'high', level: AlarmLevel.Yellow, limit: 50 } });
    expect(events[0].cause).toMatch(/50 mm in 6 h reached 50 mm: rainstorm yellow/);
    expect(d.total(3)).toBe(36);
  });

  it('36 mm/h then dry: orange at 80, red at 160; clears with hysteresis one colour at a time (red 240, orange 310)', () => {
    const d = make({ input: 'interval' });
    // 6 mm per 10 min: 54 mm at minute 80 (9 readings) → orange; 102 mm at minute 160 (17 readings) → red.
    // Then dry. The 3 h window at minute t holds readings at ts ≥ t − 175 min:
    //   t=200: 30..160 = 14 × 6 = 84 mm ≥ 80 (0.8 × 100): red holds;  t=210: 78 mm < 80: below since 210,
    //   30 min later (t=240) red drops to orange (60 mm ≥ 40);  t=280: 36 mm < 40: below since 280 → at 310 orange
    //   drops to yellow (the 6 h window still holds all 102 mm).
    const wet = every10(0, 17, 6);
    const dry = every10(170, 20, 0);
    expect(run(d, [...wet, ...dry])).toEqual(['Orange@80', 'Red@160', 'Orange@240', 'Yellow@310']);
  });

  it('a shower that brushes a limit does not chatter: a colour drops only after offDelay below the hold share', () => {
    const d = make({ input: 'interval', levels: { orange: { hours: 3, mm: 50 } }, offDelayMs: 30 * MIN });
    // 50 mm at minute 0 → orange; then 0 mm: the 3 h total stays 50 until minute 180 (bucket 36 leaves) ...
    expect(run(d, [[0, 50], ...every10(10, 17, 0)])).toEqual(['Orange@0']);
    // ... falls to 0 at minute 180, so orange drops 30 min later.
    expect(run(d, every10(180, 4, 0))).toEqual(['Normal@210']);
  });

  it('tipping-bucket counter: takes a wrap at rollover and a restart from 0, and raises orange at 52 mm in 50 min', () => {
    const d = make({ input: 'counter', rollover: 6553.6 });
    // 0.1 mm per tip on a uint16 count: the total wraps at 6553.6 mm.
    //   6530 (baseline) → 6545 (+15) → 6553 (+8) → 3.4 (wrap: +4.0) → 18.4 (+15) → 1 (restart: +1) → 10 (+9) = 52 mm.
    const out = run(d, [
      [0, 6530],
      [10, 6545],
      [20, 6553],
      [30, 3.4],
      [40, 18.4],
      [45, 1],
      [50, 10],
    ]);
    expect(out).toEqual(['Orange@50']);
    expect(d.total(3)).toBeCloseTo(52, 9);
    expect(d.stats).toEqual({ rollovers: 1, resets: 1, refused: 0 });
  });

  it('refuses an unbelievable step and re-baselines, so one glitch never poisons the next readings', () => {
    const d = make({ input: 'counter', maxStep: 30 });
    expect(run(d, [[0, 0], [1, 500], [2, 510], [3, 512]])).toEqual([]);
    expect(d.total(3)).toBe(12);
    expect(d.stats.refused).toBe(1);
    // Bad quality and NaN are not rain either.
    expect(d.update({ ...r(4, NaN) })).toBeNull();
    expect(d.update({ ...r(5, 999), quality: Quality.Bad })).toBeNull();
    expect(d.total(3)).toBe(12);
  });

  it('interval input with intervalMs: a rolling 10-minute total polled every minute is counted once per interval', () => {
    const d = make({ input: 'interval', intervalMs: 10 * MIN });
    for (let m = 0; m <= 60; m++) d.update(r(m, 6));
    expect(d.total(3)).toBe(42); // minutes 0, 10, ..., 60
  });

  it('keeps bounded memory: a long gap empties the windows instead of walking them', () => {
    const d = make({ input: 'interval' });
    expect(run(d, every10(0, 10, 6))).toEqual(['Orange@80']); // 9 × 6 = 54 mm at minute 80
    expect(d.total(3)).toBe(60);
    const later = 60 * 24 * 365 * 50; // fifty years of buckets: one reset, not 5 million steps
    expect(run(d, [[later, 0], [later + 30, 0]])).toEqual([`Normal@${later + 30}`]);
    expect(d.total(12)).toBe(0);
  });

  it('is built by createDetectors from a config entry, and bad configs are listed with their fields', () => {
    const set = createDetectors({ points: [{ device: 'rain-1', point: 'rainfall', unit: 'mm', rainstorm: { input: 'counter', rollover: 6553.6 } }] });
    expect(set.get('rain-1/rainfall/rainstorm')).toBeInstanceOf(RainstormDetector);
    const issues = detectorsConfigIssues({
      points: [
        { device: 'a', point: 'rainfall', rainstorm: { input: 'counter', intervalMs: 600000, levels: { blue: { hours: 12, mm: 50 }, yellow: { hours: 12, mm: 40 } } } },
        { device: 'b', point: 'rainfall', rainstorm: { input: 'sometimes' } },
      ],
    });
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['points[0].rainstorm.intervalMs', 'points[0].rainstorm.levels.yellow', 'points[1].rainstorm.input']));
    expect(issues.find((i) => i.path === 'points[0].rainstorm.levels.yellow')?.message).toMatch(/more rain or a shorter window than blue \(50 mm in 12 h\), got 40 mm in 12 h/);
  });
});
