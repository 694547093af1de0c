/**
 * SL 651-2014 frames (水文监测数据通信规约): the envelope, both encodings.
 *
 * HEX/BCD form (up = station → centre; down swaps the two addresses):
 *
 *   7E 7E  centre  station×5  password×2  fn  UL×2  STX|SYN [pkt×3]  body…  end  CRC×2
 *          (up)    (up)                        │                             │    CRC-16/MODBUS of every byte
 *   7E 7E  station×5  centre  …  (down)        │                             │    from 7E to end, HIGH byte first
 *                                              U: high nibble 0 up, 8 down; L: low 12 bits, bytes of pkt + body
 *
 * ASCII form: the same fields written as upper-case hex/decimal characters
 * (centre 2, station 10, password 4, fn 2, UL 4, pkt 6), opened by SOH (0x01)
 * instead of 7E 7E; L counts body characters; the CRC (same polynomial, over
 * SOH … end) is sent as 4 hex characters.
 *
 * end is ETX (no more), ETB (more packets follow), ENQ (query), EOT (hang up),
 * ACK, NAK or ESC (done, stay on line). Multi-packet frames (SYN) carry
 * pkt = total packets (12 bits) and this packet's number (12 bits).
 *
 * Every error is FRAME_INVALID naming the field and its byte offset.
 */
import { frameInvalid, hexByte, toHex } from '../bytes.js';
import { crc16 } from '../modbus/crc.js';
import { SL651_END_NAMES, Sl651Ctl } from './elements.js';

/** How the frame is written. */
export type Sl651Encoding = 'hex' | 'ascii';

/** Who sends it: up = remote station → centre, down = centre → station. */
export type Sl651Direction = 'up' | 'down';

/** The fields of a frame, without its body's meaning (see body.ts). */
export interface Sl651FrameInit {
  /** HEX/BCD (7E 7E) or ASCII (SOH). Default hex. */
  encoding?: Sl651Encoding;
  direction: Sl651Direction;
  /** Centre station address, 1..255. */
  centre: number;
  /** Remote station address, 10 hex digits (5 bytes; hydrological stations: 00 + 8 BCD digits). */
  station: string;
  /** Password, 4 hex digits. */
  password: string;
  /** Function code, e.g. 0x32 timed report. */
  functionCode: number;
  /** Multi-packet frames (SYN): total packets and this packet's number, 1-based. */
  packet?: { total: number; seq: number };
  /** Body between STX (or the packet counter) and the end character. ASCII: its characters. */
  body: Uint8Array;
  /** End character (ETX, ETB, ENQ, EOT, ACK, NAK, ESC). */
  end: number;
}

/** A parsed frame. */
export interface Sl651Frame extends Required<Omit<Sl651FrameInit, 'packet'>> {
  packet?: { total: number; seq: number };
  /** The CRC as received (it checked). */
  crc: number;
  /** Byte offset of the body in the frame. */
  bodyOffset: number;
  /** Bytes of the whole frame. */
  length: number;
}

const END_CHARS = new Set(Object.keys(SL651_END_NAMES).map(Number));

/** Header bytes before the body, HEX form: 7E 7E + 1 + 5 + 2 + 1 + 2 + STX. */
const HEX_HEAD = 14;
/** Header characters before the body, ASCII form: SOH + 2 + 10 + 4 + 2 + 4 + STX. */
const ASCII_HEAD = 24;

const HEX = '0123456789ABCDEF';

function bad(field: string, offset: number, message: string): never {
  throw frameInvalid(`${field} (byte ${offset}): ${message}`);
}

/** CRC-16 of SL 651: the Modbus polynomial (0xA001 reflected, init 0xFFFF) over SOH … end. */
export function sl651Crc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc16(bytes, start, end);
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  return -1; // upper case only: one spelling per frame, so encode(decode(x)) is x
}

