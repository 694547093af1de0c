/**
 * Bit-packed value columns of cold-storage blocks (block.ts, version 2; the packing itself in bits.ts): integers
 * written in as many bits as the largest of a run needs, LSB first, instead of
 * one varint each, so that a frame can be stored without deflate and decoded
 * with no inflate at all.
 *
 *   timestamps (grid): first, period, then each reading's offset from first + i·period,
 *                      frame-of-reference (minus the smallest) in one bit width
 *   values (packed):   decimal m / 10^k, m × 10^−k or a float32's ordered bit pattern, as integers;
 *                      per 64, on their own (an absolute anchor each, so a reader decodes only the runs
 *                      it needs): zigzag deltas or frame-of-reference, whichever needs fewer bits
 *
 * Version 3 (block.ts) widens the runs to 45 bits (decimals with 10–13
 * digits, as NAB's and SKAB's float64 values carry) and lets a decimal run
 * carry per-value corrections in units of the last place: a double that is a
 * few ulps from m / 10^k (18.324918539200002, the printout of arithmetic's
 * rounding) goes as m plus the difference of the two doubles' bit patterns,
 * not as a raw float64 exception that spoils the whole frame's packing. And
 * a run may be patched: every value's low bits, then the index and high bits
 * of the few that need more (spikes), when that is smaller than the plain run.
 *
 * Every integer packed is < 2^45 (a run needing more does not use these
 * modes): the arithmetic stays exact in doubles. Browser-safe.
 */
import { ByteReader, ByteWriter } from './bytes.js';
import { MAX_DECIMAL_K, MAX_SCALED, ValueMode, scaled, unscaled, type ValuePlan } from './columns.js';
import { MAX_WIDTH, MAX_WIDTH_V3, PACK_CHUNK, pack, patchWidth, unpack, unzig, widthOf, zig } from './bits.js';

/** Widest zigzag ulp correction of version 3 (|difference| < 2^19 ulps). */
const MAX_ULP_WIDTH = 20;
/** Version 3: a run's width field of 63 means "patched": low bits for all, the few wider values' high bits apart. */
const PATCHED = 63;

/** What integers a packed value column holds. */
export enum PackedKind {
  DecimalDiv = 0,
  DecimalMul = 1,
  Float32 = 2,
}

// One 4-byte buffer seen as a float32 and as an int32 (the same platform byte order both ways).
const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
/** A float32 value's bits as an integer in the numbers' order (negative floats below positive ones). */
export function f32Key(v: number): number {
  f32[0] = v;
  const b = i32[0];
  return b < 0 ? -(b & 0x7fffffff) - 1 : b;
}
export function f32FromKey(k: number): number {
  i32[0] = k < 0 ? -(k + 1) | 0x80000000 : k;
  return f32[0];
}

/** A packed value column before it is written: the integers, and (version 3) each decimal's ulp correction. */
export interface PackedInts {
  kind: PackedKind;
  k: number;
  ints: Float64Array;
  /** Version 3: bits(value) − bits(m / 10^k) per value (both doubles of one sign), when some value is not exactly m / 10^k. */
  ulps?: Float64Array;
}

/**
 * The values as integers for a packed column, or undefined when some value has none
 * (a decimal plan with exceptions and not every value a float32).
 */
export function packable(values: ArrayLike<number>, plan: ValuePlan): PackedInts | undefined {
  const n = values.length;
  const ints = new Float64Array(n);
  if (plan.mode === ValueMode.DecimalDiv || plan.mode === ValueMode.DecimalMul) {
    const mul = plan.mode === ValueMode.DecimalMul;
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = (ints[i] = scaled(values[i], plan.k, mul)) === ints[i];
    if (ok) return { kind: mul ? PackedKind.DecimalMul : PackedKind.DecimalDiv, k: plan.k, ints };
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Math.fround(v) !== v) return undefined;
    ints[i] = f32Key(v);
  }
  return { kind: PackedKind.Float32, k: 0, ints };
}

