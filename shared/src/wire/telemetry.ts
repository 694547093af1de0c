/**
 * Telemetry batch codec: readings and gap records of one gateway's seq range,
 * columnar per series (device + point), delta-encoded, then deflated.
 *
 *   readings (seq order) ──▶ group by series ──▶ per series: timestamps │ values │ quality
 *                        └─▶ order column (series of each reading) + seq column (holes)
 *   body = baseTs · strings · series · order · seqs · all ts blocks · all value blocks
 *          · all quality blocks · gaps          ──▶ frameBatch (CRC-32, deflate, header)
 *
 * Decoding gives back exactly the readings given (values bit-exact, −0 kept, every
 * NaN as the canonical NaN), in seq order, with each reading's seq. Layout:
 * docs/wire-protocol.md.
 */
import { ErrorCodes, LifelineError } from '../errors.js';
import { Quality, type Reading } from '../reading.js';
import { LiveLimits, checkDictionary, readDictionarySection, writeDictionarySection, type SeriesDictionary } from './live.js';
import { ByteReader, ByteWriter, utf8, type TraceRow } from './bytes.js';
import { planValues, readQuality, readTimestamps, readValues, writeQuality, writeTimestamps, writeValues } from './columns.js';
import { MessageType, WireLimits, frameBatch, guard, openBatch, type BatchEncodeOptions, type BatchHeader } from './envelope.js';

/** One minute of a thinned range: what the gateway kept of the raw readings. */
export interface GapMinute {
  /** Start of the minute, epoch ms. */
  ts: number;
  /** How many raw readings the minute had. */
  count: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * A thinned range: the gateway's disk budget forced it to drop the raw readings of
 * one point between `from` and `to`; it kept per-minute min/max/mean instead.
 */
export interface GapRecord {
  device: string;
  point: string;
  /** First timestamp of the thinned range, epoch ms (inclusive). */
  from: number;
  /** Last timestamp of the thinned range, epoch ms (inclusive). */
  to: number;
  /** What was kept, one entry per minute that had readings, in time order. */
  minutes: GapMinute[];
}

/** What the gateway hands to the encoder: [gateway, firstSeq, lastSeq, payload]. */
export interface TelemetryBatch {
  /** Gateway id (the sender). */
  gateway: string;
  /** First seq the batch covers, ≥ 1. */
  firstSeq: number;
  /** Last seq the batch covers (firstSeq − 1 for an empty range). */
  lastSeq: number;
  /** Readings in seq order. */
  readings: Reading[];
  /**
   * The seq of each reading (strictly increasing, within firstSeq..lastSeq). When
   * omitted, reading i has seq firstSeq + i and the readings must fill the range.
   */
  seqs?: number[];
  /** Thinned ranges reported with this batch. */
  gaps?: GapRecord[];
  /** Buffer epoch of the sender (envelope flag `Epoch`); omit for none. */
  epoch?: number;
  /**
   * A series dictionary this batch defines (wire version 2, flag `Dictionary`): the
   * cloud learns it and then takes Live frames against it. Omit for a version 1 batch.
   */
  dictionary?: SeriesDictionary;
}

/** What the decoder returns: readings in seq order, each reading's seq, the gaps. */
export interface DecodedTelemetryBatch {
  gateway: string;
  firstSeq: number;
  lastSeq: number;
  /** In seq order; `quality` is present exactly when the encoder was given one. */
  readings: Reading[];
  /** `seqs[i]` is the seq of `readings[i]`. */
  seqs: number[];
  gaps: GapRecord[];
  /** Buffer epoch, when the message carried one. */
  epoch?: number;
  /** The series dictionary the batch defines (version 2, flag `Dictionary`), bound to the batch's epoch. */
  dictionary?: SeriesDictionary;
}

/**
 * One series of a decoded telemetry batch as columns, its readings in seq order:
 * what the cloud's bulk path takes without an object per reading.
 */
export interface SeriesColumns {
  device: string;
  point: string;
  ts: Float64Array;
  value: Float64Array;
  /** Per reading 0 when the sender gave no quality (Good), else quality + 1 (the wire's code). */
  quality: Uint8Array;
}

/** A decoded telemetry batch as columns per series (decodeTelemetryColumns); `readingsOf` gives the readings back in seq order. */
export interface DecodedTelemetryColumns extends Omit<DecodedTelemetryBatch, 'readings'> {
  series: SeriesColumns[];
  /** The series index of each reading, in seq order. */
  order: Uint32Array;
}

/** The readings of a columnar batch, in seq order (each series' column read in turn by `order`). */
export function readingsOf(batch: Pick<DecodedTelemetryColumns, 'series' | 'order'>): Reading[] {
  const { series, order } = batch;
  const next = new Uint32Array(series.length);
  const readings = new Array<Reading>(order.length);
  for (let i = 0; i < order.length; i++) {
    const c = series[order[i]];
    const j = next[order[i]]++;
    const q = c.quality[j];
    readings[i] = q === 0 ? { device: c.device, point: c.point, ts: c.ts[j], value: c.value[j] } : { device: c.device, point: c.point, ts: c.ts[j], value: c.value[j], quality: (q - 1) as Quality };
  }
  return readings;
}

function bad(message: string): never {
  throw new LifelineError(ErrorCodes.PayloadInvalid, `encode: ${message}`);
}

function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) bad(`${field}: must be a non-empty string, got ${JSON.stringify(value)}`);
  if (value.length * 3 > WireLimits.maxNameBytes && utf8(value).length > WireLimits.maxNameBytes) {
    bad(`${field}: longer than ${WireLimits.maxNameBytes} UTF-8 bytes`);
  }
  return value;
}

