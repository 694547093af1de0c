import { AlarmLevel, Quality, type Reading } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { StuckDetector } from './stuck.js';

const r = (ts: number, value: number, quality?: Quality): Reading => ({ device: 'bridge-2', point: 'strain', ts, value, quality });

describe('StuckDetector', () => {
  it('fires when the value stays within epsilon for the duration and clears when it moves', () => {
    const d = new StuckDetector('s', 'bridge-2', 'strain', { epsilon: 0.01, durationMs: 60_000, unit: 'µε' });
    const events = [];
    for (let t = 0; t <= 60_000; t += 10_000) events.push(d.update(r(t, 120 + (t % 20_000 ? 0.005 : 0))));
    expect(events.slice(0, -1).every((e) => e === null)).toBe(true);
    expect(events.at(-1)).toMatchObject({ ts: 60_000, level: AlarmLevel.Yellow, previous: AlarmLevel.Normal });
    expect(events.at(-1)!.cause).toContain('stuck at 120');
    expect(d.update(r(70_000, 120.005))).toBeNull(); // still within epsilon: stays raised, no duplicate
    expect(d.update(r(80_000, 125))).toMatchObject({ level: AlarmLevel.Normal, previous: AlarmLevel.Yellow });
  });

  it('a slow drift larger than epsilon is movement, even if each step is smaller', () => {
    const d = new StuckDetector('s', 'bridge-2', 'strain', { epsilon: 0.01, durationMs: 5000 });
    for (let i = 0; i < 100; i++) expect(d.update(r(i * 1000, i * 0.004))).toBeNull();
  });

  it('NaN and Bad readings neither reset nor feed the run', () => {
    const d = new StuckDetector('s', 'bridge-2', 'strain', { epsilon: 0, durationMs: 3000 });
    d.update(r(0, 1));
    d.update(r(1000, Number.NaN));
    d.update(r(2000, 50, Quality.Bad));
    expect(d.update(r(3000, 1))?.level).toBe(AlarmLevel.Yellow);
  });
});
