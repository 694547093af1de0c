/**
 * Fuzzing: every decoder answers any input with a result or LifelineError
 * PAYLOAD_INVALID, never another exception, quickly and without a large allocation.
 * Seeded, so a failure names the seed and iteration that reproduce it.
 */
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { isLifelineError } from '../errors.js';
import { ByteWriter } from './bytes.js';
import { decodeAck, decodeReject, encodeAck, encodeReject } from './control.js';
import { MessageType, RejectReason, WireLimits, frameBatch, rejectReasonFor, Lane } from './envelope.js';
import { decodeEventBatch, encodeEventBatch } from './events.js';
import { prng } from '../random.js';
import { int, randomBatch } from '../../test/wire/fixtures.js';
import { decodeDownlink, decodeUplink } from './index.js';
import { decodeTelemetryBatch, encodeTelemetryBatch, encodeTelemetryBody } from './telemetry.js';

/** One random mutation of `b`: bit flip, byte set, insert, delete, truncate, duplicate, or a forged big varint. */
function mutate(rand: () => number, b: Uint8Array): Uint8Array {
  const out = Array.from(b);
  const at = int(rand, 0, Math.max(0, out.length - 1));
  switch (int(rand, 0, 7)) {
    case 0:
      if (out.length) out[at] ^= 1 << int(rand, 0, 7);
      break;
    case 1:
      if (out.length) out[at] = [0x00, 0xff, 0x80, 0x7f, int(rand, 0, 255)][int(rand, 0, 4)];
      break;
    case 2:
      out.splice(at, 0, ...Array.from({ length: int(rand, 1, 4) }, () => int(rand, 0, 255)));
      break;
    case 3:
      out.splice(at, int(rand, 1, 4));
      break;
    case 4:
      out.length = int(rand, 0, out.length);
      break;
    case 5:
      out.splice(at, 0, ...out.slice(at, at + int(rand, 1, 16)));
      break;
    case 6:
      // A forged count or length: the largest 8-byte varint, or one just past a limit.
      out.splice(at, int(rand, 0, 2), ...(rand() < 0.5 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f] : [0x81, 0x80, 0x10]));
      break;
    case 7:
      for (let i = int(rand, 2, 6); i > 0 && out.length; i--) out[int(rand, 0, out.length - 1)] = int(rand, 0, 255);
      break;
  }
  return Uint8Array.from(out);
}

/** Runs `decode`; a result is fine, PAYLOAD_INVALID is fine, anything else fails the test. */
function expectAnswer<T>(decode: () => T, where: string): T | undefined {
  try {
    return decode();
  } catch (e) {
    if (!isLifelineError(e, 'PAYLOAD_INVALID')) expect.fail(`${where}: threw ${(e as Error)?.stack ?? String(e)}`);
    expect((e as Error).message).toMatch(/^PAYLOAD_INVALID: \S/);
    return undefined;
  }
}

describe('fuzz: mutated telemetry batches', () => {
  it('decodes or rejects 3000 mutated messages (CRC and deflate on the path)', () => {
    const rand = prng(1);
    for (let i = 0; i < 3000; i++) {
      const batch = randomBatch(rand, { maxReadings: 60, holes: i % 2 === 0 });
      const wire = encodeTelemetryBatch(batch, { compress: i % 3 === 0 ? 'never' : 'always' });
      expectAnswer(() => decodeTelemetryBatch(mutate(rand, wire)), `seed 1 iteration ${i}`);
    }
  });

  it('decodes or rejects 6000 mutated bodies re-framed with a valid CRC, and what decodes re-encodes to the same', () => {
    const rand = prng(2);
    let decoded = 0;
    for (let i = 0; i < 6000; i++) {
      const batch = randomBatch(rand, { maxReadings: 40, maxSeries: 5, holes: i % 2 === 0 });
      let body = encodeTelemetryBody(batch);
      for (let m = int(rand, 1, 3); m > 0; m--) body = mutate(rand, body);
      const wire = frameBatch(MessageType.Telemetry, batch.gateway, batch.firstSeq, batch.lastSeq, body, { compress: 'never' });
      const result = expectAnswer(() => decodeTelemetryBatch(wire), `seed 2 iteration ${i}`);
      if (!result) continue;
      decoded++;
      // Whatever the decoder accepts is a valid batch: it re-encodes, and decodes to itself.
      const again = decodeTelemetryBatch(encodeTelemetryBatch(result));
      expect(again.seqs).toEqual(result.seqs);
      expect(again.readings.length).toBe(result.readings.length);
      again.readings.forEach((r, j) => {
        const o = result.readings[j];
        expect([r.device, r.point, r.ts, r.quality]).toEqual([o.device, o.point, o.ts, o.quality]);
        expect(Object.is(r.value, o.value)).toBe(true);
      });
    }
    // Some mutations hit only values and still decode; most are caught.
    expect(decoded).toBeGreaterThan(50);
    expect(decoded).toBeLessThan(5000);
  });

  it('rejects random byte strings and every truncation of a valid message', () => {
    const rand = prng(3);
    for (let i = 0; i < 2000; i++) {
      const junk = Uint8Array.from({ length: int(rand, 0, 64) }, () => int(rand, 0, 255));
      if (i % 2) junk.set([0x4c, 0x4c, 1, int(rand, 1, 4)].slice(0, junk.length));
      expectAnswer(() => decodeUplink(junk), `junk ${i}`);
      expectAnswer(() => decodeDownlink(junk), `junk ${i}`);
    }
    const wire = encodeTelemetryBatch(randomBatch(prng(4), { maxReadings: 50 }));
    for (let n = 0; n < wire.length; n++) {
      expect(() => decodeTelemetryBatch(wire.subarray(0, n)), `truncated to ${n}`).toThrow(/PAYLOAD_INVALID/);
    }
  });
});