const ulpView = new DataView(new ArrayBuffer(8));
/** bits(v) − bits(base) for two finite doubles of one sign, or NaN when they are further apart than corrections reach. */
function ulpDiff(v: number, base: number): number {
  if (!Number.isFinite(v) || (v < 0) !== (base < 0) || (v === 0 && 1 / v < 0) || (base === 0 && 1 / base < 0)) return NaN;
  ulpView.setFloat64(0, v);
  const vh = ulpView.getUint32(0);
  const vl = ulpView.getUint32(4);
  ulpView.setFloat64(0, base);
  const d = (vh - ulpView.getUint32(0)) * 0x100000000 + (vl - ulpView.getUint32(4));
  return Math.abs(d) < 2 ** (MAX_ULP_WIDTH - 1) ? d : NaN;
}

/** The double whose bit pattern is bits(base) + d (d small, as ulpDiff gave it). */
function ulpAdd(base: number, d: number): number {
  ulpView.setFloat64(0, base);
  let lo = ulpView.getUint32(4) + d;
  let hi = ulpView.getUint32(0);
  const carry = Math.floor(lo / 0x100000000);
  lo -= carry * 0x100000000;
  hi += carry;
  ulpView.setUint32(0, hi >>> 0);
  ulpView.setUint32(4, lo);
  return ulpView.getFloat64(0);
}

/** Values as m at exponent k plus ulp corrections, or undefined when some value is not near any m / 10^k. */
function nearDecimal(values: ArrayLike<number>, k: number, mul: boolean): PackedInts | undefined {
  const n = values.length;
  const ints = new Float64Array(n);
  const ulps = new Float64Array(n);
  const p = 10 ** k;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const m = Math.round(v * p);
    if (!(m < MAX_SCALED && m > -MAX_SCALED)) return undefined;
    const base = unscaled(m, k, mul);
    const d = base === v && !(v === 0 && 1 / v < 0) ? 0 : ulpDiff(v, base);
    if (d !== d) return undefined;
    ints[i] = m;
    ulps[i] = d;
  }
  return { kind: mul ? PackedKind.DecimalMul : PackedKind.DecimalDiv, k, ints, ulps };
}

/**
 * Version 3: `packable`, or else the values as decimals near m / 10^k with ulp corrections, at
 * the plan's exponent or at the one most values need (whichever packs smaller is the caller's
 * choice: every candidate is returned, the exact ones first).
 */
export function packableV3(values: ArrayLike<number>, plan: ValuePlan): PackedInts[] {
  const exact = packable(values, plan);
  if (exact) return [exact];
  const n = values.length;
  const hist = new Array<number>(MAX_DECIMAL_K + 1).fill(0);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k <= MAX_DECIMAL_K; k++) {
      if (scaled(values[i], k, false) === scaled(values[i], k, false)) {
        hist[k]++;
        break;
      }
    }
  }
  const modal = hist.indexOf(Math.max(...hist));
  const ks = new Set([modal]);
  if (plan.mode === ValueMode.DecimalDiv || plan.mode === ValueMode.DecimalMul) ks.add(plan.k);
  const out: PackedInts[] = [];
  for (const k of ks) {
    const p = nearDecimal(values, k, plan.mode === ValueMode.DecimalMul && k === plan.k);
    if (p) out.push(p);
  }
  return out;
}

/**
 * Writes a packed value column; false (nothing written) when a run of 64 needs more than
 * `maxWidth` bits both ways (32 in version 2, MAX_WIDTH_V3 in version 3, which alone
 * writes `ulps`).
 */
