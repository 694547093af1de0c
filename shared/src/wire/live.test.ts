/**
 * The series dictionary and Live frames (wire version 2): round trips bit for bit,
 * the presence bitmap and the order column, specials (NaN, quality, values off the
 * scale), an unknown dictionary, and mutated frames and dictionary sections.
 */
import { describe, expect, it } from 'vitest';
import { isLifelineError } from '../errors.js';
import { Quality, type Reading } from '../reading.js';
import { prng } from '../random.js';
import { int } from '../../test/wire/fixtures.js';
import { RejectReason, rejectReasonFor } from './envelope.js';
import { decodeAck, decodeReject, encodeAck, encodeReject } from './control.js';
import { LIVE_ORDER, codecFor, decodeLive, encodeLive, peekLiveDictionary, type SeriesDictionary } from './live.js';
import { decodeTelemetryBatch, encodeTelemetryBatch } from './telemetry.js';
import { Lane } from './envelope.js';

const T0 = 1_764_000_000_000;
const dict: SeriesDictionary = {
  id: 4242,
  t0: T0,
  seq0: 1000,
  period: 178_571,
  epoch: 77,
  series: [
    { device: 'flood-1', point: 'water_level', codec: { kind: 'decimal', mul: true, k: 3, ref: 2400 } },
    { device: 'flood-1', point: 'ponding_depth', codec: { kind: 'decimal', mul: true, k: 2, ref: 0 } },
    { device: 'pipe-1', point: 'pressure', codec: codecFor([0.331, 0.332, 0.329]) },
    { device: 'pipe-1', point: 'flow_rate', codec: { kind: 'float' } },
    { device: '灯杆-1', point: 'voltage', codec: { kind: 'decimal', mul: false, k: 1, ref: 2280 } },
  ],
};
const lookup = (id: number) => (id === dict.id ? dict : undefined);

function same(a: Reading[], b: Reading[]): void {
  expect(b.length).toBe(a.length);
  a.forEach((r, i) => {
    expect([b[i].device, b[i].point, b[i].ts, b[i].quality]).toEqual([r.device, r.point, r.ts, r.quality]);
    expect(Object.is(b[i].value, r.value)).toBe(true);
  });
}

const second = (t: number): Reading[] => [
  { device: 'flood-1', point: 'water_level', ts: t + 21, value: 2401 * 0.001 },
  { device: 'flood-1', point: 'ponding_depth', ts: t + 21, value: 3 * 0.01 },
  { device: 'pipe-1', point: 'pressure', ts: t + 44, value: 0.33 },
  { device: 'pipe-1', point: 'flow_rate', ts: t + 44, value: Math.fround(187.3) },
];

