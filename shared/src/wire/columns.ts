/**
 * Column codecs of a telemetry batch: one series' timestamps, values and quality
 * flags. Each encoder sizes its exact candidate encodings (bytes before deflate for
 * values, significant bits for timestamps) and writes the smallest; each decoder
 * checks everything it reads.
 *
 *   timestamps: regular (delta − period) | delta-of-delta | absolute | copy of an earlier series
 *   values:     decimal m / 10^k | decimal m × 10^−k  (+ exceptions as raw float64) | XOR float
 *   quality:    run-length (code, run) pairs
 */
import { ByteReader, ByteWriter, svarintLength, uvarintLength } from './bytes.js';

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

/** How a series' values are encoded (the block's first byte). */
export enum ValueMode {
  /** value = m / 10^k, with m a scaled integer (correctly rounded division). */
  DecimalDiv = 0,
  /** value = m × d, d the double nearest 10^−k (what `raw * 0.001` in a decoder gives). */
  DecimalMul = 1,
  /** Byte-aligned XOR of each value's IEEE-754 bits with the previous value's (Gorilla-style). */
  Xor = 2,
}

/** Largest decimal exponent k (scale 10^−k) the decimal modes use. */
export const MAX_DECIMAL_K = 15;
/** |m| must stay below 2^51 so that every delta of two m's is a fast, exact varint. */
const M_LIMIT = 2 ** 51;
/** 10^k, parsed from text so each is the exact double. */
const P10 = Array.from({ length: MAX_DECIMAL_K + 1 }, (_, k) => Number(`1e${k}`));
/** The double nearest 10^−k. */
const N10 = Array.from({ length: MAX_DECIMAL_K + 1 }, (_, k) => Number(`1e-${k}`));

// ---------------------------------------------------------------------------------------
// Timestamps

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

// ---------------------------------------------------------------------------------------
// Values

const isNegZero = (v: number) => v === 0 && 1 / v < 0;

/** Smallest k whose decimal reconstruction gives back `v` exactly, or −1. */
function minK(v: number, mul: boolean): number {
  if (!Number.isFinite(v) || isNegZero(v)) return -1;
  for (let k = 0; k <= MAX_DECIMAL_K; k++) {
    const m = Math.round(v * P10[k]);
    if (m >= M_LIMIT || m <= -M_LIMIT) return -1;
    if ((mul ? m * N10[k] : m / P10[k]) === v) return k;
  }
  return -1;
}

/** minK(v, false), with minK(v, true) stored in mulK[i]: one rounding of v · 10^k serves both (planValues' hot loop). */
function minKBoth(v: number, mulK: Int8Array, i: number): number {
  mulK[i] = -1;
  if (!Number.isFinite(v) || isNegZero(v)) return -1;
  let div = -1;
  for (let k = 0; k <= MAX_DECIMAL_K; k++) {
    const m = Math.round(v * P10[k]);
    if (m >= M_LIMIT || m <= -M_LIMIT) break;
    if (div < 0 && m / P10[k] === v) {
      div = k;
      if (mulK[i] >= 0) break;
    }
    if (mulK[i] < 0 && m * N10[k] === v) {
      mulK[i] = k;
      if (div >= 0) break;
    }
  }
  return div;
}

/** The scaled integer for `v` at exponent k, or NaN if `v` must be an exception. */
export function scaled(v: number, k: number, mul: boolean): number {
  const m = Math.round(v * P10[k]);
  if (!(m < M_LIMIT && m > -M_LIMIT)) return NaN;
  if ((mul ? m * N10[k] : m / P10[k]) !== v || isNegZero(v)) return NaN;
  return m;
}

/** The value a scaled integer stands for: m / 10^k, or m × (the double nearest 10^−k) when `mul`. */
export function unscaled(m: number, k: number, mul: boolean): number {
  return mul ? m * N10[k] : m / P10[k];
}

/** |m| of a decimal value must stay below this. */
export const MAX_SCALED = M_LIMIT;

/** Exact size of the decimal encoding at (k, mul), in bytes before deflate. */
function decimalCost(values: ArrayLike<number>, k: number, mul: boolean): number {
  let cost = 2;
  let exceptions = 0;
  let lastExc = -1;
  let prevM = 0;
  for (let i = 0; i < values.length; i++) {
    const m = scaled(values[i], k, mul);
    if (m !== m) {
      cost += uvarintLength(i - lastExc - 1) + 8;
      lastExc = i;
      exceptions++;
    } else {
      cost += svarintLength(m - prevM);
      prevM = m;
    }
  }
  return cost + uvarintLength(exceptions);
}

const xorView = new DataView(new ArrayBuffer(8));

/** IEEE-754 bits of `v` as [hi, lo] 32-bit halves; NaN is canonical 0x7FF80000_00000000. */
function bitsOf(v: number): [number, number] {
  if (v !== v) return [0x7ff80000, 0];
  xorView.setFloat64(0, v);
  return [xorView.getUint32(0), xorView.getUint32(4)];
}

