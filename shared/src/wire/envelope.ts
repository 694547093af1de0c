/**
 * The envelope every wire message starts with, and the batch frame shared by
 * the telemetry and event lanes.
 *
 *   ┌──────┬─────────┬──────┬───────┬─────────┬──────────────────────────────────────────────┐
 *   │ "LL" │ version │ type │ flags │ gateway │ type-specific part                           │
 *   └──────┴─────────┴──────┴───────┴─────────┴──────────────────────────────────────────────┘
 *   batch types (telemetry, events):
 *     firstSeq · span · bodyLength · crc32(body) · payload (= deflate-raw(body) when flags bit 0)
 *
 * The header stays uncompressed so the cloud can route, check the gateway against
 * the topic and name the seq range in a reject without inflating anything.
 * See docs/wire-protocol.md for the byte tables.
 */
import { Inflate, deflateSync } from 'fflate';
import { ErrorCodes, LifelineError, isLifelineError } from '../errors.js';
import { ByteReader, ByteWriter, type TraceRow } from './bytes.js';
import { crc32 } from './crc32.js';

/** First two bytes of every message: ASCII "LL". */
export const WIRE_MAGIC = 0x4c4c;
/** The format version every gateway and cloud reads; written for everything but the series-dictionary additions. */
export const WIRE_VERSION = 1;
/**
 * Version 2 adds the series dictionary (docs/wire-protocol.md §7): the `Dictionary`
 * flag, the Live message type and reject reason UnknownDictionary. A gateway writes
 * version 2 only after the cloud has answered one; a cloud answers a version 2
 * message in version 2 and a version 1 message in version 1, so an old gateway never
 * sees version 2.
 */
export const WIRE_VERSION_DICTIONARY = 2;

/** What a message is; byte 3 of the envelope. */
export enum MessageType {
  /** Gateway → cloud: readings and gap records (telemetry lane). */
  Telemetry = 1,
  /** Gateway → cloud: alarm transitions and events (event lane). */
  Events = 2,
  /** Cloud → gateway: highest contiguous committed seq per lane. */
  Ack = 3,
  /** Cloud → gateway: a batch was refused and will never be committed. */
  Reject = 4,
}

/** The two uplink lanes; each has its own strictly increasing sequence. */
export enum Lane {
  /** Readings and gaps. */
  Telemetry = 1,
  /** Alarm transitions and events. */
  Events = 2,
}

/** Envelope flag bits. */
export const WireFlags = {
  /** The payload is the body compressed with raw DEFLATE (RFC 1951). */
  Deflate: 0x01,
  /**
   * A `uvarint` epoch follows the gateway: the incarnation of the gateway's
   * buffer (a random id made with its database). Seqs restart at 1 in a new
   * epoch; the cloud maps each epoch to its own base. Any message type.
   */
  Epoch: 0x02,
  /** Ack only: the ack names the batch it answers (lane, firstSeq, span) after the lanes. */
  Range: 0x04,
  /**
   * Version 2 only. Telemetry: a `uvarint` dictionary id follows the epoch and the body
   * ends with a dictionary section (the batch defines that series dictionary). Ack: the
   * cloud knows the dictionary whose id ends the message. Reject: the id of the dictionary
   * the cloud does not know ends the message.
   */
  Dictionary: 0x08,
} as const;

/** Largest series dictionary id (ids are 1 … 2^21 − 1: at most 3 bytes). */
export const MAX_DICTIONARY_ID = 2 ** 21 - 1;

/** Hard limits. Encoders refuse to exceed them; decoders reject input that does. */
export const WireLimits = {
  /** UTF-8 bytes in a gateway, device or point name. */
  maxNameBytes: 128,
  /** Uncompressed body bytes of one batch (16 MiB). */
  maxBodyBytes: 16 * 1024 * 1024,
  /** Readings in one telemetry batch. */
  maxReadings: 262_144,
  /** Series (device + point pairs) in one telemetry batch. */
  maxSeries: 65_536,
  /** Gap records in one telemetry batch. */
  maxGaps: 65_536,
  /** Events in one event batch. */
  maxEvents: 65_536,
} as const;

/** Why the cloud refused a batch (carried by a Reject message). */
export enum RejectReason {
  /** The payload failed to decode or violates the format. */
  Malformed = 1,
  /** A version this cloud does not read. */
  UnsupportedVersion = 2,
  /** The gateway inside the batch is not the one the channel authenticated (forged). */
  GatewayMismatch = 3,
  /** The body's CRC-32 does not match (corrupted). */
  ChecksumMismatch = 4,
  /** Over a size or count limit. */
  TooLarge = 5,
  /** This seq range was already committed with different content. */
  SeqConflict = 6,
  /** The batch comes from an older buffer epoch than the one the cloud now follows. */
  StaleEpoch = 7,
  /**
   * Version 2 only: a Live frame names a series dictionary the cloud does not know (never
   * defined, or forgotten in a restart). Not a fault: the gateway sends the readings again
   * with their names (a batch defining the dictionary anew).
   */
  UnknownDictionary = 8,
}

