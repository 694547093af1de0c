/**
 * Cold-storage blocks: one series' readings of one day (or any span), in
 * frames that decode on their own, so a query reads only the frames it needs.
 * The columns reuse the wire's codecs (columns.ts): timestamps regular /
 * delta-of-delta, values decimal-delta or XOR (Gorilla-style), quality
 * run-length; values that are all float32 (registers read as IEEE-754
 * singles) may instead go as deltas of their 32-bit patterns, whichever is
 * smaller. Version 2 adds bit-packed columns (packed.ts): timestamps as offsets
 * from a regular grid, values as integers packed per 64; each frame is stored
 * in whichever of three forms is smallest, deflated or not. Version 3 (the
 * bytes of version 2 but for the packed value column) packs runs up to 45 bits
 * wide, decimals a few ulps off m / 10^k with per-value corrections, and runs
 * whose few wide values are patched in apart (packed.ts).
 *
 *   encodeBlock(ts[], values[], quality[])
 *     ─▶ frames of ≤ FRAME_READINGS readings
 *          ─▶ body = timestamps · null runs · values of the non-null readings · quality runs, the smallest of
 *               A wire timestamps + wire values, deflated   B grid timestamps + wire values, deflated
 *               C grid (or wire) timestamps + packed values, not deflated (decodes without inflate)
 *     ─▶ [version 3][base ts][n frames] [per frame: n, first ts, last ts, flags (1: deflated), body length, CRC-32] [bodies]
 *
 * Version 1 blocks (every frame deflated, wire timestamps with no mode byte of
 * their own) and version 2 blocks stay readable: blocks already stored are never
 * rewritten for this.
 *
 * `inflate` and `deflate` are fflate's by default (browser-safe); the cloud passes
 * node:zlib's raw ones, the same DEFLATE format and several times faster.
 *
 * Exactly reversible: timestamps are integers (epoch ms), every non-NaN double
 * comes back bit for bit (−0, ±Infinity, subnormals: the decimal modes keep
 * what they cannot scale as raw float64 exceptions, XOR keeps all 64 bits).
 * NaN means "no value" (the store keeps NULL for it): it comes back as NaN
 * (the canonical one; the store never holds a NaN payload to lose).
 */
import { deflateSync, inflateSync } from 'fflate';
import { ByteReader, ByteWriter, svarintLength } from './bytes.js';
import { crc32 } from './crc32.js';
import { MAX_QUALITY_CODE, planValues, readRunsInto, readTimestamps, readValues, writeQuality, writeTimestamps, writeValues, type ValuePlan } from './columns.js';
import { MAX_WIDTH_V3, readGridTimestamps, writeGridTimestamps } from './bits.js';
import { f32FromKey, f32Key, packableV3, readPackedValues, writePackedValues } from './packed.js';

/** Format version of a block (its first byte). */
export const BLOCK_VERSION = 3;
/** Versions this code reads. */
const READABLE = new Set([1, 2, 3]);
/** Most readings in one frame (ten minutes at 1 s): small enough to decode alone, large enough to deflate well. */
export const FRAME_READINGS = 600;

/** One series' readings as columns; NaN in `values` is a reading without a value. */
export interface BlockColumns {
  /** Epoch ms, non-decreasing, safe integers. */
  ts: Float64Array;
  values: Float64Array;
  /** Quality per reading, 0..3 (the store's Quality: 0 good, 1 uncertain, 2 bad). */
  quality: Uint16Array;
}

/** Where one frame lies, from the block's header alone. */
export interface FrameInfo {
  n: number;
  firstTs: number;
  lastTs: number;
  /** Offset and length of the deflated body inside the block. */
  offset: number;
  length: number;
  /** CRC-32 of the body as stored. */
  crc: number;
  /** Whether the body is deflated (always, in version 1). */
  deflated: boolean;
  /** The block's format version. */
  version: number;
}

/** How a frame's values are written (its value column's first byte). */
export enum BlockValueMode {
  /** The wire's value codec (columns.ts: decimal or XOR), its own mode byte next. */
  Wire = 0,
  /**
   * Every value is a float32 (a register read as IEEE-754 single): zigzag deltas of the
   * values' 32-bit patterns, mapped so that their order is the numbers' order.
   */
  Float32 = 1,
  /** Integers bit-packed per 64 (packed.ts; version 2). */
  Packed = 2,
}