/** Number of leading and trailing zero bytes of the 64-bit value hi:lo (not both zero). */
function zeroBytes(hi: number, lo: number): [number, number] {
  const lz = hi !== 0 ? Math.clz32(hi) >> 3 : 4 + (Math.clz32(lo) >> 3);
  const tz = lo !== 0 ? (31 - Math.clz32(lo & -lo)) >> 3 : 4 + ((31 - Math.clz32(hi & -hi)) >> 3);
  return [lz, tz];
}

/** Exact size of the XOR encoding. */
function xorCost(values: ArrayLike<number>): number {
  let cost = 1;
  let ph = 0;
  let pl = 0;
  for (let i = 0; i < values.length; i++) {
    const [h, l] = bitsOf(values[i]);
    const xh = (h ^ ph) >>> 0;
    const xl = (l ^ pl) >>> 0;
    if (xh === 0 && xl === 0) cost += 1;
    else {
      const [lz, tz] = zeroBytes(xh, xl);
      cost += 1 + 8 - lz - tz;
    }
    ph = h;
    pl = l;
  }
  return cost;
}

/** The chosen value encoding of one series. */
export interface ValuePlan {
  mode: ValueMode;
  /** Decimal exponent (decimal modes). */
  k: number;
  /** Bytes before deflate. */
  cost: number;
}

/** Picks the smallest exact value encoding for one series. */
export function planValues(values: ArrayLike<number>): ValuePlan {
  let best: ValuePlan = { mode: ValueMode.Xor, k: 0, cost: xorCost(values) };
  // Each value's smallest k in the multiplying mode, found in the same pass as the dividing one's.
  const mulK = new Int8Array(values.length);
  for (const mul of [false, true]) {
    // Histogram of each value's smallest exact k; candidates: the k covering all, and the
    // smallest k covering 90 % (a few odd values then travel as exceptions).
    const hist = new Array<number>(MAX_DECIMAL_K + 1).fill(0);
    let covered = 0;
    for (let i = 0; i < values.length; i++) {
      const k = mul ? mulK[i] : minKBoth(values[i], mulK, i);
      if (k >= 0) {
        hist[k]++;
        covered++;
      }
    }
    if (covered === 0) continue;
    const candidates = new Set<number>();
    let acc = 0;
    for (let k = 0; k <= MAX_DECIMAL_K; k++) {
      acc += hist[k];
      if (acc >= 0.9 * covered && candidates.size === 0) candidates.add(k);
      if (acc === covered) {
        candidates.add(k);
        break;
      }
    }
    for (const k of candidates) {
      const cost = decimalCost(values, k, mul);
      if (cost < best.cost || (cost === best.cost && best.mode === ValueMode.Xor)) {
        best = { mode: mul ? ValueMode.DecimalMul : ValueMode.DecimalDiv, k, cost };
      }
    }
  }
  return best;
}

/** Writes one series' value block with the given plan. */
export function writeValues(w: ByteWriter, values: ArrayLike<number>, plan: ValuePlan): void {
  w.byte(plan.mode);
  if (plan.mode === ValueMode.Xor) {
    let ph = 0;
    let pl = 0;
    for (let i = 0; i < values.length; i++) {
      const [h, l] = bitsOf(values[i]);
      const xh = (h ^ ph) >>> 0;
      const xl = (l ^ pl) >>> 0;
      ph = h;
      pl = l;
      if (xh === 0 && xl === 0) {
        w.byte(0);
        continue;
      }
      const [lz, tz] = zeroBytes(xh, xl);
      const n = 8 - lz - tz;
      w.byte(n * 8 + tz);
      for (let b = lz; b < 8 - tz; b++) w.byte(b < 4 ? (xh >>> (24 - 8 * b)) & 0xff : (xl >>> (56 - 8 * b)) & 0xff);
    }
    return;
  }
  const mul = plan.mode === ValueMode.DecimalMul;
  const ms = new Float64Array(values.length);
  const exceptions: number[] = [];
  for (let i = 0; i < values.length; i++) {
    ms[i] = scaled(values[i], plan.k, mul);
    if (ms[i] !== ms[i]) exceptions.push(i);
  }
  w.byte(plan.k);
  w.uvarint(exceptions.length);
  let last = -1;
  for (const i of exceptions) {
    w.uvarint(i - last - 1);
    w.float64(values[i]);
    last = i;
  }
  let prevM = 0;
  for (let i = 0; i < values.length; i++) {
    const m = ms[i];
    if (m !== m) continue;
    w.svarint(m - prevM);
    prevM = m;
  }
}

