/**
 * Modbus TCP framing: MBAP header + PDU.
 *
 *   [txId hi][txId lo][0][0][len hi][len lo][unit][fc][data...]     len = 1 + PDU length
 *
 *   socket chunks ──▶ MbapFrameExtractor.push ──▶ onFrame(buf, start, end, txId) ──▶ parseTcpResponse
 *                      (complete frames are passed as ranges of the chunk: no copy;
 *                       only a frame split across chunks is copied, once)
 *
 * A TCP link may pipeline requests: replies are matched to requests by transaction id.
 */
import { frameInvalid } from '../bytes.js';
import {
  type ModbusReply,
  type ModbusRequest,
  type ModbusRequestFrame,
  type ModbusResponse,
  parseRequestPdu,
  parseResponsePdu,
  replyPduLength,
  requestPduLength,
  writeExceptionPdu,
  writeRequestPdu,
  writeResponsePdu,
} from './pdu.js';

/** MBAP header length including the unit id. */
export const MBAP_LENGTH = 7;
/** Largest Modbus TCP ADU: 7 header + 253 PDU. */
export const TCP_MAX_FRAME = 260;
/** Largest value of the MBAP length field (unit id + 253-byte PDU). */
const MAX_LENGTH_FIELD = 254;

function checkHeader(txId: number, unitId: number): void {
  if (!Number.isInteger(txId) || txId < 0 || txId > 0xffff) {
    throw frameInvalid(`transactionId: must be an integer 0..65535, got ${txId}`);
  }
  if (!Number.isInteger(unitId) || unitId < 0 || unitId > 255) {
    throw frameInvalid(`unitId: must be an integer 0..255, got ${unitId}`);
  }
}

function writeMbap(out: Uint8Array, o: number, txId: number, unitId: number, pduLength: number): void {
  out[o] = txId >> 8;
  out[o + 1] = txId & 0xff;
  out[o + 2] = 0;
  out[o + 3] = 0;
  out[o + 4] = (pduLength + 1) >> 8;
  out[o + 5] = (pduLength + 1) & 0xff;
  out[o + 6] = unitId;
}

/** Write a TCP request at out[o] (e.g. many into one socket write); returns the end offset. */
export function encodeTcpRequest(
  out: Uint8Array,
  o: number,
  transactionId: number,
  unitId: number,
  req: ModbusRequest,
): number {
  checkHeader(transactionId, unitId);
  const end = writeRequestPdu(out, o + MBAP_LENGTH, req);
  writeMbap(out, o, transactionId, unitId, end - o - MBAP_LENGTH);
  return end;
}

/** A complete TCP request frame. */
export function buildTcpRequest(transactionId: number, unitId: number, req: ModbusRequest): Uint8Array {
  const out = new Uint8Array(MBAP_LENGTH + requestPduLength(req));
  encodeTcpRequest(out, 0, transactionId, unitId, req);
  return out;
}

/** Transaction id of the frame at buf[start]. */
export function tcpTransactionId(buf: Uint8Array, start = 0): number {
  return (buf[start] << 8) | buf[start + 1];
}

/**
 * Length of the TCP frame starting at buf[start] given `available` bytes:
 * `0` when fewer than 6 bytes are there. Throws FRAME_INVALID when the header
 * cannot be Modbus (protocol id not 0, length field outside 2..254): the stream
 * is out of step and the connection should be reset.
 */
export function tcpFrameLength(buf: Uint8Array, start = 0, available = buf.length - start): number {
  if (available < 6) return 0;
  const protocol = (buf[start + 2] << 8) | buf[start + 3];
  if (protocol !== 0) throw frameInvalid(`MBAP protocol id: expected 0, found ${protocol}`);
  const len = (buf[start + 4] << 8) | buf[start + 5];
  if (len < 2 || len > MAX_LENGTH_FIELD) throw frameInvalid(`MBAP length: must be 2..254, got ${len}`);
  return 6 + len;
}

