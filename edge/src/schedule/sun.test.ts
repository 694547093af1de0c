import { describe, expect, it } from 'vitest';
import { sunTimes } from './sun.js';

/** Jining, Shandong (the demo site's city), China Standard Time UTC+8. */
const jining = { lon: 116.59, lat: 35.41 };
const cst = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms + 8 * 3_600_000).toISOString().slice(11, 16));
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
/** Within ±2 minutes of the reference (hh:mm, CST). */
function near(ms: number | undefined, hhmm: string) {
  expect(ms).toBeDefined();
  const got = minutes(cst(ms)!);
  expect(Math.abs(got - minutes(hhmm)), `${cst(ms)} vs ${hhmm}`).toBeLessThanOrEqual(2);
}

describe('sunTimes', () => {
  // Reference: NOAA ESRL/GML Solar Calculator (gml.noaa.gov/grad/solcalc) for 35.41 N, 116.59 E,
  // time zone +8, no DST; dawn/dusk: civil twilight (sun 6° below the horizon). Transcribed by hand
  // (the calculator was not reachable when this was written) and cross-checked with a second,
  // independent method, the "sunrise equation" (en.wikipedia.org/wiki/Sunrise_equation, complete
  // form, h0 −0.833° / −6°): every value below agrees with it within 1 minute.
  it.each([
    // date,          dawn,    sunrise, sunset,  dusk
    ['2026-06-21', '04:29', '04:59', '19:32', '20:02'],
    ['2026-12-21', '06:50', '07:19', '17:05', '17:33'],
    ['2026-03-20', '05:53', '06:18', '18:25', '18:50'],
    ['2026-09-23', '05:37', '06:02', '18:10', '18:35'],
  ])('Jining %s: dawn %s, sunrise %s, sunset %s, dusk %s (CST, ±2 min)', (date, dawn, sunrise, sunset, dusk) => {
    const [year, month, day] = date.split('-').map(Number);
    const s = sunTimes({ year, month, day }, jining.lon, jining.lat);
    near(s.dawn, dawn);
    near(s.sunrise, sunrise);
    near(s.sunset, sunset);
    near(s.dusk, dusk);
  });

  it('puts solar noon at 12:13.6 CST (Jining lies 3.41° west of 120° E) less the equation of time', () => {
    // Early November the equation of time is about +16 min, mid-February about −14 min.
    near(sunTimes({ year: 2026, month: 11, day: 3 }, jining.lon, jining.lat).noon, '11:57');
    near(sunTimes({ year: 2026, month: 2, day: 11 }, jining.lon, jining.lat).noon, '12:28');
  });

  it('returns no sunrise or sunset in polar day and polar night (Tromsø, 69.65 N)', () => {
    const june = sunTimes({ year: 2026, month: 6, day: 21 }, 18.96, 69.65);
    expect([june.sunrise, june.sunset, june.dawn, june.dusk]).toEqual([undefined, undefined, undefined, undefined]);
    const december = sunTimes({ year: 2026, month: 12, day: 21 }, 18.96, 69.65);
    expect([december.sunrise, december.sunset]).toEqual([undefined, undefined]);
    // The sun stays below the horizon but rises above −6°: civil twilight still comes and goes at noon.
    expect(december.dawn).toBeLessThan(december.noon);
    expect(december.dusk).toBeGreaterThan(december.noon);
    // Antarctic midwinter: not even twilight.
    const pole = sunTimes({ year: 2026, month: 6, day: 21 }, 0, -89);
    expect([pole.dawn, pole.sunrise, pole.sunset, pole.dusk]).toEqual([undefined, undefined, undefined, undefined]);
  });
});