/** Parse `n` ASCII hex characters at `at`; throws naming `field`. */
function asciiHex(b: Uint8Array, at: number, n: number, field: string): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = hexVal(b[i]);
    if (d < 0) bad(field, i, `expected a hex character, found ${hexByte(b[i])}`);
    v = v * 16 + d;
  }
  return v;
}

function asciiText(b: Uint8Array, at: number, n: number, field: string): string {
  asciiHex(b, at, n, field);
  let s = '';
  for (let i = at; i < at + n; i++) s += String.fromCharCode(b[i]);
  return s;
}

/**
 * Total length of the frame whose first `length` bytes are in `buf`, for a
 * TCP stream: `0` while the length field has not arrived, `-1` when `buf`
 * does not start a frame (drop a byte and look again).
 */
export function sl651FrameLength(buf: Uint8Array, length = buf.length): number {
  if (length < 1) return 0;
  if (buf[0] === Sl651Ctl.SOH_HEX) {
    if (length < 2) return 0;
    if (buf[1] !== Sl651Ctl.SOH_HEX) return -1;
    if (length < 13) return 0;
    const ul = (buf[11] << 8) | buf[12];
    if ((ul >> 12 !== 0 && ul >> 12 !== 8)) return -1;
    return HEX_HEAD + (ul & 0xfff) + 3;
  }
  if (buf[0] === Sl651Ctl.SOH_ASCII) {
    if (length < 24) return 0;
    const dir = hexVal(buf[19]);
    if (dir !== 0 && dir !== 8) return -1;
    let l = 0;
    for (let i = 20; i < 23; i++) {
      const d = hexVal(buf[i]);
      if (d < 0) return -1;
      l = l * 16 + d;
    }
    return ASCII_HEAD + l + 5;
  }
  return -1;
}

/**
 * Parse one complete frame, HEX/BCD (7E 7E) or ASCII (SOH), nothing after the
 * CRC. Throws FRAME_INVALID naming the field and the byte offset.
 */
export function parseSl651Frame(bytes: Uint8Array): Sl651Frame {
  if (bytes.length === 0) bad('start', 0, 'empty frame');
  if (bytes[0] === Sl651Ctl.SOH_HEX) return parseHexFrame(bytes);
  if (bytes[0] === Sl651Ctl.SOH_ASCII) return parseAsciiFrame(bytes);
  return bad('start', 0, `expected 7E 7E (HEX/BCD) or 01 (ASCII SOH), found ${hexByte(bytes[0])}`);
}

function parseHexFrame(b: Uint8Array): Sl651Frame {
  const n = b.length;
  if (n < 2 || b[1] !== Sl651Ctl.SOH_HEX) bad('start', 1, `expected 7E 7E, found ${toHex(b, 0, Math.min(n, 2))}`);
  if (n < HEX_HEAD + 3) bad('length', n, `a HEX frame needs at least ${HEX_HEAD + 3} bytes, got ${n}`);
  const ul = (b[11] << 8) | b[12];
  const u = ul >> 12;
  if (u !== 0 && u !== 8) bad('up/down flag', 11, `expected 0 (up) or 8 (down) in the high nibble, found ${toHex(b, 11, 13)}`);
  const direction: Sl651Direction = u === 0 ? 'up' : 'down';
  const L = ul & 0xfff;
  const want = HEX_HEAD + L + 3;
  if (n !== want) bad('length', 11, `L=${L} means a ${want}-byte frame, got ${n} bytes`);
  const crc = (b[n - 2] << 8) | b[n - 1];
  const calc = sl651Crc(b, 0, n - 2);
  if (crc !== calc) bad('crc', n - 2, `expected ${hex4(calc)}, found ${hex4(crc)}`);
  const end = b[n - 3];
  if (!END_CHARS.has(end)) bad('end', n - 3, `expected ETX, ETB, ENQ, EOT, ACK, NAK or ESC, found ${hexByte(end)}`);
  const start = b[13];
  let bodyOffset = 14;
  let packet: Sl651Frame['packet'];
  if (start === Sl651Ctl.SYN) {
    if (L < 3) bad('packet counter', 14, `a SYN frame carries 3 packet-counter bytes, L=${L}`);
    const v = (b[14] << 16) | (b[15] << 8) | b[16];
    packet = checkPacket({ total: v >> 12, seq: v & 0xfff }, 14);
    bodyOffset = 17;
  } else if (start !== Sl651Ctl.STX) bad('start of text', 13, `expected STX (02) or SYN (16), found ${hexByte(start)}`);
  const up = direction === 'up';
  return {
    encoding: 'hex',
    direction,
    centre: up ? b[2] : b[7],
    station: toHex(b, up ? 3 : 2, up ? 8 : 7).replace(/ /g, ''),
    password: toHex(b, 8, 10).replace(/ /g, ''),
    functionCode: b[10],
    ...(packet ? { packet } : {}),
    body: b.subarray(bodyOffset, n - 3),
    end,
    crc,
    bodyOffset,
    length: n,
  };
}