/** How a frame's timestamps are written (version 2: the body's first byte). */
export enum BlockTimeMode {
  /** The wire's timestamp codec (columns.ts). */
  Wire = 0,
  /** Offsets from first + i·period, bit-packed (packed.ts). */
  Grid = 1,
}

/** Writes the non-null values of a frame with whichever of the two modes is smaller before deflate. */
function writeBlockValues(w: ByteWriter, values: number[], plan: ValuePlan): void {
  let f32Cost = values.length ? 1 : Infinity;
  let prev = 0;
  for (let i = 0; i < values.length && f32Cost < plan.cost; i++) {
    const v = values[i];
    if (Math.fround(v) !== v) {
      f32Cost = Infinity; // not a float32 (NaN never gets here: it is a null)
      break;
    }
    const k = f32Key(v);
    f32Cost += svarintLength(k - prev);
    prev = k;
  }
  if (f32Cost < plan.cost) {
    w.byte(BlockValueMode.Float32);
    prev = 0;
    for (const v of values) {
      const k = f32Key(v);
      w.svarint(k - prev);
      prev = k;
    }
    return;
  }
  w.byte(BlockValueMode.Wire);
  writeValues(w, values, plan);
}

/** Reads a frame's `n` non-null values; packed ones only as far as lo..hi−1 needs (see readPackedValues). */
function readBlockValues(r: ByteReader, n: number, lo: number, hi: number, version: number): Float64Array {
  const at = r.pos;
  const mode = r.byte('frame.values.blockMode');
  if (mode === BlockValueMode.Wire) return readValues(r, n, 'frame');
  if (mode === BlockValueMode.Packed) return readPackedValues(r, n, 'frame', lo, hi, version);
  if (mode !== BlockValueMode.Float32) r.fail('frame.values.blockMode', `unknown mode ${mode}`, at);
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    k += r.svarint('frame.values.f32');
    if (k < -0x80000000 || k > 0x7fffffff) r.fail('frame.values.f32', `value ${i} is not a 32-bit pattern`);
    out[i] = f32FromKey(k);
  }
  return out;
}

/** DEFLATE (raw) of a frame body: fflate's by default. */
export type Deflate = (body: Uint8Array) => Uint8Array;
const fflateDeflate: Deflate = (b) => deflateSync(b, { level: 6 });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One frame's body in the smallest of its forms. */
function encodeFrame(cols: BlockColumns, from: number, to: number, base: number, deflate: Deflate): { body: Uint8Array; deflated: boolean } {
  const ts = cols.ts.subarray(from, to);
  const tw = new ByteWriter(2 * (to - from) + 32);
  tw.byte(BlockTimeMode.Wire);
  writeTimestamps(tw, ts, base, -1);
  const wireTs = tw.finish();
  const gw = new ByteWriter(to - from + 32);
  gw.byte(BlockTimeMode.Grid);
  const gridTs = writeGridTimestamps(gw, ts, base) ? gw.finish() : undefined;
  const isNull = new Uint8Array(to - from);
  const present: number[] = [];
  for (let i = from; i < to; i++) {
    const v = cols.values[i];
    if (v !== v) isNull[i - from] = 1;
    else present.push(v);
  }
  const nw = new ByteWriter(16);
  writeQuality(nw, isNull); // run-length, as the wire's quality column
  const nulls = nw.finish();
  const qw = new ByteWriter(16);
  writeQuality(qw, cols.quality.subarray(from, to));
  const quality = qw.finish();
  const plan = planValues(present);
  const vw = new ByteWriter(4 * present.length + 16);
  writeBlockValues(vw, present, plan);
  const wireValues = vw.finish();
  const bestTs = gridTs && gridTs.length < wireTs.length ? gridTs : wireTs;
  let best: { body: Uint8Array; deflated: boolean } = { body: deflate(concat([bestTs, nulls, wireValues, quality])), deflated: true };
  if (gridTs && bestTs !== gridTs) {
    const b = deflate(concat([gridTs, nulls, wireValues, quality]));
    if (b.length < best.body.length) best = { body: b, deflated: true };
  } else if (gridTs) {
    const a = deflate(concat([wireTs, nulls, wireValues, quality]));
    if (a.length < best.body.length) best = { body: a, deflated: true };
  }
  for (const ints of packableV3(present, plan)) {
    const pw = new ByteWriter(6 * present.length + 16);
    pw.byte(BlockValueMode.Packed);
    if (writePackedValues(pw, ints, MAX_WIDTH_V3)) {
      const c = concat([bestTs, nulls, pw.finish(), quality]);
      if (c.length <= best.body.length) best = { body: c, deflated: false };
    }
  }
  return best;
}