export function writePackedValues(w: ByteWriter, p: PackedInts, maxWidth = MAX_WIDTH): boolean {
  const { ints, ulps } = p;
  const n = ints.length;
  const heads: { delta: boolean; width: number; min: number; ulpWidth: number; low: number }[] = [];
  const tmp = new Float64Array(PACK_CHUNK);
  /** The run's integers as written (zigzag deltas or offsets from the minimum) into tmp; their count. */
  const residuals = (from: number, to: number, delta: boolean, min: number): number => {
    if (delta) for (let i = from + 1; i < to; i++) tmp[i - from - 1] = zig(ints[i] - ints[i - 1]);
    else for (let i = from; i < to; i++) tmp[i - from] = ints[i] - min;
    return delta ? to - from - 1 : to - from;
  };
  for (let from = 0; from < n; from += PACK_CHUNK) {
    const to = Math.min(n, from + PACK_CHUNK);
    let dmax = 0;
    let min = ints[from];
    let max = ints[from];
    let umax = 0;
    for (let i = from + 1; i < to; i++) {
      const z = zig(ints[i] - ints[i - 1]);
      if (z > dmax) dmax = z;
      if (ints[i] < min) min = ints[i];
      if (ints[i] > max) max = ints[i];
    }
    if (ulps) for (let i = from; i < to; i++) umax = Math.max(umax, zig(ulps[i]));
    const dw = widthOf(dmax);
    const fw = widthOf(max - min);
    // Deltas: the run's first value, then count − 1 deltas; frame of reference: the minimum, then count offsets.
    const delta = dw <= maxWidth && (fw > maxWidth || dw * (to - from - 1) <= fw * (to - from));
    const width = delta ? dw : fw;
    const ulpWidth = widthOf(umax);
    if (width > maxWidth || ulpWidth > MAX_ULP_WIDTH) return false;
    const low = maxWidth > MAX_WIDTH && width > 1 ? patchWidth(tmp, residuals(from, to, delta, min), width) : -1;
    heads.push({ delta, width, min, ulpWidth, low });
  }
  if (ulps && maxWidth <= MAX_WIDTH && heads.some((h) => h.ulpWidth)) return false; // version 2 has no corrections
  w.byte(p.kind);
  w.byte(p.k);
  heads.forEach((h, c) => {
    const from = c * PACK_CHUNK;
    const to = Math.min(n, from + PACK_CHUNK);
    const count = residuals(from, to, h.delta, h.min);
    if (h.low < 0) {
      w.byte((h.ulpWidth ? 0x80 : 0) | (h.delta ? 0x40 : 0) | h.width);
      if (h.ulpWidth) w.byte(h.ulpWidth);
      w.svarint(h.delta ? ints[from] : h.min);
      pack(w, tmp, 0, count, h.width);
    } else {
      const limit = 2 ** h.low;
      const at: number[] = [];
      const high: number[] = [];
      for (let i = 0; i < count; i++) {
        if (tmp[i] < limit) continue;
        at.push(i);
        high.push(Math.floor(tmp[i] / limit));
        tmp[i] %= limit;
      }
      w.byte((h.ulpWidth ? 0x80 : 0) | (h.delta ? 0x40 : 0) | PATCHED);
      w.byte(h.low);
      w.byte(h.width);
      w.byte(at.length);
      if (h.ulpWidth) w.byte(h.ulpWidth);
      w.svarint(h.delta ? ints[from] : h.min);
      pack(w, tmp, 0, count, h.low);
      for (const i of at) w.byte(i);
      pack(w, high, 0, high.length, h.width - h.low);
    }
    if (h.ulpWidth) {
      for (let i = from; i < to; i++) tmp[i - from] = zig(ulps![i]);
      pack(w, tmp, 0, to - from, h.ulpWidth);
    }
  });
  return true;
}

// Scratch runs of readPackedValues (synchronous, never re-entered; every place read is first written).
const ulpScratch = new Float64Array(PACK_CHUNK);
const highScratch = new Float64Array(PACK_CHUNK);

/**
 * Reads a packed value column of `n` values. Only the runs of 64 holding values lo..hi−1 are
 * decoded (all by default); the others are skipped and their places left 0.
 */
