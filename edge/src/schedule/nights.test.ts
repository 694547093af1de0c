import { describe, expect, it } from 'vitest';
import { lampState, nightOf, type NightPlan } from './nights.js';

const jining = { lon: 116.59, lat: 35.41, zone: 'Asia/Shanghai' };
/** An instant given as China Standard Time. */
const cst = (s: string) => Date.parse(`${s}+08:00`);
const show = (ms?: number) => (ms === undefined ? undefined : new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' '));
/** Guanghe Road: on at dusk, 50 % after midnight, off at dawn. */
const guanghe: NightPlan = { on: { at: 'dusk', offsetMin: 0 }, off: { at: 'dawn', offsetMin: 0 }, percent: 100, dim: [{ minutes: 0, percent: 50 }] };

describe('lampState', () => {
  it('is off at noon, and names dusk as the next transition', () => {
    const s = lampState(guanghe, jining, cst('2026-12-21T12:00'));
    expect(s).toMatchObject({ on: false });
    expect(show(s.next)).toBe('2026-12-21 17:32'); // dusk 17:32:53 CST (sun.test.ts)
  });

  it('is on at 18:00 in December (dusk 17:33) and off at 18:00 in June (dusk 20:02)', () => {
    expect(lampState(guanghe, jining, cst('2026-12-21T18:00'))).toMatchObject({ on: true, percent: 100 });
    const june = lampState(guanghe, jining, cst('2026-06-21T18:00'));
    expect(june.on).toBe(false);
    expect(show(june.next)).toBe('2026-06-21 20:01');
  });

  it('dims to 50 % at midnight and stays dimmed until dawn, then off', () => {
    const before = lampState(guanghe, jining, cst('2026-12-21T23:59'));
    expect(before).toMatchObject({ on: true, percent: 100 });
    expect(show(before.next)).toBe('2026-12-22 00:00');
    const after = lampState(guanghe, jining, cst('2026-12-22T01:30'));
    expect(after).toMatchObject({ on: true, percent: 50 });
    expect(show(after.next)).toBe('2026-12-22 06:50'); // dawn of 22 December
    expect(lampState(guanghe, jining, cst('2026-12-22T06:55'))).toMatchObject({ on: false });
  });

  it('shifts by the offsets and mixes the sun with the clock (on 15 min after sunset, off 23:30)', () => {
    const plan: NightPlan = { on: { at: 'sunset', offsetMin: 15 }, off: { at: { minutes: 23 * 60 + 30 }, offsetMin: 0 }, percent: 80, dim: [{ minutes: 0, percent: 30 }] };
    const night = nightOf(plan, { year: 2026, month: 12, day: 21 }, jining)!;
    expect(show(night.on)).toBe('2026-12-21 17:19'); // sunset 17:04:31 + 15 min
    expect(show(night.off)).toBe('2026-12-21 23:30'); // the same evening: the first 23:30 after on
    // Midnight falls after off: that night has no dimming step.
    expect(night.steps.map((s) => s.percent)).toEqual([80]);
    expect(lampState(plan, jining, cst('2026-12-21T23:45'))).toMatchObject({ on: false });
  });

  it('runs across midnight on clock times only (no position needed)', () => {
    const plan: NightPlan = { on: { at: { minutes: 19 * 60 }, offsetMin: 0 }, off: { at: { minutes: 5 * 60 }, offsetMin: 0 }, percent: 100, dim: [] };
    const nowhere = { lon: Number.NaN, lat: Number.NaN, zone: 'Asia/Shanghai' };
    expect(lampState(plan, nowhere, cst('2026-03-01T04:59'))).toMatchObject({ on: true, percent: 100 });
    expect(show(lampState(plan, nowhere, cst('2026-03-01T05:00')).next)).toBe('2026-03-01 19:00');
  });

  it('keeps the lamps off in polar day: no sunset, no night', () => {
    const tromso = { lon: 18.96, lat: 69.65, zone: 'Europe/Oslo' };
    expect(lampState(guanghe, tromso, Date.parse('2026-06-21T22:00Z'))).toEqual({ on: false, next: undefined });
  });
});