/** Encodes one series' readings (sorted by time) into a block (the current version). */
export function encodeBlock(cols: BlockColumns, deflate: Deflate = fflateDeflate): Uint8Array {
  const n = cols.ts.length;
  if (cols.values.length !== n || cols.quality.length !== n) throw new RangeError(`block: columns differ in length (${n}, ${cols.values.length}, ${cols.quality.length})`);
  for (let i = 0; i < n; i++) if (cols.quality[i] > MAX_QUALITY_CODE) throw new RangeError(`block: quality[${i}]: must be 0..${MAX_QUALITY_CODE}, got ${cols.quality[i]}`);
  const base = n ? cols.ts[0] : 0;
  const frames: { n: number; first: number; last: number; body: Uint8Array; deflated: boolean }[] = [];
  for (let from = 0; from < n; from += FRAME_READINGS) {
    const to = Math.min(n, from + FRAME_READINGS);
    frames.push({ n: to - from, first: cols.ts[from], last: cols.ts[to - 1], ...encodeFrame(cols, from, to, base, deflate) });
  }
  const w = new ByteWriter(64 + frames.reduce((a, f) => a + f.body.length + 16, 0));
  w.byte(BLOCK_VERSION);
  w.svarint(base);
  w.uvarint(frames.length);
  for (const f of frames) {
    w.uvarint(f.n);
    w.svarint(f.first - base);
    w.uvarint(f.last - f.first);
    w.byte(f.deflated ? 1 : 0);
    w.uvarint(f.body.length);
    w.u32(crc32(f.body));
  }
  for (const f of frames) w.bytes(f.body);
  return w.finish();
}

/** The frames of a block, from its header (no body is inflated). Throws PAYLOAD_INVALID on a damaged header. */
export function blockFrames(block: Uint8Array): { base: number; frames: FrameInfo[] } {
  const r = new ByteReader(block, 'cold block');
  const version = r.byte('version');
  if (!READABLE.has(version)) r.fail('version', `unknown block version ${version}`, 0);
  const base = r.svarint('base');
  const count = r.count('frames', block.length, 4);
  const heads: Omit<FrameInfo, 'offset'>[] = [];
  for (let i = 0; i < count; i++) {
    const n = r.uvarint(`frames[${i}].n`, FRAME_READINGS);
    if (n < 1) r.fail(`frames[${i}].n`, 'a frame holds at least one reading');
    const firstTs = base + r.svarint(`frames[${i}].first`);
    const lastTs = firstTs + r.uvarint(`frames[${i}].span`);
    let deflated = true;
    if (version >= 2) {
      const at = r.pos;
      const flags = r.byte(`frames[${i}].flags`);
      if (flags > 1) r.fail(`frames[${i}].flags`, `unknown flags 0x${flags.toString(16)}`, at);
      deflated = flags === 1;
    }
    heads.push({ n, firstTs, lastTs, deflated, version, length: r.uvarint(`frames[${i}].length`, block.length), crc: r.u32(`frames[${i}].crc`) });
  }
  let offset = r.pos;
  const frames = heads.map((h) => {
    const f = { ...h, offset };
    offset += h.length;
    return f;
  });
  if (offset !== block.length) r.fail('frames', `bodies take ${offset - r.pos} bytes, the block has ${block.length - r.pos} after its header`);
  return { base, frames };
}

let nullScratch = new Uint16Array(FRAME_READINGS);

