/**
 * DL/T 645-2007 frames (electricity meters on lamp posts).
 *
 *   [FE FE FE FE]  68  A0 A1 A2 A3 A4 A5  68  C  L  DATA(L bytes, each +0x33)  CS  16
 *    wake-up            address, reversed BCD       CS = sum mod 256 from the first 68 to the end of DATA
 *
 *   C: D7 direction (1 = from meter) · D6 abnormal reply · D5 follow-up frame · D4..D0 function
 *      0x11 read data → 0x91 reply, 0xB1 reply with follow-up, 0xD1 error reply (one error byte)
 *
 * Read DATA = DI0 DI1 DI2 DI3 (low byte first); a reply repeats the DI, then the value.
 */
import { ErrorCodes, LifelineError } from '../../errors.js';
import {
  bcdAddressMatches,
  bcdValueLE,
  formatBcdAddress,
  frameInvalid,
  hexByte,
  type MeterFrameFields,
  parseBcdAddress,
  parseFrame68,
  frame68Length,
  sum8,
  toHex,
  writeBcdLE,
} from '../bytes.js';
import { DLT645_DATA_IDS, type Dlt645DataId, dlt645BlockItems, formatDataId } from './data-ids.js';

/** Control codes this codec builds or recognises. */
export const Dlt645Control = {
  /** Master reads data. */
  Read: 0x11,
  /** Normal reply to a read. */
  ReadReply: 0x91,
  /** Normal reply; more data follows in another frame. */
  ReadReplyFollowUp: 0xb1,
  /** Error reply to a read: one error byte. */
  ReadError: 0xd1,
} as const;

/** Fixed bytes around DATA: 68 A×6 68 C L … CS 16. */
const OVERHEAD = 12;

/** Bits of the error byte of an abnormal reply (DL/T 645-2007 §7.2 error word). */
export const DLT645_ERROR_BITS: readonly string[] = [
  'other error',
  'no requested data',
  'password error or not authorised',
  'communication rate cannot be changed',
  'too many annual time zones',
  'too many daily time periods',
  'too many tariffs',
  'reserved',
];

/** The names of the bits set in an error byte, e.g. `no requested data`. */
export function describeDlt645Error(errorByte: number): string {
  const names = DLT645_ERROR_BITS.filter((_, i) => (errorByte >> i) & 1);
  return names.length ? names.join(', ') : 'no error bit set';
}

/** One decoded frame (any control code); the address has 12 digits. */
export interface Dlt645Frame extends MeterFrameFields {
  /** D5: a follow-up frame carries more data. */
  followUp: boolean;
  /** D4..D0 function, e.g. 0x11 read data. */
  functionCode: number;
  /** DATA with the 0x33 offset removed (a new array). */
  data: Uint8Array;
}

/**
 * Total length (preamble included) of the frame whose first `length` bytes
 * are in `buf`, for serial links: `0` when more bytes are needed to tell, `-1`
 * when the first byte after the preamble is not 0x68 (resynchronise).
 */
export function dlt645FrameLength(buf: Uint8Array, length = buf.length): number {
  return frame68Length(buf, length, 9, OVERHEAD);
}

/**
 * Parse one complete frame: optional FE preamble, then exactly one frame
 * (nothing after the 0x16). Throws FRAME_INVALID saying what is wrong:
 * `start`, `length: L=8 but 7 data bytes follow`, `terminator: …`, `checksum: expected 0x8B, found 0x8C`.
 */
export function parseDlt645Frame(bytes: Uint8Array): Dlt645Frame {
  const f = parseFrame68(bytes, { protocol: 'DL/T 645', overhead: OVERHEAD, lOffset: 9, address: [1, 6], secondStart: 7 });
  const L = f.length - f.preamble - OVERHEAD;
  const data = new Uint8Array(L);
  for (let i = 0; i < L; i++) data[i] = (bytes[f.preamble + 10 + i] - 0x33) & 0xff;
  return { ...f, followUp: (f.control & 0x20) !== 0, functionCode: f.control & 0x1f, data };
}

/** Options of the frame builders. */
export interface Dlt645BuildOptions {
  /** FE wake-up bytes to send first (default 4, as the standard recommends). */
  preamble?: number;
}

