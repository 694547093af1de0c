import { describe, expect, it } from 'vitest';
import { buildRtuRequest, rtuRequestLength, rtuResponseLength } from './rtu.js';
import { parseRequestPdu, parseResponsePdu, writeRequestPdu } from './pdu.js';
import { deviceIdResponseLength, writeDeviceIdResponse } from './device-id.js';
import { crc16 } from './crc.js';

const objects = [
  { id: 0, value: 'Generic' },
  { id: 1, value: 'FG-300' },
  { id: 2, value: 'V1.0' },
  { id: 4, value: 'Flood gauge' },
];

describe('Modbus function 43/14, read device identification', () => {
  it('writes the request and parses it back on the server side', () => {
    const out = new Uint8Array(8);
    expect(writeRequestPdu(out, 0, { functionCode: 43, readDeviceId: 1, objectId: 0 })).toBe(4);
    expect([...out.subarray(0, 4)]).toEqual([0x2b, 0x0e, 0x01, 0x00]);
    expect(parseRequestPdu(out, 0, 4, 1, undefined)).toMatchObject({ kind: 'request', request: { functionCode: 43, readDeviceId: 1, objectId: 0 } });
    expect(() => writeRequestPdu(out, 0, { functionCode: 43, readDeviceId: 5 as 1, objectId: 0 })).toThrow(/readDeviceId: must be 1..4/);
    // Another MEI type (13: CANopen) is not spoken: illegal function.
    expect(parseRequestPdu(Uint8Array.of(0x2b, 0x0d, 1, 0), 0, 4, 1, undefined)).toMatchObject({ kind: 'exception', exceptionCode: 1 });
  });

  it('answers the basic objects, and a response parses to vendor, product code, revision', () => {
    const out = new Uint8Array(260);
    const end = writeDeviceIdResponse(out, 0, 1, 0, objects);
    expect(deviceIdResponseLength(out, 0, end)).toBe(end);
    const r = parseResponsePdu(out, 0, end, 1, undefined, { functionCode: 43, readDeviceId: 1, objectId: 0 });
    expect(r).toMatchObject({ functionCode: 43, moreFollows: false, objects: objects.slice(0, 3) });
    // Regular (code 2) includes object 4; one object (code 4) only that one; an absent one: -1 (exception 02).
    const e2 = writeDeviceIdResponse(out, 0, 2, 0, objects);
    expect(parseResponsePdu(out, 0, e2, 1, undefined)).toMatchObject({ objects });
    const e4 = writeDeviceIdResponse(out, 0, 4, 1, objects);
    expect(parseResponsePdu(out, 0, e4, 1, undefined)).toMatchObject({ objects: [{ id: 1, value: 'FG-300' }] });
    expect(writeDeviceIdResponse(out, 0, 4, 9, objects)).toBe(-1);
  });

  it('splits objects that do not fit one PDU with more follows and the next object id', () => {
    const long = [0, 1, 2, 3, 4, 5].map((id) => ({ id, value: String(id).repeat(60) }));
    const out = new Uint8Array(260);
    const end = writeDeviceIdResponse(out, 0, 3, 0, long);
    const r = parseResponsePdu(out, 0, end, 1, undefined);
    expect(r).toMatchObject({ moreFollows: true, nextObjectId: 3 });
    expect((r as { objects: unknown[] }).objects).toHaveLength(3);
    expect(end).toBeLessThanOrEqual(253);
  });

  it('refuses malformed responses, naming the field', () => {
    const out = new Uint8Array(260);
    const end = writeDeviceIdResponse(out, 0, 1, 0, objects);
    expect(() => parseResponsePdu(out, 0, end - 1, 1, undefined)).toThrow(/object 0x02: length 4 runs past the end/);
    out[4] = 0x12;
    expect(() => parseResponsePdu(out, 0, end, 1, undefined)).toThrow(/more follows: must be 0x00 or 0xFF, got 0x12/);
    expect(() => parseResponsePdu(Uint8Array.of(0x2b, 0x0e, 1), 0, 3, 1, undefined)).toThrow(/shorter than its 7-byte header/);
  });

  it('frames over RTU: the request is 7 bytes, the response length follows its objects', () => {
    const req = buildRtuRequest(5, { functionCode: 43, readDeviceId: 1, objectId: 0 });
    expect(req.length).toBe(7);
    expect(rtuRequestLength(req)).toBe(7);
    const frame = new Uint8Array(260);
    frame[0] = 5;
    const end = writeDeviceIdResponse(frame, 1, 1, 0, objects) + 2;
    const crc = crc16(frame.subarray(0, end - 2));
    frame[end - 2] = crc & 0xff;
    frame[end - 1] = crc >> 8;
    // Arriving in pieces: 0 (not enough yet) until the header and each length byte are in.
    expect(rtuResponseLength(frame, 5)).toBe(0);
    expect(rtuResponseLength(frame, 9)).toBe(0);
    expect(rtuResponseLength(frame, 12)).toBe(0);
    expect(rtuResponseLength(frame, end)).toBe(end);
  });
});
