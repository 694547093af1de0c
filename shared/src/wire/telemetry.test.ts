import { describe, expect, it } from 'vitest';
import { isLifelineError } from '../errors.js';
import { Quality, type Reading } from '../reading.js';
import { ValueMode, TimeMode } from './columns.js';
import { prng } from '../random.js';
import { randomBatch } from '../../test/wire/fixtures.js';
import { WireFlags, WireLimits, peekHeader } from './envelope.js';
import { decodeTelemetryBatch, encodeTelemetryBatch, traceTelemetryBatch, type DecodedTelemetryBatch, type TelemetryBatch } from './telemetry.js';

/** Readings equal field by field, values bit-exact (−0 ≠ 0, NaN = NaN), quality present exactly when given. */
function expectSameBatch(decoded: DecodedTelemetryBatch, input: TelemetryBatch): void {
  expect(decoded.gateway).toBe(input.gateway);
  expect(decoded.firstSeq).toBe(input.firstSeq);
  expect(decoded.lastSeq).toBe(input.lastSeq);
  expect(decoded.readings.length).toBe(input.readings.length);
  input.readings.forEach((r, i) => {
    const d = decoded.readings[i];
    if (d.device !== r.device || d.point !== r.point || d.ts !== r.ts || !Object.is(d.value, r.value) || d.quality !== r.quality || 'quality' in d !== 'quality' in r) {
      expect.fail(`reading ${i}: got ${JSON.stringify({ ...d, value: String(d.value) })}, sent ${JSON.stringify({ ...r, value: String(r.value) })}`);
    }
  });
  expect(decoded.seqs).toEqual(input.seqs ?? input.readings.map((_, i) => input.firstSeq + i));
  const gaps = input.gaps ?? [];
  expect(decoded.gaps.length).toBe(gaps.length);
  gaps.forEach((g, i) => {
    const d = decoded.gaps[i];
    expect([d.device, d.point, d.from, d.to, d.minutes.length]).toEqual([g.device, g.point, g.from, g.to, g.minutes.length]);
    g.minutes.forEach((m, j) => {
      const dm = d.minutes[j];
      expect(dm.ts).toBe(m.ts);
      expect(dm.count).toBe(m.count);
      for (const k of ['min', 'max', 'mean'] as const) expect(Object.is(dm[k], m[k])).toBe(true);
    });
  });
}

function roundTrip(batch: TelemetryBatch, compress: 'auto' | 'always' | 'never' = 'auto'): DecodedTelemetryBatch {
  const decoded = decodeTelemetryBatch(encodeTelemetryBatch(batch, { compress }));
  expectSameBatch(decoded, batch);
  return decoded;
}

/** The mode byte the encoder chose for each series' timestamps and values. */
function modes(bytes: Uint8Array): { time: number[]; value: number[]; k: number[] } {
  const { body } = traceTelemetryBatch(bytes);
  const pick = (suffix: string) => body.filter((r) => r.field.endsWith(suffix)).map((r) => Number(r.value));
  return { time: pick('.timestamps.mode'), value: pick('.values.mode'), k: pick('.values.k') };
}

const T0 = 1_764_000_000_000;
const series = (device: string, point: string, n: number, value: (i: number) => number, ts = (i: number) => T0 + i * 1000): Reading[] =>
  Array.from({ length: n }, (_, i) => ({ device, point, ts: ts(i), value: value(i) }));
const batchOf = (readings: Reading[], firstSeq = 1): TelemetryBatch => ({ gateway: 'gw-1', firstSeq, lastSeq: firstSeq + readings.length - 1, readings });