describe('fuzz: mutated event batches, acks and rejects', () => {
  it('decodes or rejects mutated event batches', () => {
    const rand = prng(5);
    for (let i = 0; i < 1500; i++) {
      const wire = encodeEventBatch(
        {
          gateway: 'gw-1',
          firstSeq: 7,
          lastSeq: 9,
          events: [
            { kind: 'alarm', seq: 7, alarmId: 'a', device: 'd', point: 'p', ts: 1, from: 'normal', to: 'active_unacked', level: 4, detector: 'threshold', cause: 'c', value: NaN },
            { kind: 'event', seq: 9, ts: 2, type: 'device_offline', device: 'd', message: 'offline', details: { tries: 3 } },
          ],
        },
        { compress: i % 2 ? 'always' : 'never' },
      );
      expectAnswer(() => decodeEventBatch(mutate(rand, wire)), `events ${i}`);
    }
  });

  it('decodes or rejects mutated acks and rejects', () => {
    const rand = prng(6);
    const ack = encodeAck({ gateway: 'gw-1', ts: 1_764_000_000_000, telemetry: 123456, events: 77 });
    const rej = encodeReject({ gateway: 'gw-1', ts: 1, lane: Lane.Telemetry, firstSeq: 5, lastSeq: 9, reason: RejectReason.Malformed, detail: 'bad' });
    for (let i = 0; i < 2000; i++) {
      expectAnswer(() => decodeAck(mutate(rand, ack)), `ack ${i}`);
      expectAnswer(() => decodeReject(mutate(rand, rej)), `reject ${i}`);
    }
  });
});

describe('forged sizes', () => {
  const frameRaw = (body: Uint8Array) => frameBatch(MessageType.Telemetry, 'gw-1', 1, 1_000_000, body, { compress: 'never' });

  it('rejects a forged reading count before allocating for it', () => {
    const w = new ByteWriter();
    w.svarint(0); // baseTs
    w.uvarint(2); // strings
    w.string('d');
    w.string('p');
    w.uvarint(1); // one series
    w.uvarint(0);
    w.uvarint(1);
    w.uvarint(WireLimits.maxReadings); // claims 262,144 readings in a body of a dozen bytes
    expect(() => decodeTelemetryBatch(frameRaw(w.finish()))).toThrow(/readings\.count: 262144 items cannot fit in the 0 bytes left/);
    const w2 = new ByteWriter();
    w2.svarint(0);
    w2.uvarint(2 ** 40); // strings
    expect(() => decodeTelemetryBatch(frameRaw(w2.finish()))).toThrow(/strings\.count: .*exceeds the limit/);
  });

  it('rejects a body length over the limit without reading further, as TooLarge', () => {
    const w = new ByteWriter();
    w.bytes(Uint8Array.from([0x4c, 0x4c, 1, 1, 1]));
    w.string('gw-1');
    w.uvarint(1);
    w.uvarint(1);
    w.uvarint(WireLimits.maxBodyBytes + 1);
    w.u32(0);
    let error: unknown;
    try {
      decodeTelemetryBatch(w.finish());
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/bodyLength: 16777217 exceeds the limit 16777216/);
    expect(rejectReasonFor(error)).toBe(RejectReason.TooLarge);
  });

  it('stops inflating a deflate bomb soon after it passes the declared length', () => {
    const bomb = deflateSync(new Uint8Array(16 * 1024 * 1024), { level: 9 }); // 16 MiB of zeros in ~16 KB
    const w = new ByteWriter();
    w.bytes(Uint8Array.from([0x4c, 0x4c, 1, 1, 1]));
    w.string('gw-1');
    w.uvarint(1);
    w.uvarint(1);
    w.uvarint(1000);
    w.u32(0);
    w.bytes(bomb);
    expect(() => decodeTelemetryBatch(w.finish())).toThrow(/inflates to more than the declared bodyLength 1000/);
  });

  it('maps a checksum mismatch and an unknown version to their reject reasons', () => {
    const wire = encodeTelemetryBatch({ gateway: 'g', firstSeq: 1, lastSeq: 1, readings: [{ device: 'd', point: 'p', ts: 1, value: 1 }] }, { compress: 'never' });
    const corrupt = wire.slice();
    corrupt[corrupt.length - 1] ^= 0xff;
    let error: unknown;
    try {
      decodeTelemetryBatch(corrupt);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/crc32: body checksum .* does not match/);
    expect(rejectReasonFor(error)).toBe(RejectReason.ChecksumMismatch);
    const v3 = wire.slice();
    v3[2] = 3;
    try {
      decodeTelemetryBatch(v3);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/unsupported version 3 \(this decoder reads 1 and 2\)/);
    expect(rejectReasonFor(error)).toBe(RejectReason.UnsupportedVersion);
    expect(rejectReasonFor(new Error('x'))).toBe(RejectReason.Malformed);
  });

  it('refuses a non-Uint8Array payload with PAYLOAD_INVALID', () => {
    expect(() => decodeTelemetryBatch('LL' as unknown as Uint8Array)).toThrow(/PAYLOAD_INVALID: payload: expected a Uint8Array, got string/);
    expect(() => decodeUplink(null as unknown as Uint8Array)).toThrow(/PAYLOAD_INVALID/);
  });
});
