/**
 * Small byte helpers shared by the protocol codecs: hex formatting for error
 * messages, the 8-bit additive checksum of the 0x68 meter protocols, packed
 * BCD, and the FE wake-up preamble. Pure functions, no I/O.
 */
import { ErrorCodes, LifelineError } from '../errors.js';

/** A FRAME_INVALID error whose message says exactly what is wrong. */
export function frameInvalid(message: string, details?: unknown): LifelineError {
  return new LifelineError(ErrorCodes.FrameInvalid, message, details === undefined ? undefined : { details });
}

const HEX = '0123456789ABCDEF';

/** `0x8B` for one byte. */
export function hexByte(b: number): string {
  return '0x' + HEX[(b >> 4) & 15] + HEX[b & 15];
}

/** `68 25 04` for a byte range (spaces between bytes, upper case). */
export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) {
    if (i > start) s += ' ';
    const b = bytes[i];
    s += HEX[b >> 4] + HEX[b & 15];
  }
  return s;
}

/** Sum of bytes [start, end) modulo 256: the CS of DL/T 645 and CJ/T 188 frames. */
export function sum8(bytes: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += bytes[i];
  return s & 0xff;
}

/**
 * Total length (preamble included) of a 0x68-framed meter frame (DL/T 645,
 * CJ/T 188) whose first `length` bytes are in `buf`, for serial links: `0`
 * when more bytes are needed to tell, `-1` when the first byte after the
 * preamble is not 0x68 (resynchronise). `lOffset` is where the L byte sits
 * after the first 0x68; `overhead` the frame's bytes besides its data.
 */
export function frame68Length(buf: Uint8Array, length: number, lOffset: number, overhead: number): number {
  let p = 0;
  while (p < length && buf[p] === 0xfe) p++;
  if (p === length) return 0;
  if (buf[p] !== 0x68) return -1;
  if (length < p + lOffset + 1) return 0;
  return p + overhead + buf[p + lOffset];
}

/**
 * The terminator and checksum shared by DL/T 645 and CJ/T 188 frames that
 * start at `p` and end with the input; returns the checksum. Throws FRAME_INVALID.
 */
export function checkFrame68Tail(bytes: Uint8Array, p: number): number {
  const end = bytes.length;
  if (bytes[end - 1] !== 0x16) throw frameInvalid(`terminator: expected 0x16, found ${hexByte(bytes[end - 1])}`);
  const cs = sum8(bytes, p, end - 2);
  if (bytes[end - 2] !== cs) throw frameInvalid(`checksum: expected ${hexByte(cs)}, found ${hexByte(bytes[end - 2])}`);
  return cs;
}

/** What every decoded 0x68 meter frame (DL/T 645, CJ/T 188) says; each protocol adds its own fields. */
export interface MeterFrameFields {
  /** Number of FE wake-up bytes before the first 0x68. */
  preamble: number;
  /** Meter address as printed on the meter (AA wildcards kept). */
  address: string;
  /** Control byte. */
  control: number;
  /** D7: sent by the meter. */
  fromMeter: boolean;
  /** D6: the meter reports an error. */
  abnormal: boolean;
  /** Checksum byte as received (it checked). */
  checksum: number;
  /** Bytes from the first FE/68 to the terminator inclusive. */
  length: number;
}

/** Layout of one 0x68 protocol, for {@link parseFrame68}. */
export interface Frame68Layout {
  /** Name in messages: `DL/T 645`. */
  protocol: string;
  /** Bytes besides DATA, from the first 0x68 to the 0x16. */
  overhead: number;
  /** Where L sits after the first 0x68 (control sits just before it). */
  lOffset: number;
  /** Where the address sits after the first 0x68, and its length in bytes. */
  address: readonly [at: number, bytes: number];
  /** DL/T 645 only: where the second 0x68 sits after the first. */
  secondStart?: number;
}

/**
 * The envelope checks DL/T 645 and CJ/T 188 share, in the order a technician
 * reads a frame: preamble, enough bytes, start byte(s), L against the data that
 * follows, terminator, checksum; then the fields every such frame has. The
 * data is `bytes[preamble + lOffset + 1 ..]`, `length - preamble - overhead` long.
 * Throws FRAME_INVALID saying what is wrong.
 */
export function parseFrame68(bytes: Uint8Array, layout: Frame68Layout): MeterFrameFields {
  const { protocol, overhead, lOffset, secondStart } = layout;
  const p = preambleLength(bytes);
  const n = bytes.length - p;
  if (n < overhead) throw frameInvalid(`length: a ${protocol} frame needs at least ${overhead} bytes after the preamble, got ${n}`);
  if (bytes[p] !== 0x68) throw frameInvalid(`start: expected 0x68, found ${hexByte(bytes[p])}`);
  if (secondStart !== undefined && bytes[p + secondStart] !== 0x68) {
    throw frameInvalid(`second start: expected 0x68 after the address, found ${hexByte(bytes[p + secondStart])}`);
  }
  const L = bytes[p + lOffset];
  if (n - overhead !== L) throw frameInvalid(`length: L=${L} but ${n - overhead} data bytes follow`);
  const checksum = checkFrame68Tail(bytes, p);
  const control = bytes[p + lOffset - 1];
  return {
    preamble: p,
    address: formatBcdAddress(bytes, p + layout.address[0], layout.address[1]),
    control,
    fromMeter: (control & 0x80) !== 0,
    abnormal: (control & 0x40) !== 0,
    checksum,
    length: bytes.length,
  };
}

