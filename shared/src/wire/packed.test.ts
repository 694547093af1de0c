/** Bit-packed block columns: every width 0..32 round-trips, limits hold, damaged input is refused. */
import { describe, expect, it } from 'vitest';
import { prng } from '../random.js';
import { isLifelineError } from '../errors.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { ValueMode } from './columns.js';
import { PACK_CHUNK, PackedKind, f32FromKey, f32Key, packable, readGridTimestamps, readPackedValues, writeGridTimestamps, writePackedValues } from './packed.js';

const reader = (w: ByteWriter) => new ByteReader(w.finish(), 'test');

describe('packed columns', () => {
  it('round-trip integer runs of every bit width 0..32 (and decline wider runs), as deltas or frame of reference', () => {
    const rand = prng(1);
    let declined = 0;
    for (let width = 0; width <= 34; width++) {
      for (const shape of ['walk', 'level'] as const) {
        const n = 1 + 3 * PACK_CHUNK + 5;
        let m = 1000;
        const ints = new Float64Array(n).map(() => (shape === 'walk' ? (m += Math.floor(rand() * 2 ** width) - Math.floor(2 ** (width - 1))) : 5e8 + Math.floor(rand() * 2 ** width)));
        const w = new ByteWriter();
        w.byte(0xee);
        // Walk: zigzag deltas need width + 1 bits at most; level: range < 2^width. Past 32 bits a run may be declined.
        const ok = writePackedValues(w, { kind: PackedKind.DecimalDiv, k: 0, ints });
        if (width < 32 || (shape === 'level' && width === 32)) expect(ok).toBe(true);
        if (width > 33) expect(ok).toBe(false);
        if (!ok) {
          declined++;
          continue;
        }
        const r = reader(w);
        r.byte('marker');
        expect(Array.from(readPackedValues(r, n, 'v'))).toEqual(Array.from(ints));
        expect(r.remaining()).toBe(0);
        // Only the runs holding values 70..80 (the second run): the rest skipped, left 0.
        const again = reader(w);
        again.byte('marker');
        const part = readPackedValues(again, n, 'v', 70, 80);
        expect(again.remaining()).toBe(0);
        expect(Array.from(part.subarray(64, 128))).toEqual(Array.from(ints.subarray(64, 128)));
        expect(part.subarray(0, 64).every((x) => x === 0) && part.subarray(128).every((x) => x === 0)).toBe(true);
      }
    }
    expect(declined).toBeGreaterThanOrEqual(3); // widths 33 and 34 both ways
  });

  it('write timestamps as grid offsets up to 32 bits, and decline more', () => {
    const base = 1_700_000_000_000;
    for (const spread of [0, 1, 15, 2 ** 32 - 1]) {
      const ts = Float64Array.from({ length: 100 }, (_, i) => base + i * 1000 + (i % 10 === 5 ? spread : 0));
      const w = new ByteWriter();
      expect(writeGridTimestamps(w, ts, base)).toBe(true);
      expect(Array.from(readGridTimestamps(reader(w), 100, base, 'f'))).toEqual(Array.from(ts));
    }
    const wide = Float64Array.from({ length: 100 }, (_, i) => base + i * 1000 + (i % 10 === 5 ? 2 ** 32 : 0));
    const w = new ByteWriter();
    expect(writeGridTimestamps(w, wide, base)).toBe(false);
    expect(w.finish().length).toBe(0);
  });

  it('take decimal values without exceptions and float32 values; decline the rest', () => {
    expect(packable([1.5, 2.25, -3], { mode: ValueMode.DecimalDiv, k: 2, cost: 0 })?.kind).toBe(PackedKind.DecimalDiv);
    expect(packable([0.1, Math.fround(0.1)], { mode: ValueMode.DecimalDiv, k: 1, cost: 0 })).toBeUndefined();
    expect(packable([Math.fround(0.1), -0, Infinity], { mode: ValueMode.Xor, k: 0, cost: 0 })?.kind).toBe(PackedKind.Float32);
    for (const v of [0, -0, 1, -1, Infinity, -Infinity, Math.fround(3.4e38), Math.fround(1e-45)]) expect(Object.is(f32FromKey(f32Key(v)), v)).toBe(true);
  });

  it('refuse damaged packed columns with PAYLOAD_INVALID', () => {
    const cases: [number[], RegExp][] = [
      [[9, 0, 0], /unknown kind 9/],
      [[0, 16, 0], /decimal exponent 16/],
      [[0, 0, 0x21, 0], /more than 32 bits/],
      [[0, 0, 0x85, 0], /unknown mode/],
      [[0, 0, 0x48, 0], /truncated/], // deltas of 8 bits each for 64 values, but no bytes follow
    ];
    for (const [bytes, msg] of cases) {
      let err: unknown;
      try {
        readPackedValues(new ByteReader(Uint8Array.from(bytes), 'test'), 65, 'v');
      } catch (e) {
        err = e;
      }
      expect(isLifelineError(err, 'PAYLOAD_INVALID')).toBe(true);
      expect(String(err)).toMatch(msg);
    }
    const w = new ByteWriter();
    w.svarint(0);
    w.svarint(1000);
    w.svarint(0);
    w.byte(40);
    expect(() => readGridTimestamps(reader(w), 3, 0, 'f')).toThrow(/40 bits: at most 32/);
  });
});
