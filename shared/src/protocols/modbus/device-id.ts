/**
 * Modbus function 43 / MEI type 14: Read Device Identification (Modbus Application Protocol
 * V1.1b3 §6.21). A unit that answers it names its vendor, product code and revision
 * (the basic objects 0x00–0x02), and optionally more (0x03–0x06 regular, 0x80–0xFF private).
 *
 *   request PDU:   2B 0E <read device id code> <object id>
 *   response PDU:  2B 0E <code> <conformity> <more follows> <next object id> <number of objects>
 *                  { <object id> <length> <value bytes> } ...
 *
 * `lifeline scan` asks each unit found for the basic objects (code 01, from object 0) and
 * follows `more follows` until the unit has said everything.
 */
import { frameInvalid, hexByte } from '../bytes.js';

/** The function code and its MEI type. */
export const DEVICE_ID_FUNCTION = 43;
export const DEVICE_ID_MEI = 0x0e;

/** Names of the standard objects (0x00–0x06). */
export const DEVICE_ID_OBJECTS: Readonly<Record<number, string>> = {
  0: 'vendor',
  1: 'product code',
  2: 'revision',
  3: 'vendor url',
  4: 'product name',
  5: 'model name',
  6: 'user application name',
};

/** One identification object. */
export interface DeviceIdObject {
  id: number;
  value: string;
}

/** A request PDU's body after the function code: MEI type, read device id code (1 basic, 2 regular, 3 extended, 4 one object), object id. */
export function writeDeviceIdRequest(out: Uint8Array, o: number, code: number, objectId: number): number {
  if (!Number.isInteger(code) || code < 1 || code > 4) throw frameInvalid(`readDeviceId: must be 1..4 (basic, regular, extended, one object), got ${code}`);
  if (!Number.isInteger(objectId) || objectId < 0 || objectId > 0xff) throw frameInvalid(`objectId: must be an integer 0..255, got ${objectId}`);
  out[o] = DEVICE_ID_FUNCTION;
  out[o + 1] = DEVICE_ID_MEI;
  out[o + 2] = code;
  out[o + 3] = objectId;
  return o + 4;
}

/** A parsed FC43/14 response. */
export interface DeviceIdResponse {
  functionCode: 43;
  /** Read device id code echoed. */
  readDeviceId: number;
  /** Conformity level (0x01 basic … 0x83 extended with individual access). */
  conformity: number;
  /** More objects follow: ask again from `nextObjectId`. */
  moreFollows: boolean;
  nextObjectId: number;
  objects: DeviceIdObject[];
}

/**
 * Total length of the FC43/14 response PDU whose first `length` bytes are at buf[start…]:
 * 0 while the header or an object's length byte is still missing; -1 when it is not MEI 14.
 */
export function deviceIdResponseLength(buf: Uint8Array, start: number, length: number): number {
  if (length < 2) return 0;
  if (buf[start + 1] !== DEVICE_ID_MEI) return -1;
  if (length < 7) return 0;
  let p = 7;
  for (let i = 0; i < buf[start + 6]; i++) {
    if (length < p + 2) return 0;
    p += 2 + buf[start + p + 1];
  }
  return p;
}

/** Parse the response PDU in buf[start, end) (function code 43 first); FRAME_INVALID names what is wrong. */
export function parseDeviceIdResponse(buf: Uint8Array, start: number, end: number): DeviceIdResponse {
  const len = end - start;
  if (len < 7) throw frameInvalid(`read device identification: response PDU of ${len} bytes is shorter than its 7-byte header`);
  if (buf[start + 1] !== DEVICE_ID_MEI) throw frameInvalid(`MEI type: expected ${hexByte(DEVICE_ID_MEI)} (read device identification), found ${hexByte(buf[start + 1])}`);
  const more = buf[start + 4];
  if (more !== 0 && more !== 0xff) throw frameInvalid(`more follows: must be 0x00 or 0xFF, got ${hexByte(more)}`);
  const count = buf[start + 6];
  const objects: DeviceIdObject[] = [];
  let p = start + 7;
  for (let i = 0; i < count; i++) {
    if (p + 2 > end) throw frameInvalid(`objects: ${count} announced, the PDU ends after ${i}`);
    const n = buf[p + 1];
    if (p + 2 + n > end) throw frameInvalid(`object ${hexByte(buf[p])}: length ${n} runs past the end of the PDU`);
    objects.push({ id: buf[p], value: new TextDecoder().decode(buf.subarray(p + 2, p + 2 + n)) });
    p += 2 + n;
  }
  if (p !== end) throw frameInvalid(`objects: ${end - p} byte(s) after the last of ${count} object(s)`);
  return { functionCode: 43, readDeviceId: buf[start + 2], conformity: buf[start + 3], moreFollows: more === 0xff, nextObjectId: buf[start + 5], objects };
}

/**
 * Write the response PDU answering `code`/`objectId` from `objects` (a server's whole list,
 * ids ascending) at `out[o]`; returns the end offset. Objects that do not fit in the
 * 253-byte PDU are left for a next request (`more follows`). Returns -1 for an object id
 * the server does not have (answer exception 02).
 */
export function writeDeviceIdResponse(out: Uint8Array, o: number, code: number, objectId: number, objects: readonly DeviceIdObject[], conformity = 0x01): number {
  const wanted = code === 4 ? objects.filter((x) => x.id === objectId) : objects.filter((x) => x.id >= objectId && x.id <= (code === 1 ? 2 : code === 2 ? 0x7f : 0xff));
  if (code === 4 && !wanted.length) return -1;
  out[o] = DEVICE_ID_FUNCTION;
  out[o + 1] = DEVICE_ID_MEI;
  out[o + 2] = code;
  out[o + 3] = conformity;
  let p = o + 7;
  let n = 0;
  let next = 0;
  for (const x of wanted) {
    const bytes = new TextEncoder().encode(x.value);
    if (p + 2 + bytes.length - o > 253) {
      next = x.id;
      break;
    }
    out[p] = x.id;
    out[p + 1] = bytes.length;
    out.set(bytes, p + 2);
    p += 2 + bytes.length;
    n++;
  }
  out[o + 4] = next ? 0xff : 0;
  out[o + 5] = next;
  out[o + 6] = n;
  return p;
}