/**
 * Whether a meter address as printed matches `pattern`, where each `AA` pair
 * is a wildcard (both meter protocols address "any meter" this way).
 */
export function bcdAddressMatches(pattern: string, actual: string): boolean {
  const p = pattern.replace(/\s+/g, '').toUpperCase();
  if (p.length !== actual.length) return false;
  for (let i = 0; i < p.length; i += 2) {
    const pair = p.slice(i, i + 2);
    if (pair !== 'AA' && pair !== actual.slice(i, i + 2)) return false;
  }
  return true;
}

/** Number of leading 0xFE wake-up bytes from `start`. */
export function preambleLength(bytes: Uint8Array, start = 0): number {
  let i = start;
  while (i < bytes.length && bytes[i] === 0xfe) i++;
  return i - start;
}

/**
 * Packed BCD digits of `len` bytes starting at `start`, most significant byte
 * LAST on the wire (the meter protocols send the low byte first), returned most
 * significant digit first. `null` when a nibble is not a decimal digit.
 */
export function bcdDigitsLE(bytes: Uint8Array, start: number, len: number): string | null {
  let s = '';
  for (let i = start + len - 1; i >= start; i--) {
    const hi = bytes[i] >> 4;
    const lo = bytes[i] & 15;
    if (hi > 9 || lo > 9) return null;
    s += HEX[hi] + HEX[lo];
  }
  return s;
}

/**
 * A little-endian packed BCD number with `decimals` implied decimal places.
 * With `signed`, bit 7 of the most significant byte is a sign bit (DL/T 645
 * convention for currents, powers and power factors). `null` when not BCD.
 */
export function bcdValueLE(
  bytes: Uint8Array,
  start: number,
  len: number,
  decimals: number,
  signed = false,
): number | null {
  let v = 0;
  let negative = false;
  for (let i = start + len - 1; i >= start; i--) {
    let b = bytes[i];
    if (signed && i === start + len - 1) {
      negative = (b & 0x80) !== 0;
      b &= 0x7f;
    }
    const hi = b >> 4;
    const lo = b & 15;
    if (hi > 9 || lo > 9) return null;
    v = v * 100 + hi * 10 + lo;
  }
  const scaled = decimals === 0 ? v : round(v / 10 ** decimals, decimals);
  return negative && scaled !== 0 ? -scaled : scaled;
}

/** Round to `decimals` places, so 120642 / 100 prints 1206.42 and not 1206.4199999. */
function round(v: number, decimals: number): number {
  return Number(v.toFixed(decimals));
}

/**
 * Write `value` as little-endian packed BCD into `len` bytes at `out[offset]`.
 * Throws FRAME_INVALID (naming `field`) when the value does not fit.
 */
export function writeBcdLE(
  out: Uint8Array,
  offset: number,
  len: number,
  value: number,
  decimals: number,
  signed: boolean,
  field: string,
): void {
  if (!Number.isFinite(value)) throw frameInvalid(`${field}: must be a finite number, got ${value}`);
  const negative = value < 0;
  if (negative && !signed) throw frameInvalid(`${field}: must not be negative, got ${value}`);
  let n = Math.round(Math.abs(value) * 10 ** decimals);
  // With a sign bit the top nibble holds 0..7, so the top digit is at most 7.
  const max = signed ? 8 * 10 ** (len * 2 - 1) - 1 : 10 ** (len * 2) - 1;
  if (n > max) throw frameInvalid(`${field}: ${value} does not fit in ${len} BCD bytes with ${decimals} decimals`);
  for (let i = 0; i < len; i++) {
    const d = n % 100;
    n = (n - d) / 100;
    out[offset + i] = ((d / 10) | 0) * 16 + (d % 10);
  }
  if (negative) out[offset + len - 1] |= 0x80;
}

/**
 * An address written as decimal digits (most significant first, `bytes*2` of
 * them) or `AA` wildcard pairs, to the reversed on-wire byte order.
 * `AAAAAAAAAAAA` and `999999999999` are the broadcast addresses of the meter protocols.
 */
export function parseBcdAddress(text: string, bytes: number, field: string): Uint8Array {
  const t = text.replace(/\s+/g, '').toUpperCase();
  if (t.length !== bytes * 2) {
    throw frameInvalid(`${field}: must be ${bytes * 2} digits, got "${text}" (${t.length})`);
  }
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    const pair = t.slice(i * 2, i * 2 + 2);
    let b: number;
    if (pair === 'AA') b = 0xaa;
    else if (/^[0-9]{2}$/.test(pair)) b = parseInt(pair, 16);
    else throw frameInvalid(`${field}: "${pair}" at digit ${i * 2 + 1} is neither two decimal digits nor the AA wildcard`);
    out[bytes - 1 - i] = b;
  }
  return out;
}

/** The reversed on-wire address bytes as the printed address (digits, AA kept). */
export function formatBcdAddress(bytes: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start + len - 1; i >= start; i--) s += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
  return s;
}
