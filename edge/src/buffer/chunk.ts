/**
 * The chunk codec: a chunk row holds one append's readings in four columns
 * (ts f64 | value f64 | series u32 | quality u8 = 21 bytes a reading) rather
 * than a row per reading: SQLite's per-row cost is what limits a
 * row-per-reading buffer, and a chunk keeps the seq range contiguous.
 * Thinning may add explicit seqs (holes) and gap aggregates. Pure functions over bytes.
 */

/** Bytes a reading takes in a chunk blob. */
export const CHUNK_BYTES_PER_READING = 21;

/** A row of the chunks table. */
export type ChunkRow = { first_seq: number; last_seq: number; n: number; ts_min: number | null; ts_max: number | null; data: Buffer; seqs: Buffer | null; gaps: string | null; gapdata: Buffer | null };
/** The head of a chunk row (no blobs): enough to cut ranges. */
export type ChunkHead = { first_seq: number; last_seq: number; n: number; holes: number };
/** Gap metadata in a chunk row; the minutes are in `gapdata`, 5 f64 each (ts, count, min, max, mean). */
export type GapMeta = { series: number; from: number; to: number; minutes: number };

/** A decoded chunk. */
export interface Chunk {
  first: number;
  last: number;
  n: number;
  ts: Float64Array;
  value: Float64Array;
  series: Uint32Array;
  quality: Uint8Array;
  /** Explicit seqs when thinning left holes; else seq i = first + i. */
  seqs: Float64Array | null;
  gaps: { meta: GapMeta; minutes: Float64Array }[];
}

function aligned(buf: Buffer): ArrayBuffer {
  // better-sqlite3 hands out Buffers at any offset; typed views need an 8-byte boundary.
  if (buf.byteOffset % 8 === 0) return buf.buffer as ArrayBuffer;
  return new Uint8Array(buf).buffer;
}

/** The four column views of a fresh chunk of `n` readings, written straight into the blob's memory. */
export function chunkColumns(n: number): { blob: ArrayBuffer; ts: Float64Array; value: Float64Array; series: Uint32Array; quality: Uint8Array } {
  const blob = new ArrayBuffer(n * CHUNK_BYTES_PER_READING);
  return {
    blob,
    ts: new Float64Array(blob, 0, n),
    value: new Float64Array(blob, 8 * n, n),
    series: new Uint32Array(blob, 16 * n, n),
    quality: new Uint8Array(blob, 20 * n, n),
  };
}

/** Encodes columns into one blob: ts | value | series | quality. */
export function packChunk(ts: Float64Array, value: Float64Array, series: Uint32Array, quality: Uint8Array, n: number): Buffer {
  const c = chunkColumns(n);
  c.ts.set(n === ts.length ? ts : ts.subarray(0, n));
  c.value.set(n === value.length ? value : value.subarray(0, n));
  c.series.set(n === series.length ? series : series.subarray(0, n));
  c.quality.set(n === quality.length ? quality : quality.subarray(0, n));
  return Buffer.from(c.blob);
}

/** Decodes a chunk row into typed views (no copy when the blob is aligned). */
export function unpackChunk(r: ChunkRow): Chunk {
  const n = r.n;
  const ab = aligned(r.data);
  const off = r.data.byteOffset % 8 === 0 ? r.data.byteOffset : 0;
  const chunk: Chunk = {
    first: r.first_seq,
    last: r.last_seq,
    n,
    ts: new Float64Array(ab, off, n),
    value: new Float64Array(ab, off + 8 * n, n),
    series: new Uint32Array(ab, off + 16 * n, n),
    quality: new Uint8Array(ab, off + 20 * n, n),
    seqs: null,
    gaps: [],
  };
  if (r.seqs) {
    const sab = aligned(r.seqs);
    chunk.seqs = new Float64Array(sab, r.seqs.byteOffset % 8 === 0 ? r.seqs.byteOffset : 0, n);
  }
  if (r.gaps && r.gapdata) {
    const metas = JSON.parse(r.gaps) as GapMeta[];
    const gab = aligned(r.gapdata);
    let off2 = r.gapdata.byteOffset % 8 === 0 ? r.gapdata.byteOffset : 0;
    for (const meta of metas) {
      chunk.gaps.push({ meta, minutes: new Float64Array(gab, off2, meta.minutes * 5) });
      off2 += meta.minutes * 40;
    }
  }
  return chunk;
}
