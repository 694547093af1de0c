/**
 * The series dictionary and the Live message (wire version 2): a few live
 * readings a second for a handful of bytes each, without the cloud depending
 * on state it can lose.
 *
 *   gateway                                              cloud (per worker, in memory)
 *   telemetry batch v2 + flag Dictionary ──────────────▶ learns dictionary (gateway, id) → epoch, t0, seq0, series
 *            (names, codecs, reference values)           Ack v2 + flag Dictionary: "I know id"
 *   Live frame: id · seq offset · ts offset · ─────────▶ names, epoch and seqs come from the dictionary
 *            presence bitmap · values − reference        unknown id → Reject UnknownDictionary (id):
 *   ◀──────────────────────────────────────────────────  the gateway sends the readings again with names
 *
 * A Live frame is never committed against a dictionary the cloud does not hold;
 * an unknown id costs one round trip, never a reading. Layout: docs/wire-protocol.md §7.
 */
import { ErrorCodes, LifelineError } from '../errors.js';
import { Quality, type Reading } from '../reading.js';
import { ByteReader, ByteWriter, type TraceRow } from './bytes.js';
import { MAX_DECIMAL_K, MAX_SCALED, planValues, scaled, unscaled, ValueMode } from './columns.js';
import { MAX_DICTIONARY_ID, RejectReason, WireLimits, asBytes, guard } from './envelope.js';
import type { DecodedTelemetryBatch } from './telemetry.js';

/** How the values of one dictionary series travel in a Live frame. */
export type SeriesCodec =
  /** value = unscaled(ref + delta, k, mul); a value the scale cannot express travels as a float64 special. */
  | { kind: 'decimal'; mul: boolean; k: number; ref: number }
  /** Every value travels as a float64 special. */
  | { kind: 'float' };

/** One series of a dictionary. */
export interface DictionarySeries {
  device: string;
  point: string;
  codec: SeriesCodec;
}

/** A per-epoch series dictionary: what a Live frame leaves out. */
export interface SeriesDictionary {
  /** 1 … 2^21 − 1, chosen by the gateway; (gateway, id) names it in the cloud. */
  id: number;
  /** Timestamps of a Live frame are offsets from this (epoch ms). */
  t0: number;
  /** Seqs of a Live frame are offsets from this (≥ 0). */
  seq0: number;
  /** In the order a presence bitmap follows. */
  series: DictionarySeries[];
  /**
   * Expected microseconds per seq (≥ 0): a frame's timestamp is sent as its difference from
   * t0 + seqOffset × period / 1000, which a steady poll keeps within two bytes.
   */
  period?: number;
  /** The buffer epoch of the batch that defined it (0: none); a Live frame's seqs belong to it. */
  epoch?: number;
}

/** Limits of the dictionary and of a Live frame. */
export const LiveLimits = {
  /** Series in one dictionary. */
  maxSeries: 4096,
  /** Readings in one Live frame. */
  maxReadings: 4096,
  /** Largest seq offset of a Live frame from its dictionary's seq0 (a gateway renews its dictionary before). */
  maxSeqOffset: 2 ** 21 - 1,
} as const;

/** Largest period of a dictionary: one seq an hour, in µs. */
const MAX_PERIOD_US = 3_600_000_000;

/** Special-reading code bits (one `u8` per special). */
const SPECIAL_FLOAT = 0x01;

function bad(message: string): never {
  throw new LifelineError(ErrorCodes.PayloadInvalid, `encode: ${message}`);
}

// ---------------------------------------------------------------------------------------
// The dictionary section (end of a version 2 telemetry body with flag Dictionary)

/** Writes the dictionary section; `nameId` interns a name in the batch's string table. */
export function writeDictionarySection(w: ByteWriter, dict: SeriesDictionary, firstSeq: number, baseTs: number, nameIndex: (s: string) => number): void {
  w.uvarint(dict.series.length);
  w.svarint(dict.t0 - baseTs);
  w.uvarint(firstSeq - dict.seq0);
  w.uvarint(dict.period ?? 0);
  for (const s of dict.series) {
    w.uvarint(nameIndex(s.device));
    w.uvarint(nameIndex(s.point));
    if (s.codec.kind === 'float') w.byte(ValueMode.Xor);
    else {
      w.byte(s.codec.mul ? ValueMode.DecimalMul : ValueMode.DecimalDiv);
      w.byte(s.codec.k);
      w.svarint(s.codec.ref);
    }
  }
}