/**
 * Decodes one frame's readings, or only those in [from, to]: a frame stored bit-packed then
 * decodes only the runs of values they lie in (everything is still checked but those values).
 */
export function decodeFrame(
  block: Uint8Array,
  base: number,
  f: FrameInfo,
  inflate: (b: Uint8Array) => Uint8Array = inflateSync,
  from = -Infinity,
  to = Infinity,
): BlockColumns {
  let body = block.subarray(f.offset, f.offset + f.length);
  if (crc32(body) !== f.crc) new ByteReader(block, 'cold block').fail('frame', 'CRC-32 mismatch: the block is damaged', f.offset);
  if (f.deflated) {
    try {
      body = inflate(body);
    } catch (err) {
      return new ByteReader(block, 'cold block').fail('frame', `does not inflate: ${(err as Error).message}`, f.offset);
    }
  }
  const r = new ByteReader(body, 'cold block frame');
  let ts: Float64Array;
  if (f.version === 1) ts = readTimestamps(r, f.n, base, [], 'frame');
  else {
    const mode = r.byte('frame.timestamps.blockMode');
    if (mode === BlockTimeMode.Wire) ts = readTimestamps(r, f.n, base, [], 'frame');
    else if (mode === BlockTimeMode.Grid) ts = readGridTimestamps(r, f.n, base, 'frame');
    else return r.fail('frame.timestamps.blockMode', `unknown mode ${mode}`, 0);
  }
  if (ts[0] !== f.firstTs || ts[f.n - 1] !== f.lastTs) r.fail('frame.timestamps', `span ${ts[0]}..${ts[f.n - 1]} differs from the header's ${f.firstTs}..${f.lastTs}`);
  // The readings wanted: a..b−1; of the non-null values, pa..pb−1.
  const a = from <= ts[0] ? 0 : firstAtOrAfter(ts, from);
  const b = to >= ts[f.n - 1] ? f.n : firstAtOrAfter(ts, to + 1);
  // Null runs and quality runs are read for readings a..b−1 alone (no array of the frame's n).
  if (nullScratch.length < b - a) nullScratch = new Uint16Array(b - a);
  const isNull = nullScratch.subarray(0, b - a).fill(0); // scratch: decoding is synchronous and isNull stays here
  const nulls = readRunsInto(r, f.n, 'frame.nulls', a, b, isNull);
  const present = f.n - nulls.total;
  const pa = a - nulls.before;
  const pb = b - nulls.before - nulls.inside;
  const packed = readBlockValues(r, present, pa, pb, f.version);
  // No null among the frame's readings, all wanted (a cold read's usual case): the values are the packed column.
  let values = packed;
  if (nulls.total || a || b !== f.n) {
    values = new Float64Array(b - a);
    for (let i = 0, j = pa; i < b - a; i++) values[i] = isNull[i] ? NaN : packed[j++];
  }
  const quality = new Uint16Array(b - a);
  readRunsInto(r, f.n, 'frame', a, b, quality);
  if (r.remaining()) r.fail('frame', `${r.remaining()} bytes left over`);
  return { ts: a === 0 && b === f.n ? ts : ts.slice(a, b), values, quality };
}

/** The first index whose timestamp is ≥ t (ts sorted), or ts.length. */
export function firstAtOrAfter(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Decodes the frames of a block that may hold readings in [from, to] (all by default), concatenated. */
export function decodeBlock(block: Uint8Array, from = -Infinity, to = Infinity, inflate: (b: Uint8Array) => Uint8Array = inflateSync): BlockColumns {
  const { base, frames } = blockFrames(block);
  const parts = frames.filter((f) => f.lastTs >= from && f.firstTs <= to).map((f) => decodeFrame(block, base, f, inflate));
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((a, p) => a + p.ts.length, 0);
  const out: BlockColumns = { ts: new Float64Array(n), values: new Float64Array(n), quality: new Uint16Array(n) };
  let at = 0;
  for (const p of parts) {
    out.ts.set(p.ts, at);
    out.values.set(p.values, at);
    out.quality.set(p.quality, at);
    at += p.ts.length;
  }
  return out;
}
