/** Cold-storage blocks: bit-exact round trips on seeded random columns, frame access, and damaged input refused. */
import { describe, expect, it } from 'vitest';
import { prng, prngUint32 } from '../random.js';
import { isLifelineError } from '../errors.js';
import { FRAME_READINGS, blockFrames, decodeBlock, decodeFrame, encodeBlock, type BlockColumns } from './block.js';

const bitsView = new DataView(new ArrayBuffer(8));
/** The 64 bits of a double as hex (NaN as written: the block gives the canonical one back). */
function bits(v: number): string {
  bitsView.setFloat64(0, v);
  return bitsView.getBigUint64(0).toString(16);
}

/** A random double from random bits (any exponent, subnormals, ±0, ±Infinity), never NaN. */
function anyDouble(next: () => number): number {
  for (;;) {
    bitsView.setUint32(0, next());
    bitsView.setUint32(4, next());
    const v = bitsView.getFloat64(0);
    if (v === v) return v;
  }
}

/** Seeded columns of one of several shapes: regular, jittered or irregular time; decimal, noisy, raw-bit or constant values. */
function randomColumns(seed: number): BlockColumns {
  const rand = prng(seed);
  const u32 = prngUint32(seed ^ 0x5bd1e995);
  const n = 1 + Math.floor(rand() * (rand() < 0.3 ? 5 : 3 * FRAME_READINGS));
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  const quality = new Uint16Array(n);
  const timeShape = Math.floor(rand() * 3);
  const valueShape = Math.floor(rand() * 5);
  let t = Date.UTC(2026, 0, 1) + Math.floor(rand() * 1e10);
  let level = rand() * 100;
  for (let i = 0; i < n; i++) {
    if (i) t += timeShape === 0 ? 1000 : timeShape === 1 ? 1000 + Math.floor(rand() * 11) - 5 : Math.floor(rand() * 3) * Math.floor(rand() * 100_000);
    ts[i] = t;
    level += rand() - 0.5;
    values[i] =
      valueShape === 0 ? Math.round(level * 1000) / 1000 : valueShape === 1 ? level : valueShape === 2 ? anyDouble(u32) : valueShape === 3 ? 7.5 : Math.fround(level - 50);
    if (rand() < 0.02) values[i] = NaN;
    if (rand() < 0.01) values[i] = rand() < 0.5 ? -0 : Infinity;
    quality[i] = rand() < 0.05 ? Math.floor(rand() * 3) : 0;
  }
  return { ts, values, quality };
}

function expectSame(got: BlockColumns, want: BlockColumns): void {
  expect(got.ts.length).toBe(want.ts.length);
  expect(Array.from(got.ts)).toEqual(Array.from(want.ts));
  expect(Array.from(got.quality)).toEqual(Array.from(want.quality));
  for (let i = 0; i < want.values.length; i++) {
    const w = want.values[i];
    if (w !== w) expect(got.values[i]).toBeNaN();
    else if (bits(got.values[i]) !== bits(w)) expect.fail(`value ${i}: ${got.values[i]} (${bits(got.values[i])}) instead of ${w} (${bits(w)})`);
  }
}

describe('cold blocks', () => {
  it('give back every timestamp, quality and double bit for bit (200 seeded column sets)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const cols = randomColumns(seed);
      expectSame(decodeBlock(encodeBlock(cols)), cols);
    }
  });

  it('decode frame by frame: only the frames a range needs, each on its own', () => {
    const cols = randomColumns(7);
    const n = 2 * FRAME_READINGS + 17;
    const ts = new Float64Array(n).map((_, i) => 1_000_000 + i * 1000);
    const values = new Float64Array(n).map((_, i) => i / 4);
    const block = encodeBlock({ ts, values, quality: new Uint16Array(n) });
    const { base, frames } = blockFrames(block);
    expect(frames.map((f) => f.n)).toEqual([FRAME_READINGS, FRAME_READINGS, 17]);
    const middle = decodeFrame(block, base, frames[1]);
    expect(middle.ts[0]).toBe(ts[FRAME_READINGS]);
    expect(middle.values[5]).toBe(values[FRAME_READINGS + 5]);
    // A range inside the last frame decodes that frame only.
    expect(decodeBlock(block, ts[n - 3], ts[n - 1]).ts.length).toBe(17);
    expect(cols.ts.length).toBeGreaterThan(0);
  });

  it('store a regular 1 s decimal signal in well under a byte per reading', () => {
    const n = 86_400;
    const rand = prng(3);
    let level = 2;
    const ts = new Float64Array(n).map((_, i) => Date.UTC(2026, 10, 1) + i * 1000);
    const values = new Float64Array(n).map(() => Math.round((level += (rand() - 0.5) / 100) * 1000) / 1000);
    const block = encodeBlock({ ts, values, quality: new Uint16Array(n) });
    expect(block.length / n).toBeLessThan(1);
  });

  it('keep float32 registers as deltas of their bit patterns, exactly, signs and −0 included', () => {
    const rand = prng(5);
    const n = 5000;
    let level = 0;
    const values = new Float64Array(n).map((_, i) => (i === 7 ? -0 : i === 8 ? Infinity : Math.fround((level += rand() - 0.5) + (rand() - 0.5) / 1000)));
    const cols = { ts: new Float64Array(n).map((_, i) => i * 1000), values, quality: new Uint16Array(n) };
    const block = encodeBlock(cols);
    expectSame(decodeBlock(block), cols);
    // Smaller than the wire's XOR of the doubles' bits would make them.
    expect(block.length / n).toBeLessThan(3.5);
  });

  it('refuse damaged blocks with PAYLOAD_INVALID, never a crash', () => {
    const block = encodeBlock(randomColumns(11));
    const rand = prng(99);
    let refused = 0;
    for (let k = 0; k < 300; k++) {
      const bad = block.slice(0, k % 3 === 0 ? Math.floor(rand() * block.length) : block.length);
      if (k % 3 !== 0) for (let j = 0; j < 1 + (k % 4); j++) bad[Math.floor(rand() * bad.length)] ^= 1 + Math.floor(rand() * 255);
      try {
        decodeBlock(bad);
      } catch (err) {
        expect(isLifelineError(err, 'PAYLOAD_INVALID')).toBe(true);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
    expect(() => blockFrames(new Uint8Array([9]))).toThrow(/unknown block version 9/);
  });

  it('refuse a quality code the store does not have', () => {
    expect(() => encodeBlock({ ts: new Float64Array(2), values: new Float64Array(2), quality: Uint16Array.of(0, 9) })).toThrow(/quality\[1\]: must be 0\.\.3, got 9/);
  });

  it('refuse columns of different lengths', () => {
    expect(() => encodeBlock({ ts: new Float64Array(2), values: new Float64Array(1), quality: new Uint16Array(2) })).toThrow(/differ in length/);
  });
});
