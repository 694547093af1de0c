/**
 * Test helpers for links: an in-memory byte stream with a scripted slave on
 * the far end, so unit tests can split replies, delay them, corrupt them and
 * watch the timing of every request.
 */
import type { ByteStream } from '../../src/links/stream.js';

/** A request as the fake far end saw it. */
export interface SeenWrite {
  /** performance.now() when it was written. */
  at: number;
  bytes: Uint8Array;
}

/** How the far end answers one request: chunks of bytes, each after a delay (ms) from the previous. */
export type Script = { delayMs: number; bytes: Uint8Array }[];

/** An in-memory ByteStream whose far end is a function of each written frame. */
export class FakeStream implements ByteStream {
  readonly where = 'fake stream';
  readonly writes: SeenWrite[] = [];
  /** Set to make open() fail with this message. */
  failOpen: string | null = null;
  opens = 0;
  private onData: ((chunk: Uint8Array) => void) | null = null;
  private onClose: ((reason: string) => void) | null = null;
  private timers = new Set<NodeJS.Timeout>();

  constructor(private readonly answer: (frame: Uint8Array, stream: FakeStream) => Script | null) {}

  open(onData: (chunk: Uint8Array) => void, onClose: (reason: string) => void): Promise<void> {
    this.opens++;
    if (this.failOpen) return Promise.reject(new Error(this.failOpen));
    this.onData = onData;
    this.onClose = onClose;
    return Promise.resolve();
  }

  write(bytes: Uint8Array): void {
    const copy = Uint8Array.from(bytes);
    this.writes.push({ at: performance.now(), bytes: copy });
    const script = this.answer(copy, this);
    if (script) this.play(script);
  }

  /** Send bytes from the far end after the scripted delays. */
  play(script: Script): void {
    let delay = 0;
    for (const step of script) {
      delay += step.delayMs;
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.onData?.(step.bytes);
      }, delay);
      this.timers.add(t);
    }
  }

  /** The far end vanishes (cable cut, adapter unplugged). */
  breakLink(reason = 'EIO'): void {
    const cb = this.onClose;
    this.onData = null;
    this.onClose = null;
    cb?.(reason);
  }

  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.onData = null;
    this.onClose = null;
    return Promise.resolve();
  }
}

/** Split `bytes` into chunks of `size` bytes, `gapMs` apart (the first after `firstMs`). */
export function chunked(bytes: Uint8Array, size: number, gapMs: number, firstMs = 0): Script {
  const out: Script = [];
  for (let i = 0; i < bytes.length; i += size) out.push({ delayMs: i === 0 ? firstMs : gapMs, bytes: bytes.slice(i, i + size) });
  return out;
}