function checkSafe(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) bad(`${field}: must be a safe integer, got ${String(value)}`);
  return value;
}

function checkSeqRange(firstSeq: unknown, lastSeq: unknown): void {
  checkSafe(firstSeq, 'firstSeq');
  checkSafe(lastSeq, 'lastSeq');
  if ((firstSeq as number) < 1) bad(`firstSeq: must be at least 1, got ${firstSeq}`);
  if ((lastSeq as number) < (firstSeq as number) - 1) bad(`lastSeq: must be at least firstSeq - 1 (${(firstSeq as number) - 1}), got ${lastSeq}`);
}

/** Interns device and point names in order of first use. */
class StringTable {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();
  id(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

interface SeriesBuild {
  device: number;
  point: number;
  ts: number[];
  values: number[];
  quality: number[];
}

/**
 * Encodes a telemetry batch. Throws LifelineError PAYLOAD_INVALID (message starting
 * `encode:`) if the batch breaks a rule of the format, naming the field.
 */
export function encodeTelemetryBatch(batch: TelemetryBatch, options?: BatchEncodeOptions): Uint8Array {
  const body = encodeTelemetryBody(batch);
  return frameBatch(MessageType.Telemetry, batch.gateway, batch.firstSeq, batch.lastSeq, body, options, batch.epoch, batch.dictionary?.id);
}

/** The uncompressed body of a telemetry batch (exported for the docs and the fuzz tests). */
export function encodeTelemetryBody(batch: TelemetryBatch): Uint8Array {
  checkName(batch.gateway, 'gateway');
  checkSeqRange(batch.firstSeq, batch.lastSeq);
  const { readings, seqs, firstSeq, lastSeq } = batch;
  const gaps = batch.gaps ?? [];
  if (!Array.isArray(readings)) bad('readings: must be an array');
  if (readings.length > WireLimits.maxReadings) bad(`readings: ${readings.length} exceeds the limit ${WireLimits.maxReadings} per batch`);
  const span = lastSeq - firstSeq + 1;
  if (seqs === undefined) {
    if (readings.length !== span) bad(`readings: ${readings.length} readings but the range ${firstSeq}..${lastSeq} holds ${span}; pass seqs when the range has holes`);
  } else if (!Array.isArray(seqs) || seqs.length !== readings.length) {
    bad(`seqs: must have one seq per reading (${readings.length}), got ${Array.isArray(seqs) ? seqs.length : typeof seqs}`);
  }
  if (!Array.isArray(gaps)) bad('gaps: must be an array');
  if (gaps.length > WireLimits.maxGaps) bad(`gaps: ${gaps.length} exceeds the limit ${WireLimits.maxGaps}`);

  const strings = new StringTable();
  // Series by device, then point: no key string made per reading.
  const seriesByName = new Map<unknown, Map<unknown, number>>();
  const series: SeriesBuild[] = [];
  const order = new Array<number>(readings.length);
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i];
    if (typeof r !== 'object' || r === null) bad(`readings[${i}]: must be an object`);
    let points = seriesByName.get(r.device);
    let s = points?.get(r.point);
    if (s === undefined) {
      checkName(r.device, `readings[${i}].device`);
      checkName(r.point, `readings[${i}].point`);
      if (series.length >= WireLimits.maxSeries) bad(`readings: more than ${WireLimits.maxSeries} series`);
      s = series.length;
      if (!points) seriesByName.set(r.device, (points = new Map()));
      points.set(r.point, s);
      series.push({ device: strings.id(r.device), point: strings.id(r.point), ts: [], values: [], quality: [] });
    }
    if (!Number.isSafeInteger(r.ts)) bad(`readings[${i}].ts: must be a safe integer (epoch ms), got ${String(r.ts)}`);
    if (typeof r.value !== 'number') bad(`readings[${i}].value: must be a number, got ${typeof r.value}`);
    const q = r.quality;
    if (q !== undefined && q !== Quality.Good && q !== Quality.Uncertain && q !== Quality.Bad) {
      bad(`readings[${i}].quality: must be 0, 1 or 2, got ${String(q)}`);
    }
    const sb = series[s];
    sb.ts.push(r.ts);
    sb.values.push(r.value);
    sb.quality.push(q === undefined ? 0 : q + 1);
    order[i] = s;
  }
  for (const [i, g] of gaps.entries()) {
    checkName(g?.device, `gaps[${i}].device`);
    checkName(g.point, `gaps[${i}].point`);
    checkSafe(g.from, `gaps[${i}].from`);
    checkSafe(g.to, `gaps[${i}].to`);
    if (g.to < g.from) bad(`gaps[${i}].to: ${g.to} is before from ${g.from}`);
    if (!Array.isArray(g.minutes)) bad(`gaps[${i}].minutes: must be an array`);
    let prev = -Infinity;
    for (const [j, m] of g.minutes.entries()) {
      const f = `gaps[${i}].minutes[${j}]`;
      checkSafe(m?.ts, `${f}.ts`);
      if (m.ts <= prev) bad(`${f}.ts: minutes must be in strictly increasing time order`);
      if (!Number.isSafeInteger(m.ts - (j === 0 ? g.from : prev))) bad(`${f}.ts: too far from the previous timestamp`);
      prev = m.ts;
      checkSafe(m.count, `${f}.count`);
      if (m.count < 1) bad(`${f}.count: must be at least 1, got ${m.count}`);
      for (const k of ['min', 'max', 'mean'] as const) if (typeof m[k] !== 'number') bad(`${f}.${k}: must be a number`);
    }
    strings.id(g.device);
    strings.id(g.point);
  }
  const dict = batch.dictionary;
  if (dict !== undefined) {
    checkDictionary(dict, firstSeq);
    for (const s of dict.series) {
      strings.id(s.device);
      strings.id(s.point);
    }
  }