/**
 * Build a frame from plain DATA (the +0x33 offset is applied here).
 * `address`: 12 digits as printed on the meter, or AA wildcards (`AAAAAAAAAAAA` reaches any single meter).
 */
export function buildDlt645Frame(
  address: string,
  control: number,
  data: Uint8Array,
  options: Dlt645BuildOptions = {},
): Uint8Array {
  const pre = options.preamble ?? 4;
  if (!Number.isInteger(pre) || pre < 0 || pre > 16) throw frameInvalid(`preamble: must be 0..16 FE bytes, got ${pre}`);
  if (!Number.isInteger(control) || control < 0 || control > 0xff) throw frameInvalid(`control: must be a byte, got ${control}`);
  if (data.length > 255) throw frameInvalid(`data: at most 255 bytes fit in L, got ${data.length}`);
  const addr = parseBcdAddress(address, 6, 'address');
  const out = new Uint8Array(pre + OVERHEAD + data.length);
  out.fill(0xfe, 0, pre);
  let o = pre;
  out[o++] = 0x68;
  out.set(addr, o);
  o += 6;
  out[o++] = 0x68;
  out[o++] = control;
  out[o++] = data.length;
  for (let i = 0; i < data.length; i++) out[o++] = (data[i] + 0x33) & 0xff;
  out[o] = sum8(out, pre, o);
  out[o + 1] = 0x16;
  return out;
}

/** A data identifier as a number, from `0x00010000` or `'00010000'`. */
export function toDataId(di: number | string, field = 'di'): number {
  const n = typeof di === 'string' ? (/^[0-9a-fA-F]{8}$/.test(di) ? parseInt(di, 16) : NaN) : di;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw frameInvalid(`${field}: must be 8 hex digits (DI3..DI0), got ${String(di)}`);
  return n;
}

function diBytes(id: number): Uint8Array {
  return Uint8Array.of(id & 0xff, (id >>> 8) & 0xff, (id >>> 16) & 0xff, id >>> 24);
}

/** A read-data request (control 0x11) for one data identifier. */
export function buildDlt645ReadRequest(address: string, di: number | string, options?: Dlt645BuildOptions): Uint8Array {
  return buildDlt645Frame(address, Dlt645Control.Read, diBytes(toDataId(di)), options);
}

/** One decoded value of a reply. */
export interface Dlt645Value {
  /** What it measures, e.g. `phase A voltage`. */
  name: string;
  /** The value in `unit`. */
  value: number;
  /** Unit symbol ('' for dimensionless). */
  unit: string;
  /** The data identifier of this item. */
  id: number;
}

/** A decoded normal reply to a read. */
export interface Dlt645ReadReply {
  /** The meter's address. */
  address: string;
  /** The data identifier answered. */
  di: number;
  /** `00010000` style. */
  diHex: string;
  /** Decoded values: one, several for a block, none for an identifier this codec does not know. */
  values: Dlt645Value[];
  /** The value bytes after the DI, offset removed. */
  raw: Uint8Array;
  /** More data follows in a follow-up frame (control 0xB1). */
  followUp: boolean;
}

function decodeItem(d: Dlt645DataId, raw: Uint8Array, at: number): Dlt645Value {
  const v = bcdValueLE(raw, at, d.bytes, d.decimals, d.signed);
  if (v === null) throw frameInvalid(`value: ${d.name} (${formatDataId(d.id)}) bytes ${toHex(raw, at, at + d.bytes)} are not BCD`);
  return { name: d.name, value: v, unit: d.unit, id: d.id };
}

/** Decode the value bytes of a known identifier (or block); [] when unknown. */
export function decodeDlt645Value(di: number, raw: Uint8Array): Dlt645Value[] {
  const d = DLT645_DATA_IDS.get(di);
  if (d) {
    if (raw.length !== d.bytes) {
      throw frameInvalid(`value: ${d.name} (${formatDataId(di)}) is ${d.bytes} bytes (${d.format}), got ${raw.length}`);
    }
    return [decodeItem(d, raw, 0)];
  }
  const items = dlt645BlockItems(di);
  if (items.length === 0) return [];
  const size = items.reduce((s, x) => s + x.bytes, 0);
  if (raw.length !== size) throw frameInvalid(`value: block ${formatDataId(di)} is ${size} bytes, got ${raw.length}`);
  const out: Dlt645Value[] = [];
  let at = 0;
  for (const item of items) {
    out.push(decodeItem(item, raw, at));
    at += item.bytes;
  }
  return out;
}