function parseAsciiFrame(b: Uint8Array): Sl651Frame {
  const n = b.length;
  if (n < ASCII_HEAD + 5) bad('length', n, `an ASCII frame needs at least ${ASCII_HEAD + 5} bytes, got ${n}`);
  const u = asciiHex(b, 19, 1, 'up/down flag');
  if (u !== 0 && u !== 8) bad('up/down flag', 19, `expected "0" (up) or "8" (down), found "${String.fromCharCode(b[19])}"`);
  const direction: Sl651Direction = u === 0 ? 'up' : 'down';
  const L = asciiHex(b, 20, 3, 'length');
  const want = ASCII_HEAD + L + 5;
  if (n !== want) bad('length', 20, `L=${L} means a ${want}-byte frame, got ${n} bytes`);
  const crc = asciiHex(b, n - 4, 4, 'crc');
  const calc = sl651Crc(b, 0, n - 4);
  if (crc !== calc) bad('crc', n - 4, `expected ${hex4(calc)}, found ${hex4(crc)}`);
  const end = b[n - 5];
  if (!END_CHARS.has(end)) bad('end', n - 5, `expected ETX, ETB, ENQ, EOT, ACK, NAK or ESC, found ${hexByte(end)}`);
  const up = direction === 'up';
  const centre = asciiHex(b, up ? 1 : 11, 2, 'centre');
  const station = asciiText(b, up ? 3 : 1, 10, 'station');
  const password = asciiText(b, 13, 4, 'password');
  const functionCode = asciiHex(b, 17, 2, 'function code');
  const start = b[23];
  let bodyOffset = 24;
  let packet: Sl651Frame['packet'];
  if (start === Sl651Ctl.SYN) {
    if (L < 6) bad('packet counter', 24, `a SYN frame carries 6 packet-counter characters, L=${L}`);
    packet = checkPacket({ total: asciiHex(b, 24, 3, 'packet total'), seq: asciiHex(b, 27, 3, 'packet number') }, 24);
    bodyOffset = 30;
  } else if (start !== Sl651Ctl.STX) bad('start of text', 23, `expected STX (02) or SYN (16), found ${hexByte(start)}`);
  return {
    encoding: 'ascii',
    direction,
    centre,
    station,
    password,
    functionCode,
    ...(packet ? { packet } : {}),
    body: b.subarray(bodyOffset, n - 5),
    end,
    crc,
    bodyOffset,
    length: n,
  };
}

function checkPacket(p: { total: number; seq: number }, at: number): { total: number; seq: number } {
  if (p.total < 1 || p.seq < 1 || p.seq > p.total) bad('packet counter', at, `packet ${p.seq} of ${p.total}: both count from 1 and the number is at most the total`);
  return p;
}

function hex4(v: number): string {
  return v.toString(16).toUpperCase().padStart(4, '0');
}