/** The reason a decode failure maps to, read from the error's details (Malformed if none). */
export function rejectReasonFor(error: unknown): RejectReason {
  const d = (error as { details?: { rejectReason?: unknown } } | null)?.details;
  const r = d?.rejectReason;
  return typeof r === 'number' && r in RejectReason ? (r as RejectReason) : RejectReason.Malformed;
}

function invalid(message: string, rejectReason: RejectReason): LifelineError {
  return new LifelineError(ErrorCodes.PayloadInvalid, message, { details: { rejectReason } });
}

/** The part of a message before its type-specific fields. */
export interface EnvelopeStart {
  /** Format version (1, or 2 for the series-dictionary additions). */
  version: number;
  type: MessageType;
  /** Flag bits (see `WireFlags`). */
  flags: number;
  /** Gateway id: the sender of an uplink, the addressee of a downlink. */
  gateway: string;
  /** Buffer epoch (flag `Epoch`); absent in messages without it. */
  epoch?: number;
}

/** The uncompressed header of a telemetry or event batch. */
export interface BatchHeader extends EnvelopeStart {
  /** Sequence number of the first item the batch covers (≥ 1). */
  firstSeq: number;
  /** Sequence number of the last item (firstSeq − 1 for an empty range). */
  lastSeq: number;
  /** Length of the body once inflated. */
  bodyLength: number;
  /** CRC-32 of the uncompressed body. */
  crc: number;
  /** Version 2, flag `Dictionary`: the id of the series dictionary this batch defines. */
  dictionary?: number;
}

/** Writes magic, version, type, flags and gateway, then the epoch if one is given (setting its flag). */
export function writeEnvelopeStart(w: ByteWriter, type: MessageType, flags: number, gateway: string, epoch?: number, version = WIRE_VERSION): void {
  if (epoch !== undefined && (!Number.isSafeInteger(epoch) || epoch < 1)) {
    throw new LifelineError(ErrorCodes.PayloadInvalid, `encode: epoch: must be a safe integer ≥ 1, got ${String(epoch)}`);
  }
  w.byte(0x4c);
  w.byte(0x4c);
  w.byte(version);
  w.byte(type);
  w.byte(epoch !== undefined ? flags | WireFlags.Epoch : flags);
  w.string(gateway);
  if (epoch !== undefined) w.uvarint(epoch);
}

/** Flag bits each message type may carry, per version (0: the type does not exist in that version). */
const allowedFlags: Record<number, Record<MessageType, number>> = {
  1: {
    [MessageType.Telemetry]: WireFlags.Deflate | WireFlags.Epoch,
    [MessageType.Events]: WireFlags.Deflate | WireFlags.Epoch,
    [MessageType.Ack]: WireFlags.Epoch | WireFlags.Range,
    [MessageType.Reject]: WireFlags.Epoch,
  },
  2: {
    [MessageType.Telemetry]: WireFlags.Deflate | WireFlags.Epoch | WireFlags.Dictionary,
    [MessageType.Events]: WireFlags.Deflate | WireFlags.Epoch,
    [MessageType.Ack]: WireFlags.Epoch | WireFlags.Range | WireFlags.Dictionary,
    [MessageType.Reject]: WireFlags.Epoch | WireFlags.Dictionary,
  },
};

