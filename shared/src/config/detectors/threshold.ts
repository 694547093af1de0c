/** The threshold detector: limits per warning colour, rising and falling, with deadband and delays. */
import { type Static, Type } from '@sinclair/typebox';
import type { ValidationIssue } from '../../validate.js';
import { Ms, isNum, isObj, levelNames } from './common.js';

/** Limits per colour; any subset. */
export const LimitsSchema = Type.Object(
  {
    blue: Type.Optional(Type.Number()),
    yellow: Type.Optional(Type.Number()),
    orange: Type.Optional(Type.Number()),
    red: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);

/** Multi-level threshold with deadband and delays. */
export const ThresholdSchema = Type.Object(
  {
    high: Type.Optional(LimitsSchema),
    low: Type.Optional(LimitsSchema),
    deadband: Type.Optional(Type.Number({ minimum: 0, description: 'Hysteresis in the point unit' })),
    onDelayMs: Type.Optional(Ms('A limit must be exceeded this long before its level is raised')),
    offDelayMs: Type.Optional(Ms('A limit must be clear this long before its level drops')),
  },
  { additionalProperties: false },
);

/** What the schema cannot say: colours in order on each side, the sides apart by the deadband. */
export function thresholdIssues(t: Record<string, unknown>, at: string, out: ValidationIssue[]): void {
  const present = (side: 'high' | 'low') =>
    isObj(t[side]) ? levelNames.filter((n) => isNum((t[side] as Record<string, unknown>)[n])).map((n) => [n, (t[side] as Record<string, number>)[n]] as const) : [];
  const high = present('high');
  const low = present('low');
  if (high.length === 0 && low.length === 0) out.push({ path: at, message: 'needs at least one high or low limit' });
  // Rising: each colour above the one below it.
  for (let i = 1; i < high.length; i++) {
    const [pn, pv] = high[i - 1];
    const [n, v] = high[i];
    if (!(v > pv)) out.push({ path: `${at}.high.${n}`, message: `must be above ${pn} (${pv}) on a rising threshold, got ${v}` });
  }
  // Falling: each colour below the one before it.
  for (let i = 1; i < low.length; i++) {
    const [pn, pv] = low[i - 1];
    const [n, v] = low[i];
    if (!(v < pv)) out.push({ path: `${at}.low.${n}`, message: `must be below ${pn} (${pv}) on a falling threshold, got ${v}` });
  }
  if (high.length && low.length) {
    const db = isNum(t.deadband) ? t.deadband : 0;
    const hMin = Math.min(...high.map(([, v]) => v));
    const lMax = Math.max(...low.map(([, v]) => v));
    if (!(hMin - db > lMax + db)) {
      out.push({ path: `${at}.low`, message: `highest low limit ${lMax} must stay below the lowest high limit ${hMin} by more than twice the deadband (${db})` });
    }
  }
}

export type LimitsConfig = Static<typeof LimitsSchema>;
export type ThresholdConfig = Static<typeof ThresholdSchema>;
