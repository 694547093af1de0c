/**
 * Byte-level building blocks of the wire format: a growable writer and a
 * bounds-checked reader for unsigned LEB128 varints, zigzag signed varints,
 * little-endian fixed-width numbers and length-prefixed UTF-8 strings.
 *
 *   encoder ──▶ ByteWriter ──▶ Uint8Array ──▶ ByteReader ──▶ decoder
 *                                              │ every read is bounds-checked and
 *                                              │ labelled; failure = PAYLOAD_INVALID
 *
 * Integers on the wire are JavaScript safe integers (|n| ≤ 2^53 − 1). A varint
 * is at most 8 bytes (56 bits). Encodings are canonical: an over-long varint
 * (a final 0x00 continuation byte) is rejected, so one value has one encoding.
 * Browser-safe: Uint8Array and DataView only.
 */
import { ErrorCodes, LifelineError } from '../errors.js';

/** Longest varint on the wire: 8 bytes carry 56 bits, enough for 2^54 zigzag values. */
export const MAX_VARINT_BYTES = 8;

/** 2^52: below it, zigzag(n) is a safe integer and plain arithmetic is exact. */
const ZIGZAG_FAST = 2 ** 52;

/** Bytes an unsigned varint of `n` (a safe non-negative integer) takes. */
export function uvarintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** zigzag(n): 0 → 0, −1 → 1, 1 → 2, −2 → 3 … (exact for |n| < 2^52). */
export function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

