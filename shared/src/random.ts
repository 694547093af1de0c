/**
 * Seeded random numbers (mulberry32), one generator for the simulator, the
 * detector and codec tests, the wire fixtures and the benches: a run, a failing
 * case or a bench figure replays exactly from its seed (no Math.random).
 *
 *   seed ─▶ prngUint32 ─▶ prng (uniform [0, 1)) ─▶ gaussian (Box–Muller)
 */

/** Uniform 32-bit unsigned integers from a seed (mulberry32). */
export function prngUint32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform floats in [0, 1) from a seed (mulberry32). */
export function prng(seed: number): () => number {
  const next = prngUint32(seed);
  return () => next() / 4294967296;
}

/** One standard normal sample (Box–Muller) drawn from a uniform [0, 1) source. */
export function gaussian(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Standard normal samples from a seed. */
export function gaussianSource(seed: number): () => number {
  const rand = prng(seed);
  return () => gaussian(rand);
}
