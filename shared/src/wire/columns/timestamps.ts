/**
 * The timestamp column of one series: regular (delta − period) | delta-of-delta |
 * absolute | copy of an earlier series, the exact mode with the fewest significant bits.
 */
import { ByteReader, ByteWriter } from '../bytes.js';

/** How a series' timestamps are encoded (the block's first byte). */
export enum TimeMode {
  /** svarint first − baseTs, svarint period P, then svarint (delta − P) per further reading. */
  Regular = 0,
  /** svarint first − baseTs, svarint first delta, then svarint (delta − previous delta). */
  DeltaOfDelta = 1,
  /** svarint timestamp per reading (used when deltas would leave the safe integer range). */
  Absolute = 2,
  /** uvarint index of an earlier series with exactly the same timestamps. */
  Copy = 3,
}

/**
 * Significant bits of zigzag(n): a proxy for what a column costs after deflate,
 * which entropy-codes the varint bytes (byte counts alone tie too often).
 */
function bits(n: number): number {
  const z = n >= 0 ? n * 2 : -n * 2 - 1;
  return z < 0x100000000 ? 32 - Math.clz32(z) : 33 + Math.floor(Math.log2(z / 0x100000000));
}

/** Median of the deltas of `ts` (the scheduler's period for a polled point). */
export function medianDelta(ts: ArrayLike<number>): number {
  const d = new Float64Array(ts.length - 1);
  let lo = Infinity;
  let hi = -Infinity;
  let ints = true;
  for (let i = 1; i < ts.length; i++) {
    const x = (d[i - 1] = ts[i] - ts[i - 1]);
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    if (!Number.isSafeInteger(x)) ints = false;
  }
  // Integer deltas in a narrow range (a poller's jitter): counted, not sorted (the same element).
  if (ints && d.length && hi - lo <= 4 * d.length + 64) {
    const counts = new Uint32Array(hi - lo + 1);
    for (let i = 0; i < d.length; i++) counts[d[i] - lo]++;
    for (let v = 0, seen = 0; ; v++) if ((seen += counts[v]) > d.length >> 1) return lo + v;
  }
  d.sort();
  return d[d.length >> 1];
}

/**
 * Writes one series' timestamp block, choosing the exact mode with the fewest
 * significant bits (ties: regular, whose deviations stay small under jitter).
 * `copyOf` is an earlier series index with identical timestamps, or −1.
 */
export function writeTimestamps(w: ByteWriter, ts: ArrayLike<number>, baseTs: number, copyOf: number): TimeMode {
  if (copyOf >= 0) {
    w.byte(TimeMode.Copy);
    w.uvarint(copyOf);
    return TimeMode.Copy;
  }
  const n = ts.length;
  const first = ts[0] - baseTs;
  let regularOk = Number.isSafeInteger(first);
  let dodOk = regularOk;
  let regularCost = 0;
  let dodCost = 0;
  let period = 0;
  if (regularOk && n >= 2) {
    period = medianDelta(ts);
    regularOk = Number.isSafeInteger(period);
    let prevDelta = 0;
    for (let i = 1; i < n; i++) {
      const delta = ts[i] - ts[i - 1];
      const dev = delta - period;
      const dod = i === 1 ? delta : delta - prevDelta;
      if (!Number.isSafeInteger(delta) || !Number.isSafeInteger(dev)) regularOk = false;
      if (!Number.isSafeInteger(delta) || !Number.isSafeInteger(dod)) dodOk = false;
      if (!regularOk && !dodOk) break;
      regularCost += bits(dev);
      dodCost += bits(dod);
      prevDelta = delta;
    }
  }
  if (n === 1) regularOk = false; // one reading: delta-of-delta is just `first`, one byte shorter
  if (regularOk && (!dodOk || regularCost <= dodCost)) {
    w.byte(TimeMode.Regular);
    w.svarint(first);
    w.svarint(period);
    for (let i = 1; i < n; i++) w.svarint(ts[i] - ts[i - 1] - period);
    return TimeMode.Regular;
  }
  if (dodOk) {
    w.byte(TimeMode.DeltaOfDelta);
    w.svarint(first);
    let prevDelta = 0;
    for (let i = 1; i < n; i++) {
      const delta = ts[i] - ts[i - 1];
      w.svarint(i === 1 ? delta : delta - prevDelta);
      prevDelta = delta;
    }
    return TimeMode.DeltaOfDelta;
  }
  w.byte(TimeMode.Absolute);
  for (let i = 0; i < n; i++) w.svarint(ts[i]);
  return TimeMode.Absolute;
}

/** Reads one series' timestamp block of `n` readings; `earlier` holds the series already read. */
export function readTimestamps(r: ByteReader, n: number, baseTs: number, earlier: Float64Array[], label: string): Float64Array {
  const modeAt = r.pos;
  const mode = r.byte(`${label}.timestamps.mode`);
  const field = `${label}.timestamps`;
  if (mode === TimeMode.Copy) {
    const j = r.uvarint(`${label}.timestamps.copyOf`);
    if (j >= earlier.length) r.fail(`${label}.timestamps.copyOf`, `series ${j} is not an earlier series (this is series ${earlier.length})`, modeAt + 1);
    if (earlier[j].length !== n) r.fail(`${label}.timestamps.copyOf`, `series ${j} has ${earlier[j].length} readings, this one ${n}`, modeAt + 1);
    return earlier[j];
  }
  const ts = new Float64Array(n);
  if (mode === TimeMode.Absolute) {
    for (let i = 0; i < n; i++) ts[i] = r.svarint(field);
    return ts;
  }
  if (mode !== TimeMode.Regular && mode !== TimeMode.DeltaOfDelta) r.fail(`${label}.timestamps.mode`, `unknown mode ${mode}`, modeAt);
  const first = baseTs + r.svarint(`${label}.timestamps.first`);
  if (!Number.isSafeInteger(first)) r.fail(`${label}.timestamps.first`, 'timestamp outside the safe integer range');
  ts[0] = first;
  if (mode === TimeMode.Regular) {
    const period = r.svarint(`${label}.timestamps.period`);
    let prev = first;
    for (let i = 1; i < n; i++) {
      // delta first: prev + period could leave the safe range even when the timestamp does not.
      const delta = period + r.svarint(field);
      const t = prev + delta;
      if (!Number.isSafeInteger(delta) || !Number.isSafeInteger(t)) r.fail(field, `timestamp ${i} outside the safe integer range`);
      ts[i] = prev = t;
    }
  } else {
    let prev = first;
    let delta = 0;
    for (let i = 1; i < n; i++) {
      delta += r.svarint(field);
      const t = prev + delta;
      if (!Number.isSafeInteger(delta) || !Number.isSafeInteger(t)) r.fail(field, `timestamp ${i} outside the safe integer range`);
      ts[i] = prev = t;
    }
  }
  return ts;
}