export function readPackedValues(r: ByteReader, n: number, label: string, lo = 0, hi = n, version = 2): Float64Array {
  const field = `${label}.values.packed`;
  const kindAt = r.pos;
  const kind = r.byte(`${field}.kind`);
  if (kind > PackedKind.Float32) r.fail(`${field}.kind`, `unknown kind ${kind}`, kindAt);
  const k = r.byte(`${field}.k`);
  if (k > 15) r.fail(`${field}.k`, `decimal exponent ${k}: at most 15`, kindAt + 1);
  const ints = new Float64Array(n);
  const mul = kind === PackedKind.DecimalMul;
  const maxWidth = version >= 3 ? MAX_WIDTH_V3 : MAX_WIDTH;
  const ulps = version >= 3 ? ulpScratch : undefined;
  const highs = highScratch;
  const chunkField = `${field}.chunk`;
  const anchorField = `${field}.anchor`;
  for (let from = 0; from < n; from += PACK_CHUNK) {
    const to = Math.min(n, from + PACK_CHUNK);
    const at = r.pos;
    const head = r.byte(chunkField);
    let width = head & 0x3f;
    const corrected = (head & 0x80) !== 0;
    const delta = (head & 0x40) !== 0;
    const count = delta ? to - from - 1 : to - from;
    const patched = width === PATCHED && version >= 3;
    if ((corrected && (version < 3 || kind === PackedKind.Float32)) || (width > maxWidth && !patched)) r.fail(`${field}.chunk`, `header 0x${head.toString(16)}: unknown mode or more than ${maxWidth} bits`, at);
    // Patched (version 3): low bits for all, then the indices and high bits of the values at or over 2^low.
    let full = width;
    let patches = 0;
    if (patched) {
      const pat = r.pos;
      width = r.byte(`${field}.patch.low`);
      full = r.byte(`${field}.patch.width`);
      patches = r.byte(`${field}.patch.count`);
      if (width >= full || full > maxWidth || patches < 1 || patches > count) r.fail(`${field}.patch`, `low ${width} bits, width ${full}, ${patches} patches: not a patched run of ${count}`, pat);
    }
    let ulpWidth = 0;
    if (corrected) {
      const uat = r.pos;
      ulpWidth = r.byte(`${field}.ulpWidth`);
      if (ulpWidth < 1 || ulpWidth > MAX_ULP_WIDTH) r.fail(`${field}.ulpWidth`, `${ulpWidth} bits: 1 to ${MAX_ULP_WIDTH}`, uat);
    }
    const anchor = r.svarint(anchorField);
    if (to <= lo || from >= hi) {
      const patchBytes = patches + Math.ceil((patches * (full - width)) / 8);
      r.skip(field, Math.ceil((count * width) / 8) + patchBytes + Math.ceil(((to - from) * ulpWidth) / 8)); // not wanted: skipped
      continue;
    }
    const off = delta ? from + 1 : from;
    unpack(r, count, width, ints, off, field);
    if (patches) {
      const idx = r.bytes(`${field}.patch.at`, patches);
      unpack(r, patches, full - width, highs, 0, `${field}.patch.high`);
      const limit = 2 ** width;
      for (let j = 0; j < patches; j++) {
        if (idx[j] >= count) r.fail(`${field}.patch.at`, `index ${idx[j]} past the run's ${count} values`);
        ints[off + idx[j]] += highs[j] * limit;
      }
    }
    if (delta) {
      ints[from] = anchor;
      for (let i = from + 1; i < to; i++) ints[i] = ints[i - 1] + unzig(ints[i]);
    } else {
      for (let i = from; i < to; i++) ints[i] += anchor;
    }
    // The integers become the values in place.
    // One loop per kind (the kind test out of the per-value loop).
    if (kind === PackedKind.Float32) {
      for (let i = from; i < to; i++) {
        const m = ints[i];
        if (!(m >= -0x80000000 && m <= 0x7fffffff)) r.fail(field, `value ${i} is not a 32-bit pattern`);
        ints[i] = f32FromKey(m);
      }
    } else {
      for (let i = from; i < to; i++) {
        const m = ints[i];
        if (!(m < MAX_SCALED && m > -MAX_SCALED)) r.fail(field, `value ${i}: scaled integer out of range`);
        ints[i] = unscaled(m, k, mul);
      }
    }
    if (ulpWidth) {
      unpack(r, to - from, ulpWidth, ulps!, 0, `${field}.ulps`);
      for (let i = from; i < to; i++) {
        const d = unzig(ulps![i - from]);
        if (!d) continue;
        const v = ulpAdd(ints[i], d);
        if (!Number.isFinite(v) || (v < 0) !== (ints[i] < 0)) r.fail(`${field}.ulps`, `value ${i}: a correction of ${d} ulps leaves the finite numbers of its sign`);
        ints[i] = v;
      }
    }
  }
  return ints;
}
