/**
 * Test fixtures for the wire codecs: a random telemetry batch generator (fed by
 * the seeded `prng` of shared/src/random.ts) that covers every encoding path
 * (regular, jittered, shared, random and huge timestamps; decimal values from
 * `raw / 10^k` and `raw * 10^-k`, floats, NaN, ±Infinity, −0; qualities; seq
 * holes; gaps). Test code: not part of the package.
 */
import { Quality, type Reading } from '../../src/reading.js';
import type { GapRecord, TelemetryBatch } from '../../src/wire/telemetry.js';

/** Random integer in [lo, hi]. */
export function int(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

const names = ['flood-1', 'pipe-1', 'lamp-1', 'bridge-7', '桥-东', 'gw/ä', 'x'];
const points = ['water_level', 'pressure', 'flow_rate', 'tilt', 'door_open', 'temperature_°C', 'p'];
const specials = [NaN, Infinity, -Infinity, -0, 0, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 5e-324, 1e-310, 2 ** 53, -(2 ** 60)];

type ValueKind = 'div' | 'mul' | 'float' | 'special' | 'mixed' | 'bool' | 'const';
type TimeKind = 'regular' | 'jitter' | 'random' | 'huge' | 'backwards';

/** A value generator of one kind for one series. */
function valueSource(rand: () => number, kind: ValueKind): () => number {
  const k = int(rand, 0, 6);
  const scale = Number(`1e-${k}`);
  const p = Number(`1e${k}`);
  let raw = int(rand, -100000, 100000);
  const step = () => (raw += int(rand, -5, 5));
  switch (kind) {
    case 'div':
      return () => step() / p;
    case 'mul':
      return () => step() * scale;
    case 'float':
      return () => (rand() - 0.5) * 10 ** int(rand, -5, 8);
    case 'special':
      return () => pick(rand, specials);
    case 'bool':
      return () => (rand() < 0.9 ? 0 : 1);
    case 'const':
      return () => 42.5;
    case 'mixed':
      return () => (rand() < 0.1 ? pick(rand, specials) : rand() < 0.1 ? rand() : step() * scale);
  }
}

function timeSource(rand: () => number, kind: TimeKind): () => number {
  const period = pick(rand, [1, 100, 1000, 5000, 60000]);
  let t = kind === 'huge' ? pick(rand, [Number.MAX_SAFE_INTEGER - 1e6, -Number.MAX_SAFE_INTEGER]) : 1_764_000_000_000 + int(rand, -1e6, 1e6);
  let n = 0;
  const base = t;
  switch (kind) {
    case 'regular':
      return () => (t += period);
    case 'jitter':
      return () => base + ++n * period + int(rand, 0, 40);
    case 'random':
      return () => int(rand, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    case 'huge':
      return () => (t = t > 0 ? Math.min(Number.MAX_SAFE_INTEGER, t + int(rand, 0, 1000)) : t + int(rand, 0, 1000));
    case 'backwards':
      return () => (t += int(rand, -2000, 1000));
  }
}

/** Options for `randomBatch`. */
export interface RandomBatchOptions {
  maxReadings?: number;
  maxSeries?: number;
  /** Give seqs with holes and gaps. */
  holes?: boolean;
}

/** A random but valid telemetry batch. */
export function randomBatch(rand: () => number, opts: RandomBatchOptions = {}): TelemetryBatch {
  const nSeries = int(rand, 1, opts.maxSeries ?? 8);
  const series = Array.from({ length: nSeries }, (_, i) => {
    const device = `${pick(rand, names)}${i % 3}`;
    const point = `${pick(rand, points)}_${i}`;
    const value = valueSource(rand, pick(rand, ['div', 'mul', 'mul', 'div', 'float', 'special', 'mixed', 'bool', 'const'] as const));
    const time = timeSource(rand, pick(rand, ['regular', 'jitter', 'jitter', 'random', 'huge', 'backwards'] as const));
    const qualityKind = int(rand, 0, 2);
    return { device, point, value, time, qualityKind };
  });
  const n = int(rand, 0, opts.maxReadings ?? 300);
  const readings: Reading[] = [];
  for (let i = 0; i < n; i++) {
    const s = series[rand() < 0.5 ? i % nSeries : int(rand, 0, nSeries - 1)];
    const r: Reading = { device: s.device, point: s.point, ts: s.time(), value: s.value() };
    if (s.qualityKind === 1) r.quality = pick(rand, [Quality.Good, Quality.Uncertain, Quality.Bad]);
    else if (s.qualityKind === 2 && rand() < 0.05) r.quality = Quality.Bad;
    readings.push(r);
  }
  const firstSeq = int(rand, 1, 2) === 1 ? int(rand, 1, 1000) : int(rand, 1, Number.MAX_SAFE_INTEGER - 10 * (n + 10));
  if (!opts.holes) return { gateway: pick(rand, ['gw-1', 'gw-东', 'g']), firstSeq, lastSeq: firstSeq + n - 1, readings };
  const seqs: number[] = [];
  let seq = firstSeq - 1;
  for (let i = 0; i < n; i++) seqs.push((seq += 1 + (rand() < 0.2 ? int(rand, 1, 5) : 0)));
  const gaps: GapRecord[] = [];
  for (let g = int(rand, 0, 3); g > 0; g--) {
    const from = 1_764_000_000_000 + int(rand, 0, 1e7);
    let ts = from - int(rand, 0, 59_999);
    const minutes = Array.from({ length: int(rand, 0, 5) }, () => ({
      ts: (ts += 60_000),
      count: int(rand, 1, 60),
      min: pick(rand, [-1.5, 0, NaN, -0]),
      max: rand() * 100,
      mean: rand(),
    }));
    gaps.push({ device: pick(rand, names), point: pick(rand, points), from, to: from + int(rand, 0, 1e7), minutes });
  }
  return { gateway: 'gw-1', firstSeq, lastSeq: seq + int(rand, 0, 5), readings, seqs, gaps };
}
