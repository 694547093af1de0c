/**
 * Signal shapes of a city, as pure functions of time: when the sun sets in
 * Jining, how a street light follows it, when people draw water, how cold it
 * is outside and how a heating substation answers, and how a rainstorm fills
 * an underpass and drains away. The scene (scene.ts) hangs them on simulated
 * devices; the tests check them here without any device.
 *
 *   epoch ms ─▶ China time (UTC+8, whatever the host's zone) ─▶ sun, lamp level, demand, outdoor temperature
 *   storm phase ─▶ rain intensity ─▶ linear reservoir (inflow − drainage) ─▶ ponding, sewer and river rise
 *
 * Figures are typical for Jining (35.4° N, 116.6° E), not measured: good
 * enough that a day on the console looks like a day in the city.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** China Standard Time: the city's clocks, and its lighting schedules, run on UTC+8. */
const CST_OFFSET = 8 * HOUR;
/** Jining's longitude: the sun culminates about 14 minutes after noon on the UTC+8 clock. */
const JINING_LON = 116.59;
const SOLAR_NOON_H = 12 + ((120 - JINING_LON) * 4) / 60;

/** Hour of the day in China time, 0 ≤ h < 24 (fractional). */
export function chinaHour(ts: number): number {
  return ((((ts + CST_OFFSET) % DAY) + DAY) % DAY) / HOUR;
}

/** Day of the year in China time, 0 = 1 January. */
export function chinaDayOfYear(ts: number): number {
  const d = new Date(ts + CST_OFFSET);
  return Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY);
}

/**
 * Sunrise and sunset in Jining, China-time hours. Half the day length swings
 * between 4.9 h (winter solstice: sunset ≈ 17:07) and 7.25 h (summer: ≈ 19:29),
 * close to the almanac for 35.4° N; the equation of time is left out.
 */
export function sunTimes(ts: number): { sunrise: number; sunset: number } {
  const half = 6.07 - 1.18 * Math.cos((2 * Math.PI * (chinaDayOfYear(ts) + 10)) / 365);
  return { sunrise: SOLAR_NOON_H - half, sunset: SOLAR_NOON_H + half };
}

/**
 * A street light's output, % of rated: off by day, 100 % from dusk (a quarter
 * hour after sunset, when the photocell trips) to midnight, dimmed to 50 %
 * from midnight to dawn (a quarter hour before sunrise), when the road is
 * empty: the usual energy-saving schedule of city road lighting.
 * `offsetH` shifts one lamp's photocell a little so a row does not switch as one.
 */
export function lampLevel(ts: number, offsetH = 0): number {
  const h = chinaHour(ts);
  const { sunrise, sunset } = sunTimes(ts);
  if (h >= sunset + 0.25 + offsetH) return 100;
  if (h < sunrise - 0.25 + offsetH) return 50;
  return 0;
}

/** Daylight at a street photocell, lx: zero at night, up to about 60 000 lx at noon in summer (30 000 in winter). */
export function daylight(ts: number): number {
  const h = chinaHour(ts);
  const { sunrise, sunset } = sunTimes(ts);
  if (h <= sunrise || h >= sunset) return 0;
  const peak = 45_000 + 15_000 * Math.cos((2 * Math.PI * (chinaDayOfYear(ts) - 172)) / 365);
  return peak * Math.sin((Math.PI * (h - sunrise)) / (sunset - sunrise)) ** 1.5;
}

const bell = (h: number, mu: number, sigma: number) => Math.exp(-((h - mu) ** 2) / (2 * sigma ** 2));

/**
 * A city's draw on its water (and gas) network, relative to the daily mean
 * (about 1): lowest around 03:00 (0.45), a morning peak at 07:30, a smaller one
 * at lunch and the highest in the evening at 19:30, when households cook and wash.
 */
export function demand(ts: number): number {
  const h = chinaHour(ts);
  const daytime = 1 / (1 + Math.exp(-(h - 6.5) * 2)) - 1 / (1 + Math.exp(-(h - 22.5) * 2));
  return 0.45 + 0.3 * daytime + 0.55 * bell(h, 7.5, 1.2) + 0.25 * bell(h, 12, 1.2) + 0.6 * bell(h, 19.5, 1.5);
}

/**
 * Outdoor air temperature in Jining, °C: a seasonal mean from −1 °C (mid-January)
 * to 28.6 °C (mid-July), with a daily swing of ±5 °C: coldest at 05:30,
 * warmest at 14:30 (it warms for 9 h and cools for 15).
 */
