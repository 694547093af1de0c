/**
 * Blocks as the cold tier stores them: blob conversions both drivers need and
 * node:zlib's raw deflate and inflate (the cloud's choice; shared defaults to
 * fflate, browser-safe, several times slower).
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
// The block codec alone (not the package's index): the encoder thread loads this module, and fast (sql-cold-encoder.ts).
import { decodeBlock, encodeBlock, type BlockColumns } from '@lifeline/shared/block';

export const DAY = 86_400_000;

/** One series' merged readings of a range, time-ordered. */
export interface RawRows {
  ts: number[];
  /** NaN: no value. */
  values: number[];
}

export const inflate = (b: Uint8Array): Uint8Array => inflateRawSync(b);
const deflate = (b: Uint8Array): Uint8Array => deflateRawSync(b, { level: 6, strategy: constants.Z_DEFAULT_STRATEGY });

/** A block of the readings, as the cold tier writes it. */
export const encode = (cols: BlockColumns): Uint8Array => encodeBlock(cols, deflate);

/** A blob column as bytes (better-sqlite3 and pg give Buffers, which are Uint8Arrays). */
export function toBytes(v: Uint8Array): Uint8Array {
  return v instanceof Uint8Array ? v : new Uint8Array(v);
}

/** A blob parameter: Buffer for both drivers (pg sends it as bytea). */
export function blobParam(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Every reading of a block. */
export const decodeAll = (block: Uint8Array): BlockColumns => decodeBlock(block, -Infinity, Infinity, inflate);
