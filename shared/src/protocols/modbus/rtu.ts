/**
 * Modbus RTU framing: unit id + PDU + CRC-16 (low byte first). Also used
 * unchanged for RTU-over-TCP (serial servers, 4G DTUs).
 *
 *   request  [unit][fc][data...][crcLo][crcHi]
 *   serial reads arrive split ──▶ rtuResponseLength(head) says when the reply is complete
 *
 * Timing per the Modbus over Serial Line spec V1.02 §2.5.1.1: frames are
 * separated by 3.5 character times of silence, fixed at 1.75 ms above 19200 baud.
 */
import { crc16, storedCrc, writeCrc } from './crc.js';
import { deviceIdResponseLength } from './device-id.js';
import { frameInvalid, hexByte } from '../bytes.js';
import {
  type ModbusReply,
  type ModbusRequest,
  type ModbusRequestFrame,
  type ModbusResponse,
  describeFunction,
  expectedResponsePduLength,
  parseRequestPdu,
  parseResponsePdu,
  replyPduLength,
  requestPduLength,
  writeExceptionPdu,
  writeRequestPdu,
  writeResponsePdu,
} from './pdu.js';

/** Largest RTU frame: 1 unit + 253 PDU + 2 CRC. */
export const RTU_MAX_FRAME = 256;

function checkUnit(unitId: number): void {
  if (!Number.isInteger(unitId) || unitId < 0 || unitId > 255) {
    throw frameInvalid(`unitId: must be an integer 0..255 (0 = broadcast, 1..247 slaves), got ${unitId}`);
  }
}

/** Write an RTU request at out[o]; returns the end offset. */
export function encodeRtuRequest(out: Uint8Array, o: number, unitId: number, req: ModbusRequest): number {
  checkUnit(unitId);
  out[o] = unitId;
  const end = writeRequestPdu(out, o + 1, req);
  return writeCrc(out, o, end);
}

/** A complete RTU request frame. */
export function buildRtuRequest(unitId: number, req: ModbusRequest): Uint8Array {
  const out = new Uint8Array(3 + requestPduLength(req));
  encodeRtuRequest(out, 0, unitId, req);
  return out;
}

/** Total length of the normal (non-exception) RTU reply to `req`. */
export function expectedRtuResponseLength(req: ModbusRequest): number {
  return 3 + expectedResponsePduLength(req);
}

/** Length of an exception reply: unit, fc|0x80, code, CRC. */
export const RTU_EXCEPTION_LENGTH = 5;

/**
 * Total length of the RTU reply whose first `length` bytes are in `buf`, so a
 * serial link knows when a split read is complete:
 * - a positive number: the whole frame's length (it may be more than `length`);
 * - `0`: not enough bytes yet to tell (needs 2 bytes, 3 for FC1–4);
 * - `-1`: unknown function code; delimit the frame by the 3.5-character silence.
 */
export function rtuResponseLength(buf: Uint8Array, length = buf.length): number {
  if (length < 2) return 0;
  const fc = buf[1];
  if (fc & 0x80) return RTU_EXCEPTION_LENGTH;
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4:
      return length < 3 ? 0 : 5 + buf[2];
    case 5:
    case 6:
    case 15:
    case 16:
      return 8;
    case 43: {
      // Unit, then the PDU (its objects carry their own lengths), then the CRC.
      const pdu = deviceIdResponseLength(buf, 1, length - 1);
      return pdu <= 0 ? pdu : 1 + pdu + 2;
    }
    default:
      return -1;
  }
}

/**
 * Total length of the RTU request whose first `length` bytes are in `buf`
 * (server side, same contract as {@link rtuResponseLength}).
 */
export function rtuRequestLength(buf: Uint8Array, length = buf.length): number {
  if (length < 2) return 0;
  switch (buf[1]) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
      return 8;
    case 15:
    case 16:
      return length < 7 ? 0 : 9 + buf[6];
    case 43:
      return 7;
    default:
      return -1;
  }
}

/** Throw FRAME_INVALID (expected vs found, with wire bytes) unless the last two bytes of frame[0, end) are its CRC. */
export function checkRtuCrc(frame: Uint8Array, end = frame.length): void {
  const want = crc16(frame, 0, end - 2);
  const found = storedCrc(frame, end);
  if (want !== found) {
    throw frameInvalid(
      `crc: expected 0x${hex16(want)} (bytes ${hex16le(want)}), found 0x${hex16(found)} (bytes ${hex16le(found)})`,
      { expected: want, found },
    );
  }
}

/**
 * Parse an RTU response frame. With `expect`, checks it answers that request
 * from that unit. Exception replies throw DEVICE_EXCEPTION; anything malformed
 * (length, CRC, byte count, echo) throws FRAME_INVALID.
 */
