import { describe, expect, it } from 'vitest';
import { basinFill, chinaHour, demand, heatingCurve, lampLevel, outdoorTemperature, rainIntensity, stormPhase, stormRainfall, sunTimes, type Storm } from './city-signals.js';

const HOUR = 3_600_000;
/** Epoch ms of a China-time moment (UTC+8), whatever the test host's zone. */
const cst = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h, mi) - 8 * HOUR;
const storm: Storm = { everyMs: 600_000, firstAfterMs: 60_000, durationMs: 180_000, peakMmPerH: 60, stormHours: 1.5 };

describe('city signals (Jining)', () => {
  it('read the hour in China time, not the host zone', () => {
    expect(chinaHour(cst(2026, 12, 7, 19, 30))).toBeCloseTo(19.5, 6);
  });

  it('set the sun about 17:10 in December and 19:30 in June', () => {
    expect(sunTimes(cst(2026, 12, 21, 12)).sunset).toBeCloseTo(17.1, 0);
    expect(sunTimes(cst(2026, 6, 21, 12)).sunset).toBeCloseTo(19.5, 0);
  });

  it('light a street lamp from dusk, dim it after midnight and put it out at noon', () => {
    expect(lampLevel(cst(2026, 12, 7, 12))).toBe(0);
    expect(lampLevel(cst(2026, 12, 7, 16, 30))).toBe(0); // before the December dusk
    expect(lampLevel(cst(2026, 12, 7, 18))).toBe(100);
    expect(lampLevel(cst(2026, 12, 7, 23, 50))).toBe(100);
    expect(lampLevel(cst(2026, 12, 8, 2))).toBe(50);
    expect(lampLevel(cst(2026, 12, 8, 8))).toBe(0);
    expect(lampLevel(cst(2026, 6, 21, 18, 30))).toBe(0); // still daylight in June
  });

  it('draw most water at the morning and evening peaks, least before dawn', () => {
    const at = (h: number) => demand(cst(2026, 12, 7, h));
    expect(at(3)).toBeLessThan(0.5);
    expect(at(7.5)).toBeGreaterThan(at(10));
    expect(at(19.5)).toBeGreaterThan(at(7.5));
    expect(at(19.5)).toBeGreaterThan(1.2);
  });

  it('run the heating supply hotter when it is colder outside', () => {
    const night = outdoorTemperature(cst(2026, 12, 7, 5, 30));
    const afternoon = outdoorTemperature(cst(2026, 12, 7, 14, 30));
    expect(afternoon - night).toBeCloseTo(10, 5);
    expect(night).toBeLessThan(0); // a December night in Jining freezes
    expect(heatingCurve(night).supply).toBeGreaterThan(heatingCurve(afternoon).supply);
    expect(heatingCurve(-10).supply).toBeCloseTo(94, 5);
    expect(heatingCurve(-7).secondarySupply).toBeCloseTo(48.75, 5);
  });

  it('bring a storm that rains, fills a basin, then drains it before the next', () => {
    const s = 1000;
    expect(rainIntensity(storm, stormPhase(storm, 30 * s))).toBe(0); // dry before the first storm
    expect(rainIntensity(storm, stormPhase(storm, 150 * s))).toBeCloseTo(60, 5); // its peak
    expect(stormRainfall(storm, stormPhase(storm, 240 * s))).toBeCloseTo(45, 5); // 1.5 h at a mean 30 mm/h
    const depth = (sec: number) => basinFill(storm, sec * s, 60_000);
    expect(depth(60)).toBe(0);
    expect(depth(150)).toBeGreaterThan(depth(120));
    const worst = Math.max(...Array.from({ length: 120 }, (_, i) => depth(60 + i * 5)));
    expect(worst).toBeGreaterThan(0.95);
    expect(depth(420)).toBeLessThan(0.05); // pumped out within three minutes of the rain stopping
    expect(depth(600 + 150)).toBeCloseTo(depth(150), 2); // and the next storm, ten minutes on, does it again
  });
});
