/**
 * The bit-packing under block.ts's packed columns (packed.ts): integers in as many bits as the widest of a run
 * needs, LSB first; zigzag for signed deltas; a run "patched" when a few wide values would widen it all; and
 * timestamps as offsets from a regular grid. Every integer is < 2^53, so the arithmetic stays exact in doubles.
 * Browser-safe.
 */
import { ByteReader, ByteWriter } from './bytes.js';
import { medianDelta } from './columns.js';

/** Values per bit width in a packed value column. */
export const PACK_CHUNK = 64;
export const MAX_WIDTH = 32;
/** Widest run of block version 3: bits waiting (< 8) + width stay under 2^53. */
export const MAX_WIDTH_V3 = 45;

/** Version 3: the low width that packs xs (each < 2^width) smallest with the values at or over 2^low patched, or −1 for none. */
export function patchWidth(xs: ArrayLike<number>, count: number, width: number): number {
  const byWidth = new Array<number>(width + 1).fill(0);
  for (let i = 0; i < count; i++) byWidth[widthOf(xs[i])]++;
  let best = count * width;
  let bestLow = -1;
  let e = count - byWidth[0]; // values needing more than `low` bits
  for (let low = 0; low < width; low++) {
    if (low > 0) e -= byWidth[low];
    // Three bytes (low, width, count), the low bits, and per patched value its index byte and high bits.
    const cost = 24 + count * low + e * 8 + Math.ceil((e * (width - low)) / 8) * 8;
    if (cost < best) {
      best = cost;
      bestLow = low;
    }
  }
  return bestLow;
}

/** Bits needed for an unsigned integer. */
export const widthOf = (x: number): number => (x === 0 ? 0 : x < 0x100000000 ? 32 - Math.clz32(x) : x < 2 ** 52 ? 33 + widthOf(Math.floor(x / 0x100000000)) - 1 : 64);
export const zig = (d: number): number => (d < 0 ? -2 * d - 1 : 2 * d);
// z is a non-negative integer below 2^53: halving is exact, and floor tells odd from even without a float modulo.
export const unzig = (z: number): number => {
  const h = z / 2;
  return Math.floor(h) === h ? h : -(h + 0.5);
};

/** Appends `xs[from..to)` (each < 2^width) in `width` bits each. */
export function pack(w: ByteWriter, xs: ArrayLike<number>, from: number, to: number, width: number): void {
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
export function unpack(r: ByteReader, count: number, width: number, out: Float64Array, at: number, field: string): void {
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
  // Wider (25..45 bits): each value from the 7 bytes it may touch, as the 32 − shift bits of a
  // little-endian word and (when the value reaches past them) the bits above, in 32-bit integer
  // arithmetic; bytes past the end read as 0.
  for (let i = 0, pos = 0; i < count; i++, pos += width) {
    const b = pos >>> 3;
    const shift = pos & 7;
    const low = (bytes[b] | (bytes[b + 1] << 8) | (bytes[b + 2] << 16) | (bytes[b + 3] << 24)) >>> shift;
    const lowBits = 32 - shift;
    if (width < lowBits) out[at + i] = (low & ((1 << width) - 1)) >>> 0;
    else if (width === lowBits) out[at + i] = low;
    else out[at + i] = low + ((bytes[b + 4] | (bytes[b + 5] << 8) | (bytes[b + 6] << 16)) & ((1 << (width - lowBits)) - 1)) * 2 ** lowBits;
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
  // Every term is an integer, so a range test is Number.isSafeInteger here, and cheaper per reading.
  for (let i = 1; i < n; i++) {
    const t = first + i * period + min + ts[i];
    if (!(t <= Number.MAX_SAFE_INTEGER && t >= -Number.MAX_SAFE_INTEGER)) r.fail(`${label}.timestamps`, `timestamp ${i} outside the safe integer range`);
    ts[i] = t;
  }
  if (!Number.isSafeInteger(first)) r.fail(`${label}.timestamps.first`, 'timestamp outside the safe integer range');
  return ts;
}
