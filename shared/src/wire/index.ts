/**
 * The uplink wire format (docs/wire-protocol.md): telemetry batches, the event
 * lane, acks and rejects, all in one versioned envelope.
 *
 *   edge sync ── encodeTelemetryBatch / encodeEventBatch ──▶ MQTT ──▶ decodeUplink ── cloud ingest
 *   edge sync ◀── decodeDownlink ◀── MQTT ◀── encodeAck / encodeReject ──────────── cloud ingest
 */
import { ErrorCodes, LifelineError } from '../errors.js';
import { asBytes, guard, MessageType, peekHeader, RejectReason } from './envelope.js';
import { decodeAck, decodeReject, type Ack, type Reject } from './control.js';
import { decodeEventBatch, type EventBatch } from './events.js';
import { decodeTelemetryBatch, decodeTelemetryColumns, type DecodedTelemetryBatch, type DecodedTelemetryColumns } from './telemetry.js';

export {
  WIRE_MAGIC,
  WIRE_VERSION,
  WIRE_VERSION_DICTIONARY,
  MAX_DICTIONARY_ID,
  MessageType,
  Lane,
  WireFlags,
  WireLimits,
  RejectReason,
  rejectReasonFor,
  peekHeader,
  type EnvelopeStart,
  type BatchHeader,
  type BatchEncodeOptions,
} from './envelope.js';
export {
  encodeTelemetryBatch,
  decodeTelemetryBatch,
  decodeTelemetryColumns,
  readingsOf,
  traceTelemetryBatch,
  type TelemetryBatch,
  type DecodedTelemetryBatch,
  type DecodedTelemetryColumns,
  type SeriesColumns,
  type GapRecord,
  type GapMinute,
} from './telemetry.js';
export {
  encodeEventBatch,
  decodeEventBatch,
  alarmStates,
  EventBodySchema,
  type AlarmState,
  type AlarmTransition,
  type GatewayEvent,
  type LaneEvent,
  type EventBatch,
} from './events.js';
export { encodeAck, decodeAck, encodeReject, decodeReject, type Ack, type Reject } from './control.js';
export { crc32 } from './crc32.js';
export {
  CommandSchema,
  CommandAnswerSchema,
  ConfigCommandSchema,
  AlarmAckCommandSchema,
  AlarmShelveCommandSchema,
  PointWriteCommandSchema,
  commandTypes,
  commandStatuses,
  type Command,
  type CommandRequest,
  type CommandAnswer,
  type CommandStatus,
} from './commands.js';
export { TimeMode, ValueMode } from './columns.js';
export {
  encodeLive,
  decodeLive,
  peekLiveDictionary,
  LIVE_ORDER,
  codecFor,
  unknownDictionary,
  LiveLimits,
  type SeriesDictionary,
  type DictionarySeries,
  type SeriesCodec,
  type LiveBatch,
  type DecodedLive,
} from './live.js';
export type { TraceRow } from './bytes.js';
// Cold-storage blocks (cloud store, issue #19).
export { BLOCK_VERSION, FRAME_READINGS, encodeBlock, blockFrames, decodeFrame, decodeBlock, firstAtOrAfter, type BlockColumns, type FrameInfo } from './block.js';

/** A decoded gateway → cloud message. */
export type Uplink = { type: MessageType.Telemetry; batch: DecodedTelemetryBatch } | { type: MessageType.Events; batch: EventBatch };

/** A decoded gateway → cloud message, a telemetry batch as columns per series (`decodeUplink(bytes, { columns: true })`). */
export type UplinkColumns = { type: MessageType.Telemetry; batch: DecodedTelemetryColumns } | { type: MessageType.Events; batch: EventBatch };

/** A decoded cloud → gateway message. */
export type Downlink = { type: MessageType.Ack; ack: Ack } | { type: MessageType.Reject; reject: Reject };

/** Options for `decodeUplink`. */
export interface DecodeUplinkOptions {
  /**
   * The gateway the channel authenticated (e.g. from the topic or the client
   * certificate). A message naming another gateway is forged: PAYLOAD_INVALID
   * with reject reason GatewayMismatch.
   */
  gateway?: string;
  /** A telemetry batch as columns per series, without an object per reading (the cloud's ingest). */
  columns?: boolean;
}

/** Decodes any gateway → cloud message; anything else or anything malformed throws PAYLOAD_INVALID. */
export function decodeUplink(bytes: Uint8Array, options: DecodeUplinkOptions & { columns: true }): UplinkColumns;
export function decodeUplink(bytes: Uint8Array, options?: DecodeUplinkOptions): Uplink;
export function decodeUplink(bytes: Uint8Array, options: DecodeUplinkOptions = {}): Uplink | UplinkColumns {
  return guard('uplink', () => {
    const h = peekHeader(asBytes(bytes));
    if (options.gateway !== undefined && h.gateway !== options.gateway) {
      throw new LifelineError(ErrorCodes.PayloadInvalid, `uplink: gateway: the message names ${JSON.stringify(h.gateway)}, the channel belongs to ${JSON.stringify(options.gateway)}`, {
        details: { rejectReason: RejectReason.GatewayMismatch },
      });
    }
    if (h.type === MessageType.Telemetry) return options.columns ? { type: h.type, batch: decodeTelemetryColumns(bytes) } : { type: h.type, batch: decodeTelemetryBatch(bytes) };
    if (h.type === MessageType.Events) return { type: h.type, batch: decodeEventBatch(bytes) };
    return guardFail(`uplink: type: ${MessageType[h.type]} (${h.type}) is not an uplink message`);
  });
}

/** Decodes any cloud → gateway message; anything else or anything malformed throws PAYLOAD_INVALID. */
export function decodeDownlink(bytes: Uint8Array): Downlink {
  return guard('downlink', () => {
    const h = peekHeader(asBytes(bytes));
    if (h.type === MessageType.Ack) return { type: h.type, ack: decodeAck(bytes) };
    if (h.type === MessageType.Reject) return { type: h.type, reject: decodeReject(bytes) };
    return guardFail(`downlink: type: ${MessageType[h.type]} (${h.type}) is not a downlink message`);
  });
}

function guardFail(message: string): never {
  throw new LifelineError(ErrorCodes.PayloadInvalid, message);
}
