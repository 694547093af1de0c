/** Realistic signals for simulated points: daily cycle, noise, drift, night values. */
import { gaussian } from '@lifeline/shared';
import type { AnyPoint } from '../profile.js';

const HOUR = 3_600_000;

/** Whether epoch ms `ts` falls between 19:00 and 06:00 local time (lamps on). */
export function isNight(ts: number): boolean {
  const hour = new Date(ts).getHours();
  return hour >= 19 || hour < 6;
}

/**
 * The point's simulated value (in its unit) at epoch ms `ts`: base, plus a
 * daily cycle peaking mid-afternoon, plus drift since `startTs`, plus noise,
 * clamped to the point's range. `night` may be passed in by a caller that
 * refreshes many points at once (it saves a Date per point).
 */
export function signalValue(point: AnyPoint, ts: number, startTs: number, rand: () => number, night = isNight(ts)): number {
  const s = point.sim ?? { base: 0 };
  if (s.night !== undefined && night) return clamp(point, s.night + (s.noise ? gaussian(rand) * s.noise : 0));
  let v = s.base;
  if (s.amplitude) {
    const period = (s.periodS ?? 86_400) * 1000;
    // Phase: the minimum at 03:00 UTC and the maximum at 15:00 UTC of a daily cycle.
    v -= s.amplitude * Math.cos((2 * Math.PI * ((ts % period) - period / 8)) / period);
  }
  if (s.drift) v += (s.drift * (ts - startTs)) / HOUR;
  if (s.noise) v += gaussian(rand) * s.noise;
  return clamp(point, v);
}

function clamp(point: AnyPoint, v: number): number {
  return point.range ? Math.min(point.range[1], Math.max(point.range[0], v)) : v;
}