function checkFrame(buf: Uint8Array, start: number, end: number): void {
  const n = end - start;
  if (n < 8) throw frameInvalid(`length: a Modbus TCP frame needs at least 8 bytes (MBAP header, function), got ${n}`);
  const want = tcpFrameLength(buf, start, n);
  if (want !== n) throw frameInvalid(`MBAP length: field says ${want - 6} bytes follow it, but ${n - 6} do`);
}

/**
 * Parse one TCP response frame in buf[start, end) (as handed out by
 * {@link MbapFrameExtractor}). With `expect`, checks transaction id, unit id
 * and that it answers `request`. Exception replies throw DEVICE_EXCEPTION;
 * malformed frames throw FRAME_INVALID.
 */
export function parseTcpResponse(
  buf: Uint8Array,
  expect?: { transactionId?: number; unitId?: number; request?: ModbusRequest },
  start = 0,
  end = buf.length,
): ModbusResponse {
  checkFrame(buf, start, end);
  const txId = (buf[start] << 8) | buf[start + 1];
  const unitId = buf[start + 6];
  if (expect !== undefined) {
    if (expect.transactionId !== undefined && txId !== expect.transactionId) {
      throw frameInvalid(`transaction id: expected ${expect.transactionId}, found ${txId}`);
    }
    if (expect.unitId !== undefined && unitId !== expect.unitId) {
      throw frameInvalid(`unit: expected ${expect.unitId}, found ${unitId}`);
    }
  }
  return parseResponsePdu(buf, start + MBAP_LENGTH, end, unitId, txId, expect?.request);
}

/**
 * Parse one TCP request frame (server side). A malformed MBAP header throws
 * FRAME_INVALID; a request to refuse comes back as kind 'exception'.
 */
export function parseTcpRequest(buf: Uint8Array, start = 0, end = buf.length): ModbusRequestFrame {
  checkFrame(buf, start, end);
  return parseRequestPdu(buf, start + MBAP_LENGTH, end, buf[start + 6], (buf[start] << 8) | buf[start + 1]);
}

/** Write a TCP response at out[o]; returns the end offset. */
export function encodeTcpResponse(
  out: Uint8Array,
  o: number,
  transactionId: number,
  unitId: number,
  reply: ModbusReply,
): number {
  checkHeader(transactionId, unitId);
  const end = writeResponsePdu(out, o + MBAP_LENGTH, reply);
  writeMbap(out, o, transactionId, unitId, end - o - MBAP_LENGTH);
  return end;
}

/** A complete TCP response frame. */
export function buildTcpResponse(transactionId: number, unitId: number, reply: ModbusReply): Uint8Array {
  const out = new Uint8Array(MBAP_LENGTH + replyPduLength(reply));
  encodeTcpResponse(out, 0, transactionId, unitId, reply);
  return out;
}

/** Write a TCP exception response at out[o]; returns the end offset (o + 9). */
export function encodeTcpException(
  out: Uint8Array,
  o: number,
  transactionId: number,
  unitId: number,
  functionCode: number,
  exceptionCode: number,
): number {
  checkHeader(transactionId, unitId);
  writeMbap(out, o, transactionId, unitId, 2);
  return writeExceptionPdu(out, o + MBAP_LENGTH, functionCode, exceptionCode);
}

/** A complete TCP exception response frame (9 bytes). */
export function buildTcpException(
  transactionId: number,
  unitId: number,
  functionCode: number,
  exceptionCode: number,
): Uint8Array {
  const out = new Uint8Array(MBAP_LENGTH + 2);
  encodeTcpException(out, 0, transactionId, unitId, functionCode, exceptionCode);
  return out;
}

/**
 * Receives one complete frame. `buf[start, end)` is the frame; the range stays
 * valid as long as the caller keeps `buf` (socket chunks are never reused by
 * the extractor, and a frame assembled from pieces gets its own array). The
 * handler must not throw: the rest of the chunk would be dropped.
 */
