import { AlarmLevel, Quality, type Reading } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { RangeDetector } from './range.js';

const r = (ts: number, value: number, quality?: Quality): Reading => ({ device: 'flood-1', point: 'level', ts, value, quality });

describe('RangeDetector', () => {
  it('fires outside the physical range and clears when valid again', () => {
    const d = new RangeDetector('x', 'flood-1', 'level', { min: 0, max: 10, unit: 'm' });
    expect(d.update(r(0, 5))).toBeNull();
    const e = d.update(r(1, -0.4));
    expect(e).toMatchObject({ level: AlarmLevel.Yellow, previous: AlarmLevel.Normal, value: -0.4 });
    expect(e!.cause).toContain('below the sensor\'s physical minimum 0 m');
    expect(d.update(r(2, 11))).toBeNull(); // already in fault: no duplicate
    expect(d.update(r(3, 4))).toMatchObject({ level: AlarmLevel.Normal, previous: AlarmLevel.Yellow });
    expect(d.update(r(4, 10.5))!.cause).toContain('above the sensor\'s physical maximum 10 m');
  });

  it('raises a sensor fault after badCount consecutive NaN or Bad readings', () => {
    const d = new RangeDetector('x', 'flood-1', 'level', { badCount: 3, level: AlarmLevel.Orange });
    expect(d.update(r(0, Number.NaN))).toBeNull();
    expect(d.update(r(1, 3, Quality.Bad))).toBeNull();
    expect(d.update(r(2, 2))).toBeNull(); // a good reading breaks the run
    expect(d.update(r(3, Number.NaN))).toBeNull();
    expect(d.update(r(4, Number.NaN))).toBeNull();
    const e = d.update(r(5, Number.NaN));
    expect(e).toMatchObject({ level: AlarmLevel.Orange, ts: 5 });
    expect(e!.cause).toContain('3 readings in a row');
    expect(d.update(r(6, 1))?.level).toBe(AlarmLevel.Normal);
  });
});
