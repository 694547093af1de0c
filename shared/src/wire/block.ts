/**
 * Cold-storage blocks: one series' readings of one day (or any span), in
 * frames that decode on their own, so a query reads only the frames it needs.
 * The columns reuse the wire's codecs (columns.ts): timestamps regular /
 * delta-of-delta, values decimal-delta or XOR (Gorilla-style), quality
 * run-length; values that are all float32 (registers read as IEEE-754
 * singles) may instead go as deltas of their 32-bit patterns, whichever is
 * smaller. Each frame's body is then deflated.
 *
 *   encodeBlock(ts[], values[], quality[])
 *     ─▶ frames of ≤ FRAME_READINGS readings, split where time allows
 *          ─▶ body = timestamps · null runs · values of the non-null readings · quality runs ─▶ deflate
 *     ─▶ [version][base ts][n frames] [per frame: n, first ts, last ts, body length, CRC-32] [bodies]
 *
 * `inflate` is fflate's by default (browser-safe); the cloud passes node:zlib's
 * raw inflate, the same DEFLATE format and several times faster on small frames.
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
import { MAX_QUALITY_CODE, planValues, readQuality, readTimestamps, readValues, writeQuality, writeTimestamps, writeValues } from './columns.js';

/** Format version of a block (its first byte). */
export const BLOCK_VERSION = 1;
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
  /** CRC-32 of the deflated body. */
  crc: number;
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
}

const f32 = new DataView(new ArrayBuffer(4));
/** A float32 value's bits as an integer in the numbers' order (negative floats below positive ones). */
function f32Key(v: number): number {
  f32.setFloat32(0, v);
  const b = f32.getInt32(0);
  return b < 0 ? -(b & 0x7fffffff) - 1 : b;
}
function f32FromKey(k: number): number {
  f32.setInt32(0, k < 0 ? (-(k + 1) | 0x80000000) : k);
  return f32.getFloat32(0);
}

/** Writes the non-null values of a frame with whichever of the two modes is smaller before deflate. */
function writeBlockValues(w: ByteWriter, values: number[]): void {
  const plan = planValues(values);
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

function readBlockValues(r: ByteReader, n: number): Float64Array {
  const at = r.pos;
  const mode = r.byte('frame.values.blockMode');
  if (mode === BlockValueMode.Wire) return readValues(r, n, 'frame');
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

/** Encodes one series' readings (sorted by time) into a block. */
export function encodeBlock(cols: BlockColumns): Uint8Array {
  const n = cols.ts.length;
  if (cols.values.length !== n || cols.quality.length !== n) throw new RangeError(`block: columns differ in length (${n}, ${cols.values.length}, ${cols.quality.length})`);
  for (let i = 0; i < n; i++) if (cols.quality[i] > MAX_QUALITY_CODE) throw new RangeError(`block: quality[${i}]: must be 0..${MAX_QUALITY_CODE}, got ${cols.quality[i]}`);
  const base = n ? cols.ts[0] : 0;
  const frames: { n: number; first: number; last: number; body: Uint8Array }[] = [];
  for (let from = 0; from < n; from += FRAME_READINGS) {
    const to = Math.min(n, from + FRAME_READINGS);
    const w = new ByteWriter(4 * (to - from) + 64);
    writeTimestamps(w, cols.ts.subarray(from, to), base, -1);
    const isNull = new Uint8Array(to - from);
    const present: number[] = [];
    for (let i = from; i < to; i++) {
      const v = cols.values[i];
      if (v !== v) isNull[i - from] = 1;
      else present.push(v);
    }
    writeQuality(w, isNull); // run-length, as the wire's quality column
    writeBlockValues(w, present);
    writeQuality(w, cols.quality.subarray(from, to));
    frames.push({ n: to - from, first: cols.ts[from], last: cols.ts[to - 1], body: deflateSync(w.finish(), { level: 6 }) });
  }
  const w = new ByteWriter(64 + frames.reduce((a, f) => a + f.body.length + 16, 0));
  w.byte(BLOCK_VERSION);
  w.svarint(base);
  w.uvarint(frames.length);
  for (const f of frames) {
    w.uvarint(f.n);
    w.svarint(f.first - base);
    w.uvarint(f.last - f.first);
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
  if (version !== BLOCK_VERSION) r.fail('version', `unknown block version ${version}`, 0);
  const base = r.svarint('base');
  const count = r.count('frames', block.length, 4);
  const heads: Omit<FrameInfo, 'offset'>[] = [];
  for (let i = 0; i < count; i++) {
    const n = r.uvarint(`frames[${i}].n`, FRAME_READINGS);
    if (n < 1) r.fail(`frames[${i}].n`, 'a frame holds at least one reading');
    const firstTs = base + r.svarint(`frames[${i}].first`);
    const lastTs = firstTs + r.uvarint(`frames[${i}].span`);
    heads.push({ n, firstTs, lastTs, length: r.uvarint(`frames[${i}].length`, block.length), crc: r.u32(`frames[${i}].crc`) });
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

/** Decodes one frame's readings. */
export function decodeFrame(block: Uint8Array, base: number, f: FrameInfo, inflate: (b: Uint8Array) => Uint8Array = inflateSync): BlockColumns {
  let body: Uint8Array;
  const deflated = block.subarray(f.offset, f.offset + f.length);
  if (crc32(deflated) !== f.crc) new ByteReader(block, 'cold block').fail('frame', 'CRC-32 mismatch: the block is damaged', f.offset);
  try {
    body = inflate(deflated);
  } catch (err) {
    return new ByteReader(block, 'cold block').fail('frame', `does not inflate: ${(err as Error).message}`, f.offset);
  }
  const r = new ByteReader(body, 'cold block frame');
  const ts = readTimestamps(r, f.n, base, [], 'frame');
  const isNull = readQuality(r, f.n, 'frame.nulls');
  let present = 0;
  for (let i = 0; i < f.n; i++) if (!isNull[i]) present++;
  const packed = readBlockValues(r, present);
  const values = new Float64Array(f.n);
  for (let i = 0, j = 0; i < f.n; i++) values[i] = isNull[i] ? NaN : packed[j++];
  const quality = Uint16Array.from(readQuality(r, f.n, 'frame'));
  if (r.remaining()) r.fail('frame', `${r.remaining()} bytes left over`);
  if (ts[0] !== f.firstTs || ts[f.n - 1] !== f.lastTs) r.fail('frame.timestamps', `span ${ts[0]}..${ts[f.n - 1]} differs from the header's ${f.firstTs}..${f.lastTs}`);
  return { ts, values, quality };
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
