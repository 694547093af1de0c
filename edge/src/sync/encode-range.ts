/**
 * One outbox range in its wire form: the message, its topic, and the series dictionary it
 * uses or defines (docs/wire-protocol.md). Reads the buffer, writes nothing.
 *
 *   events range ─────────────────────────────▶ EventBatch     ─▶ up/events
 *   telemetry range, whole and without gaps ──▶ LiveDictionary ─▶ Live frame (up/live) or a batch defining it
 *   any other telemetry range ────────────────▶ TelemetryBatch ─▶ up/telemetry
 *   an abandoned range (after a reject) ──────▶ the same, empty
 */
import { encodeEventBatch, encodeTelemetryBatch, topics, type LaneEvent } from '@lifeline/shared';
import type { EdgeBuffer, LaneName } from '../buffer/buffer.js';
import type { LiveDictionary } from './live-dictionary.js';

/** An encoded range: the message, its topic, and the dictionary id it uses or defines (version 2). */
export interface EncodedRange {
  payload: Uint8Array;
  topic: string;
  dictionary?: number;
}

/** Encodes a range of `buffer`; `empty` sends it without content (a range the cloud rejected for good). */
export function encodeRange(gateway: string, buffer: EdgeBuffer, live: LiveDictionary, r: { lane: LaneName; firstSeq: number; lastSeq: number }, empty: boolean): EncodedRange {
  const epoch = buffer.epoch;
  const topic = topics.telemetry(gateway);
  if (r.lane === 'events') {
    const events = empty ? [] : buffer.events(r.firstSeq, r.lastSeq).map((e) => ({ ...(e.body as object), seq: e.seq, ts: e.ts }) as LaneEvent);
    return { payload: encodeEventBatch({ gateway, epoch, firstSeq: r.firstSeq, lastSeq: r.lastSeq, events }), topic: topics.events(gateway) };
  }
  if (empty) return { payload: encodeTelemetryBatch({ gateway, epoch, firstSeq: r.firstSeq, lastSeq: r.lastSeq, readings: [], seqs: [] }), topic };
  const { readings, seqs, gaps } = buffer.telemetryRange(r.firstSeq, r.lastSeq);
  const full = seqs.length === r.lastSeq - r.firstSeq + 1;
  // A short range without holes or gaps (a live second) goes against the series dictionary.
  const plan = full && gaps.length === 0 ? live.plan(r.firstSeq, readings) : { kind: 'plain' as const };
  if (plan.kind === 'live') return { payload: plan.payload, topic: topics.live(gateway), dictionary: plan.dictionary };
  const dictionary = plan.kind === 'define' ? plan.dictionary : undefined;
  const payload = encodeTelemetryBatch({ gateway, epoch, firstSeq: r.firstSeq, lastSeq: r.lastSeq, readings, seqs: full ? undefined : seqs, gaps, dictionary });
  return { payload, topic, dictionary: dictionary?.id };
}