export function parseRtuResponse(
  frame: Uint8Array,
  expect?: { unitId?: number; request?: ModbusRequest },
): ModbusResponse {
  const n = frame.length;
  if (n < 4) throw frameInvalid(`length: an RTU frame needs at least 4 bytes (unit, function, CRC), got ${n}`);
  const want = rtuResponseLength(frame, n);
  if (want > 0 && want !== n) {
    throw frameInvalid(`length: ${describeFunction(frame[1] & 0x7f)}${frame[1] & 0x80 ? ' exception' : ''} reply must be ${want} bytes, got ${n}`);
  }
  checkRtuCrc(frame, n);
  const unitId = frame[0];
  if (expect?.unitId !== undefined && unitId !== expect.unitId) {
    throw frameInvalid(`unit: expected ${expect.unitId}, found ${unitId}`);
  }
  return parseResponsePdu(frame, 1, n - 2, unitId, undefined, expect?.request);
}

/**
 * Parse an RTU request frame (server side). A bad CRC or a frame too short to
 * hold one throws FRAME_INVALID (a slave stays silent then); a request to
 * refuse comes back as kind 'exception' with the code to answer.
 */
export function parseRtuRequest(frame: Uint8Array): ModbusRequestFrame {
  const n = frame.length;
  if (n < 4) throw frameInvalid(`length: an RTU frame needs at least 4 bytes (unit, function, CRC), got ${n}`);
  checkRtuCrc(frame, n);
  return parseRequestPdu(frame, 1, n - 2, frame[0], undefined);
}

/** Write an RTU response at out[o]; returns the end offset. */
export function encodeRtuResponse(out: Uint8Array, o: number, unitId: number, reply: ModbusReply): number {
  checkUnit(unitId);
  out[o] = unitId;
  const end = writeResponsePdu(out, o + 1, reply);
  return writeCrc(out, o, end);
}

/** A complete RTU response frame. */
export function buildRtuResponse(unitId: number, reply: ModbusReply): Uint8Array {
  const out = new Uint8Array(3 + replyPduLength(reply));
  encodeRtuResponse(out, 0, unitId, reply);
  return out;
}

/** A complete RTU exception response frame (5 bytes). */
export function buildRtuException(unitId: number, functionCode: number, exceptionCode: number): Uint8Array {
  checkUnit(unitId);
  const out = new Uint8Array(RTU_EXCEPTION_LENGTH);
  out[0] = unitId;
  writeExceptionPdu(out, 1, functionCode, exceptionCode);
  writeCrc(out, 0, 3);
  return out;
}

/** Character and silence times of a serial line. */
export interface RtuTiming {
  /** Bits per character: start + data + parity + stop. */
  bitsPerChar: number;
  /** Time to send one character, ms. */
  charMs: number;
  /** Longest gap allowed inside a frame (1.5 characters; 0.75 ms above 19200 baud), ms. */
  interCharMs: number;
  /** Silence that ends a frame (3.5 characters; 1.75 ms above 19200 baud), ms. */
  silenceMs: number;
}

/**
 * Character time and the 3.5-character inter-frame silence for a serial
 * setting. Above 19200 baud the spec fixes 1.75 ms (and 0.75 ms inter-character)
 * because the character-based values would be too short for UART drivers.
 */
export function rtuTiming(
  baud: number,
  dataBits: 7 | 8 = 8,
  parity: 'none' | 'even' | 'odd' = 'even',
  stopBits: 1 | 2 = 1,
): RtuTiming {
  if (!Number.isFinite(baud) || baud <= 0) throw frameInvalid(`baud: must be a positive number, got ${baud}`);
  if (dataBits !== 7 && dataBits !== 8) throw frameInvalid(`dataBits: must be 7 or 8, got ${String(dataBits)}`);
  if (parity !== 'none' && parity !== 'even' && parity !== 'odd') {
    throw frameInvalid(`parity: must be none, even or odd, got ${String(parity)}`);
  }
  if (stopBits !== 1 && stopBits !== 2) throw frameInvalid(`stopBits: must be 1 or 2, got ${String(stopBits)}`);
  const bitsPerChar = 1 + dataBits + (parity === 'none' ? 0 : 1) + stopBits;
  const charMs = (bitsPerChar * 1000) / baud;
  const fast = baud > 19200;
  return {
    bitsPerChar,
    charMs,
    interCharMs: fast ? 0.75 : 1.5 * charMs,
    silenceMs: fast ? 1.75 : 3.5 * charMs,
  };
}

function hex16(v: number): string {
  return v.toString(16).toUpperCase().padStart(4, '0');
}

function hex16le(v: number): string {
  return `${hexByte(v & 0xff).slice(2)} ${hexByte(v >> 8).slice(2)}`;
}
