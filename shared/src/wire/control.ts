/**
 * Cloud → gateway control messages of the sync contract.
 *
 *   gateway ── batch [firstSeq..lastSeq] ──▶ cloud commits idempotently
 *   gateway ◀── Ack {telemetry: n, events: m} ── "everything ≤ n is committed": reclaim it
 *   gateway ◀── Reject {lane, range, reason} ── "never retry this batch as is"
 *
 * Small, uncompressed binary after the common envelope (flags must be 0).
 */
import { ErrorCodes, LifelineError } from '../errors.js';
import { ByteReader, ByteWriter, utf8 } from './bytes.js';
import {
  Lane,
  MAX_DICTIONARY_ID,
  MessageType,
  RejectReason,
  WIRE_VERSION,
  WIRE_VERSION_DICTIONARY,
  WireFlags,
  WireLimits,
  asBytes,
  guard,
  readEnvelopeStart,
  writeEnvelopeStart,
} from './envelope.js';

/** End-to-end acknowledgement: the highest contiguous committed seq of each lane. */
export interface Ack {
  /** The gateway addressed. */
  gateway: string;
  /** Cloud clock when sent, epoch ms (lets the gateway estimate its clock offset). */
  ts: number;
  /** Every telemetry seq ≤ this is committed (0: none yet). */
  telemetry?: number;
  /** Every event seq ≤ this is committed (0: none yet). */
  events?: number;
  /** The buffer epoch these seqs belong to (the batch's); a gateway ignores acks of another epoch. */
  epoch?: number;
  /**
   * The batch this ack answers, committed now or before (flag `Range`). Lets the
   * gateway stop resending a batch committed ahead of the contiguous prefix
   * (live data sent while the backlog drains).
   */
  range?: { lane: Lane; firstSeq: number; lastSeq: number };
  /**
   * Version 2 (flag `Dictionary`): the cloud holds this series dictionary of the
   * gateway; Live frames against it will be read. Sent only in answer to version 2.
   */
  dictionary?: number;
}

/** A batch the cloud refused; the gateway must not resend it unchanged. */
export interface Reject {
  gateway: string;
  /** Cloud clock when sent, epoch ms. */
  ts: number;
  lane: Lane;
  /** The refused batch's range, when its header was readable. */
  firstSeq?: number;
  lastSeq?: number;
  reason: RejectReason;
  /** The decoder's message (at most 1024 UTF-8 bytes; longer text is cut). */
  detail: string;
  /** The refused batch's buffer epoch, when it had one. */
  epoch?: number;
  /** Version 2 (flag `Dictionary`): the series dictionary the refused Live frame named (reason UnknownDictionary). */
  dictionary?: number;
}

const MAX_DETAIL_BYTES = 1024;

function bad(message: string): never {
  throw new LifelineError(ErrorCodes.PayloadInvalid, `encode: ${message}`);
}

function checkGateway(g: unknown): void {
  if (typeof g !== 'string' || g.length === 0 || utf8(g).length > WireLimits.maxNameBytes) {
    bad(`gateway: must be a non-empty string of at most ${WireLimits.maxNameBytes} UTF-8 bytes, got ${JSON.stringify(g)}`);
  }
}