  const w = new ByteWriter(256 + readings.length * 4);
  const baseTs = readings.length ? readings[0].ts : 0;
  w.svarint(baseTs);
  w.uvarint(strings.list.length);
  for (const s of strings.list) w.string(s);
  w.uvarint(series.length);
  for (const s of series) {
    w.uvarint(s.device);
    w.uvarint(s.point);
  }
  w.uvarint(readings.length);
  for (let i = 0; i < order.length; i++) w.uvarint(order[i]);
  let prevSeq = firstSeq - 1;
  for (let i = 0; i < readings.length; i++) {
    const seq = seqs === undefined ? firstSeq + i : seqs[i];
    if (!Number.isSafeInteger(seq) || seq <= prevSeq || seq > lastSeq) {
      bad(`seqs[${i}]: ${String(seq)} must be a safe integer, above the previous seq ${prevSeq} and at most lastSeq ${lastSeq}`);
    }
    w.uvarint(seq - prevSeq - 1);
    prevSeq = seq;
  }
  // Timestamp blocks; a series polled in the same request as an earlier one copies its column.
  const byShape = new Map<string, number[]>();
  for (let s = 0; s < series.length; s++) {
    const ts = series[s].ts;
    const shape = `${ts.length}:${ts[0]}:${ts[ts.length - 1]}`;
    const same = byShape.get(shape);
    let copyOf = -1;
    if (same) {
      for (const j of same) {
        const other = series[j].ts;
        let equal = true;
        for (let i = 0; i < ts.length && equal; i++) equal = ts[i] === other[i];
        if (equal) {
          copyOf = j;
          break;
        }
      }
      if (copyOf < 0) same.push(s);
    } else byShape.set(shape, [s]);
    writeTimestamps(w, ts, baseTs, copyOf);
  }
  for (const s of series) writeValues(w, s.values, planValues(s.values));
  for (const s of series) writeQuality(w, s.quality);
  w.uvarint(gaps.length);
  for (const g of gaps) {
    w.uvarint(strings.id(g.device));
    w.uvarint(strings.id(g.point));
    w.svarint(g.from);
    w.uvarint(g.to - g.from);
    w.uvarint(g.minutes.length);
    let prev = g.from;
    for (const m of g.minutes) {
      w.svarint(m.ts - prev);
      prev = m.ts;
      w.uvarint(m.count);
      w.float64(m.min);
      w.float64(m.max);
      w.float64(m.mean);
    }
  }
  if (dict !== undefined) writeDictionarySection(w, dict, firstSeq, baseTs, (s) => strings.id(s));
  return w.finish();
}

