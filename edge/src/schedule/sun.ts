/**
 * Sunrise, sunset and civil twilight for a date and a WGS-84 position: the
 * NOAA solar calculator's algorithm (Meeus, "Astronomical Algorithms", ch. 25,
 * low-precision solar coordinates), good to about a minute between ±72° latitude.
 * Pure: no clock, no zone; the gateway computes it offline.
 *
 *     date, lon ─▶ solar noon (UTC) ─▶ sun's declination + equation of time at the event
 *          lat ─▶ hour angle for the zenith (90.833° rise/set, 96° civil) ─▶ noon ∓ hour angle
 *
 * Each event is iterated once: the sun's position is taken at the event itself,
 * not at noon (that is worth up to a minute at the solstices' neighbours).
 */

/** Zenith of the sun's centre at an event: 90°50' for the upper limb on a refracted horizon, 96° for civil twilight. */
const zeniths = { rise: 90.833, civil: 96 } as const;

/** The sun's events of one solar day, as UTC instants (ms); `undefined` where the sun does not cross that zenith that day. */
export interface SunTimes {
  /** Civil dawn: the sun's centre 6° below the horizon, rising. */
  dawn?: number;
  /** Upper limb on the horizon, rising. */
  sunrise?: number;
  /** Upper limb on the horizon, setting. */
  sunset?: number;
  /** Civil dusk: the sun's centre 6° below the horizon, setting. */
  dusk?: number;
  /** Solar noon (always there). */
  noon: number;
}

const rad = Math.PI / 180;

/** Declination (degrees) and equation of time (minutes) at an instant (NOAA spreadsheet, columns G..V). */
function solarPosition(ms: number): { decl: number; eot: number } {
  const jd = ms / 86_400_000 + 2_440_587.5;
  const t = (jd - 2_451_545) / 36_525;
  const l0 = (((280.46646 + t * (36000.76983 + t * 0.0003032)) % 360) + 360) % 360;
  const m = 357.52911 + t * (35999.05029 - 0.0001537 * t);
  const e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
  const c = Math.sin(m * rad) * (1.914602 - t * (0.004817 + 0.000014 * t)) + Math.sin(2 * m * rad) * (0.019993 - 0.000101 * t) + Math.sin(3 * m * rad) * 0.000289;
  const omega = 125.04 - 1934.136 * t;
  const lambda = l0 + c - 0.00569 - 0.00478 * Math.sin(omega * rad);
  const eps0 = 23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60;
  const eps = eps0 + 0.00256 * Math.cos(omega * rad);
  const decl = Math.asin(Math.sin(eps * rad) * Math.sin(lambda * rad)) / rad;
  const y = Math.tan((eps / 2) * rad) ** 2;
  const eot =
    (4 / rad) *
    (y * Math.sin(2 * l0 * rad) - 2 * e * Math.sin(m * rad) + 4 * e * y * Math.sin(m * rad) * Math.cos(2 * l0 * rad) - 0.5 * y * y * Math.sin(4 * l0 * rad) - 1.25 * e * e * Math.sin(2 * m * rad));
  return { decl, eot };
}

/** Hour angle (degrees) at which the sun's centre reaches `zenith`, or undefined when it stays above or below it all day. */
function hourAngle(lat: number, decl: number, zenith: number): number | undefined {
  const cosH = (Math.cos(zenith * rad) - Math.sin(lat * rad) * Math.sin(decl * rad)) / (Math.cos(lat * rad) * Math.cos(decl * rad));
  return cosH < -1 || cosH > 1 ? undefined : Math.acos(cosH) / rad;
}

/**
 * The sun's events of the solar day around `date`'s solar noon at longitude `lon`
 * (east positive). `date` is a calendar date (year, month 1..12, day); the solar
 * noon falls on it at UTC 12:00 − lon/15 h, so for a zone near its mean solar time
 * (China Standard Time at 116.6° E: 40 min) the events lie on that local date.
 */
export function sunTimes(date: { year: number; month: number; day: number }, lon: number, lat: number): SunTimes {
  const midnight = Date.UTC(date.year, date.month - 1, date.day);
  const at = (minutes: number) => midnight + Math.round(minutes * 60_000);
  const noonAt = (ms: number) => 720 - 4 * lon - solarPosition(ms).eot;
  const noon = noonAt(at(noonAt(at(720 - 4 * lon))));
  // One event: first guess from the sun at noon, then again from the sun at the guess.
  const event = (zenith: number, sign: -1 | 1): number | undefined => {
    let minutes = noon;
    for (let i = 0; i < 2; i++) {
      const { decl, eot } = solarPosition(at(minutes));
      const h = hourAngle(lat, decl, zenith);
      if (h === undefined) return undefined;
      minutes = 720 - 4 * lon - eot + sign * 4 * h;
    }
    return at(minutes);
  };
  return { noon: at(noon), dawn: event(zeniths.civil, -1), sunrise: event(zeniths.rise, -1), sunset: event(zeniths.rise, 1), dusk: event(zeniths.civil, 1) };
}