describe('Live frames', () => {
  it('round-trips a second of readings in a couple of dozen bytes, with seqs and epoch from the dictionary', () => {
    const rs = second(T0 + 60_000);
    const wire = encodeLive(dict, { firstSeq: 1336, readings: rs })!;
    expect(wire.length).toBeLessThan(30);
    expect(wire[0] & LIVE_ORDER).toBe(0);
    const back = decodeLive(wire, 'gw-1', lookup);
    same(rs, back.readings);
    expect(back).toMatchObject({ gateway: 'gw-1', firstSeq: 1336, lastSeq: 1339, seqs: [1336, 1337, 1338, 1339], epoch: 77, dictionaryId: 4242 });
    expect(peekLiveDictionary(wire)).toBe(4242);
  });

  it('carries readings out of dictionary order, twice the same series, NaN, −0, quality and values off the scale', () => {
    const t = T0 + 5000;
    const rs: Reading[] = [
      { device: 'pipe-1', point: 'pressure', ts: t, value: 0.3305 },
      { device: 'flood-1', point: 'water_level', ts: t, value: NaN, quality: Quality.Bad },
      { device: 'flood-1', point: 'water_level', ts: t + 500, value: -0 },
      { device: '灯杆-1', point: 'voltage', ts: t - 3, value: 229.1, quality: Quality.Uncertain },
      { device: 'pipe-1', point: 'flow_rate', ts: t - 3, value: Infinity },
    ];
    const wire = encodeLive(dict, { firstSeq: 1000, readings: rs })!;
    expect(wire[0] & LIVE_ORDER).toBe(LIVE_ORDER);
    same(rs, decodeLive(wire, 'gw-1', lookup).readings);
  });

  it('does not encode what the dictionary cannot carry', () => {
    expect(encodeLive(dict, { firstSeq: 999, readings: second(T0) })).toBeUndefined(); // before seq0
    expect(encodeLive(dict, { firstSeq: 1000, readings: [{ device: 'x', point: 'y', ts: T0, value: 1 }] })).toBeUndefined();
    expect(encodeLive(dict, { firstSeq: 1000, readings: [] })).toBeUndefined();
  });

  it('refuses a frame naming a dictionary it does not hold, as UnknownDictionary', () => {
    const wire = encodeLive(dict, { firstSeq: 1001, readings: second(T0) })!;
    let error: unknown;
    try {
      decodeLive(wire, 'gw-1', () => undefined);
    } catch (e) {
      error = e;
    }
    expect(isLifelineError(error, 'PAYLOAD_INVALID')).toBe(true);
    expect(rejectReasonFor(error)).toBe(RejectReason.UnknownDictionary);
    expect((error as Error).message).toMatch(/series dictionary 4242 is unknown/);
    const rej = decodeReject(encodeReject({ gateway: 'gw-1', ts: 1, lane: Lane.Telemetry, reason: RejectReason.UnknownDictionary, dictionary: 4242, detail: 'x' }));
    expect(rej).toMatchObject({ reason: RejectReason.UnknownDictionary, dictionary: 4242 });
    expect(decodeAck(encodeAck({ gateway: 'gw-1', ts: 1, telemetry: 5, dictionary: 4242 })).dictionary).toBe(4242);
    // A version 1 ack stays byte-identical to what old gateways read.
    expect(encodeAck({ gateway: 'gw-1', ts: 1, telemetry: 5 })[2]).toBe(1);
  });

  it('defines a dictionary in a version 2 batch whose readings decode as before', () => {
    const rs = second(T0);
    const wire = encodeTelemetryBatch({ gateway: 'gw-1', epoch: 77, firstSeq: 1000, lastSeq: 1003, readings: rs, dictionary: dict });
    expect(wire[2]).toBe(2);
    const back = decodeTelemetryBatch(wire);
    same(rs, back.readings);
    expect(back.dictionary).toEqual(dict);
  });
});

describe('fuzz: Live frames and dictionary sections', () => {
  /** A result or PAYLOAD_INVALID, never another exception. */
  const answer = (f: () => unknown, where: string) => {
    try {
      f();
    } catch (e) {
      if (!isLifelineError(e, 'PAYLOAD_INVALID')) expect.fail(`${where}: threw ${(e as Error)?.stack ?? String(e)}`);
    }
  };
  it('decodes or rejects 20,000 mutated Live frames and 3,000 mutated defining batches', () => {
    const rand = prng(11);
    const mutate = (b: Uint8Array): Uint8Array => {
      const out = Array.from(b);
      for (let m = int(rand, 1, 3); m > 0; m--) {
        const at = int(rand, 0, Math.max(0, out.length - 1));
        const op = int(rand, 0, 4);
        if (op === 0 && out.length) out[at] ^= 1 << int(rand, 0, 7);
        else if (op === 1 && out.length) out[at] = int(rand, 0, 255);
        else if (op === 2) out.splice(at, 0, int(rand, 0, 255));
        else if (op === 3) out.splice(at, 1);
        else out.length = int(rand, 0, out.length);
      }
      return Uint8Array.from(out);
    };
    const base = [encodeLive(dict, { firstSeq: 1200, readings: second(T0 + 40_000) })!];
    base.push(encodeLive(dict, { firstSeq: 1000, readings: [...second(T0), { device: 'flood-1', point: 'water_level', ts: T0 + 30, value: NaN, quality: Quality.Bad }] })!);
    for (let i = 0; i < 20_000; i++) answer(() => decodeLive(mutate(base[i % 2]), 'gw-1', lookup), `live ${i}`);
    const defining = encodeTelemetryBatch({ gateway: 'gw-1', epoch: 77, firstSeq: 1000, lastSeq: 1003, readings: second(T0), dictionary: dict }, { compress: 'never' });
    for (let i = 0; i < 3000; i++) answer(() => decodeTelemetryBatch(mutate(defining)), `defining ${i}`);
  });
});