describe('telemetry batch round trip', () => {
  it('gives back random batches exactly (seeded, 400 batches, every encoding path)', () => {
    const rand = prng(20251125);
    for (let i = 0; i < 400; i++) {
      const batch = randomBatch(rand, { holes: i % 2 === 1 });
      roundTrip(batch, (['auto', 'always', 'never'] as const)[i % 3]);
    }
  });

  it('encodes an empty batch (empty range, and a range whose readings were all thinned)', () => {
    const empty = roundTrip({ gateway: 'gw-1', firstSeq: 5, lastSeq: 4, readings: [] });
    expect(empty.readings).toEqual([]);
    const thinned = roundTrip({
      gateway: 'gw-1',
      firstSeq: 10,
      lastSeq: 19,
      readings: [],
      seqs: [],
      gaps: [{ device: 'flood-1', point: 'water_level', from: T0, to: T0 + 9000, minutes: [{ ts: T0, count: 10, min: 1.2, max: 1.4, mean: 1.3 }] }],
    });
    expect(thinned.gaps[0].minutes[0].mean).toBe(1.3);
  });

  it('encodes a single reading', () => {
    const d = roundTrip(batchOf([{ device: 'flood-1', point: 'water_level', ts: T0, value: 2.412 }], 77));
    expect(d.seqs).toEqual([77]);
  });

  it('keeps NaN, ±Infinity, −0, quality flags and their absence', () => {
    const readings: Reading[] = [
      { device: 'd', point: 'p', ts: T0, value: NaN, quality: Quality.Bad },
      { device: 'd', point: 'p', ts: T0 + 1, value: -0 },
      { device: 'd', point: 'p', ts: T0 + 2, value: 0, quality: Quality.Good },
      { device: 'd', point: 'p', ts: T0 + 3, value: Infinity, quality: Quality.Uncertain },
      { device: 'd', point: 'p', ts: T0 + 4, value: -Infinity },
      { device: 'd', point: 'p', ts: T0 + 5, value: 1.5 },
    ];
    const d = roundTrip(batchOf(readings));
    expect(Object.is(d.readings[1].value, -0)).toBe(true);
    expect(Object.is(d.readings[2].value, 0)).toBe(true);
    expect('quality' in d.readings[1]).toBe(false);
    expect(d.readings[2].quality).toBe(Quality.Good);
  });

  it('handles huge and negative timestamps and huge or negative values', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const readings: Reading[] = [
      { device: 'd', point: 'a', ts: max, value: -123.456 },
      { device: 'd', point: 'a', ts: -max, value: -1e308 },
      { device: 'd', point: 'a', ts: max, value: -0.001 },
      { device: 'd', point: 'b', ts: 0, value: -(2 ** 60) },
      { device: 'd', point: 'b', ts: -1, value: 2 ** 51 - 1 },
    ];
    roundTrip(batchOf(readings));
    // Sequence numbers at the top of the safe range.
    roundTrip(batchOf(readings, max - 4));
  });

  it('handles many series', () => {
    const readings: Reading[] = [];
    for (let s = 0; s < 3000; s++) readings.push(...series(`dev-${s % 97}`, `point-${s}`, 2, (i) => (s + i) * 0.01));
    const d = roundTrip(batchOf(readings));
    expect(new Set(d.readings.map((r) => `${r.device}/${r.point}`)).size).toBe(3000);
  });

  it('returns readings in seq order even when series interleave irregularly', () => {
    const readings: Reading[] = [
      { device: 'b', point: 'x', ts: T0 + 5, value: 1 },
      { device: 'a', point: 'x', ts: T0, value: 2 },
      { device: 'b', point: 'x', ts: T0 + 1, value: 3 },
      { device: 'b', point: 'y', ts: T0, value: 4 },
      { device: 'a', point: 'x', ts: T0 - 9, value: 5 },
    ];
    const d = roundTrip({ gateway: 'g', firstSeq: 3, lastSeq: 20, readings, seqs: [3, 4, 9, 10, 20] });
    expect(d.readings.map((r) => r.value)).toEqual([1, 2, 3, 4, 5]);
    expect(d.seqs).toEqual([3, 4, 9, 10, 20]);
  });
});

describe('telemetry encodings', () => {
  it('encodes register values × 0.001 as scaled integers, k = 3', () => {
    // `raw * 0.001` is what the edge decoder computes; some such products are not the shortest decimal.
    const wire = encodeTelemetryBatch(batchOf(series('f', 'water_level', 500, (i) => (2400 + ((i * 7919) % 9) - 4) * 0.001)));
    const m = modes(wire);
    expect(m.value[0]).toBe(ValueMode.DecimalMul);
    expect(m.k[0]).toBe(3);
    expect(wire.length / 500).toBeLessThan(2);
  });

  it('encodes correctly rounded decimals (raw / 100) by division, k = 2', () => {
    const m = modes(encodeTelemetryBatch(batchOf(series('f', 'ponding', 200, (i) => ((i * 31) % 17) / 100))));
    expect(m.value[0]).toBe(ValueMode.DecimalDiv);
    expect(m.k[0]).toBe(2);
  });

  it('falls back to XOR for arbitrary floats, and carries odd values as exceptions', () => {
    const rand = prng(3);
    const floats = encodeTelemetryBatch(batchOf(series('f', 'x', 200, () => rand() * 1000)));
    expect(modes(floats).value[0]).toBe(ValueMode.Xor);
    const mostlyDecimal = encodeTelemetryBatch(batchOf(series('f', 'x', 200, (i) => (i === 50 ? Math.PI : i === 60 ? NaN : i * 0.1))));
    expect(modes(mostlyDecimal).value[0]).toBe(ValueMode.DecimalMul);
    const { body } = traceTelemetryBatch(mostlyDecimal);
    expect(body.find((r) => r.field.endsWith('.values.exceptions'))?.value).toBe('2');
  });

  it('picks regular timestamps for a polled point and copies the column of a point read in the same request', () => {
    const rand = prng(9);
    const ts = Array.from({ length: 300 }, (_, i) => T0 + i * 1000 + Math.floor(rand() * 30));
    const readings = [...series('f', 'a', 300, (i) => i, (i) => ts[i]), ...series('f', 'b', 300, (i) => i, (i) => ts[i])];
    const m = modes(encodeTelemetryBatch(batchOf(readings)));
    expect(m.time).toEqual([TimeMode.Regular, TimeMode.Copy]);
  });

  it('picks delta-of-delta for a drifting period and absolute timestamps when deltas overflow', () => {
    const drifting = series('f', 'a', 100, (i) => i, (i) => T0 + i * (1000 + i));
    expect(modes(encodeTelemetryBatch(batchOf(drifting))).time).toEqual([TimeMode.DeltaOfDelta]);
    const wild = series('f', 'a', 3, (i) => i, (i) => [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0][i]);
    expect(modes(encodeTelemetryBatch(batchOf(wild))).time).toEqual([TimeMode.Absolute]);
  });

  it('sends a small batch uncompressed when deflate would not shrink it, and says so in the flags', () => {
    const wire = encodeTelemetryBatch(batchOf(series('f', 'a', 1, () => 1)));
    expect(peekHeader(wire).flags & WireFlags.Deflate).toBe(0);
    const big = encodeTelemetryBatch(batchOf(series('f', 'a', 1000, (i) => i % 2)));
    expect(peekHeader(big).flags & WireFlags.Deflate).toBe(WireFlags.Deflate);
  });
});

