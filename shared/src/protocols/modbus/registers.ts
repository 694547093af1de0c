/**
 * Register data types: how a point's value sits in 16-bit Modbus registers.
 * Both directions live here, beside the other codecs, so the decoder (edge)
 * and the simulator (devices) can never disagree.
 *
 * Byte order names follow Telegraf: for a 32-bit value with bytes A (most
 * significant) .. D, `ABCD` is big-endian, `DCBA` little-endian, `BADC` swaps
 * bytes within each word, `CDAB` swaps the words. 64-bit values extend the
 * same rule: ABCD → ABCDEFGH, CDAB → GHEFCDAB (word swap), and so on.
 */

/** The raw data types a Modbus point can have. */
export const dataTypes = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'bcd', 'bit'] as const;
/** How a point's raw value is stored. */
export type DataType = (typeof dataTypes)[number];

/** The four byte orders of 32/64-bit values (Telegraf's names). */
export const byteOrders = ['ABCD', 'DCBA', 'BADC', 'CDAB'] as const;
/** Byte order of a multi-register value (see module doc). */
export type ByteOrder = (typeof byteOrders)[number];

/** Registers a value of this type occupies (bits and coils: 1). */
export function registerCount(type: DataType): number {
  switch (type) {
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'float64':
      return 4;
    default:
      return 1;
  }
}

const scratch = new DataView(new ArrayBuffer(8));

/** Index into the big-endian byte image for each byte position of the wire order. */
function permutation(order: ByteOrder, bytes: number): number[] {
  const idx = Array.from({ length: bytes }, (_, i) => i);
  switch (order) {
    case 'ABCD':
      return idx;
    case 'DCBA':
      return idx.reverse();
    case 'BADC':
      return idx.map((i) => (i % 2 === 0 ? i + 1 : i - 1));
    case 'CDAB': {
      const words = bytes / 2;
      return idx.map((i) => (words - 1 - Math.floor(i / 2)) * 2 + (i % 2));
    }
  }
}
const perms = new Map<string, number[]>();
function perm(order: ByteOrder, bytes: number): number[] {
  const key = order + bytes;
  let p = perms.get(key);
  if (!p) perms.set(key, (p = permutation(order, bytes)));
  return p;
}

/**
 * Raw (unscaled) value from `registers[at..]`.
 * `bcd` is one register of four BCD digits (0..9999); an invalid nibble gives NaN.
 */
export function decodeRegisters(registers: ArrayLike<number>, at: number, type: DataType, order: ByteOrder = 'ABCD'): number {
  if (type === 'uint16') return registers[at] & 0xffff;
  if (type === 'int16') return (registers[at] << 16) >> 16;
  if (type === 'bit') return registers[at] ? 1 : 0;
  if (type === 'bcd') return bcdToNumber(registers[at]);
  const words = registerCount(type);
  const bytes = words * 2;
  const p = perm(order, bytes);
  for (let i = 0; i < bytes; i++) {
    const w = registers[at + (i >> 1)];
    const byte = i % 2 === 0 ? (w >> 8) & 0xff : w & 0xff;
    scratch.setUint8(p[i], byte);
  }
  switch (type) {
    case 'int32':
      return scratch.getInt32(0);
    case 'uint32':
      return scratch.getUint32(0);
    case 'float32':
      return scratch.getFloat32(0);
    default:
      return scratch.getFloat64(0);
  }
}

/** Registers that hold the raw value `raw` (the inverse of decodeRegisters). */
export function encodeRegisters(raw: number, type: DataType, order: ByteOrder = 'ABCD'): number[] {
  const out = new Array<number>(registerCount(type)).fill(0);
  writeRegisters(out, 0, raw, type, order);
  return out;
}

/**
 * Write the registers that hold `raw` into `target[at..]` without allocating
 * (the simulator refreshes thousands of points a second this way). Integer
 * types round; values outside an integer type wrap as on the device.
 */
export function writeRegisters(target: { [i: number]: number }, at: number, raw: number, type: DataType, order: ByteOrder = 'ABCD'): void {
  switch (type) {
    case 'uint16':
    case 'int16':
      target[at] = Math.round(raw) & 0xffff;
      return;
    case 'bit':
      target[at] = raw ? 1 : 0;
      return;
    case 'bcd':
      target[at] = numberToBcd(raw);
      return;
  }
  const words = registerCount(type);
  const bytes = words * 2;
  if (type === 'int32') scratch.setInt32(0, Math.round(raw));
  else if (type === 'uint32') scratch.setUint32(0, Math.round(raw) >>> 0);
  else if (type === 'float32') scratch.setFloat32(0, raw);
  else scratch.setFloat64(0, raw);
  const p = perm(order, bytes);
  for (let w = 0; w < words; w++) target[at + w] = (scratch.getUint8(p[2 * w]) << 8) | scratch.getUint8(p[2 * w + 1]);
}

/** Four BCD digits in one register → 0..9999, NaN if a nibble is over 9. */
export function bcdToNumber(word: number): number {
  let n = 0;
  for (let shift = 12; shift >= 0; shift -= 4) {
    const d = (word >> shift) & 0xf;
    if (d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/** 0..9999 (clamped, rounded) → four BCD digits in one register. */
export function numberToBcd(n: number): number {
  let v = Math.max(0, Math.min(9999, Math.round(n)));
  let word = 0;
  for (let shift = 0; shift <= 12; shift += 4) {
    word |= (v % 10) << shift;
    v = Math.floor(v / 10);
  }
  return word;
}
