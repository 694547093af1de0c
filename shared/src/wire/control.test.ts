import { describe, expect, it } from 'vitest';
import { decodeAck, decodeReject, encodeAck, encodeReject } from './control.js';
import { Lane, MessageType, RejectReason, peekHeader, rejectReasonFor } from './envelope.js';
import { decodeEventBatch, encodeEventBatch } from './events.js';
import { decodeDownlink, decodeUplink } from './index.js';
import { decodeTelemetryBatch, encodeTelemetryBatch } from './telemetry.js';

describe('ack', () => {
  it('round-trips the committed seq of each lane and the cloud clock', () => {
    const ack = { gateway: 'gw-1', ts: 1_764_000_000_123, telemetry: Number.MAX_SAFE_INTEGER, events: 0 };
    expect(decodeAck(encodeAck(ack))).toEqual(ack);
    expect(decodeAck(encodeAck({ gateway: 'gw-1', ts: 1, events: 9 }))).toEqual({ gateway: 'gw-1', ts: 1, events: 9 });
  });

  it('is 5 + gateway + a few varint bytes long', () => {
    expect(encodeAck({ gateway: 'gw-1', ts: 1_764_000_000_000, telemetry: 1000 }).length).toBe(5 + 5 + 6 + 1 + 1 + 2);
  });

  it('refuses an ack without lanes, a lane twice or an unknown lane', () => {
    expect(() => encodeAck({ gateway: 'gw-1', ts: 1 })).toThrow(/at least one lane/);
    expect(() => encodeAck({ gateway: 'gw-1', ts: 1, telemetry: -1 })).toThrow(/telemetry: must be a non-negative safe integer, got -1/);
    const twice = Uint8Array.from([0x4c, 0x4c, 1, 3, 0, 1, 0x67, 1, 2, 1, 5, 1, 6]);
    expect(() => decodeAck(twice)).toThrow(/lanes\[1\]\.lane: lane 1 given twice/);
    const unknown = Uint8Array.from([0x4c, 0x4c, 1, 3, 0, 1, 0x67, 1, 1, 9, 5]);
    expect(() => decodeAck(unknown)).toThrow(/lanes\[0\]\.lane: unknown lane 9/);
    expect(() => decodeAck(Uint8Array.from([0x4c, 0x4c, 1, 3, 1, 1, 0x67, 1, 1, 1, 5]))).toThrow(/flags: unknown flag bits 0x01/);
  });
});

describe('reject', () => {
  it('round-trips a reject with and without a range, and cuts a long detail on a character boundary', () => {
    const rej = { gateway: 'gw-1', ts: 5, lane: Lane.Telemetry, firstSeq: 100, lastSeq: 199, reason: RejectReason.GatewayMismatch, detail: 'gateway gw-2 on topic of gw-1' };
    expect(decodeReject(encodeReject(rej))).toEqual(rej);
    const noRange = { gateway: 'gw-1', ts: 5, lane: Lane.Events, reason: RejectReason.Malformed, detail: '' };
    expect(decodeReject(encodeReject(noRange))).toEqual(noRange);
    const long = decodeReject(encodeReject({ ...noRange, detail: '桥'.repeat(400) }));
    expect(long.detail).toBe('桥'.repeat(341));
  });

  it('refuses unknown lanes and reasons', () => {
    expect(() => encodeReject({ gateway: 'g', ts: 1, lane: 7 as Lane, reason: RejectReason.Malformed, detail: '' })).toThrow(/lane: unknown lane 7/);
    expect(() => encodeReject({ gateway: 'g', ts: 1, lane: Lane.Events, reason: 99 as RejectReason, detail: '' })).toThrow(/reason: unknown reason 99/);
  });
});

describe('the cloud side of a bad batch', () => {
  it('names the range of a batch whose body is broken, and rejects it with the right reason', () => {
    const wire = encodeTelemetryBatch({ gateway: 'gw-1', firstSeq: 500, lastSeq: 500, readings: [{ device: 'd', point: 'p', ts: 1, value: 1 }] }, { compress: 'never' });
    const broken = wire.slice();
    broken[broken.length - 3] ^= 0x55;
    let error: unknown;
    try {
      decodeTelemetryBatch(broken);
    } catch (e) {
      error = e;
    }
    const h = peekHeader(broken);
    const rej = decodeReject(
      encodeReject({ gateway: h.gateway, ts: 1, lane: Lane.Telemetry, firstSeq: h.firstSeq, lastSeq: h.lastSeq, reason: rejectReasonFor(error), detail: (error as Error).message }),
    );
    expect(rej).toMatchObject({ firstSeq: 500, lastSeq: 500, reason: RejectReason.ChecksumMismatch });
    expect(rej.detail).toMatch(/crc32/);
  });

  it('dispatches uplinks and downlinks by type, and refuses the wrong direction', () => {
    const t = encodeTelemetryBatch({ gateway: 'g', firstSeq: 1, lastSeq: 0, readings: [] });
    const e = encodeEventBatch({ gateway: 'g', firstSeq: 1, lastSeq: 0, events: [] });
    const a = encodeAck({ gateway: 'g', ts: 1, telemetry: 3 });
    const r = encodeReject({ gateway: 'g', ts: 1, lane: Lane.Events, reason: RejectReason.TooLarge, detail: 'x' });
    expect(decodeUplink(t).type).toBe(MessageType.Telemetry);
    expect(decodeUplink(e).type).toBe(MessageType.Events);
    expect(decodeDownlink(a)).toMatchObject({ type: MessageType.Ack, ack: { telemetry: 3 } });
    expect(decodeDownlink(r)).toMatchObject({ type: MessageType.Reject, reject: { reason: RejectReason.TooLarge } });
    expect(() => decodeUplink(a)).toThrow(/PAYLOAD_INVALID: uplink: type: Ack \(3\) is not an uplink message/);
    expect(() => decodeDownlink(t)).toThrow(/PAYLOAD_INVALID: downlink: type: Telemetry \(1\) is not a downlink message/);
    expect(() => decodeEventBatch(t)).toThrow(/PAYLOAD_INVALID/);
  });

  it('rejects a batch that names another gateway than the channel as forged', () => {
    const wire = encodeTelemetryBatch({ gateway: 'gw-b', firstSeq: 1, lastSeq: 0, readings: [] });
    expect(decodeUplink(wire, { gateway: 'gw-b' }).type).toBe(MessageType.Telemetry);
    let error: unknown;
    try {
      decodeUplink(wire, { gateway: 'gw-a' });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toBe('PAYLOAD_INVALID: uplink: gateway: the message names "gw-b", the channel belongs to "gw-a"');
    expect(rejectReasonFor(error)).toBe(RejectReason.GatewayMismatch);
  });
});
