/** The rainstorm detector: rainfall over sliding windows against the warning colours' amounts. */
import { type Static, Type } from '@sinclair/typebox';
import type { ValidationIssue } from '../../validate.js';
import { Ms, PositiveMs, isNum, isObj, levelNames } from './common.js';

/** One warning colour of a rainstorm detector: at least `mm` within `hours`. */
export const RainLevelSchema = Type.Object(
  {
    hours: Type.Number({ exclusiveMinimum: 0, maximum: 72, description: 'Window length, hours' }),
    mm: Type.Number({ exclusiveMinimum: 0, description: 'Rainfall within the window that raises the colour, mm' }),
  },
  { additionalProperties: false },
);

/**
 * The China Meteorological Administration's rainstorm warning signals (暴雨预警信号,
 * 气象灾害预警信号发布与传播办法, CMA Order No. 16 of 2007, annex): blue 50 mm in 12 h,
 * yellow 50 mm in 6 h, orange 50 mm in 3 h, red 100 mm in 3 h.
 */
export const cmaRainstormLevels = {
  blue: { hours: 12, mm: 50 },
  yellow: { hours: 6, mm: 50 },
  orange: { hours: 3, mm: 50 },
  red: { hours: 3, mm: 100 },
} as const;

/** Rainfall accumulated over sliding windows, raising the rainstorm warning colours. */
export const RainstormSchema = Type.Object(
  {
    input: Type.Union([Type.Literal('interval'), Type.Literal('counter')], {
      description: 'interval: each reading is the rain of one interval (intervalMs, or since the previous reading); counter: a running total (tipping-bucket count × mm per tip)',
    }),
    intervalMs: Type.Optional(
      PositiveMs('interval input: the device reports the rain of its last intervalMs (a rolling 10-minute total); one reading per interval is counted'),
    ),
    rollover: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'counter input: the total wraps to 0 at this value, mm (e.g. 65536 tips × 0.1 mm)' })),
    maxStep: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Largest believable rain between two readings, mm; a larger step is refused and counted' })),
    bucketMs: Type.Optional(Type.Number({ minimum: 60_000, maximum: 3_600_000, description: 'Bucket width of the windows, ms (default 300000: 5 min)' })),
    levels: Type.Optional(
      Type.Object(
        { blue: Type.Optional(RainLevelSchema), yellow: Type.Optional(RainLevelSchema), orange: Type.Optional(RainLevelSchema), red: Type.Optional(RainLevelSchema) },
        { additionalProperties: false, description: 'Per colour window and amount; default the CMA rainstorm signals' },
      ),
    ),
    clearFraction: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'A colour holds while its window total is at least this share of its amount (default 0.8)' }),
    ),
    offDelayMs: Type.Optional(Ms('The total must stay below the hold share this long before the colour drops (default 1800000: 30 min)')),
  },
  { additionalProperties: false },
);

/** Rainstorm: colours in order (a higher colour needs at least the rate of the one below), windows the ring can hold. */
export function rainstormIssues(r: Record<string, unknown>, at: string, out: ValidationIssue[]): void {
  if (r.input === 'counter' && r.intervalMs !== undefined) out.push({ path: `${at}.intervalMs`, message: 'applies to interval input only; a counter is a running total' });
  if (r.input === 'interval' && r.rollover !== undefined) out.push({ path: `${at}.rollover`, message: 'applies to counter input only' });
  if (!isObj(r.levels)) return;
  const lv = r.levels as Record<string, unknown>;
  const present = levelNames.filter((n) => isObj(lv[n]) && isNum((lv[n] as Record<string, unknown>).hours) && isNum((lv[n] as Record<string, unknown>).mm));
  if (present.length === 0) out.push({ path: `${at}.levels`, message: 'needs at least one colour (blue, yellow, orange, red)' });
  for (let i = 1; i < present.length; i++) {
    const lo = lv[present[i - 1]] as { hours: number; mm: number };
    const hi = lv[present[i]] as { hours: number; mm: number };
    // A higher colour must be harder to reach: at least as much rain in at most as long.
    if (!(hi.mm >= lo.mm && hi.hours <= lo.hours && (hi.mm > lo.mm || hi.hours < lo.hours))) {
      out.push({ path: `${at}.levels.${present[i]}`, message: `must need more rain or a shorter window than ${present[i - 1]} (${lo.mm} mm in ${lo.hours} h), got ${hi.mm} mm in ${hi.hours} h` });
    }
  }
}

export type RainstormConfig = Static<typeof RainstormSchema>;