export function outdoorTemperature(ts: number): number {
  const mean = 13.8 - 14.8 * Math.cos((2 * Math.PI * (chinaDayOfYear(ts) - 18)) / 365);
  const h = chinaHour(ts);
  const swing = 5;
  if (h >= 5.5 && h < 14.5) return mean - swing * Math.cos((Math.PI * (h - 5.5)) / 9);
  return mean + swing * Math.cos((Math.PI * ((h - 14.5 + 24) % 24)) / 15);
}

/** What a heating substation runs at for an outdoor temperature (°C in, °C and kW out). */
export interface HeatingPoint {
  /** Primary (network) supply temperature. */
  supply: number;
  /** Primary return temperature. */
  return: number;
  /** Secondary (building side) supply temperature. */
  secondarySupply: number;
  /** Secondary return temperature. */
  secondaryReturn: number;
}

/**
 * The substation's weather-compensation curve: quality regulation (质调节),
 * constant flow and a supply temperature that rises as it gets colder:
 * primary 80 °C at 0 °C outside, 94 °C at −10 °C, never below 65 °C;
 * buildings get about 49/38 °C at Jining's design temperature (−7 °C).
 */
export function heatingCurve(outdoor: number): HeatingPoint {
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  const supply = clamp(80 - 1.4 * outdoor, 65, 115);
  const secondarySupply = clamp(35 + 0.55 * (18 - outdoor), 30, 60);
  return {
    supply,
    return: 38 + 0.4 * (supply - 60),
    secondarySupply,
    secondaryReturn: secondarySupply - (4 + 0.25 * Math.max(0, 18 - outdoor)),
  };
}

/** A recurring rainstorm, in the simulator's own (wall) time, so a demo need not wait for weather. */
export interface Storm {
  /** One storm starts every `everyMs`. */
  everyMs: number;
  /** The first one starts this long after the scene starts. */
  firstAfterMs: number;
  /** It rains this long (the rest of the cycle is dry). */
  durationMs: number;
  /** Peak intensity, mm/h (50 mm/h and more is a rainstorm, 暴雨, in a Jining July). */
  peakMmPerH: number;
  /** The storm's length in city hours, for totals: a storm of `durationMs` stands for this many hours of rain. */
  stormHours: number;
}

/** Time since the current storm cycle began, ms, or -1 before the first storm. */
export function stormPhase(storm: Storm, sinceStartMs: number): number {
  const t = sinceStartMs - storm.firstAfterMs;
  return t < 0 ? -1 : t % storm.everyMs;
}

/** Rain intensity, mm/h, at `phaseMs` into a storm cycle: a smooth burst (sin²) that starts and ends dry. */
export function rainIntensity(storm: Storm, phaseMs: number): number {
  if (phaseMs < 0 || phaseMs >= storm.durationMs) return 0;
  return storm.peakMmPerH * Math.sin((Math.PI * phaseMs) / storm.durationMs) ** 2;
}

/** Rain fallen since this storm began, mm (the sin² burst holds half its peak times its length). */
export function stormRainfall(storm: Storm, phaseMs: number): number {
  if (phaseMs < 0) return 0;
  const x = Math.min(1, phaseMs / storm.durationMs);
  return storm.peakMmPerH * storm.stormHours * (x / 2 - Math.sin(2 * Math.PI * x) / (4 * Math.PI));
}

const STEP_MS = 1000;
const peaks = new Map<string, number>();

/**
 * How full a drained basin is (underpass, sewer, river reach), 0..1 with 1 at
 * the worst of a storm: a linear reservoir, inflow ∝ rain, outflow ∝ depth
 * with time constant `tauMs` (pumps and drains), stepped once a second from
 * the cycle before, so a slow basin still draining carries over. Pure: the
 * same phase always gives the same depth.
 */
export function basinFill(storm: Storm, sinceStartMs: number, tauMs: number): number {
  const raw = (until: number) => {
    let h = 0;
    for (let t = Math.max(0, until - 2 * storm.everyMs); t < until; t += STEP_MS) {
      h += rainIntensity(storm, stormPhase(storm, t)) / storm.peakMmPerH - (h * STEP_MS) / tauMs;
    }
    return h;
  };
  const key = `${storm.everyMs}/${storm.firstAfterMs}/${storm.durationMs}/${tauMs}`;
  let peak = peaks.get(key);
  if (peak === undefined) {
    // The worst depth of a storm in the steady cycle, found once per basin: fill is relative to it.
    peak = 0;
    const cycle = storm.firstAfterMs + 2 * storm.everyMs;
    for (let t = cycle; t < cycle + storm.everyMs; t += 5 * STEP_MS) peak = Math.max(peak, raw(t));
    peaks.set(key, peak);
  }
  return peak > 0 ? Math.max(0, raw(sinceStartMs)) / peak : 0;
}