/**
 * Parse a meter's reply to a read. 0x91/0xB1 give the values; 0xD1 throws
 * DEVICE_EXCEPTION naming the error bits (details: { address, errorByte }).
 * With `expect`, the address (unless the request used AA wildcards) and DI
 * must match. Anything malformed throws FRAME_INVALID.
 */
export function parseDlt645ReadReply(
  bytes: Uint8Array,
  expect?: { address?: string; di?: number | string },
): Dlt645ReadReply {
  const f = parseDlt645Frame(bytes);
  if (expect?.address !== undefined && !bcdAddressMatches(expect.address, f.address)) {
    throw frameInvalid(`address: expected ${expect.address}, found ${f.address}`);
  }
  if (f.control === Dlt645Control.ReadError) {
    if (f.data.length !== 1) throw frameInvalid(`error reply: must carry 1 error byte, got ${f.data.length}`);
    const err = f.data[0];
    throw new LifelineError(
      ErrorCodes.DeviceException,
      `meter ${f.address}: error reply ${hexByte(err)}: ${describeDlt645Error(err)}`,
      { details: { address: f.address, errorByte: err } },
    );
  }
  if (f.control !== Dlt645Control.ReadReply && f.control !== Dlt645Control.ReadReplyFollowUp) {
    throw frameInvalid(`control: expected a read reply (0x91, 0xB1 or 0xD1), found ${hexByte(f.control)}`);
  }
  if (f.data.length < 4) throw frameInvalid(`data: a read reply starts with the 4-byte DI, got ${f.data.length} bytes`);
  const d = f.data;
  const di = (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0;
  if (expect?.di !== undefined) {
    const want = toDataId(expect.di, 'expect.di');
    if (want !== di) throw frameInvalid(`di: expected ${formatDataId(want)}, found ${formatDataId(di)}`);
  }
  const raw = d.subarray(4);
  return { address: f.address, di, diHex: formatDataId(di), values: decodeDlt645Value(di, raw), raw, followUp: f.followUp };
}

/**
 * A meter's normal reply to a read (server side, for simulators and tests):
 * the DI's value(s) encoded per the table. A block takes one value per item.
 */
export function buildDlt645ReadReply(
  address: string,
  di: number | string,
  value: number | readonly number[],
  options?: Dlt645BuildOptions & { followUp?: boolean },
): Uint8Array {
  const id = toDataId(di);
  const single = DLT645_DATA_IDS.get(id);
  const items = single ? [single] : dlt645BlockItems(id);
  if (items.length === 0) throw frameInvalid(`di: ${formatDataId(id)} is not a data identifier this codec can encode`);
  const values = typeof value === 'number' ? [value] : value;
  if (values.length !== items.length) throw frameInvalid(`value: ${formatDataId(id)} needs ${items.length} value(s), got ${values.length}`);
  const size = items.reduce((s, x) => s + x.bytes, 0);
  const data = new Uint8Array(4 + size);
  data.set(diBytes(id));
  let at = 4;
  items.forEach((item, i) => {
    writeBcdLE(data, at, item.bytes, values[i], item.decimals, item.signed, `value (${item.name})`);
    at += item.bytes;
  });
  const control = options?.followUp ? Dlt645Control.ReadReplyFollowUp : Dlt645Control.ReadReply;
  return buildDlt645Frame(address, control, data, options);
}

/** A meter's error reply (0xD1) with the given error byte. */
export function buildDlt645ErrorReply(address: string, errorByte: number, options?: Dlt645BuildOptions): Uint8Array {
  if (!Number.isInteger(errorByte) || errorByte < 0 || errorByte > 0xff) throw frameInvalid(`errorByte: must be a byte, got ${errorByte}`);
  return buildDlt645Frame(address, Dlt645Control.ReadError, Uint8Array.of(errorByte), options);
}