/** Reads magic, version, type, flags and gateway; rejects anything this decoder cannot read. */
export function readEnvelopeStart(r: ByteReader): EnvelopeStart {
  if (r.remaining() < 5) r.fail('envelope', `truncated: ${r.remaining()} bytes, a message has at least 6`);
  const m0 = r.byte('magic[0]');
  const m1 = r.byte('magic[1]');
  if (m0 !== 0x4c || m1 !== 0x4c) r.fail('magic', `expected 0x4c4c ("LL"), got 0x${hex2(m0)}${hex2(m1)}`, 0);
  const version = r.byte('version');
  if (version !== WIRE_VERSION && version !== WIRE_VERSION_DICTIONARY) {
    throw invalid(`${r.what}: version: unsupported version ${version} (this decoder reads ${WIRE_VERSION} and ${WIRE_VERSION_DICTIONARY}) (at byte 2)`, RejectReason.UnsupportedVersion);
  }
  const type = r.byte('type');
  if (!(type in MessageType)) r.fail('type', `unknown message type ${type}`, 3);
  const flags = r.byte('flags');
  const allowed = allowedFlags[version][type as MessageType];
  if (flags & ~allowed) r.fail('flags', `unknown flag bits 0x${hex2(flags & ~allowed)}`, 4);
  const gateway = r.string('gateway', WireLimits.maxNameBytes);
  if (!(flags & WireFlags.Epoch)) return { version, type, flags, gateway };
  const at = r.pos;
  const epoch = r.uvarint('epoch');
  if (epoch < 1) r.fail('epoch', 'must be at least 1, got 0', at);
  return { version, type, flags, gateway, epoch };
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** Options for encoding a batch. */
export interface BatchEncodeOptions {
  /**
   * `auto` (default): deflate, but send the body as is if deflate does not make it smaller.
   * `always` / `never` force the choice (tests, the doc example).
   */
  compress?: 'auto' | 'always' | 'never';
  /** DEFLATE level 1..9 (default 6). */
  level?: number;
}

/** Frames a batch body: header fields, CRC-32, then the (possibly deflated) body. */
export function frameBatch(
  type: MessageType.Telemetry | MessageType.Events,
  gateway: string,
  firstSeq: number,
  lastSeq: number,
  body: Uint8Array,
  options: BatchEncodeOptions = {},
  epoch?: number,
  dictionary?: number,
): Uint8Array {
  if (body.length > WireLimits.maxBodyBytes) {
    throw new LifelineError(ErrorCodes.PayloadInvalid, `encode: body of ${body.length} bytes exceeds the limit ${WireLimits.maxBodyBytes}; send smaller batches`);
  }
  const mode = options.compress ?? 'auto';
  let payload = body;
  let flags = 0;
  if (mode !== 'never') {
    const level = (options.level ?? 6) as 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
    const deflated = deflateSync(body, { level });
    if (mode === 'always' || deflated.length < body.length) {
      payload = deflated;
      flags |= WireFlags.Deflate;
    }
  }
  if (dictionary !== undefined && (!Number.isInteger(dictionary) || dictionary < 1 || dictionary > MAX_DICTIONARY_ID)) {
    throw new LifelineError(ErrorCodes.PayloadInvalid, `encode: dictionary: must be an integer 1..${MAX_DICTIONARY_ID}, got ${String(dictionary)}`);
  }
  const w = new ByteWriter(payload.length + 64);
  if (dictionary === undefined) writeEnvelopeStart(w, type, flags, gateway, epoch);
  else writeEnvelopeStart(w, type, flags | WireFlags.Dictionary, gateway, epoch, WIRE_VERSION_DICTIONARY);
  w.uvarint(firstSeq);
  w.uvarint(lastSeq - firstSeq + 1);
  w.uvarint(body.length);
  w.u32(crc32(body));
  if (dictionary !== undefined) w.uvarint(dictionary);
  w.bytes(payload);
  return w.finish();
}

/** Reads the header of a telemetry or event batch (not its payload). */
export function readBatchHeader(r: ByteReader): BatchHeader {
  const start = readEnvelopeStart(r);
  if (start.type !== MessageType.Telemetry && start.type !== MessageType.Events) {
    r.fail('type', `${MessageType[start.type]} (${start.type}) is not a batch`, 3);
  }
  const firstSeq = r.uvarint('firstSeq');
  if (firstSeq < 1) r.fail('firstSeq', 'must be at least 1, got 0');
  const spanAt = r.pos;
  const span = r.uvarint('span');
  const lastSeq = firstSeq + span - 1;
  if (!Number.isSafeInteger(lastSeq)) r.fail('span', `firstSeq ${firstSeq} + span ${span} passes 2^53-1`, spanAt);
  const lengthAt = r.pos;
  const bodyLength = r.uvarint('bodyLength');
  if (bodyLength > WireLimits.maxBodyBytes) {
    throw invalid(`${r.what}: bodyLength: ${bodyLength} exceeds the limit ${WireLimits.maxBodyBytes} (at byte ${lengthAt})`, RejectReason.TooLarge);
  }
  const crc = r.u32('crc32');
  if (!(start.flags & WireFlags.Dictionary)) return { ...start, firstSeq, lastSeq, bodyLength, crc };
  const at = r.pos;
  const dictionary = r.uvarint('dictionary', MAX_DICTIONARY_ID);
  if (dictionary < 1) r.fail('dictionary', 'must be at least 1, got 0', at);
  return { ...start, firstSeq, lastSeq, bodyLength, crc, dictionary };
}

/**
 * Decodes only the envelope and, for batches, the seq range: enough to route a
 * message, compare its gateway with the topic and name the range in a Reject,
 * even when the body is broken. Throws PAYLOAD_INVALID if the header itself is.
 */
export function peekHeader(bytes: Uint8Array): EnvelopeStart & { firstSeq?: number; lastSeq?: number; dictionary?: number } {
  const r = new ByteReader(asBytes(bytes), 'header');
  const start = readEnvelopeStart(r);
  if (start.type !== MessageType.Telemetry && start.type !== MessageType.Events) return start;
  const r2 = new ByteReader(asBytes(bytes), 'header');
  const h = readBatchHeader(r2);
  const dictionary = h.dictionary;
  return {
    version: h.version,
    type: h.type,
    flags: h.flags,
    gateway: h.gateway,
    ...(h.epoch !== undefined ? { epoch: h.epoch } : {}),
    firstSeq: h.firstSeq,
    lastSeq: h.lastSeq,
    ...(dictionary !== undefined ? { dictionary } : {}),
  };
}

/** Rejects anything that is not a Uint8Array up front (a decoder must answer, never crash). */
export function asBytes(bytes: unknown): Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new LifelineError(ErrorCodes.PayloadInvalid, `payload: expected a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  return bytes;
}

/** Compressed bytes pushed per inflate step: bounds the work a forged stream can cause past the declared length. */
const INFLATE_CHUNK = 4096;

/** Inflates at most `expected` bytes; a stream that produces more or fewer is rejected. */
function inflateBounded(payload: Uint8Array, expected: number, what: string, at: number): Uint8Array {
  const out = new Uint8Array(expected);
  let produced = 0;
  let over = false;
  const inflater = new Inflate((chunk: Uint8Array) => {
    if (over) return;
    if (produced + chunk.length > expected) {
      over = true;
      return;
    }
    out.set(chunk, produced);
    produced += chunk.length;
  });
  try {
    if (payload.length === 0) inflater.push(payload, true);
    for (let i = 0; i < payload.length && !over; i += INFLATE_CHUNK) {
      const end = Math.min(payload.length, i + INFLATE_CHUNK);
      inflater.push(payload.subarray(i, end), end === payload.length);
    }
  } catch (e) {
    throw new LifelineError(ErrorCodes.PayloadInvalid, `${what}: payload: DEFLATE stream invalid (${(e as Error).message}) (at byte ${at})`, { cause: e });
  }
  if (over) throw new LifelineError(ErrorCodes.PayloadInvalid, `${what}: payload: inflates to more than the declared bodyLength ${expected} (at byte ${at})`);
  if (produced !== expected) {
    throw new LifelineError(ErrorCodes.PayloadInvalid, `${what}: payload: inflates to ${produced} bytes, bodyLength says ${expected} (at byte ${at})`);
  }
  return out;
}

/** A batch's header and its verified, uncompressed body. */
export interface OpenedBatch {
  header: BatchHeader;
  body: Uint8Array;
  /** Offset of the payload in the message (for the annotated dump). */
  payloadOffset: number;
}

/** Reads the header, inflates the payload if flagged, and checks length and CRC-32. */
export function openBatch(bytes: Uint8Array, expected: MessageType, what: string, trace?: TraceRow[]): OpenedBatch {
  const r = new ByteReader(asBytes(bytes), what, trace);
  const header = readBatchHeader(r);
  if (header.type !== expected) r.fail('type', `expected ${MessageType[expected]} (${expected}), got ${MessageType[header.type]} (${header.type})`, 3);
  const payloadOffset = r.pos;
  const payload = bytes.subarray(r.pos);
  let body: Uint8Array;
  if (header.flags & WireFlags.Deflate) {
    body = inflateBounded(payload, header.bodyLength, what, payloadOffset);
  } else {
    if (payload.length !== header.bodyLength) {
      r.fail('payload', `${payload.length} bytes, bodyLength says ${header.bodyLength}`);
    }
    body = payload;
  }
  const crc = crc32(body);
  if (crc !== header.crc) {
    throw invalid(`${what}: crc32: body checksum 0x${crc.toString(16).padStart(8, '0')} does not match the header's 0x${header.crc.toString(16).padStart(8, '0')}`, RejectReason.ChecksumMismatch);
  }
  return { header, body, payloadOffset };
}

/** Runs `fn`, turning any stray exception into PAYLOAD_INVALID (a decoder answers, never crashes). */
export function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isLifelineError(e, ErrorCodes.PayloadInvalid)) throw e;
    throw new LifelineError(ErrorCodes.PayloadInvalid, `${what}: undecodable (${(e as Error)?.message ?? String(e)})`, { cause: e });
  }
}
