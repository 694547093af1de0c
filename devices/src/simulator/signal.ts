/** Realistic signals for simulated points: daily cycle, noise, drift, night values. */
import type { Point } from '../profile.js';

/** A small seeded PRNG (mulberry32) so simulator runs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal sample (Box–Muller). */
export function gaussian(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const HOUR = 3_600_000;

/** The point's simulated value (in its unit) at epoch ms `ts`. */
export function signalValue(point: Point, ts: number, startTs: number, rand: () => number): number {
  const s = point.sim ?? { base: 0 };
  const hour = new Date(ts).getHours();
  const isNight = hour >= 19 || hour < 6;
  if (s.night !== undefined && isNight) return s.night + (s.noise ? gaussian(rand) * s.noise : 0);
  let v = s.base;
  if (s.amplitude) {
    const period = (s.periodS ?? 86_400) * 1000;
    // Peak mid-afternoon for a daily cycle.
    v += s.amplitude * Math.sin((2 * Math.PI * ((ts % period) - period / 4)) / period - Math.PI / 2 + Math.PI);
  }
  if (s.drift) v += (s.drift * (ts - startTs)) / HOUR;
  if (s.noise) v += gaussian(rand) * s.noise;
  if (point.range) v = Math.min(point.range[1], Math.max(point.range[0], v));
  return v;
}