/** Checks a dictionary before it is written (names, codecs, limits), naming the field. */
export function checkDictionary(dict: SeriesDictionary, firstSeq: number): void {
  if (typeof dict !== 'object' || dict === null) bad('dictionary: must be an object');
  if (!Number.isInteger(dict.id) || dict.id < 1 || dict.id > MAX_DICTIONARY_ID) bad(`dictionary.id: must be an integer 1..${MAX_DICTIONARY_ID}, got ${String(dict.id)}`);
  if (!Number.isSafeInteger(dict.t0)) bad(`dictionary.t0: must be a safe integer, got ${String(dict.t0)}`);
  if (dict.period !== undefined && (!Number.isInteger(dict.period) || dict.period < 0 || dict.period > MAX_PERIOD_US)) {
    bad(`dictionary.period: must be an integer 0..${MAX_PERIOD_US} (µs per seq), got ${String(dict.period)}`);
  }
  if (!Number.isSafeInteger(dict.seq0) || dict.seq0 < 0 || dict.seq0 > firstSeq) bad(`dictionary.seq0: must be an integer 0..firstSeq (${firstSeq}), got ${String(dict.seq0)}`);
  if (!Array.isArray(dict.series) || dict.series.length > LiveLimits.maxSeries) bad(`dictionary.series: must be an array of at most ${LiveLimits.maxSeries}`);
  const seen = new Set<string>();
  for (const [i, s] of dict.series.entries()) {
    const f = `dictionary.series[${i}]`;
    for (const k of ['device', 'point'] as const) {
      const v = s?.[k];
      if (typeof v !== 'string' || v.length === 0 || new TextEncoder().encode(v).length > WireLimits.maxNameBytes) bad(`${f}.${k}: must be 1..${WireLimits.maxNameBytes} UTF-8 bytes, got ${JSON.stringify(v)}`);
    }
    const key = `${s.device}\u0000${s.point}`;
    if (seen.has(key)) bad(`${f}: duplicate series ${s.device}/${s.point}`);
    seen.add(key);
    const c = s.codec;
    if (c?.kind === 'float') continue;
    if (c?.kind !== 'decimal') bad(`${f}.codec.kind: must be "decimal" or "float", got ${JSON.stringify((c as { kind?: unknown })?.kind)}`);
    if (!Number.isInteger(c.k) || c.k < 0 || c.k > MAX_DECIMAL_K) bad(`${f}.codec.k: must be 0..${MAX_DECIMAL_K}, got ${String(c.k)}`);
    if (!Number.isSafeInteger(c.ref) || Math.abs(c.ref) >= MAX_SCALED) bad(`${f}.codec.ref: must be an integer below 2^51 in magnitude, got ${String(c.ref)}`);
  }
}

/** Reads the dictionary section of a batch that defines dictionary `id`. */
export function readDictionarySection(r: ByteReader, id: number, strings: string[], firstSeq: number, baseTs: number): SeriesDictionary {
  // Each series needs ≥ 3 bytes (two indexes and its codec byte).
  const n = r.count('dictionary.count', LiveLimits.maxSeries, 3);
  const t0At = r.pos;
  const t0 = baseTs + r.svarint('dictionary.t0');
  if (!Number.isSafeInteger(t0)) r.fail('dictionary.t0', 'outside the safe integer range', t0At);
  const seq0 = firstSeq - r.uvarint('dictionary.seq0', firstSeq);
  const period = r.uvarint('dictionary.period', MAX_PERIOD_US);
  const series: DictionarySeries[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const f = `dictionary.series[${i}]`;
    const d = r.uvarint(`${f}.device`, strings.length - 1);
    const p = r.uvarint(`${f}.point`, strings.length - 1);
    const key = `${d}:${p}`;
    if (seen.has(key)) r.fail(f, `duplicate series ${strings[d]}/${strings[p]}`);
    seen.add(key);
    const modeAt = r.pos;
    const mode = r.byte(`${f}.codec`);
    let codec: SeriesCodec;
    if (mode === ValueMode.Xor) codec = { kind: 'float' };
    else if (mode === ValueMode.DecimalDiv || mode === ValueMode.DecimalMul) {
      const k = r.byte(`${f}.k`);
      if (k > MAX_DECIMAL_K) r.fail(`${f}.k`, `decimal exponent ${k} over ${MAX_DECIMAL_K}`, r.pos - 1);
      const refAt = r.pos;
      const ref = r.svarint(`${f}.ref`);
      if (!(Math.abs(ref) < MAX_SCALED)) r.fail(`${f}.ref`, 'beyond ±2^51', refAt);
      codec = { kind: 'decimal', mul: mode === ValueMode.DecimalMul, k, ref };
    } else r.fail(`${f}.codec`, `unknown codec ${mode}`, modeAt);
    series.push({ device: strings[d], point: strings[p], codec });
  }
  return { id, t0, seq0, period, series };
}