export type MbapFrameHandler = (buf: Uint8Array, start: number, end: number, transactionId: number) => void;

/**
 * Cuts a TCP byte stream into complete MBAP frames. Frames wholly inside a
 * chunk are handed out as ranges of that chunk (zero copies, zero allocations);
 * a frame split across chunks is copied once into an array of its exact size.
 *
 * A header that cannot be Modbus makes {@link push} throw FRAME_INVALID and
 * clears the buffered state: the stream is out of step, reset the connection.
 */
export class MbapFrameExtractor {
  /** Header bytes of a frame whose length is not known yet (fewer than 6 received). */
  private readonly head = new Uint8Array(6);
  private headLength = 0;
  /** A frame being assembled across chunks (length known), or null. */
  private frame: Uint8Array | null = null;
  private filled = 0;

  /** Bytes held back waiting for the rest of a frame. */
  get pending(): number {
    return this.frame !== null ? this.filled : this.headLength;
  }

  /** Drop any partial frame (after a reconnect). */
  reset(): void {
    this.headLength = 0;
    this.frame = null;
    this.filled = 0;
  }

  /** Feed one chunk; calls `onFrame` for every frame it completes, in order. */
  push(chunk: Uint8Array, onFrame: MbapFrameHandler): void {
    const n = chunk.length;
    let i = 0;
    if (this.headLength > 0 || this.frame !== null) {
      i = this.continuePartial(chunk, onFrame);
      if (i < 0) return;
    }
    while (n - i >= 6) {
      let size: number;
      try {
        size = tcpFrameLength(chunk, i, n - i);
      } catch (e) {
        this.reset();
        throw e;
      }
      const end = i + size;
      if (end > n) break;
      onFrame(chunk, i, end, (chunk[i] << 8) | chunk[i + 1]);
      i = end;
    }
    if (i < n) this.stash(chunk, i);
  }

  /** Complete the partial frame from `chunk`; returns where the chunk continues, or -1 if it was used up. */
  private continuePartial(chunk: Uint8Array, onFrame: MbapFrameHandler): number {
    const n = chunk.length;
    let i = 0;
    if (this.frame === null) {
      const take = Math.min(6 - this.headLength, n);
      for (let k = 0; k < take; k++) this.head[this.headLength + k] = chunk[k];
      this.headLength += take;
      i = take;
      if (this.headLength < 6) return -1;
      let size: number;
      try {
        size = tcpFrameLength(this.head, 0, 6);
      } catch (e) {
        this.reset();
        throw e;
      }
      this.frame = new Uint8Array(size);
      this.frame.set(this.head);
      this.filled = 6;
      this.headLength = 0;
    }
    const frame = this.frame;
    const take = Math.min(frame.length - this.filled, n - i);
    frame.set(chunk.subarray(i, i + take), this.filled);
    this.filled += take;
    i += take;
    if (this.filled < frame.length) return -1;
    this.frame = null;
    this.filled = 0;
    onFrame(frame, 0, frame.length, (frame[0] << 8) | frame[1]);
    return i;
  }

  private stash(chunk: Uint8Array, i: number): void {
    const rest = chunk.length - i;
    if (rest < 6) {
      for (let k = 0; k < rest; k++) this.head[k] = chunk[i + k];
      this.headLength = rest;
      return;
    }
    // The header is complete (validated by the loop), so the frame's size is known.
    const size = tcpFrameLength(chunk, i, rest);
    this.frame = new Uint8Array(size);
    this.frame.set(chunk.subarray(i));
    this.filled = rest;
  }
}

/** Split a buffer of concatenated frames into copies of each frame (tests, the decode command). */
export function splitTcpFrames(bytes: Uint8Array): { frames: Uint8Array[]; trailing: number } {
  const frames: Uint8Array[] = [];
  const x = new MbapFrameExtractor();
  x.push(bytes, (buf, start, end) => frames.push(buf.slice(start, end)));
  return { frames, trailing: x.pending };
}
