/**
 * The value column of one series: decimal m / 10^k | decimal m × 10^−k (+ exceptions
 * as raw float64) | XOR float, whichever is the fewest bytes before deflate.
 */
import { ByteReader, ByteWriter, svarintLength, uvarintLength } from '../bytes.js';

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

const isNegZero = (v: number) => v === 0 && 1 / v < 0;

/**
 * Smallest k whose decimal reconstruction m / 10^k gives back `v` exactly (−1: none), with the smallest for
 * m · 10^−k stored in mulK[i]: one rounding of v · 10^k serves both (planValues' hot loop).
 */
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
