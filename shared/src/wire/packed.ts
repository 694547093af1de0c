/**
 * Bit-packed columns of cold-storage blocks (block.ts, version 2): integers
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
 * Every integer packed is < 2^32 (a run needing more does not use these
 * modes): the arithmetic stays exact in doubles. Browser-safe.
 */
import { ByteReader, ByteWriter } from './bytes.js';
import { MAX_SCALED, ValueMode, medianDelta, scaled, unscaled, type ValuePlan } from './columns.js';

/** Values per bit width in a packed value column. */
export const PACK_CHUNK = 64;
const MAX_WIDTH = 32;

/** Bits needed for an unsigned integer. */
const widthOf = (x: number): number => (x === 0 ? 0 : x < 0x100000000 ? 32 - Math.clz32(x) : 33);
const zig = (d: number): number => (d < 0 ? -2 * d - 1 : 2 * d);
const unzig = (z: number): number => (z % 2 ? -(z + 1) / 2 : z / 2);

/** Appends `xs[from..to)` (each < 2^width) in `width` bits each. */
function pack(w: ByteWriter, xs: ArrayLike<number>, from: number, to: number, width: number): void {
  if (!width) return;
  const out = new Uint8Array(Math.ceil(((to - from) * width) / 8));
  let acc = 0;
  let bits = 0;
  let at = 0;
  if (width <= 24) {
    // 32-bit integer arithmetic: fewer than 8 bits wait in acc, plus at most 24.
    for (let i = from; i < to; i++) {
      acc |= xs[i] << bits;
      bits += width;
      while (bits >= 8) {
        out[at++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) out[at] = acc;
    return w.bytes(out);
  }
  for (let i = from; i < to; i++) {
    acc += xs[i] * 2 ** bits;
    bits += width;
    while (bits >= 8) {
      const b = acc % 256;
      out[at++] = b;
      acc = (acc - b) / 256;
      bits -= 8;
    }
  }
  if (bits > 0) out[at] = acc;
  w.bytes(out);
}

/** Reads `count` integers of `width` bits into out[at..]. */
function unpack(r: ByteReader, count: number, width: number, out: Float64Array, at: number, field: string): void {
  if (!width) return void out.fill(0, at, at + count);
  const bytes = r.bytes(field, Math.ceil((count * width) / 8));
  let acc = 0;
  let bits = 0;
  let k = 0;
  if (width <= 24) {
    const mask = (1 << width) - 1;
    for (let i = 0; i < count; i++) {
      while (bits < width) {
        acc |= bytes[k++] << bits;
        bits += 8;
      }
      out[at + i] = acc & mask;
      acc >>>= width;
      bits -= width;
    }
    return;
  }
  const span = 2 ** width;
  for (let i = 0; i < count; i++) {
    while (bits < width) {
      acc += bytes[k++] * 2 ** bits;
      bits += 8;
    }
    const v = acc % span;
    out[at + i] = v;
    acc = (acc - v) / span;
    bits -= width;
  }
}

/** Writes timestamps as offsets from a regular grid; false (nothing written) when an offset needs more than 32 bits. */
export function writeGridTimestamps(w: ByteWriter, ts: ArrayLike<number>, base: number): boolean {
  const n = ts.length;
  const first = ts[0];
  const period = n >= 2 ? medianDelta(ts) : 0;
  const off = new Float64Array(n);
  let min = 0;
  let max = 0;
  for (let i = 1; i < n; i++) {
    const o = ts[i] - first - i * period;
    if (!Number.isSafeInteger(o)) return false;
    off[i] = o;
    if (o < min) min = o;
    if (o > max) max = o;
  }
  const width = widthOf(max - min);
  if (width > MAX_WIDTH || !Number.isSafeInteger(first - base) || !Number.isSafeInteger(period)) return false;
  for (let i = 1; i < n; i++) off[i] -= min;
  w.svarint(first - base);
  w.svarint(period);
  w.svarint(min);
  w.byte(width);
  pack(w, off, 1, n, width);
  return true;
}

export function readGridTimestamps(r: ByteReader, n: number, base: number, label: string): Float64Array {
  const first = base + r.svarint(`${label}.timestamps.first`);
  const period = r.svarint(`${label}.timestamps.period`);
  const min = r.svarint(`${label}.timestamps.min`);
  const at = r.pos;
  const width = r.byte(`${label}.timestamps.width`);
  if (width > MAX_WIDTH) r.fail(`${label}.timestamps.width`, `${width} bits: at most ${MAX_WIDTH}`, at);
  const ts = new Float64Array(n);
  unpack(r, n - 1, width, ts, 1, `${label}.timestamps.offsets`);
  ts[0] = first;
  for (let i = 1; i < n; i++) {
    const t = first + i * period + min + ts[i];
    if (!Number.isSafeInteger(t)) r.fail(`${label}.timestamps`, `timestamp ${i} outside the safe integer range`);
    ts[i] = t;
  }
  if (!Number.isSafeInteger(first)) r.fail(`${label}.timestamps.first`, 'timestamp outside the safe integer range');
  return ts;
}

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

/**
 * The values as integers for a packed column, or undefined when some value has none
 * (a decimal plan with exceptions and not every value a float32).
 */
export function packable(values: ArrayLike<number>, plan: ValuePlan): { kind: PackedKind; k: number; ints: Float64Array } | undefined {
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

/** Writes a packed value column; false (nothing written) when a run of 64 needs more than 32 bits both ways. */
export function writePackedValues(w: ByteWriter, p: { kind: PackedKind; k: number; ints: Float64Array }): boolean {
  const { ints } = p;
  const n = ints.length;
  const heads: { delta: boolean; width: number; min: number }[] = [];
  for (let from = 0; from < n; from += PACK_CHUNK) {
    const to = Math.min(n, from + PACK_CHUNK);
    let dmax = 0;
    let min = ints[from];
    let max = ints[from];
    for (let i = from + 1; i < to; i++) {
      const z = zig(ints[i] - ints[i - 1]);
      if (z > dmax) dmax = z;
      if (ints[i] < min) min = ints[i];
      if (ints[i] > max) max = ints[i];
    }
    const dw = widthOf(dmax);
    const fw = widthOf(max - min);
    // Deltas: the run's first value, then count − 1 deltas; frame of reference: the minimum, then count offsets.
    const delta = dw <= MAX_WIDTH && (fw > MAX_WIDTH || dw * (to - from - 1) <= fw * (to - from));
    const width = delta ? dw : fw;
    if (width > MAX_WIDTH) return false;
    heads.push({ delta, width, min });
  }
  w.byte(p.kind);
  w.byte(p.k);
  const tmp = new Float64Array(PACK_CHUNK);
  heads.forEach((h, c) => {
    const from = c * PACK_CHUNK;
    const to = Math.min(n, from + PACK_CHUNK);
    w.byte((h.delta ? 0x40 : 0) | h.width);
    w.svarint(h.delta ? ints[from] : h.min);
    if (h.delta) {
      for (let i = from + 1; i < to; i++) tmp[i - from - 1] = zig(ints[i] - ints[i - 1]);
      pack(w, tmp, 0, to - from - 1, h.width);
    } else {
      for (let i = from; i < to; i++) tmp[i - from] = ints[i] - h.min;
      pack(w, tmp, 0, to - from, h.width);
    }
  });
  return true;
}

/**
 * Reads a packed value column of `n` values. Only the runs of 64 holding values lo..hi−1 are
 * decoded (all by default); the others are skipped and their places left 0.
 */
export function readPackedValues(r: ByteReader, n: number, label: string, lo = 0, hi = n): Float64Array {
  const field = `${label}.values.packed`;
  const kindAt = r.pos;
  const kind = r.byte(`${field}.kind`);
  if (kind > PackedKind.Float32) r.fail(`${field}.kind`, `unknown kind ${kind}`, kindAt);
  const k = r.byte(`${field}.k`);
  if (k > 15) r.fail(`${field}.k`, `decimal exponent ${k}: at most 15`, kindAt + 1);
  const ints = new Float64Array(n);
  const mul = kind === PackedKind.DecimalMul;
  for (let from = 0; from < n; from += PACK_CHUNK) {
    const to = Math.min(n, from + PACK_CHUNK);
    const at = r.pos;
    const head = r.byte(`${field}.chunk`);
    const width = head & 0x3f;
    if (head & 0x80 || width > MAX_WIDTH) r.fail(`${field}.chunk`, `header 0x${head.toString(16)}: unknown mode or more than ${MAX_WIDTH} bits`, at);
    const delta = (head & 0x40) !== 0;
    const anchor = r.svarint(`${field}.anchor`);
    const count = delta ? to - from - 1 : to - from;
    if (to <= lo || from >= hi) {
      r.bytes(field, Math.ceil((count * width) / 8)); // not wanted: skipped
      continue;
    }
    if (delta) {
      unpack(r, count, width, ints, from + 1, field);
      ints[from] = anchor;
      for (let i = from + 1; i < to; i++) ints[i] = ints[i - 1] + unzig(ints[i]);
    } else {
      unpack(r, count, width, ints, from, field);
      for (let i = from; i < to; i++) ints[i] += anchor;
    }
    // The integers become the values in place.
    for (let i = from; i < to; i++) {
      const m = ints[i];
      if (kind === PackedKind.Float32) {
        if (!(m >= -0x80000000 && m <= 0x7fffffff)) r.fail(field, `value ${i} is not a 32-bit pattern`);
        ints[i] = f32FromKey(m);
      } else {
        if (!(m < MAX_SCALED && m > -MAX_SCALED)) r.fail(field, `value ${i}: scaled integer out of range`);
        ints[i] = unscaled(m, k, mul);
      }
    }
  }
  return ints;
}