/**
 * Decodes a telemetry batch. Any malformed, truncated or forged input throws
 * LifelineError PAYLOAD_INVALID naming the field and byte offset; nothing is
 * allocated beyond what the input's own length can justify.
 */
export function decodeTelemetryBatch(bytes: Uint8Array): DecodedTelemetryBatch {
  const { series, order, ...rest } = decodeTelemetryColumns(bytes);
  return { ...rest, readings: readingsOf({ series, order }) };
}

/** Decodes a telemetry batch into columns per series (no object per reading); same checks and errors as decodeTelemetryBatch. */
export function decodeTelemetryColumns(bytes: Uint8Array): DecodedTelemetryColumns {
  return guard('telemetry batch', () => {
    const { header, body } = openBatch(bytes, MessageType.Telemetry, 'telemetry batch');
    const out = decodeTelemetryBody(header, body);
    if (header.epoch !== undefined) out.epoch = header.epoch;
    if (out.dictionary && header.epoch !== undefined) out.dictionary.epoch = header.epoch;
    return out;
  });
}

/** Decodes a telemetry body given its already verified header. `trace` collects an annotated dump. */
export function decodeTelemetryBody(
  header: Pick<BatchHeader, 'gateway' | 'firstSeq' | 'lastSeq' | 'dictionary'>,
  body: Uint8Array,
  trace?: TraceRow[],
): DecodedTelemetryColumns {
  const r = new ByteReader(body, 'telemetry body', trace);
  const { firstSeq, lastSeq } = header;
  const baseTs = r.svarint('baseTs');

  const nStrings = r.count('strings.count', 2 * WireLimits.maxSeries + 2 * WireLimits.maxGaps + 2 * LiveLimits.maxSeries, 2);
  const strings = new Array<string>(nStrings);
  for (let i = 0; i < nStrings; i++) strings[i] = r.string(`strings[${i}]`, WireLimits.maxNameBytes);

  // Each series needs 2 index bytes + 3 mode/run bytes further on.
  const nSeries = r.count('series.count', WireLimits.maxSeries, 5);
  const devices = new Array<string>(nSeries);
  const points = new Array<string>(nSeries);
  const seen = new Set<string>();
  for (let s = 0; s < nSeries; s++) {
    const d = r.uvarint(`series[${s}].device`, nStrings - 1);
    const p = r.uvarint(`series[${s}].point`, nStrings - 1);
    devices[s] = strings[d];
    points[s] = strings[p];
    const key = `${d}:${p}`;
    if (seen.has(key)) r.fail(`series[${s}]`, `duplicate series ${strings[d]}/${strings[p]}`);
    seen.add(key);
  }

  // Each reading needs one order byte and one seq byte.
  const nReadings = r.count('readings.count', WireLimits.maxReadings, 2);
  const span = lastSeq - firstSeq + 1;
  if (nReadings > span) r.fail('readings.count', `${nReadings} readings cannot fit the seq range ${firstSeq}..${lastSeq}`);
  if (nSeries > nReadings) r.fail('series.count', `${nSeries} series but only ${nReadings} readings`);
  if (nReadings > 0 && nSeries === 0) r.fail('readings.count', `${nReadings} readings but no series`);
  const order = new Uint32Array(nReadings);
  const counts = new Uint32Array(nSeries);
  for (let i = 0; i < nReadings; i++) {
    const s = r.uvarint('order', nSeries - 1);
    order[i] = s;
    counts[s]++;
  }
  for (let s = 0; s < nSeries; s++) if (counts[s] === 0) r.fail(`series[${s}]`, `${devices[s]}/${points[s]} has no readings`);
  const seqs = new Array<number>(nReadings);
  let seq = firstSeq - 1;
  for (let i = 0; i < nReadings; i++) {
    const at = r.pos;
    seq += r.uvarint('seqs.skip') + 1;
    if (seq > lastSeq) r.fail('seqs.skip', `seq ${seq} of reading ${i} is past lastSeq ${lastSeq}`, at);
    seqs[i] = seq;
  }

  const label = (s: number) => `series[${s}] (${devices[s]}/${points[s]})`;
  const tss: Float64Array[] = [];
  for (let s = 0; s < nSeries; s++) tss.push(readTimestamps(r, counts[s], baseTs, tss, label(s)));
  const values: Float64Array[] = [];
  for (let s = 0; s < nSeries; s++) values.push(readValues(r, counts[s], label(s)));
  const quality: Uint8Array[] = [];
  for (let s = 0; s < nSeries; s++) quality.push(readQuality(r, counts[s], label(s)));

  const nGaps = r.count('gaps.count', WireLimits.maxGaps, 5);
  const gaps: GapRecord[] = [];
  for (let i = 0; i < nGaps; i++) {
    const f = `gaps[${i}]`;
    const device = strings[r.uvarint(`${f}.device`, nStrings - 1)];
    const point = strings[r.uvarint(`${f}.point`, nStrings - 1)];
    const from = r.svarint(`${f}.from`);
    const toAt = r.pos;
    const to = from + r.uvarint(`${f}.span`);
    if (!Number.isSafeInteger(to)) r.fail(`${f}.span`, 'end of the range outside the safe integer range', toAt);
    const nMinutes = r.count(`${f}.minutes.count`, WireLimits.maxReadings, 26);
    const minutes: GapMinute[] = [];
    let prev = from;
    for (let j = 0; j < nMinutes; j++) {
      const at = r.pos;
      const ts = prev + r.svarint(`${f}.minutes[${j}].ts`);
      if (!Number.isSafeInteger(ts) || (j > 0 && ts <= prev)) r.fail(`${f}.minutes[${j}].ts`, 'minutes must be strictly increasing safe integers', at);
      prev = ts;
      const countAt = r.pos;
      const count = r.uvarint(`${f}.minutes[${j}].count`);
      if (count < 1) r.fail(`${f}.minutes[${j}].count`, 'must be at least 1', countAt);
      const min = r.float64(`${f}.minutes[${j}].min`);
      const max = r.float64(`${f}.minutes[${j}].max`);
      const mean = r.float64(`${f}.minutes[${j}].mean`);
      minutes.push({ ts, count, min, max, mean });
    }
    gaps.push({ device, point, from, to, minutes });
  }
  const dictionary = header.dictionary !== undefined ? readDictionarySection(r, header.dictionary, strings, firstSeq, baseTs) : undefined;
  r.expectEnd();

  const series = new Array<SeriesColumns>(nSeries);
  for (let s = 0; s < nSeries; s++) series[s] = { device: devices[s], point: points[s], ts: tss[s], value: values[s], quality: quality[s] };
  return { gateway: header.gateway, firstSeq, lastSeq, series, order, seqs, gaps, ...(dictionary ? { dictionary } : {}) };
}

/** Decodes a telemetry batch and returns every field it read, for docs/wire-protocol.md. */
export function traceTelemetryBatch(bytes: Uint8Array): { header: TraceRow[]; body: TraceRow[]; bodyBytes: Uint8Array; payloadOffset: number } {
  const header: TraceRow[] = [];
  const opened = openBatch(bytes, MessageType.Telemetry, 'telemetry batch', header);
  const body: TraceRow[] = [];
  decodeTelemetryBody(opened.header, opened.body, body);
  return { header, body, bodyBytes: opened.body, payloadOffset: opened.payloadOffset };
}