// ---------------------------------------------------------------------------------------
// Building a dictionary (the gateway's side)

/**
 * The codec that carries `values` (recent values of one series) most cheaply: the
 * decimal scale the batch codec would pick, with the newest value as reference.
 */
export function codecFor(values: ArrayLike<number>): SeriesCodec {
  const plan = planValues(values);
  if (plan.mode === ValueMode.Xor) return { kind: 'float' };
  const mul = plan.mode === ValueMode.DecimalMul;
  for (let i = values.length - 1; i >= 0; i--) {
    const m = scaled(values[i], plan.k, mul);
    if (m === m) return { kind: 'decimal', mul, k: plan.k, ref: m };
  }
  return { kind: 'decimal', mul, k: plan.k, ref: 0 };
}

// ---------------------------------------------------------------------------------------
// The Live frame

/** What a gateway hands to `encodeLive`: a range without holes whose readings all belong to the dictionary. */
export interface LiveBatch {
  firstSeq: number;
  /** In seq order; reading i has seq firstSeq + i. */
  readings: Reading[];
}

/** First byte of a Live frame: version 2 in the high nibble, flags in the low. */
const LIVE_VERSION = 0x20;
/** Live flag: an explicit count and order column follow instead of a presence bitmap. */
export const LIVE_ORDER = 0x01;
/** Live flag: a specials list (float64 values, quality flags) follows the timestamps. */
const LIVE_SPECIALS = 0x02;

/** The timestamp a frame at `seqOff` is expected to start at: t0 + seqOff × period (µs per seq). */
function predictTs(dict: SeriesDictionary, seqOff: number): number {
  return dict.t0 + Math.round((seqOff * (dict.period ?? 0)) / 1000);
}

/**
 * Encodes a Live frame, or returns undefined when the readings cannot travel
 * against `dict` (a series it lacks, a seq before its seq0 or too far past it,
 * too many readings): the gateway then sends a batch with names.
 */
export function encodeLive(dict: SeriesDictionary, batch: LiveBatch): Uint8Array | undefined {
  const { firstSeq, readings } = batch;
  const n = readings.length;
  if (n === 0 || n > LiveLimits.maxReadings) return undefined;
  const seqOff = firstSeq - dict.seq0;
  if (!Number.isSafeInteger(seqOff) || seqOff < 0 || seqOff > LiveLimits.maxSeqOffset) return undefined;
  const index = seriesIndex(dict);
  const order = new Array<number>(n);
  let inOrder = true;
  for (let i = 0; i < n; i++) {
    const r = readings[i];
    const s = index.get(`${r.device}\u0000${r.point}`);
    if (s === undefined || !Number.isSafeInteger(r.ts) || typeof r.value !== 'number') return undefined;
    const q = r.quality;
    if (q !== undefined && q !== Quality.Good && q !== Quality.Uncertain && q !== Quality.Bad) return undefined;
    order[i] = s;
    if (i > 0 && s <= order[i - 1]) inOrder = false;
  }
  const tOff = readings[0].ts - predictTs(dict, seqOff);
  if (!Number.isSafeInteger(tOff)) return undefined;
  // Specials: a value the codec cannot carry, or a quality flag.
  const ms = new Array<number>(n);
  const specials: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = readings[i];
    const c = dict.series[order[i]].codec;
    const m = c.kind === 'decimal' ? scaled(r.value, c.k, c.mul) : NaN;
    ms[i] = m === m && c.kind === 'decimal' && Math.abs(m - c.ref) <= Number.MAX_SAFE_INTEGER ? m : NaN;
    if (ms[i] !== ms[i] || r.quality !== undefined) specials.push(i);
  }
  const w = new ByteWriter(16 + n * 4);
  w.byte(LIVE_VERSION | (inOrder ? 0 : LIVE_ORDER) | (specials.length ? LIVE_SPECIALS : 0));
  w.uvarint(dict.id);
  w.uvarint(seqOff);
  if (inOrder) {
    const bitmap = new Uint8Array((dict.series.length + 7) >> 3);
    for (const s of order) bitmap[s >> 3] |= 1 << (s & 7);
    w.bytes(bitmap);
  } else {
    w.uvarint(n);
    for (const s of order) w.uvarint(s);
  }
  w.svarint(tOff);
  // New-timestamp bits of readings 1..n−1, then the deltas of the set ones.
  const tbits = new Uint8Array((n + 6) >> 3);
  for (let i = 1; i < n; i++) if (readings[i].ts !== readings[i - 1].ts) tbits[(i - 1) >> 3] |= 1 << ((i - 1) & 7);
  w.bytes(tbits);
  for (let i = 1; i < n; i++) if (readings[i].ts !== readings[i - 1].ts) w.svarint(readings[i].ts - readings[i - 1].ts);
  if (specials.length) {
    w.uvarint(specials.length);
    let last = -1;
    for (const i of specials) {
      w.uvarint(i - last - 1);
      last = i;
      const q = readings[i].quality;
      w.byte((ms[i] !== ms[i] ? SPECIAL_FLOAT : 0) | ((q === undefined ? 0 : q + 1) << 1));
      if (ms[i] !== ms[i]) w.float64(readings[i].value);
    }
  }
  for (let i = 0; i < n; i++) if (ms[i] === ms[i]) w.svarint(ms[i] - (dict.series[order[i]].codec as { ref: number }).ref);
  return w.finish();
}

