/** Cold-storage blocks: bit-exact round trips on seeded random columns, frame access, and damaged input refused. */
import { describe, expect, it } from 'vitest';
import { prng, prngUint32 } from '../random.js';
import { isLifelineError } from '../errors.js';
import { BLOCK_VERSION, FRAME_READINGS, blockFrames, decodeBlock, decodeFrame, encodeBlock, type BlockColumns } from './block.js';

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

  it('read version 1 blocks as stored before version 2 (every frame deflated)', () => {
    // Written by the version 1 encoder: 700 readings at 1 s + (i mod 7) ms, a NaN, −0, +Infinity, qualities.
    const v1 = Uint8Array.from(atob(V1_BLOCK), (c) => c.charCodeAt(0));
    const n = 700;
    const want: BlockColumns = {
      ts: new Float64Array(n).map((_, i) => 1_780_000_000_000 + i * 1000 + (i % 7)),
      values: new Float64Array(n).map((_, i) => (i === 3 ? NaN : i === 4 ? -0 : i === 5 ? Infinity : Math.round(Math.sin(i / 30) * 1000) / 1000)),
      quality: new Uint16Array(n).map((_, i) => (i === 3 ? 2 : i === 9 ? 1 : 0)),
    };
    expect(v1[0]).toBe(1);
    expect(blockFrames(v1).frames.every((f) => f.deflated && f.version === 1)).toBe(true);
    expectSame(decodeBlock(v1), want);
    // The same readings written now: the current version, no larger but for two bytes a frame (flags, timestamp mode).
    const v2 = encodeBlock(want);
    expect(v2[0]).toBe(BLOCK_VERSION);
    expectSame(decodeBlock(v2), want);
    expect(v2.length).toBeLessThanOrEqual(v1.length + 2 * blockFrames(v1).frames.length);
  });

  it('read version 2 blocks as stored before version 3 (packed frames of 32 bits at most, no corrections)', () => {
    // Written by the version 2 encoder: 1,300 readings at 1 s jittered 0–15 ms, a decimal walk, float32 noise, raw doubles.
    const v2 = Uint8Array.from(atob(V2_BLOCK), (c) => c.charCodeAt(0));
    const want = v2Columns();
    expect(v2[0]).toBe(2);
    const { base, frames } = blockFrames(v2);
    expect(frames.map((f) => [f.version, f.deflated])).toEqual([[2, false], [2, false], [2, true]]);
    expectSame(decodeBlock(v2), want);
    // Part of a packed frame, as a cut minute reads it.
    const part = decodeFrame(v2, base, frames[1], undefined, want.ts[700], want.ts[760]);
    expectSame(part, { ts: want.ts.slice(700, 761), values: want.values.slice(700, 761), quality: want.quality.slice(700, 761) });
    // The same readings written now: version 3, no larger.
    const v3 = encodeBlock(want);
    expect(v3[0]).toBe(BLOCK_VERSION);
    expectSame(decodeBlock(v3), want);
    expect(v3.length).toBeLessThanOrEqual(v2.length);
  });

  it('store 10-digit noisy doubles, some a few ulps off their decimals (as NAB prints them), bit-packed and exactly', () => {
    const rand = prng(8);
    const view = new DataView(new ArrayBuffer(8));
    const n = 3 * FRAME_READINGS;
    const ts = new Float64Array(n).map((_, i) => Date.UTC(2026, 10, 1) + i * 1000 + Math.floor(rand() * 16));
    const values = new Float64Array(n).map((_, i) => {
      const v = Math.round((20 + 10 * Math.sin(i / 300) + rand()) * 1e10) / 1e10;
      if (rand() > 0.2) return v;
      view.setFloat64(0, v);
      view.setBigUint64(0, view.getBigUint64(0) + BigInt(1 + Math.floor(rand() * 3))); // like 18.324918539200002
      return view.getFloat64(0);
    });
    values[10] = NaN;
    const cols = { ts, values, quality: new Uint16Array(n) };
    const block = encodeBlock(cols);
    expect(blockFrames(block).frames.every((f) => !f.deflated)).toBe(true);
    expectSame(decodeBlock(block), cols);
    // ~34 bits of noise, 2 of corrections, 4 of timestamp jitter: well under the 6.5 B version 2 took (deflated varints).
    expect(block.length / n).toBeLessThan(5.5);
  });

  it('store jittered float32 and decimal signals bit-packed, frames that need no inflate, exactly', () => {
    const rand = prng(21);
    const n = 3 * FRAME_READINGS;
    const ts = new Float64Array(n).map((_, i) => Date.UTC(2026, 10, 1) + i * 1000 + Math.floor(rand() * 16));
    let level = 0.32;
    const f32 = new Float64Array(n).map(() => Math.fround((level += (rand() - 0.5) / 1000) + (rand() - 0.5) * 0.004));
    const dec = new Float64Array(n).map(() => Math.round((level += (rand() - 0.5) / 100) * 1e4) / 1e4);
    for (const values of [f32, dec]) {
      const cols = { ts, values, quality: new Uint16Array(n) };
      const block = encodeBlock(cols);
      const { frames } = blockFrames(block);
      expect(frames.some((f) => !f.deflated)).toBe(true);
      const noInflate = () => {
        throw new Error('inflate called for a frame stored as is');
      };
      const raw = frames.find((f) => !f.deflated)!;
      expect(decodeFrame(block, blockFrames(block).base, raw, noInflate).ts.length).toBe(raw.n);
      expectSame(decodeBlock(block), cols);
    }
  });

  it('give back extreme doubles exactly in every form: ±0, ±Infinity, subnormals, ±MAX_VALUE, NaN (1,000 seeded frames)', () => {
    const special = [0, -0, Infinity, -Infinity, NaN, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** -1074 * 3, 1e-310, 2 ** 53, -(2 ** 53), 1e21, 0.1, Math.fround(1e38), Math.fround(1e-45)];
    const rand = prng(77);
    for (let k = 0; k < 1000; k++) {
      const n = 1 + Math.floor(rand() * 200);
      const shape = k % 4;
      let t = 1_700_000_000_000;
      // Regular, gaps up to ~12 days (offsets beyond 32 bits: wire timestamps), 7 ms, jittered.
      const ts = new Float64Array(n).map(() => (t += shape === 3 ? 7 : 1000 + (shape === 1 ? Math.floor(rand() ** 8 * 2 ** 40) : shape === 2 ? Math.floor(rand() * 16) : 0)));
      const values = new Float64Array(n).map((_, i) =>
        rand() < 0.1 ? special[Math.floor(rand() * special.length)] : shape === 0 ? Math.fround(rand() * 10) : shape === 1 ? Math.round(rand() * 1e6) / 100 : shape === 2 ? i : rand(),
      );
      const quality = new Uint16Array(n).map(() => (rand() < 0.05 ? 2 : 0));
      const cols = { ts, values, quality };
      expectSame(decodeBlock(encodeBlock(cols)), cols);
    }
  });

  it('decode a sub-range of a frame exactly as the slice of the whole frame, in every form (300 seeded ranges)', () => {
    const rand = prng(31);
    let forms = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const cols = randomColumns(seed);
      const block = encodeBlock(cols);
      const { base, frames } = blockFrames(block);
      forms |= frames.some((f) => f.deflated) ? 1 : 0;
      forms |= frames.some((f) => !f.deflated) ? 2 : 0;
      for (let k = 0; k < 10; k++) {
        const f = frames[Math.floor(rand() * frames.length)];
        const whole = decodeFrame(block, base, f);
        const a = f.firstTs + Math.floor(rand() * (f.lastTs - f.firstTs + 1)) - 3;
        const b = a + Math.floor(rand() * (f.lastTs - f.firstTs + 1) * 0.3);
        const part = decodeFrame(block, base, f, undefined, a, b);
        const keep = Array.from(whole.ts, (t, i) => (t >= a && t <= b ? i : -1)).filter((i) => i >= 0);
        expectSame(part, { ts: Float64Array.from(keep, (i) => whole.ts[i]), values: Float64Array.from(keep, (i) => whole.values[i]), quality: Uint16Array.from(keep, (i) => whole.quality[i]) });
      }
    }
    expect(forms).toBe(3); // deflated frames and frames stored as is both seen
  });

  it('decode every cut minute of a grid frame (1 s, jittered, nulls and quality runs) as the slice of the whole frame', () => {
    const rand = prng(8);
    const n = 3 * FRAME_READINGS;
    const t0 = 1_800_000_000_000;
    const ts = Float64Array.from({ length: n }, (_, i) => t0 + i * 1000 + Math.floor(rand() * 16));
    const values = Float64Array.from({ length: n }, (_, i) => (i % 97 < 5 ? NaN : Math.fround(0.32 + rand() * 0.002)));
    const quality = Uint16Array.from({ length: n }, (_, i) => (i % 211 < 30 ? 1 : i % 331 < 3 ? 2 : 0));
    const block = encodeBlock({ ts, values, quality });
    const { base, frames } = blockFrames(block);
    expect(frames.some((f) => !f.deflated)).toBe(true); // the packed form, grid timestamps
    for (const f of frames) {
      const whole = decodeFrame(block, base, f);
      // Every minute from before the frame to after it, shifted by 137 ms as the bench's bucket edges; and empty ranges.
      for (let from = f.firstTs - 60_000 + 137; from <= f.lastTs + 1000; from += 7_000) {
        for (const to of [from + 59_999, from, from - 1]) {
          const keep = Array.from(whole.ts, (t, i) => (t >= from && t <= to ? i : -1)).filter((i) => i >= 0);
          const want = { ts: Float64Array.from(keep, (i) => whole.ts[i]), values: Float64Array.from(keep, (i) => whole.values[i]), quality: Uint16Array.from(keep, (i) => whole.quality[i]) };
          expectSame(decodeFrame(block, base, f, undefined, from, to), want);
        }
      }
    }
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

/** A version 1 block (base64), from the encoder as it was before version 2. */
const V1_BLOCK =
  'AYCgpITOZwLYBADcxyS5A4HmMPhkip9JuYUGcHq1q9Dt0suSmkAUgOHmWqKg4og6IDcFRIIICMgdNPNeyTJPl0UqD5JHyGlirMoiu1nOqa46Xaw+/mqEfszQMMLH+ljvuShEEQT6ScONpP58R18f+9cXdH/7Rvb3vu3rti7LMs+SJI6DwPc8x7J2mibLm+VyPuX5EU2TiGIYbiLMRElaK4pqmvvD4Xg8naLzJU3Ta1FVVdN0MDc8n4dz625d0zVVUxTFNU0vUXQ+fToebXtvqqryupZEcTbhOIYiEMmyY56fL5arjbw1jJ3luK7vB2GcJFmWl2Vdt20Pcx/mDR+4933btjXg8wzjw8D3PRfsO20rb1bLxXw6HrMsiQiK4ThBEEVp/aqour63AX8CfAT4azHgn/ZBjqfrGpgK7Nf0cgE74A9gN1VFWUuSOBMmHMNQiKTpEc9PF4vVSpY1w7As1/X8IIgBn2dQFuwYj8WDfBiw92CvyxzwcRKGvu+7jgN2bbsZwk/HI5Z8hn95weF13bRtHP58jiIID2Uf4SH2szsOj/FVUYH9n/C68v/wmvY3fBiGED7P87psa4A+wj/08CfP8PBqYggfeJ7rWDtDY+CtEYiBd/ed/g1j6JrveYmfgZcBDGhIAQEzwyI+KQkxESEBPi4uNjYmBkZmVk5OXl5BYWFxSWlZeUVFVXV1bW1dfX1jY2Nzc3NLa2tbW1t7e3tHEHCGYHtHoICtrbW1paW5uamxsaG+rq62prqqsrK8rKykuKioIAMA';

/** The readings of V2_BLOCK, generated as they were when it was written. */
function v2Columns(): BlockColumns {
  const n = 1300;
  const rand = prng(5);
  const ts = new Float64Array(n).map((_, i) => 1_780_000_000_000 + i * 1000 + Math.floor(rand() * 16));
  let level = 0.32;
  const values = new Float64Array(n).map((_, i) =>
    i < 600 ? Math.round((level += (rand() - 0.5) / 100) * 1e4) / 1e4 : i < 1200 ? Math.fround((level += (rand() - 0.5) / 1000) + (rand() - 0.5) * 0.004) : (Math.sin(i) * 1e6) / 7,
  );
  values[3] = NaN;
  values[650] = NaN;
  values[1250] = -0;
  values[1251] = Infinity;
  const quality = new Uint16Array(n).map((_, i) => (i === 3 ? 2 : i % 97 === 0 ? 1 : 0));
  return { ts, values, quality };
}

/** A version 2 block (base64) of v2Columns(), from the encoder as it was before version 3 (node:zlib's deflate). */
const V2_BLOCK =
  'ApagpITOZwPYBADTxyQAiAe3Geic2AT6nknVxyQAkg7ze4hkZPC9kgG9hQYBqAcbNKWnAQDQDxUEPBm558OrcOTES8BDcT/RZU82vY6solmc4FU90vRQXBqxSA77hN35i0EoxBLFakFfu8GeUQbmxNCBPRmlpEOvt5AKUqWfzRQC4wec5PxCTMSgSKOcqZYTdZF3hkWGWsNRK/KBJvMGqYwz/Rh6FPco88ObYA58eKVNBdTXjxqBiGqAH1LtfsDVC9l/scmTlWhiNmV8M0t8kS6Li9Y3AdSm0JJoQ2taNeZ82mQJCdBu1zNJW/DKjFjF/sIQ/Ypn+CHpow7MfSRHt9PSfSPQHl9WZwBANoZv3n2YPy80k5C4lGa7yAtI6D/KZ2uoZ5bFGS3IT3CXVNynzbf5+2+u8HafEeE7YagYdbN6B8UWJRs2d1y1xhgteMI0Fg5u/HdyiQMqX5D1BA647iJs+2oGAwADAQEA1AQCAARHpDLhqfDC4sWoVo6Y8lsYPJIQNuPisFa82eVVgP44WYqW0LxoXruQFbdLWHWHnAxiVCmdKMeyEFhFAUfsNVZp9RCwWjIhyI/cjIg+IMmrC0tewFQOtPU9NgpGRshZFaB4w1CG4sNGbterKFkEqliOBxfnGzgBR+g3y4vBBYzJToMb7PYEUYabjaN14WpZLOIuoYzYhoJth0GChbW5LEOiqnxtC0r0GLtMAEhNK6ALTQBHxDQIbOwpEhAtta7hu3FRVTlRrOYVcwHW32/2+iJWBJhqObB+pgts9oPiPFTNAI7DE2mgDAvI1YNdAEe0Nc8xCuuobo5JAghWIHc41Y5CW6uZTMtrzQSaiDSCn6lLEexusrDOBdNNGANEoUQVRFVE53bWpTkAR7QzrSaGAIg6RwTYp9acMbwvHWhEs+EELl2qeRmAIyhRQJLMFKth61ELWzYoCJImTPQ8FIwKp8YrIAFHzjIIk7QEvnkkySZFNliGiKbtcrZcjaKn5OGhw2K0nymN8TSZbq/gLXjMSW6gwCusA3qJNZPVljpGAUeSLbNGRXKFhKbLCrOybLgUuQEuiWgCiwKh5mcBM55NmOBojUURViEEu4uFX9DHVTng7A42MAhnKp0AR+wqgqxPem10TjqRK7hQaawLsQyKfUmQiZ9mYyoaB9glI3RNSXhejidU22E2zyoLg2A+c9ded+MxIQBHiiqPUrC0GV4drlRuaUr1PFfgAiHLAhABAQACAgEAXQEBAGABAQBgAQEAYAEBAGABAQBgAQEAEQH6nknQDw8ESFIVqVpcLMXfK7MKjscpIAgMCYvyR1IhkP4ktg+6a/EXeyO4VFddIOxe/nLFQFsCPPYuy6N+O7q6K0UP72ju5HWR8vKDiLqoVRud3DxV2xBHEhckOZgHyaFEAVFyZm8I8v6ebrw5uFAqoS53WDTvey5P1qVcUgEMmcMoSxJQZBDAy9jEh4Cm2AMpQM8zDL8VomotTcIkZvR492ThM6Kz/0AkpDGwkWLIVD1noiO4o58onIk0ItdszyEbrXOeICfLOa3G6jmuVJaWorjPaFPNBMFOxYrwr0+KhSEat6VRHlOY+1Tdmp5cHPd2vFm9woJ4d8/at0oWP4peVJROl3N8ZQ6hfp2K6o0xixG1GnkhWyzDaCyOyHk1qbHofz4P0FO9eOl9QXW6oP5iQYcFAwAyAQEApQQCAgBU0q3B5we3t9JJB3HawtNAUGAA0iahUkYeHqb4kfkPPhY2/n8s8xUtRSF8oJ8c3G9Uxy8dlcGwUbXutX4DEoWlnQSVVbE5D/D9k3pCGivUuDo6BxXwSSQQs/8qEiRWcBpvSmTnX2WwEDkD0PlRRBYdaWZtOkqK09wJ+xjDrRJHeaKcbTWapI5O1wWGdSOn3wE9Eei3MM4BPfuC3IcTA1HkV3IbAFPG2efnB0RAepFlmVbYRd74og3noiMHB1enDEmTkAwkry0yCyl8iuht0j0SVxnK451qd9/27BMtu/zowOLGXipDdU5JIGiwdtFUWc647tzaynXJHTCvgJ44aCIy5s5tNqEz9SIC/S1TEdJ6ADG6mWm8fkugpkswjfcqCLbJJnyk49JeotoawdnoOUdqQNtLoTHHTIxQtAEJ7YTWCFOu3fDnB3Y02di1fR6CRgCDEZkQRkONczH/rQSLVvOB0InZYrpLPJV1wUBbtu0JvuKQIgAAxvq65y2lqYtqrxlgVtkGmjNPGHaqkQ0W3PtCurmZBnULh36NugZCxUWg18R+8BdJ3inOokVcC9eQILdLnlL89XX/AzfZaSgM0Qnj22QEyLN2iWRqEQctc4s5EqlAbmUwmxIxqyhvAlPAp+HnB00J0q9qLUkXNuLVxDq3xIlMbJIHt8gmjumUllzF3iboN+C8o5OjCDAbcQxN7FaFrLTljjcaCYQKDYTCUX1WkzCh49DNl2+DINwxvwkdveMyh7Q7vx437Rkp0objCuKPu12DnW1ukp6nwkkpEm/cOBgaeocyuHLGgisFdN7TXT4l1EoDlbDBUnD7UM47id5mF5affyTCFlPQx+3nB5DKC4Cn2WgPDScUrXGVUs/m025ou8VpyUzOgR+Y+UkRf9kkqWCsXj9iiWtlPR0v5COXrunxIrYOVXGI86tdfjCm6+IHAKBXVOUH2RZ7TlPp3P43sNjAAq1MjeuT/XKhJHXSRNEpYIhZkpc46xnx3+D9n1B6zkRlrQYkHhm1JZiv5MTsPxL6/aHyyfB31FSDx9crGAolAFOS0vDnByGxg3Ty37Chg4lPrXE6hR8lAYLwPA70pgoSV/DjMwKIv8Qky6sCMdYhzRVPHggVQJ+geb5iePtJZFwr6IQdj+1SlSTYr96gZPKHBpj17wFOD19lMtQCTayWI7MxxsUhTl6QE0EIxqaPooEvpI1cKUmbWl8PRY2zbjLmPvY0RJPsKA3H1DECt5ETgdkC/uYIgQRLjoQeAFOAqffnB/Ol4pAFwBMk8/FBCtETLiUDUBnVG2t2jHYgEwlI3c1afmIsdAsNa3CDn0LsUyiHOSGP7qDLwUP0tHGB/HOJBEThbuEBA2UPdAtRBaLxCxmBQQpq+jBEJ8kh/pRwkLMYXtTggkKOF9xOFTsQLlclo0DZGwZY6LIXBPvmEdDXKyHFBLvht5RyaEHQFGuK2pZSsSdQeeWGAxKC1vPnBwXEzDkXUiQAAJSEDVOW/GVRckoTf4extuicwCC9EYkIPtvabds6NXrEEF90lv7w4Rd+kpc8uq3IptP5tKjomrBnFlCXWSYkw1Rs0TnyFtinoJPGSBiYZe8huG133jMKS+dEY0IoClp0PBJZt2Gf0uamCKX6kjL9/Sk6pyvrm5BHznf2OZvAuMtgevALz/aFi1PwxInoB9VhEv9DKkXIlRinRNK6HXTFnDwZKduVC4gjiG3HSYPsdJlf6NJ3cZ+ijVi5e5A4WMSKO2DwfKVMcIXv+C2Ks4JKIaIcEHGxzXZN+yV5SKUA4jVH3HPTfqrOC1AyZCEBk0Y61YvjWcw61/aO2kDQDIHeRXsdiuZOmWeywoCUSN00UeflJxKliiWgJoJKQvWALYnDCzRJExKo7fHnB1asSWHwsio5oSanzqHXC8E1EgtzrXmoucxMfpPfwQmCLNbmimK+CoysPikAAMCdrpQZySoNAE8BAQBgAQEAYAEBAGABAQBgAQEAYAEBACMV0Y1T03UcB/B9NA7hSGCnwHAoISJNj0fT31ljb5KHwzgedoGQwg0h5clFxEl6CF+lkLhOkQezCxQ5RPAi4E58QBEwRog55kaIOCBOii0wtmLCGEXX6194kaGrglT2Vm8cexodcfKGu6/90mzx5N2abxe/KA5MimpVVg4+cwhq3Gs7ndWeK1UKfwqdfz/hxBqZPGwdj7cGPQNXa2VbroeCBfrl5g3eSQdZ/s3qDSxxB03WO0wP+4+AbS/jnRG1SUHmmIzeizZKkC4k+tbrxUNgbhqZXFLYADLpAs5WeNqDDPll6uL2TDCKSj9deDgSZPT/evbC49ughSRlUFa1DRi/8ZNDEUZX0Eya8MHxrXtAS46fGpZnU8E8R88zi3UkSJtj51LVMw9aSQx7p0XsBiaWagQjriJOwpXE5Ho89OuQyQukfI6b3XHz3c/mwMT6iz6PD/aDLHWifo10E2jCIs2dH5OBeQk+vn9OdARkPv+K1DYHQfohTUNpaBeYkFf3+T98W5Cp8dcrAxdUION9myrhsWgwXuTw6MoWF5DRtHbomlM3yFSr+3FkCGDCpwtJUzEhIL13zivv2w4gc7ssM7L4F7BtYw3NiUMvQOOcNhYqR5ClIbzy+79jwbhdLZ3a8OecOMEnIPCDSj9rgSLij/2c2Ic727bhIzAu5Ixsl+I4yHJNFbucUw0a93ti1T36Emyb9gffgUwJyNx9x9inKkcwWd8I0L2QO60aEGRMrcNvIgYyvm72Kij4EowXsUa9mJAMMnbmx70sSQOZnuf585/lgwkL7lr9Wd8P0mvYg9ydcSCzvEwSvu9DMK+JTN710zagiYfN0grbZpClvrI2vE0GJl7OS+5LLuc4i22GIPucX0fuo1JFKSfZ31ojedIHJt4816FdDQOtHFH2h41dAmkzKNTushjMs2dp93y65P9lecvmQTloJiNRrnrzMBi/edP64YQK0EKyIqVragxk9PVIs7/cAUbyA4Kqn4dAhogpD8W6kyCTc/2p9J31YG7eJ/665VQE0kW71A0UloPMyc6Rjr/ng22vUK0ao/aAJu9JVhRvd4Msq/xHrepOsED3o6m6vQvc7njRhqZgtV9T7bghIZ7b1/Oe95WUHrDgXnFc/Kk20Eq+YD7q3g7QWG9JiuorCdjWSaH2u2lXkFmT7SzsbQTNLMZsrDzwDRi/qOZm1Jw7aOEt5dXJvo0gY1yTnbpID0bZ+upLBWKQYX330bpw8VqemIjn9R8=';

describe('decodeFrame scratch buffers', () => {
  it('gives each decode its own arrays: a frame with nulls decoded between two without leaves them as they were', () => {
    const n = FRAME_READINGS;
    const ts = Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 1000);
    const plain = encodeBlock({ ts, values: Float64Array.from({ length: n }, (_, i) => i * 0.25), quality: new Uint16Array(n) });
    const holed = encodeBlock({ ts, values: Float64Array.from({ length: n }, (_, i) => (i % 3 ? i - 7.5 : NaN)), quality: new Uint16Array(n) });
    const frameOf = (b: Uint8Array) => ({ b, ...blockFrames(b) });
    const p = frameOf(plain);
    const h = frameOf(holed);
    const first = decodeFrame(p.b, p.base, p.frames[0]);
    const withNulls = decodeFrame(h.b, h.base, h.frames[0], undefined, ts[10], ts[20]);
    const second = decodeFrame(p.b, p.base, p.frames[0]);
    expect(first.values).not.toBe(second.values);
    expect(Array.from(first.values)).toEqual(Array.from({ length: n }, (_, i) => i * 0.25));
    expect(Array.from(second.values)).toEqual(Array.from(first.values));
    expect(Array.from(withNulls.values).map(String)).toEqual(Array.from({ length: 11 }, (_, i) => String((10 + i) % 3 ? 10 + i - 7.5 : NaN)));
  });
});