function checkUint(v: unknown, field: string): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${field}: must be a non-negative safe integer, got ${String(v)}`);
}

/** Encodes an Ack. At least one lane must be given. */
export function encodeAck(ack: Ack): Uint8Array {
  checkGateway(ack.gateway);
  checkUint(ack.ts, 'ts');
  const lanes: Array<[Lane, number]> = [];
  if (ack.telemetry !== undefined) {
    checkUint(ack.telemetry, 'telemetry');
    lanes.push([Lane.Telemetry, ack.telemetry]);
  }
  if (ack.events !== undefined) {
    checkUint(ack.events, 'events');
    lanes.push([Lane.Events, ack.events]);
  }
  if (lanes.length === 0) bad('an ack must name at least one lane');
  const rg = ack.range;
  if (rg) {
    if (rg.lane !== Lane.Telemetry && rg.lane !== Lane.Events) bad(`range.lane: unknown lane ${String(rg.lane)}`);
    checkUint(rg.firstSeq, 'range.firstSeq');
    checkUint(rg.lastSeq, 'range.lastSeq');
    if (rg.firstSeq < 1 || rg.lastSeq < rg.firstSeq - 1) bad(`range ${rg.firstSeq}..${rg.lastSeq}: firstSeq must be ≥ 1 and lastSeq ≥ firstSeq - 1`);
  }
  const dict = ack.dictionary;
  if (dict !== undefined) checkDictionaryId(dict);
  const w = new ByteWriter(64);
  const flags = (rg ? WireFlags.Range : 0) | (dict !== undefined ? WireFlags.Dictionary : 0);
  writeEnvelopeStart(w, MessageType.Ack, flags, ack.gateway, ack.epoch, dict !== undefined ? WIRE_VERSION_DICTIONARY : WIRE_VERSION);
  w.uvarint(ack.ts);
  w.uvarint(lanes.length);
  for (const [lane, seq] of lanes) {
    w.byte(lane);
    w.uvarint(seq);
  }
  if (rg) {
    w.byte(rg.lane);
    w.uvarint(rg.firstSeq);
    w.uvarint(rg.lastSeq - rg.firstSeq + 1);
  }
  if (dict !== undefined) w.uvarint(dict);
  return w.finish();
}

function checkDictionaryId(v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_DICTIONARY_ID) bad(`dictionary: must be an integer 1..${MAX_DICTIONARY_ID}, got ${String(v)}`);
}

function readDictionaryId(r: ByteReader): number {
  const at = r.pos;
  const id = r.uvarint('dictionary', MAX_DICTIONARY_ID);
  if (id < 1) r.fail('dictionary', 'must be at least 1, got 0', at);
  return id;
}

/** Decodes an Ack; anything malformed throws PAYLOAD_INVALID. */
export function decodeAck(bytes: Uint8Array): Ack {
  return guard('ack', () => {
    const r = new ByteReader(asBytes(bytes), 'ack');
    const start = readEnvelopeStart(r);
    if (start.type !== MessageType.Ack) r.fail('type', `expected Ack (3), got ${start.type}`, 3);
    const ack: Ack = { gateway: start.gateway, ts: r.uvarint('ts') };
    if (start.epoch !== undefined) ack.epoch = start.epoch;
    const n = r.uvarint('lanes.count', 2);
    if (n < 1) r.fail('lanes.count', 'an ack names at least one lane', r.pos - 1);
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const lane = r.byte(`lanes[${i}].lane`);
      const seq = r.uvarint(`lanes[${i}].seq`);
      if (lane === Lane.Telemetry && ack.telemetry === undefined) ack.telemetry = seq;
      else if (lane === Lane.Events && ack.events === undefined) ack.events = seq;
      else r.fail(`lanes[${i}].lane`, lane in Lane ? `lane ${lane} given twice` : `unknown lane ${lane}`, at);
    }
    if (start.flags & WireFlags.Range) {
      const at = r.pos;
      const lane = r.byte('range.lane');
      if (lane !== Lane.Telemetry && lane !== Lane.Events) r.fail('range.lane', `unknown lane ${lane}`, at);
      const firstSeq = r.uvarint('range.firstSeq');
      if (firstSeq < 1) r.fail('range.firstSeq', 'must be at least 1', r.pos - 1);
      const lastSeq = firstSeq + r.uvarint('range.span') - 1;
      if (!Number.isSafeInteger(lastSeq)) r.fail('range.span', 'range end passes 2^53-1');
      ack.range = { lane, firstSeq, lastSeq };
    }
    if (start.flags & WireFlags.Dictionary) ack.dictionary = readDictionaryId(r);
    r.expectEnd();
    return ack;
  });
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
function cut(s: string, max: number): string {
  if (s.length * 3 <= max || utf8(s).length <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = utf8(ch).length;
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** Encodes a Reject (the detail is cut to 1024 UTF-8 bytes). */
export function encodeReject(rej: Reject): Uint8Array {
  checkGateway(rej.gateway);
  checkUint(rej.ts, 'ts');
  if (!(rej.lane in Lane) || typeof rej.lane !== 'number') bad(`lane: unknown lane ${String(rej.lane)}`);
  if (!(rej.reason in RejectReason) || typeof rej.reason !== 'number') bad(`reason: unknown reason ${String(rej.reason)}`);
  const hasRange = rej.firstSeq !== undefined || rej.lastSeq !== undefined;
  if (hasRange) {
    checkUint(rej.firstSeq, 'firstSeq');
    checkUint(rej.lastSeq, 'lastSeq');
    if (rej.firstSeq! < 1 || rej.lastSeq! < rej.firstSeq! - 1) bad(`range ${rej.firstSeq}..${rej.lastSeq}: firstSeq must be ≥ 1 and lastSeq ≥ firstSeq - 1`);
  }
  if (typeof rej.detail !== 'string') bad('detail: must be a string');
  const dict = rej.dictionary;
  if (dict !== undefined) checkDictionaryId(dict);
  if (rej.reason === RejectReason.UnknownDictionary && dict === undefined) bad('dictionary: a reject for an unknown dictionary must name it');
  const v2 = dict !== undefined || rej.reason === RejectReason.UnknownDictionary;
  const w = new ByteWriter(128);
  writeEnvelopeStart(w, MessageType.Reject, dict !== undefined ? WireFlags.Dictionary : 0, rej.gateway, rej.epoch, v2 ? WIRE_VERSION_DICTIONARY : WIRE_VERSION);
  w.uvarint(rej.ts);
  w.byte(rej.lane);
  w.byte(rej.reason);
  w.byte(hasRange ? 1 : 0);
  if (hasRange) {
    w.uvarint(rej.firstSeq!);
    w.uvarint(rej.lastSeq! - rej.firstSeq! + 1);
  }
  w.string(cut(rej.detail, MAX_DETAIL_BYTES));
  if (dict !== undefined) w.uvarint(dict);
  return w.finish();
}

/** Decodes a Reject; anything malformed throws PAYLOAD_INVALID. */
export function decodeReject(bytes: Uint8Array): Reject {
  return guard('reject', () => {
    const r = new ByteReader(asBytes(bytes), 'reject');
    const start = readEnvelopeStart(r);
    if (start.type !== MessageType.Reject) r.fail('type', `expected Reject (4), got ${start.type}`, 3);
    const ts = r.uvarint('ts');
    const lane = r.byte('lane');
    if (!(lane in Lane)) r.fail('lane', `unknown lane ${lane}`, r.pos - 1);
    const reason = r.byte('reason');
    if (!(reason in RejectReason)) r.fail('reason', `unknown reason ${reason}`, r.pos - 1);
    const hasRange = r.byte('hasRange');
    if (hasRange > 1) r.fail('hasRange', `must be 0 or 1, got ${hasRange}`, r.pos - 1);
    const rej: Reject = { gateway: start.gateway, ts, lane, reason, detail: '' };
    if (start.epoch !== undefined) rej.epoch = start.epoch;
    if (hasRange) {
      const firstSeq = r.uvarint('firstSeq');
      if (firstSeq < 1) r.fail('firstSeq', 'must be at least 1', r.pos - 1);
      const span = r.uvarint('span');
      const lastSeq = firstSeq + span - 1;
      if (!Number.isSafeInteger(lastSeq)) r.fail('span', 'range end passes 2^53-1');
      rej.firstSeq = firstSeq;
      rej.lastSeq = lastSeq;
    }
    rej.detail = r.string('detail', MAX_DETAIL_BYTES, 0);
    if (start.flags & WireFlags.Dictionary) rej.dictionary = readDictionaryId(r);
    if (reason === RejectReason.UnknownDictionary && (start.version < WIRE_VERSION_DICTIONARY || rej.dictionary === undefined)) {
      r.fail('reason', 'UnknownDictionary needs version 2 and the dictionary id');
    }
    r.expectEnd();
    return rej;
  });
}