/** Bytes a signed (zigzag) varint of the safe integer `n` takes. */
export function svarintLength(n: number): number {
  if (n > -ZIGZAG_FAST && n < ZIGZAG_FAST) return uvarintLength(zigzag(n));
  return MAX_VARINT_BYTES;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string (one shared encoder). */
export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Growable output buffer. Callers pass only valid values (the codecs validate first). */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes written so far. */
  length = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** One byte, 0..255. */
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  /** Raw bytes. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Unsigned LEB128 varint of a safe non-negative integer. */
  uvarint(n: number): void {
    this.ensure(MAX_VARINT_BYTES);
    const buf = this.buf;
    let len = this.length;
    // Above 2^31 the shift operators would truncate: divide instead (exact for integers).
    while (n >= 0x80000000) {
      buf[len++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    while (n >= 0x80) {
      buf[len++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[len++] = n;
    this.length = len;
  }

  /** Zigzag signed varint of a safe integer. */
  svarint(n: number): void {
    if (n > -ZIGZAG_FAST && n < ZIGZAG_FAST) {
      this.uvarint(n >= 0 ? n * 2 : -n * 2 - 1);
      return;
    }
    // |n| ≥ 2^52: zigzag(n) may exceed 2^53, so go through BigInt (rare: huge timestamps).
    const b = BigInt(n);
    let z = b >= 0n ? b << 1n : (-b << 1n) - 1n;
    this.ensure(MAX_VARINT_BYTES);
    while (z >= 0x80n) {
      this.buf[this.length++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.length++] = Number(z);
  }

  /** IEEE-754 double, little-endian; every NaN is written as the canonical 0x7FF8000000000000. */
  float64(v: number): void {
    this.ensure(8);
    if (Number.isNaN(v)) {
      this.view.setUint32(this.length, 0, true);
      this.view.setUint32(this.length + 4, 0x7ff80000, true);
    } else {
      this.view.setFloat64(this.length, v, true);
    }
    this.length += 8;
  }

  /** Unsigned 32-bit little-endian. */
  u32(n: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, n >>> 0, true);
    this.length += 4;
  }

  /** uvarint byte length, then the UTF-8 bytes. */
  string(s: string): void {
    const b = utf8(s);
    this.uvarint(b.length);
    this.bytes(b);
  }

  /** A copy of the bytes written, exactly `length` long. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** One field read, for the annotated dump in docs/wire-protocol.md. */
export interface TraceRow {
  /** Offset of the field's first byte. */
  start: number;
  /** Offset just past the field. */
  end: number;
  /** What the field is, e.g. `series[0].point`. */
  field: string;
  /** The decoded value, as text. */
  value: string;
}

/**
 * Bounds-checked reader. Every failure throws LifelineError PAYLOAD_INVALID naming
 * the part (`what`), the field and the offset; no read ever goes past `end`.
 */
export class ByteReader {
  /** Next byte to read. */
  pos: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    /** Names the part being read in error messages, e.g. `telemetry body`. */
    readonly what: string,
    /** When set, every read appends a row (only the doc example uses this). */
    readonly trace?: TraceRow[],
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Throws PAYLOAD_INVALID: `<what>: <field>: <message> (at byte <pos>)`. */
  fail(field: string, message: string, at = this.pos): never {
    throw new LifelineError(ErrorCodes.PayloadInvalid, `${this.what}: ${field}: ${message} (at byte ${at})`);
  }

  /** Bytes left before `end`. */
  remaining(): number {
    return this.end - this.pos;
  }

  private record(start: number, field: string, value: unknown): void {
    this.trace!.push({ start, end: this.pos, field, value: String(value) });
  }

  /** Appends a trace row for a span the caller decoded itself. */
  note(start: number, field: string, value: unknown): void {
    if (this.trace) this.record(start, field, value);
  }

  /** One byte. */
  byte(field: string): number {
    if (this.pos >= this.end) this.fail(field, 'truncated: expected 1 more byte');
    const b = this.buf[this.pos++];
    if (this.trace) this.record(this.pos - 1, field, b);
    return b;
  }

  /** Unsigned varint, at most `max` (default: the largest safe integer). */
  uvarint(field: string, max = Number.MAX_SAFE_INTEGER): number {
    const start = this.pos;
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (pos >= end) this.fail(field, 'truncated: varint missing');
    let b = buf[pos++];
    let result = b & 0x7f;
    if (b >= 0x80) {
      let mul = 128;
      for (let i = 1; ; i++) {
        if (i >= MAX_VARINT_BYTES) this.fail(field, `varint longer than ${MAX_VARINT_BYTES} bytes`, start);
        if (pos >= end) this.fail(field, 'truncated: varint runs past the end', start);
        b = buf[pos++];
        result += (b & 0x7f) * mul;
        if (b < 0x80) {
          if (b === 0) this.fail(field, 'over-long varint (final byte 0x00)', start);
          break;
        }
        mul *= 128;
      }
    }
    this.pos = pos;
    if (result > max) this.fail(field, `${result > Number.MAX_SAFE_INTEGER ? 'over 2^53-1' : result} exceeds the limit ${max}`, start);
    if (this.trace) this.record(start, field, result);
    return result;
  }

  /** Zigzag signed varint; the result is a safe integer. */
  svarint(field: string): number {
    const start = this.pos;
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (pos >= end) this.fail(field, 'truncated: varint missing');
    let b = buf[pos++];
    let z = b & 0x7f;
    if (b >= 0x80) {
      let mul = 128;
      for (let i = 1; ; i++) {
        if (i >= MAX_VARINT_BYTES) this.fail(field, `varint longer than ${MAX_VARINT_BYTES} bytes`, start);
        if (pos >= end) this.fail(field, 'truncated: varint runs past the end', start);
        b = buf[pos++];
        z += (b & 0x7f) * mul;
        if (b < 0x80) {
          if (b === 0) this.fail(field, 'over-long varint (final byte 0x00)', start);
          break;
        }
        mul *= 128;
      }
    }
    this.pos = pos;
    let n: number;
    if (z <= Number.MAX_SAFE_INTEGER) {
      n = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    } else {
      // Only 7- and 8-byte varints get here: redo exactly in BigInt.
      let big = 0n;
      for (let i = pos - 1; i >= start; i--) big = (big << 7n) | BigInt(buf[i] & 0x7f);
      const v = big & 1n ? -((big + 1n) >> 1n) : big >> 1n;
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
        this.fail(field, 'signed varint outside the safe integer range', start);
      }
      n = Number(v);
    }
    if (this.trace) this.record(start, field, n);
    return n;
  }

  /** IEEE-754 double, little-endian. */
  float64(field: string): number {
    if (this.end - this.pos < 8) this.fail(field, 'truncated: expected 8 bytes (float64)');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    if (this.trace) this.record(this.pos - 8, field, Object.is(v, -0) ? '-0' : v);
    return v;
  }

  /** Unsigned 32-bit little-endian. */
  u32(field: string): number {
    if (this.end - this.pos < 4) this.fail(field, 'truncated: expected 4 bytes (u32)');
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    if (this.trace) this.record(this.pos - 4, field, `0x${v.toString(16).padStart(8, '0')}`);
    return v;
  }

  /** `n` raw bytes (a view, not a copy). */
  bytes(field: string, n: number): Uint8Array {
    if (this.end - this.pos < n) this.fail(field, `truncated: expected ${n} bytes, ${this.end - this.pos} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Skips `n` bytes (as `bytes` without making a view: a reader passing over runs it does not need). */
  skip(field: string, n: number): void {
    if (this.end - this.pos < n) this.fail(field, `truncated: expected ${n} bytes, ${this.end - this.pos} left`);
    this.pos += n;
  }

  /** uvarint length (1..maxBytes) + UTF-8; invalid UTF-8 is rejected. */
  string(field: string, maxBytes: number, minBytes = 1): string {
    const start = this.pos;
    const len = this.uvarintQuiet(field, maxBytes);
    if (len < minBytes) this.fail(field, `string of ${len} bytes, must be at least ${minBytes}`, start);
    const raw = this.bytes(field, len);
    let s: string;
    try {
      s = utf8Decoder.decode(raw);
    } catch {
      this.fail(field, 'invalid UTF-8', start);
    }
    if (this.trace) this.record(start, field, JSON.stringify(s));
    return s;
  }

  /**
   * A count of items that each need at least `minBytesEach` further bytes:
   * checked against the bytes left, so a forged count cannot cause a huge allocation.
   */
  count(field: string, max: number, minBytesEach: number): number {
    const start = this.pos;
    const n = this.uvarint(field, max);
    if (n * minBytesEach > this.end - this.pos) {
      this.fail(field, `${n} items cannot fit in the ${this.end - this.pos} bytes left`, start);
    }
    return n;
  }

  /** uvarint without a trace row (a string's length is part of the string's row). */
  private uvarintQuiet(field: string, max: number): number {
    const trace = this.trace;
    if (!trace) return this.uvarint(field, max);
    const rows = trace.length;
    const v = this.uvarint(field, max);
    trace.length = rows;
    return v;
  }

  /** Throws unless every byte up to `end` was consumed. */
  expectEnd(): void {
    if (this.pos !== this.end) this.fail('end', `${this.end - this.pos} unexpected trailing byte(s)`);
  }
}
