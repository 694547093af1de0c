import { AlarmLevel, Quality, type Reading } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { RateDetector } from './rate.js';

const r = (ts: number, value: number, quality?: Quality): Reading => ({ device: 'main-7', point: 'pressure', ts, value, quality });

describe('RateDetector', () => {
  it('fires on a pressure drop within the window (burst), not on the same drop spread over a longer time', () => {
    const burst = new RateDetector('r', 'main-7', 'pressure', { windowMs: 10_000, fall: 0.2, level: AlarmLevel.Red, unit: 'MPa' });
    const slow = new RateDetector('r', 'main-7', 'pressure', { windowMs: 10_000, fall: 0.2 });
    const fast = [0.5, 0.5, 0.49, 0.4, 0.28];
    const events = fast.map((v, i) => burst.update(r(i * 1000, v))).filter((e) => e);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ts: 4000, level: AlarmLevel.Red, previous: AlarmLevel.Normal, value: 0.28 });
    expect(events[0]!.cause).toContain('fell 0.22 MPa within 10 s');
    // 0.3 MPa over 60 s: never more than 0.05 per 10 s window.
    for (let i = 0; i <= 60; i++) expect(slow.update(r(i * 1000, 0.5 - (0.3 * i) / 60))).toBeNull();
  });

  it('fires on a sudden rise and clears once the rise has left the window', () => {
    const d = new RateDetector('r', 'gauge', 'level', { windowMs: 5000, rise: 1 });
    expect(d.update(r(0, 1))).toBeNull();
    expect(d.update(r(1000, 2.5))?.level).toBe(AlarmLevel.Orange);
    // Stays raised while the rise is in the window, even though the level is steady now.
    // (the window [ts − 5 s, ts] still holds the 1 at ts = 0 up to ts = 5000).
    for (let t = 2000; t <= 5000; t += 1000) expect(d.update(r(t, 2.5))).toBeNull();
    expect(d.level).toBe(AlarmLevel.Orange);
    expect(d.update(r(6000, 2.5))?.level).toBe(AlarmLevel.Normal);
  });

  it('only checks the directions configured', () => {
    const d = new RateDetector('r', 'gauge', 'level', { windowMs: 5000, rise: 1 });
    expect(d.update(r(0, 10))).toBeNull();
    expect(d.update(r(1000, 0))).toBeNull();
  });

  it('ignores NaN and Bad readings', () => {
    const d = new RateDetector('r', 'main-7', 'pressure', { windowMs: 10_000, fall: 0.2 });
    d.update(r(0, 0.5));
    expect(d.update(r(1000, Number.NaN))).toBeNull();
    expect(d.update(r(2000, 0, Quality.Bad))).toBeNull();
    expect(d.level).toBe(AlarmLevel.Normal);
  });

  it('keeps memory bounded: a full ring drops the oldest samples', () => {
    const d = new RateDetector('r', 'main-7', 'pressure', { windowMs: 1e9, fall: 5, maxSamples: 8 });
    d.update(r(0, 10));
    for (let i = 1; i <= 8; i++) d.update(r(i, 7));
    // The 10 has been pushed out of the 8-sample ring: 10 → 4 is no longer seen, 7 → 4 is only 3.
    expect(d.update(r(9, 4))).toBeNull();
    expect(d.update(r(10, 1.9))?.level).toBe(AlarmLevel.Orange);
  });

  it('matches a brute-force window max/min over a random walk', () => {
    const d = new RateDetector('r', 'x', 'y', { windowMs: 50, fall: 3, rise: 3, maxSamples: 64 });
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const hist: [number, number][] = [];
    let v = 0;
    let ts = 0;
    for (let i = 0; i < 2000; i++) {
      ts += 1 + Math.floor(rnd() * 5);
      v += (rnd() - 0.5) * 2;
      hist.push([ts, v]);
      const before = d.level;
      d.update(r(ts, v));
      const inWin = hist.filter(([t]) => t >= ts - 50).slice(-64).map(([, x]) => x);
      const change = Math.max(Math.max(...inWin) - v, v - Math.min(...inWin));
      const expected = before === AlarmLevel.Normal ? change >= 3 : change >= 1.5;
      expect(d.level !== AlarmLevel.Normal).toBe(expected);
    }
  });
});