/** Reads one series' value block of `n` values. */
export function readValues(r: ByteReader, n: number, label: string): Float64Array {
  const modeAt = r.pos;
  const mode = r.byte(`${label}.values.mode`);
  const out = new Float64Array(n);
  if (mode === ValueMode.Xor) {
    const field = `${label}.values.xor`;
    let h = 0;
    let l = 0;
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const control = r.byte(field);
      if (control !== 0) {
        const len = control >> 3;
        const tz = control & 7;
        if (len < 1 || len + tz > 8) r.fail(field, `control byte 0x${control.toString(16)}: ${len} bytes + ${tz} trailing zero bytes is not a 64-bit value`, at);
        const bytes = r.bytes(field, len);
        let xh = 0;
        let xl = 0;
        const lz = 8 - len - tz;
        for (let b = 0; b < len; b++) {
          const pos = lz + b;
          if (pos < 4) xh |= bytes[b] << (24 - 8 * pos);
          else xl |= bytes[b] << (56 - 8 * pos);
        }
        h = (h ^ xh) >>> 0;
        l = (l ^ xl) >>> 0;
        r.note(at, field, `xor ${len} byte(s), ${tz} trailing zero byte(s)`);
      }
      xorView.setUint32(0, h);
      xorView.setUint32(4, l);
      out[i] = xorView.getFloat64(0);
    }
    return out;
  }
  if (mode !== ValueMode.DecimalDiv && mode !== ValueMode.DecimalMul) r.fail(`${label}.values.mode`, `unknown mode ${mode}`, modeAt);
  const mul = mode === ValueMode.DecimalMul;
  const k = r.byte(`${label}.values.k`);
  if (k > MAX_DECIMAL_K) r.fail(`${label}.values.k`, `decimal exponent ${k} over ${MAX_DECIMAL_K}`, r.pos - 1);
  // Each exception needs at least 9 bytes.
  const nExc = r.count(`${label}.values.exceptions`, n, 9);
  const isExc = new Uint8Array(n);
  let idx = -1;
  for (let e = 0; e < nExc; e++) {
    const at = r.pos;
    idx += r.uvarint(`${label}.values.exception.skip`) + 1;
    if (idx >= n) r.fail(`${label}.values.exception.skip`, `exception index ${idx} past the series' ${n} readings`, at);
    isExc[idx] = 1;
    out[idx] = r.float64(`${label}.values.exception.value`);
  }
  const field = `${label}.values.delta`;
  const p = P10[k];
  const q = N10[k];
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (isExc[i]) continue;
    m += r.svarint(field);
    if (!(m < M_LIMIT && m > -M_LIMIT)) r.fail(field, `scaled integer of value ${i} is beyond ±2^51`);
    out[i] = mul ? m * q : m / p;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Quality

/**
 * Quality codes on the wire: 0 = absent (Good implied), 1 + Quality otherwise
 * (1 Good, 2 Uncertain, 3 Bad).
 */
export const MAX_QUALITY_CODE = 3;

/** Writes the run-length quality block; no runs at all means every quality is absent. */
export function writeQuality(w: ByteWriter, codes: ArrayLike<number>): void {
  let any = false;
  for (let i = 0; i < codes.length; i++) if (codes[i] !== 0) any = true;
  if (!any) {
    w.uvarint(0);
    return;
  }
  const runs: number[] = [];
  let start = 0;
  for (let i = 1; i <= codes.length; i++) {
    if (i === codes.length || codes[i] !== codes[start]) {
      runs.push(codes[start], i - start);
      start = i;
    }
  }
  w.uvarint(runs.length / 2);
  for (let i = 0; i < runs.length; i += 2) {
    w.byte(runs[i]);
    w.uvarint(runs[i + 1]);
  }
}

/** Reads the quality block of `n` readings into codes (0 = absent). */
export function readQuality(r: ByteReader, n: number, label: string): Uint8Array {
  const codes = new Uint8Array(n);
  readRunsInto(r, n, label, 0, n, codes);
  return codes;
}

/**
 * Reads a run-length column of n codes (the quality column's form; also a cold block's null runs)
 * into `out` for readings a..b−1 only; counts the non-zero codes before a, inside a..b−1 and in all.
 */
export function readRunsInto(r: ByteReader, n: number, label: string, a: number, b: number, out: Uint8Array | Uint16Array): { before: number; inside: number; total: number } {
  const nRuns = r.count(`${label}.quality.runs`, n, 2);
  let at = 0;
  let before = 0;
  let inside = 0;
  let total = 0;
  for (let i = 0; i < nRuns; i++) {
    const codeAt = r.pos;
    const code = r.byte(`${label}.quality.code`);
    if (code > MAX_QUALITY_CODE) r.fail(`${label}.quality.code`, `unknown quality code ${code}`, codeAt);
    const lenAt = r.pos;
    const len = r.uvarint(`${label}.quality.run`, n);
    if (len < 1 || at + len > n) r.fail(`${label}.quality.run`, `run of ${len} does not fit the series' ${n - at} remaining readings`, lenAt);
    if (code) {
      total += len;
      const lo = Math.max(at, a);
      const hi = Math.min(at + len, b);
      before += Math.max(0, Math.min(at + len, a) - at);
      if (lo < hi) {
        inside += hi - lo;
        out.fill(code, lo - a, hi - a);
      }
    }
    at += len;
  }
  if (nRuns && at !== n) r.fail(`${label}.quality.runs`, `runs cover ${at} readings, the series has ${n}`);
  return { before, inside, total };
}
