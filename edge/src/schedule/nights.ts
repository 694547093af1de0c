/**
 * A lamp schedule as a sequence of nights: each night switches on at one moment
 * (sunset, dusk or a clock time, plus an offset), steps its dimming at clock
 * times, and switches off at the first off moment after. Pure: the state at any
 * instant follows from the plan, so a restart at 22:00 lands on the right state.
 *
 *     plan + site ─▶ nightOf(date): { on, off, steps } (UTC instants)
 *                ─▶ lampState(now): on?, percent, next transition
 */
import { sunTimes } from './sun.js';
import { addDays, wallClock, zonedInstant, type LocalDate } from './zone.js';

/** Sun events a schedule can switch on (setting) or off (rising). */
export const sunEvents = ['sunset', 'dusk', 'sunrise', 'dawn'] as const;
/** sunset/sunrise: upper limb on the horizon; dusk/dawn: civil twilight, the sun 6° below. */
export type SunEvent = (typeof sunEvents)[number];

/** One switching moment: a sun event or a clock time (minutes after local midnight), shifted by `offsetMin`. */
export interface Moment {
  at: SunEvent | { minutes: number };
  offsetMin: number;
}

/** What a schedule does each night. */
export interface NightPlan {
  on: Moment;
  off: Moment;
  /** Dimming when switched on, 0..100 %. */
  percent: number;
  /** Later dimming steps at clock times (minutes after local midnight), e.g. 50 % at 00:00. */
  dim: readonly { minutes: number; percent: number }[];
}

/** Where and in which zone's time the schedule runs. */
export interface Site {
  lon: number;
  lat: number;
  /** IANA zone, e.g. Asia/Shanghai. */
  zone: string;
}

/** One night as UTC instants (ms). */
export interface Night {
  on: number;
  off: number;
  /** Dimming from each instant on, the first at `on`. */
  steps: { at: number; percent: number }[];
}

/** What a lamp should be doing at an instant. */
export interface LampState {
  on: boolean;
  /** Dimming while on. */
  percent?: number;
  /** The next instant the state changes, if one is found within two days. */
  next?: number;
}

/** The instant of a moment on a local date, or undefined when the sun does not reach that event that day (polar day or night). */
function instant(m: Moment, date: LocalDate, site: Site): number | undefined {
  let base: number | undefined;
  if (typeof m.at === 'object') base = zonedInstant(date, m.at.minutes, site.zone);
  else base = sunTimes(date, site.lon, site.lat)[m.at];
  return base === undefined ? undefined : base + m.offsetMin * 60_000;
}

/** The night that switches on during local date `date`; undefined when its on or off moment does not occur (polar day or night). */
export function nightOf(plan: NightPlan, date: LocalDate, site: Site): Night | undefined {
  const on = instant(plan.on, date, site);
  if (on === undefined) return undefined;
  // Off is the first off moment after on: 23:30 the same evening, or sunrise the next morning.
  const off = [0, 1, 2].map((d) => instant(plan.off, addDays(date, d), site)).find((t) => t !== undefined && t > on);
  if (off === undefined) return undefined;
  const steps = [{ at: on, percent: plan.percent }];
  for (const s of plan.dim) {
    const at = [0, 1].map((d) => zonedInstant(addDays(date, d), s.minutes, site.zone)).find((t) => t > on && t < off);
    if (at !== undefined) steps.push({ at, percent: s.percent });
  }
  steps.sort((a, b) => a.at - b.at);
  return { on, off, steps };
}

/** The state a lamp on `plan` should be in at `now`, and when it next changes. */
export function lampState(plan: NightPlan, site: Site, now: number): LampState {
  const today = wallClock(now, site.zone);
  const nights = [-2, -1, 0, 1].map((d) => nightOf(plan, addDays(today, d), site)).filter((n): n is Night => n !== undefined);
  const changes = nights.flatMap((n) => [...n.steps.map((s) => s.at), n.off]).filter((t) => t > now);
  const next = changes.length ? Math.min(...changes) : undefined;
  const tonight = nights.find((n) => n.on <= now && now < n.off);
  if (!tonight) return { on: false, next };
  const percent = tonight.steps.filter((s) => s.at <= now).at(-1)!.percent;
  return { on: true, percent, next };
}