function checkInit(f: Sl651FrameInit): void {
  const intIn = (v: number, lo: number, hi: number, field: string) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw frameInvalid(`${field}: must be ${lo}..${hi}, got ${v}`);
  };
  if (f.direction !== 'up' && f.direction !== 'down') throw frameInvalid(`direction: must be "up" or "down", got ${String(f.direction)}`);
  intIn(f.centre, 0, 255, 'centre');
  intIn(f.functionCode, 0, 255, 'functionCode');
  if (!/^[0-9A-F]{10}$/.test(f.station)) throw frameInvalid(`station: must be 10 upper-case hex digits, got "${f.station}"`);
  if (!/^[0-9A-F]{4}$/.test(f.password)) throw frameInvalid(`password: must be 4 upper-case hex digits, got "${f.password}"`);
  if (!END_CHARS.has(f.end)) throw frameInvalid(`end: must be ETX, ETB, ENQ, EOT, ACK, NAK or ESC, got ${hexByte(f.end)}`);
  if (f.packet) {
    intIn(f.packet.total, 1, 4095, 'packet.total');
    intIn(f.packet.seq, 1, f.packet.total, 'packet.seq');
  }
}

function hexBytes(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i += 2) out.push(parseInt(s.slice(i, i + 2), 16));
  return out;
}

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

function hexChars(v: number, n: number): string {
  return v.toString(16).toUpperCase().padStart(n, '0');
}

/** Build a frame; the CRC and the length field are computed. Throws FRAME_INVALID naming the bad field. */
export function buildSl651Frame(f: Sl651FrameInit): Uint8Array {
  checkInit(f);
  const up = f.direction === 'up';
  const enc = f.encoding ?? 'hex';
  const out: number[] = [];
  if (enc === 'hex') {
    const L = f.body.length + (f.packet ? 3 : 0);
    if (L > 0xfff) throw frameInvalid(`body: at most 4095 bytes fit in the length field, got ${L}`);
    const station = hexBytes(f.station);
    out.push(Sl651Ctl.SOH_HEX, Sl651Ctl.SOH_HEX);
    if (up) out.push(f.centre, ...station);
    else out.push(...station, f.centre);
    out.push(...hexBytes(f.password), f.functionCode, (up ? 0 : 0x80) | (L >> 8), L & 0xff);
    if (f.packet) {
      const v = (f.packet.total << 12) | f.packet.seq;
      out.push(Sl651Ctl.SYN, v >> 16, (v >> 8) & 0xff, v & 0xff);
    } else out.push(Sl651Ctl.STX);
    out.push(...f.body, f.end);
    const crc = crc16(Uint8Array.from(out));
    out.push(crc >> 8, crc & 0xff);
    return Uint8Array.from(out);
  }
  if (enc !== 'ascii') throw frameInvalid(`encoding: must be "hex" or "ascii", got ${String(enc)}`);
  const L = f.body.length + (f.packet ? 6 : 0);
  if (L > 0xfff) throw frameInvalid(`body: at most 4095 characters fit in the length field, got ${L}`);
  const station = f.station;
  out.push(Sl651Ctl.SOH_ASCII);
  out.push(...ascii(up ? hexChars(f.centre, 2) + station : station + hexChars(f.centre, 2)));
  out.push(...ascii(f.password + hexChars(f.functionCode, 2) + (up ? '0' : '8') + hexChars(L, 3)));
  if (f.packet) out.push(Sl651Ctl.SYN, ...ascii(hexChars(f.packet.total, 3) + hexChars(f.packet.seq, 3)));
  else out.push(Sl651Ctl.STX);
  out.push(...f.body, f.end);
  const crc = crc16(Uint8Array.from(out));
  out.push(...ascii(hexChars(crc, 4)));
  return Uint8Array.from(out);
}

/** Fields of a frame as `buildSl651Frame` takes them (encode(decode(x)) gives x back). */
export function sl651FrameInit(f: Sl651Frame): Sl651FrameInit {
  return {
    encoding: f.encoding,
    direction: f.direction,
    centre: f.centre,
    station: f.station,
    password: f.password,
    functionCode: f.functionCode,
    ...(f.packet ? { packet: f.packet } : {}),
    body: f.body,
    end: f.end,
  };
}
