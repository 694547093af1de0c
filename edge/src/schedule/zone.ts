/**
 * Local wall-clock time in an IANA zone, from Intl alone (no zone database to
 * ship): a gateway's schedule says "00:00" in the site's time, the timers run
 * on UTC instants.
 */

/** A calendar date in some zone. */
export interface LocalDate {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formats.set(zone, f);
  }
  return f;
}

/** Whether Intl knows `zone` (e.g. Asia/Shanghai). */
export function isTimeZone(zone: string): boolean {
  try {
    format(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's wall clock at an instant. */
export function wallClock(ms: number, zone: string): LocalDate & { hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(format(zone).formatToParts(ms).map((p) => [p.type, Number(p.value)]));
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

/** The zone's offset from UTC at an instant, in ms (Asia/Shanghai: +8 h). */
export function zoneOffset(ms: number, zone: string): number {
  const w = wallClock(ms, zone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a zone's clocks show `minutes` past midnight of `date`. Across a
 * daylight-saving change (none in China) a missing or doubled clock time
 * gives one of the instants either side.
 */
export function zonedInstant(date: LocalDate, minutes: number, zone: string): number {
  const naive = Date.UTC(date.year, date.month - 1, date.day) + minutes * 60_000;
  // Guess with the offset at the naive instant, then correct once if the guess lies across a change.
  const guess = naive - zoneOffset(naive, zone);
  const offset = zoneOffset(guess, zone);
  return offset === zoneOffset(naive, zone) ? guess : naive - offset;
}

/** The calendar date `days` after `date` (negative: before). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