describe('telemetry encoder input checks', () => {
  const ok = batchOf(series('f', 'a', 3, (i) => i));
  const cases: Array<[string, TelemetryBatch, RegExp]> = [
    ['gateway empty', { ...ok, gateway: '' }, /gateway: must be a non-empty string/],
    ['firstSeq 0', { ...ok, firstSeq: 0, lastSeq: 2 }, /firstSeq: must be at least 1/],
    ['range too short for the readings', { ...ok, lastSeq: 2 }, /3 readings but the range 1\.\.2 holds 2/],
    ['fractional ts', { ...ok, readings: [{ device: 'f', point: 'a', ts: 1.5, value: 1 }], lastSeq: 1 }, /readings\[0\]\.ts: must be a safe integer/],
    ['string value', { ...ok, readings: [{ device: 'f', point: 'a', ts: 1, value: '1' as unknown as number }], lastSeq: 1 }, /readings\[0\]\.value: must be a number/],
    ['bad quality', { ...ok, readings: [{ device: 'f', point: 'a', ts: 1, value: 1, quality: 7 as Quality }], lastSeq: 1 }, /readings\[0\]\.quality: must be 0, 1 or 2, got 7/],
    ['empty point', { ...ok, readings: [{ device: 'f', point: '', ts: 1, value: 1 }], lastSeq: 1 }, /readings\[0\]\.point/],
    ['long device name', { ...ok, readings: [{ device: 'x'.repeat(129), point: 'a', ts: 1, value: 1 }], lastSeq: 1 }, /readings\[0\]\.device: longer than 128/],
    ['seqs not increasing', { ...ok, lastSeq: 10, seqs: [1, 3, 3] }, /seqs\[2\]: 3 must be .* above the previous seq 3/],
    ['seq past lastSeq', { ...ok, lastSeq: 10, seqs: [1, 3, 11] }, /seqs\[2\]: 11/],
    ['gap ends before it starts', { ...ok, gaps: [{ device: 'f', point: 'a', from: 10, to: 5, minutes: [] }] }, /gaps\[0\]\.to: 5 is before from 10/],
    ['gap minutes out of order', { ...ok, gaps: [{ device: 'f', point: 'a', from: 0, to: 5, minutes: [{ ts: 60000, count: 1, min: 0, max: 0, mean: 0 }, { ts: 0, count: 1, min: 0, max: 0, mean: 0 }] }] }, /gaps\[0\]\.minutes\[1\]\.ts/],
  ];
  for (const [name, batch, message] of cases) {
    it(`refuses ${name}`, () => {
      let error: unknown;
      try {
        encodeTelemetryBatch(batch);
      } catch (e) {
        error = e;
      }
      expect(isLifelineError(error, 'PAYLOAD_INVALID')).toBe(true);
      expect((error as Error).message).toMatch(message);
    });
  }

  it(`refuses more than ${WireLimits.maxReadings} readings per batch`, () => {
    const readings = new Array<Reading>(WireLimits.maxReadings + 1).fill({ device: 'f', point: 'a', ts: 1, value: 1 });
    expect(() => encodeTelemetryBatch(batchOf(readings))).toThrow(/exceeds the limit 262144 per batch/);
  });
});
