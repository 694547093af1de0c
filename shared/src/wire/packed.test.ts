/** Bit-packed block columns: every width 0..32 (0..45 in version 3) round-trips, ulp corrections are exact, limits hold, damaged input is refused. */
import { describe, expect, it } from 'vitest';
import { prng } from '../random.js';
import { isLifelineError } from '../errors.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { ValueMode } from './columns.js';
import { MAX_WIDTH_V3, PACK_CHUNK, readGridTimestamps, writeGridTimestamps } from './bits.js';
import { PackedKind, f32FromKey, f32Key, packable, packableV3, readPackedValues, writePackedValues } from './packed.js';

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

  it('round-trip runs of every width 0..45 in version 3 (and decline wider runs), whole and in part', () => {
    const rand = prng(2);
    for (let width = 0; width <= 47; width++) {
      for (const shape of ['walk', 'level'] as const) {
        const n = 2 * PACK_CHUNK + 9;
        let m = 3;
        const span = 2 ** width;
        const ints = new Float64Array(n).map(() => (shape === 'walk' ? (m += Math.floor(rand() * span) - Math.floor(span / 2)) : 2 ** 46 + Math.floor(rand() * span)));
        if (shape === 'level') ints[5] = 2 ** 46 + span - 1; // the widest value of the width
        const w = new ByteWriter();
        const ok = writePackedValues(w, { kind: PackedKind.DecimalDiv, k: 0, ints }, MAX_WIDTH_V3);
        if (width < MAX_WIDTH_V3 || (shape === 'level' && width === MAX_WIDTH_V3)) expect(ok).toBe(true);
        if (width > MAX_WIDTH_V3 + 1) expect(ok).toBe(false);
        if (!ok) continue;
        const r = reader(w);
        expect(Array.from(readPackedValues(r, n, 'v', 0, n, 3))).toEqual(Array.from(ints));
        expect(r.remaining()).toBe(0);
        const again = reader(w);
        const part = readPackedValues(again, n, 'v', 130, 131, 3);
        expect(again.remaining()).toBe(0);
        expect(Array.from(part.subarray(128))).toEqual(Array.from(ints.subarray(128)));
        // A version 2 reader refuses what is wider than 32 bits.
        if (width > 33) expect(() => readPackedValues(reader(w), n, 'v')).toThrow(/more than 32 bits/);
      }
    }
  });

  it('carry doubles a few ulps off m / 10^k as m plus corrections, exactly, signs and tiny values included (version 3)', () => {
    const view = new DataView(new ArrayBuffer(8));
    const nudge = (v: number, d: number) => {
      view.setFloat64(0, v);
      view.setBigUint64(0, view.getBigUint64(0) + BigInt(d));
      return view.getFloat64(0);
    };
    const rand = prng(3);
    for (let round = 0; round < 50; round++) {
      const n = 1 + Math.floor(rand() * 200);
      const k = round === 7 ? 10 : Math.floor(rand() * 14);
      const sign = round % 3 === 0 ? -1 : 1;
      const values = Array.from({ length: n }, () => {
        const exact = (sign * Math.round(rand() * 2 ** 36)) / 10 ** k + 0; // never −0
        return rand() < 0.3 && exact !== 0 ? nudge(exact, Math.floor(rand() * 9) - 4) : exact;
      });
      if (round === 7) values[0] = 18.324918539200002; // as NAB's CSVs print it
      const plan = { mode: ValueMode.DecimalDiv, k, cost: 0 };
      const candidates = packableV3(values, plan);
      expect(candidates.length).toBeGreaterThan(0);
      for (const p of candidates) {
        const w = new ByteWriter();
        if (!writePackedValues(w, p, MAX_WIDTH_V3)) continue;
        const back = readPackedValues(reader(w), n, 'v', 0, n, 3);
        values.forEach((v, i) => expect(Object.is(back[i], v)).toBe(true));
        // Version 2 never writes corrections.
        if (p.ulps?.some((d) => d !== 0)) expect(writePackedValues(new ByteWriter(), p)).toBe(false);
      }
    }
    // What no correction reaches: −0, ±Infinity, a value far from any m / 10^k at the exponent, a sign change.
    for (const odd of [-0, Infinity, -Infinity, Math.PI * 1e-9, -1e-300]) expect(packableV3([1.1, odd], { mode: ValueMode.DecimalDiv, k: 1, cost: 0 })).toEqual([]); // 1.1: no float32 either
  });

  it('patch the few wide values of a spiky run in version 3 (low bits for all, high bits apart), whole and in part', () => {
    const rand = prng(4);
    for (let round = 0; round < 40; round++) {
      const n = 1 + Math.floor(rand() * 3 * PACK_CHUNK);
      let m = 1000;
      // Small steps with a spike now and then (CPU load, request counts): the spikes set a plain run's width.
      const ints = new Float64Array(n).map(() => (m += Math.floor(rand() * 9) - 4 + (rand() < 0.03 ? Math.floor(rand() * 2 ** (10 + (round % 30))) : 0)));
      const w = new ByteWriter();
      expect(writePackedValues(w, { kind: PackedKind.DecimalDiv, k: 0, ints }, MAX_WIDTH_V3)).toBe(true);
      const plain = new ByteWriter();
      const bytes = w.finish();
      // A run is patched only when that is smaller than plain (version 2's, when it takes the run at all).
      if (writePackedValues(plain, { kind: PackedKind.DecimalDiv, k: 0, ints })) expect(bytes.length).toBeLessThanOrEqual(plain.finish().length);
      expect(Array.from(readPackedValues(new ByteReader(bytes, 'test'), n, 'v', 0, n, 3))).toEqual(Array.from(ints));
      const a = Math.floor(rand() * n);
      const part = readPackedValues(new ByteReader(bytes, 'test'), n, 'v', a, a + 1, 3);
      expect(part[a]).toBe(ints[a]);
    }
    // A run of 64 with two spikes is stored patched (width field 63), in fewer bytes than plain.
    const ints = new Float64Array(64).map((_, i) => (i === 9 || i === 40 ? 2 ** 30 : i % 4));
    const w = new ByteWriter();
    writePackedValues(w, { kind: PackedKind.DecimalDiv, k: 0, ints }, MAX_WIDTH_V3);
    const bytes = w.finish();
    expect(bytes[2] & 0x3f).toBe(63);
    expect(bytes.length).toBeLessThan(64 * 4);
    expect(Array.from(readPackedValues(new ByteReader(bytes, 'test'), 64, 'v', 0, 64, 3))).toEqual(Array.from(ints));
    // Damaged patch headers: low not under the width, no patches, an index past the run.
    const damaged: [number, number, RegExp][] = [
      [3, 40, /low 40 bits, width 31/],
      [5, 0, /0 patches/],
    ];
    for (const [at, value, msg] of damaged) {
      const bad = bytes.slice();
      bad[at] = value;
      expect(() => readPackedValues(new ByteReader(bad, 'test'), 64, 'v', 0, 64, 3)).toThrow(msg);
    }
    expect(() => readPackedValues(new ByteReader(bytes, 'test'), 64, 'v')).toThrow(/unknown mode or more than 32 bits/);
  });

  it('refuse damaged version 3 corrections with PAYLOAD_INVALID', () => {
    // A correction flag on a float32 run; a correction width of 0 or 21; corrections in a version 2 column.
    const cases: [number[], number, RegExp][] = [
      [[2, 0, 0x80, 1, 0], 3, /unknown mode/],
      [[0, 0, 0x80, 0, 0], 3, /ulpWidth.*0 bits/],
      [[0, 0, 0x80, 21, 0], 3, /ulpWidth.*21 bits/],
      [[0, 0, 0x80, 1, 0], 2, /unknown mode/],
    ];
    for (const [bytes, version, msg] of cases) {
      let err: unknown;
      try {
        readPackedValues(new ByteReader(Uint8Array.from([...bytes, ...new Array(20).fill(0)]), 'test'), 2, 'v', 0, 2, version);
      } catch (e) {
        err = e;
      }
      expect(isLifelineError(err, 'PAYLOAD_INVALID')).toBe(true);
      expect(String(err)).toMatch(msg);
    }
    // A correction that walks a value out of the finite numbers of its sign: 0 − 1 ulp.
    const w = new ByteWriter();
    writePackedValues(w, { kind: PackedKind.DecimalDiv, k: 0, ints: Float64Array.of(0, 0), ulps: Float64Array.of(-1, 0) }, MAX_WIDTH_V3);
    expect(() => readPackedValues(reader(w), 2, 'v', 0, 2, 3)).toThrow(/leaves the finite numbers/);
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
