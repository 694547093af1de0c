import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, svarintLength, uvarintLength } from './bytes.js';
import { crc32 } from './crc32.js';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
const reader = (bytes: number[]) => new ByteReader(Uint8Array.from(bytes), 'test');

describe('varints', () => {
  it('writes unsigned LEB128 as documented', () => {
    const w = new ByteWriter(1);
    for (const n of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 53 - 1]) w.uvarint(n);
    expect(hex(w.finish())).toBe('00 01 7f 80 01 ac 02 80 80 80 80 08 ff ff ff ff ff ff ff 0f');
  });

  it('writes zigzag signed varints as documented', () => {
    const w = new ByteWriter();
    for (const n of [0, -1, 1, -2, 63, -64, 64]) w.svarint(n);
    expect(hex(w.finish())).toBe('00 01 02 03 7e 7f 80 01');
  });

  it('round-trips boundary values, including the whole safe integer range', () => {
    const unsigned = [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 49, 2 ** 52, 2 ** 53 - 1];
    const signed = [...unsigned, ...unsigned.map((n) => -n), -(2 ** 52) + 1, 2 ** 52 - 1, -(2 ** 52), 2 ** 52 + 1];
    const w = new ByteWriter(4);
    for (const n of unsigned) w.uvarint(n);
    for (const n of signed) w.svarint(n);
    const bytes = w.finish();
    const r = new ByteReader(bytes, 'test');
    for (const n of unsigned) expect(r.uvarint('u')).toBe(n);
    for (const n of signed) expect(Object.is(r.svarint('s'), n === 0 ? 0 : n)).toBe(true);
    r.expectEnd();
    expect(bytes.length).toBe(unsigned.reduce((a, n) => a + uvarintLength(n), 0) + signed.reduce((a, n) => a + svarintLength(n), 0));
  });

  it('rejects over-long, too long, truncated and out-of-range varints, naming the field and offset', () => {
    expect(() => reader([0x80, 0x00]).uvarint('count')).toThrow('PAYLOAD_INVALID: test: count: over-long varint (final byte 0x00) (at byte 0)');
    expect(() => reader([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).uvarint('count')).toThrow(/count: varint longer than 8 bytes/);
    expect(() => reader([0x80]).uvarint('count')).toThrow(/count: truncated: varint runs past the end/);
    expect(() => reader([]).svarint('ts')).toThrow(/ts: truncated: varint missing/);
    expect(() => reader([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).uvarint('seq')).toThrow(/seq: over 2\^53-1 exceeds the limit/);
    expect(() => reader([0x05]).uvarint('lane', 2)).toThrow(/lane: 5 exceeds the limit 2/);
    // zigzag 2^54 - 2 decodes to 2^53 - 1 (ok); 2^55 is past the safe range.
    const w = new ByteWriter();
    w.svarint(Number.MAX_SAFE_INTEGER);
    expect(new ByteReader(w.finish(), 't').svarint('x')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => reader([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]).svarint('x')).toThrow(/outside the safe integer range/);
  });
});

describe('strings, floats and counts', () => {
  it('rejects invalid UTF-8 and strings over the limit', () => {
    expect(() => reader([2, 0xc3, 0x28]).string('name', 10)).toThrow(/name: invalid UTF-8/);
    expect(() => reader([11, ...new Array(11).fill(0x61)]).string('name', 10)).toThrow(/name: 11 exceeds the limit 10/);
    expect(() => reader([0]).string('name', 10)).toThrow(/name: string of 0 bytes, must be at least 1/);
    expect(reader([3, 0xe6, 0xa1, 0xa5]).string('name', 10)).toBe('桥');
  });

  it('writes every NaN as the canonical NaN and keeps −0', () => {
    const w = new ByteWriter();
    const odd = new DataView(new ArrayBuffer(8));
    odd.setUint32(0, 0x7ff80000 | 0xdead);
    w.float64(odd.getFloat64(0));
    w.float64(-0);
    expect(hex(w.finish())).toBe('00 00 00 00 00 00 f8 7f 00 00 00 00 00 00 00 80');
  });

  it('checks a count against the bytes left', () => {
    expect(() => reader([100, 1, 2, 3]).count('items', 1000, 2)).toThrow(/items: 100 items cannot fit in the 3 bytes left/);
    expect(reader([1, 1, 2]).count('items', 1000, 2)).toBe(1);
  });
});

describe('crc32', () => {
  it('is the IEEE CRC-32 of zlib (check value of "123456789")', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('matches the bit-at-a-time definition at every length and alignment (8 bytes a step, then the tail)', () => {
    const bitwise = (d: Uint8Array): number => {
      let c = 0xffffffff;
      for (const x of d) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 2654435761 + (i >> 3)) >>> 24);
    for (let from = 0; from < 9; from++) for (let len = 0; len <= 70; len++) expect(crc32(data.subarray(from, from + len))).toBe(bitwise(data.subarray(from, from + len)));
    expect(crc32(data)).toBe(bitwise(data));
    expect(crc32(new Uint8Array(64).fill(0xff))).toBe(bitwise(new Uint8Array(64).fill(0xff)));
  });
});