/** The dictionary id a Live frame names (for a reject), or undefined if even that is unreadable. */
export function peekLiveDictionary(bytes: Uint8Array): number | undefined {
  try {
    const r = new ByteReader(asBytes(bytes), 'live frame');
    if (r.byte('version') >> 4 !== LIVE_VERSION >> 4) return undefined;
    const id = r.uvarint('dictionary', MAX_DICTIONARY_ID);
    return id >= 1 ? id : undefined;
  } catch {
    return undefined;
  }
}

const indexCache = new WeakMap<SeriesDictionary, Map<string, number>>();
function seriesIndex(dict: SeriesDictionary): Map<string, number> {
  let m = indexCache.get(dict);
  if (!m) {
    m = new Map(dict.series.map((s, i) => [`${s.device}\u0000${s.point}`, i]));
    indexCache.set(dict, m);
  }
  return m;
}

/** The error a Live frame naming a dictionary the cloud does not hold decodes to (reject reason UnknownDictionary). */
export function unknownDictionary(id: number): LifelineError {
  return new LifelineError(ErrorCodes.PayloadInvalid, `live frame: dictionary: series dictionary ${id} is unknown here; send the readings with their names`, {
    details: { rejectReason: RejectReason.UnknownDictionary, dictionary: id },
  });
}

/** A decoded Live frame: a telemetry batch of the dictionary's gateway epoch, plus the dictionary id. */
export type DecodedLive = DecodedTelemetryBatch & { dictionaryId: number };

/**
 * Decodes a Live frame of `gateway` (the channel's) against the dictionaries
 * `lookup` holds. An unknown id throws PAYLOAD_INVALID with reject reason
 * UnknownDictionary; anything malformed, PAYLOAD_INVALID naming the field.
 */
