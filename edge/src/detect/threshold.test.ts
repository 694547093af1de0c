import { AlarmLevel, Quality, type Reading } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { ThresholdDetector, ThresholdLimits, type ThresholdOptions } from './threshold.js';

const r = (ts: number, value: number, quality?: Quality): Reading => ({ device: 'flood-1', point: 'level', ts, value, quality });

function run(opts: ThresholdOptions, series: [number, number][]) {
  const d = new ThresholdDetector('t', 'flood-1', 'level', opts);
  const events = series.map(([ts, v]) => d.update(r(ts, v))).filter((e) => e !== null);
  return { d, events };
}

const four = { blue: 1, yellow: 2, orange: 3, red: 4 };

describe('ThresholdDetector', () => {
  it('raises, escalates, de-escalates and clears through the four colours on the high side', () => {
    const { events } = run({ high: four }, [
      [0, 0.5],
      [1, 1.0],
      [2, 2.5],
      [3, 4.2],
      [4, 3.5],
      [5, 0.2],
    ]);
    expect(events.map((e) => [e.ts, e.previous, e.level])).toEqual([
      [1, AlarmLevel.Normal, AlarmLevel.Blue],
      [2, AlarmLevel.Blue, AlarmLevel.Yellow],
      [3, AlarmLevel.Yellow, AlarmLevel.Red],
      [4, AlarmLevel.Red, AlarmLevel.Orange],
      [5, AlarmLevel.Orange, AlarmLevel.Normal],
    ]);
    expect(events[2].limit).toEqual({ side: 'high', level: AlarmLevel.Red, limit: 4 });
    expect(events[2].value).toBe(4.2);
    expect(events[2].cause).toContain('red (I) high limit 4');
    expect(events[4].limit).toBeUndefined();
    expect(events[4].cause).toContain('cleared');
  });

  it('fires on the low side at or below the limit', () => {
    const { events } = run({ low: { yellow: 10, red: 5 } }, [
      [0, 12],
      [1, 10],
      [2, 4],
      [3, 11],
    ]);
    expect(events.map((e) => [e.level, e.limit?.side])).toEqual([
      [AlarmLevel.Yellow, 'low'],
      [AlarmLevel.Red, 'low'],
      [AlarmLevel.Normal, undefined],
    ]);
  });

  it('does not chatter inside the deadband', () => {
    const noisy: [number, number][] = [0, 2.05, 1.97, 2.02, 1.95, 2.01, 1.92, 1.85].map((v, i) => [i * 1000, v]);
    const without = run({ high: { yellow: 2 } }, noisy).events;
    const withDb = run({ high: { yellow: 2 }, deadband: 0.1 }, noisy).events;
    expect(without.length).toBeGreaterThan(4);
    // Raised once at 2.05, cleared only below 1.9.
    expect(withDb.map((e) => [e.ts, e.level])).toEqual([
      [1000, AlarmLevel.Yellow],
      [7000, AlarmLevel.Normal],
    ]);
  });

  it('on-delay: a spike shorter than the delay never raises; a sustained excursion does, at the delay', () => {
    const spike = run({ high: { red: 4 }, onDelayMs: 5000 }, [
      [0, 5],
      [3000, 5],
      [4000, 1],
      [10000, 1],
    ]);
    expect(spike.events).toEqual([]);
    const sustained = run({ high: { red: 4 }, onDelayMs: 5000 }, [
      [0, 5],
      [4999, 5],
      [5000, 5],
    ]);
    expect(sustained.events.map((e) => [e.ts, e.level])).toEqual([[5000, AlarmLevel.Red]]);
  });

  it('off-delay: the level holds until the value has been clear for the delay', () => {
    const { events } = run({ high: { red: 4 }, offDelayMs: 10_000 }, [
      [0, 5],
      [1000, 3],
      [5000, 4.5], // back above: the clearing timer restarts
      [6000, 3],
      [15_999, 3],
      [16_000, 3],
    ]);
    expect(events.map((e) => [e.ts, e.level])).toEqual([
      [0, AlarmLevel.Red],
      [16_000, AlarmLevel.Normal],
    ]);
  });

  it('each level has its own on-delay when escalating', () => {
    const { events } = run({ high: { yellow: 2, red: 4 }, onDelayMs: 2000 }, [
      [0, 3],
      [1000, 5],
      [2000, 5], // yellow has held 2 s, red only 1 s
      [3000, 5],
    ]);
    expect(events.map((e) => [e.ts, e.level])).toEqual([
      [2000, AlarmLevel.Yellow],
      [3000, AlarmLevel.Red],
    ]);
  });

  it('a NaN or Bad reading never fires and is counted as a sensor-fault candidate', () => {
    const d = new ThresholdDetector('t', 'flood-1', 'level', { high: four });
    expect(d.update(r(0, Number.NaN))).toBeNull();
    expect(d.update(r(1, 99, Quality.Bad))).toBeNull();
    expect(d.update(r(2, Number.POSITIVE_INFINITY))).toBeNull();
    expect(d.level).toBe(AlarmLevel.Normal);
    expect(d.faultCandidates).toBe(3);
    // An Uncertain (e.g. over-range) reading is still a value: a flooded gauge must go red.
    expect(d.update(r(3, 99, Quality.Uncertain))?.level).toBe(AlarmLevel.Red);
  });

  it('a Bad reading in the middle of an alarm neither clears nor restarts the delay', () => {
    const { d, events } = run({ high: { red: 4 }, offDelayMs: 2000 }, [[0, 5]]);
    expect(events).toHaveLength(1);
    expect(d.update(r(500, Number.NaN))).toBeNull();
    expect(d.update(r(1000, 1))).toBeNull();
    expect(d.update(r(1500, 1, Quality.Bad))).toBeNull();
    expect(d.update(r(3000, 1))?.level).toBe(AlarmLevel.Normal);
  });
});

describe('ThresholdLimits (issue #18: shared limit lists)', () => {
  it('detectors of one set with the same limits share one frozen list of causes and keep their own latches', () => {
    const shared = new ThresholdLimits();
    const a = new ThresholdDetector('a', 'flood-1', 'level', { high: { yellow: 2, red: 4 } }, shared);
    const b = new ThresholdDetector('b', 'flood-2', 'level', { high: { red: 4, yellow: 2 } }, shared);
    const ea = a.update(r(0, 4.5));
    expect(ea?.level).toBe(AlarmLevel.Red);
    expect(ea?.limit).toEqual({ side: 'high', level: AlarmLevel.Red, limit: 4 });
    expect(Object.isFrozen(ea?.limit)).toBe(true);
    // b saw nothing yet: still normal, and its first reading over yellow raises yellow with the same cause object a would give.
    expect(b.level).toBe(AlarmLevel.Normal);
    const eb = b.update({ device: 'flood-2', point: 'level', ts: 0, value: 2.5 });
    expect(eb?.level).toBe(AlarmLevel.Yellow);
    expect(a.update(r(1, 2.5))?.limit).toBe(eb?.limit);
    expect(shared.of({ yellow: 2, red: 4 }, undefined)).toBe(shared.of({ red: 4, yellow: 2 }, undefined));
    expect(shared.of({ yellow: 2 }, { yellow: 2 }).map((c) => c.side)).toEqual(['high', 'low']);
  });
});
