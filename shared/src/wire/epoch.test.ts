import { describe, expect, it } from 'vitest';
import { Lane, MessageType, RejectReason, WireFlags, peekHeader } from './envelope.js';
import { decodeAck, decodeReject, encodeAck, encodeReject } from './control.js';
import { decodeTelemetryBatch, encodeTelemetryBatch } from './telemetry.js';
import { decodeEventBatch, encodeEventBatch } from './events.js';
import { isLifelineError } from '../errors.js';

const readings = [{ device: 'd', point: 'p', ts: 1_764_000_000_000, value: 1.5 }];

describe('wire: buffer epochs and ranged acks', () => {
  it('carries the epoch in batches, acks and rejects, and leaves messages without one unchanged', () => {
    const epoch = 2 ** 53 - 1;
    const t = encodeTelemetryBatch({ gateway: 'g', epoch, firstSeq: 7, lastSeq: 7, readings });
    expect(t[4] & WireFlags.Epoch).toBe(WireFlags.Epoch);
    expect(peekHeader(t)).toMatchObject({ epoch, firstSeq: 7, lastSeq: 7 });
    expect(decodeTelemetryBatch(t)).toMatchObject({ epoch, firstSeq: 7, readings });
    const e = encodeEventBatch({ gateway: 'g', epoch: 3, firstSeq: 1, lastSeq: 1, events: [{ kind: 'event', seq: 1, ts: 1, type: 'x', message: '' }] });
    expect(decodeEventBatch(e).epoch).toBe(3);
    const plain = encodeTelemetryBatch({ gateway: 'g', firstSeq: 7, lastSeq: 7, readings });
    expect(plain[4] & WireFlags.Epoch).toBe(0);
    expect(decodeTelemetryBatch(plain).epoch).toBeUndefined();
    expect(plain.length).toBe(t.length - 8);
    const ack = encodeAck({ gateway: 'g', ts: 5, epoch: 9, telemetry: 3, range: { lane: Lane.Telemetry, firstSeq: 10, lastSeq: 20 } });
    expect(decodeAck(ack)).toEqual({ gateway: 'g', ts: 5, epoch: 9, telemetry: 3, range: { lane: Lane.Telemetry, firstSeq: 10, lastSeq: 20 } });
    expect(decodeAck(encodeAck({ gateway: 'g', ts: 5, events: 2 }))).toEqual({ gateway: 'g', ts: 5, events: 2 });
    const rej = encodeReject({ gateway: 'g', ts: 5, epoch: 9, lane: Lane.Events, firstSeq: 1, lastSeq: 2, reason: RejectReason.StaleEpoch, detail: 'old' });
    expect(decodeReject(rej)).toMatchObject({ epoch: 9, reason: RejectReason.StaleEpoch, firstSeq: 1, lastSeq: 2 });
  });

  it('rejects an epoch of 0, a Range flag outside an Ack, and a Deflate flag on an Ack', () => {
    const t = encodeTelemetryBatch({ gateway: 'g', epoch: 1, firstSeq: 1, lastSeq: 1, readings }, { compress: 'never' });
    const zero = t.slice();
    zero[7] = 0; // the epoch byte after "LL", version, type, flags, 0x01 'g'
    const fail = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isLifelineError(e) ? e.message : String(e);
      }
      return 'no error';
    };
    expect(fail(() => decodeTelemetryBatch(zero))).toMatch(/epoch: must be at least 1/);
    const ranged = t.slice();
    ranged[4] |= WireFlags.Range;
    expect(fail(() => decodeTelemetryBatch(ranged))).toMatch(/unknown flag bits 0x04/);
    const ack = encodeAck({ gateway: 'g', ts: 1, telemetry: 1 });
    ack[4] |= WireFlags.Deflate;
    expect(fail(() => decodeAck(ack))).toMatch(/unknown flag bits 0x01/);
    expect(() => encodeAck({ gateway: 'g', ts: 1, telemetry: 1, epoch: 0 })).toThrow(/epoch/);
    expect(MessageType.Ack).toBe(3);
  });
});