export function decodeLive(bytes: Uint8Array, gateway: string, lookup: (id: number) => SeriesDictionary | undefined, trace?: TraceRow[]): DecodedLive {
  return guard('live frame', () => {
    const r = new ByteReader(asBytes(bytes), 'live frame', trace);
    const head = r.byte('version');
    if (head >> 4 !== LIVE_VERSION >> 4) {
      throw new LifelineError(ErrorCodes.PayloadInvalid, `live frame: version: unsupported version ${head >> 4} (this decoder reads 2) (at byte 0)`, {
        details: { rejectReason: RejectReason.UnsupportedVersion },
      });
    }
    if (head & 0x0c) r.fail('flags', `unknown flag bits 0x${(head & 0x0c).toString(16)}`, 0);
    const idAt = r.pos;
    const id = r.uvarint('dictionary', MAX_DICTIONARY_ID);
    if (id < 1) r.fail('dictionary', 'must be at least 1, got 0', idAt);
    const dict = lookup(id);
    if (!dict) throw unknownDictionary(id);
    const N = dict.series.length;
    const seqAt = r.pos;
    const seqOff = r.uvarint('seqOffset', LiveLimits.maxSeqOffset);
    const firstSeq = dict.seq0 + seqOff;
    if (firstSeq < 1 || !Number.isSafeInteger(firstSeq)) r.fail('seqOffset', `first seq ${firstSeq} must be at least 1`, seqAt);
    let n: number;
    let order: number[];
    if (head & LIVE_ORDER) {
      // Each reading needs an order byte and a value byte.
      n = r.count('readings.count', LiveLimits.maxReadings, 2);
      if (n < 1) r.fail('readings.count', 'a live frame has at least one reading', r.pos - 1);
      order = new Array<number>(n);
      for (let i = 0; i < n; i++) order[i] = r.uvarint('order', N - 1);
    } else {
      const bitmap = r.bytes('bitmap', (N + 7) >> 3);
      order = [];
      for (let s = 0; s < N; s++) if (bitmap[s >> 3] & (1 << (s & 7))) order.push(s);
      n = order.length;
      if (n < 1) r.fail('bitmap', 'a live frame has at least one reading');
      if (N & 7 && bitmap[bitmap.length - 1] >> (N & 7)) r.fail('bitmap', `bits set past the dictionary's ${N} series`);
    }
    const lastSeq = firstSeq + n - 1;
    if (!Number.isSafeInteger(lastSeq)) r.fail('readings.count', 'range end passes 2^53-1');
    const tAt = r.pos;
    let ts = predictTs(dict, seqOff) + r.svarint('tsOffset');
    if (!Number.isSafeInteger(ts)) r.fail('tsOffset', 'timestamp outside the safe integer range', tAt);
    const tbits = r.bytes('timestamps.changed', (n + 6) >> 3);
    if ((n - 1) & 7 && tbits[tbits.length - 1] >> ((n - 1) & 7)) r.fail('timestamps.changed', `bits set past reading ${n - 1}`);
    const tss = new Array<number>(n);
    tss[0] = ts;
    for (let i = 1; i < n; i++) {
      if (tbits[(i - 1) >> 3] & (1 << ((i - 1) & 7))) {
        const at = r.pos;
        ts += r.svarint('timestamps.delta');
        if (!Number.isSafeInteger(ts)) r.fail('timestamps.delta', 'timestamp outside the safe integer range', at);
      }
      tss[i] = ts;
    }
    const values = new Array<number>(n);
    const quality = new Uint8Array(n);
    const special = new Uint8Array(n);
    const nSpecial = head & LIVE_SPECIALS ? r.count('specials.count', n, 2) : 0;
    if (head & LIVE_SPECIALS && nSpecial < 1) r.fail('specials.count', 'the specials flag is set but the list is empty', r.pos - 1);
    let idx = -1;
    for (let e = 0; e < nSpecial; e++) {
      const at = r.pos;
      idx += r.uvarint('specials.skip') + 1;
      if (idx >= n) r.fail('specials.skip', `index ${idx} past the frame's ${n} readings`, at);
      const codeAt = r.pos;
      const code = r.byte('specials.code');
      if (code > 7) r.fail('specials.code', `unknown code ${code}`, codeAt);
      quality[idx] = code >> 1;
      special[idx] = 1;
      if (code & SPECIAL_FLOAT) {
        special[idx] = 2;
        values[idx] = r.float64('specials.value');
      }
    }
    for (let i = 0; i < n; i++) {
      if (special[i] === 2) continue;
      const c = dict.series[order[i]].codec;
      if (c.kind !== 'decimal') return r.fail('values', `reading ${i} (${dict.series[order[i]].device}/${dict.series[order[i]].point}) has a float codec and no float64 special`);
      const at = r.pos;
      const m = c.ref + r.svarint('values.delta');
      if (!(Math.abs(m) < MAX_SCALED)) r.fail('values.delta', `scaled integer of reading ${i} is beyond ±2^51`, at);
      values[i] = unscaled(m, c.k, c.mul);
    }
    r.expectEnd();
    const readings: Reading[] = new Array(n);
    const seqs = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const s = dict.series[order[i]];
      const q = quality[i];
      readings[i] = q === 0 ? { device: s.device, point: s.point, ts: tss[i], value: values[i] } : { device: s.device, point: s.point, ts: tss[i], value: values[i], quality: (q - 1) as Quality };
      seqs[i] = firstSeq + i;
    }
    return { gateway, firstSeq, lastSeq, readings, seqs, gaps: [], ...(dict.epoch ? { epoch: dict.epoch } : {}), dictionaryId: id };
  });
}
