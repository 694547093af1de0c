/**
 * What reads of the cold tier keep in memory, per process: decoded frames,
 * blocks as stored and parsed block headers, each keyed by
 * `series:day:version` (a frame adds `:index`). A merge or a trim bumps the
 * block's version, so nothing cached is ever read stale.
 */
import type { BlockColumns, FrameInfo } from '@lifeline/shared';

/** A small LRU sized by bytes (decoded frames, or blocks as stored). */
export class Lru<T> {
  private readonly map = new Map<string, { v: T; bytes: number }>();
  private bytes = 0;
  constructor(private readonly limit: number, private readonly size: (v: T) => number) {}
  get(key: string): T | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.v;
  }
  set(key: string, v: T): void {
    const bytes = this.size(v);
    if (bytes > this.limit) return;
    const old = this.map.get(key);
    if (old) {
      this.map.delete(key);
      this.bytes -= old.bytes;
    }
    this.map.set(key, { v, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.map) {
      if (this.bytes <= this.limit) break;
      this.map.delete(k);
      this.bytes -= e.bytes;
    }
  }
}

/** A block's header, parsed. */
export type BlockHead = { base: number; frames: FrameInfo[] };

/** The caches of the cold reader, sized from one budget. */
export class ColdCache {
  /** Decoded frames, by `series:day:version:frame`. */
  readonly frames: Lru<BlockColumns>;
  /** Blocks as stored: a frame not cached is decoded without fetching its block again. */
  readonly stored: Lru<Uint8Array>;
  /** Parsed block headers. */
  readonly headers: Lru<BlockHead>;

  /** `bytes`: for decoded frames (default 128 MiB); a quarter of it again for blocks as stored, an eighth for headers. */
  constructor(bytes = 128 * 1024 * 1024) {
    this.frames = new Lru<BlockColumns>(bytes, (c) => c.ts.length * 18 + 64);
    this.stored = new Lru<Uint8Array>(bytes / 4, (b) => b.length + 64);
    this.headers = new Lru<BlockHead>(bytes / 8, (h) => h.frames.length * 81 + 64);
  }
}
