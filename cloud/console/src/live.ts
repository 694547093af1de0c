/**
 * The live stream (GET /api/v1/live, Server-Sent Events) read with fetch, so
 * the token goes in the Authorization header (EventSource cannot send one).
 *
 *   fetch ─▶ ReadableStream ─▶ TextDecoder ─▶ split on blank lines ─▶ onEvent(name, JSON)
 *     └─ closed or failed ─▶ status 'down' ─▶ retry after 1 s, 2 s, … 15 s ─▶ onReconnect (refetch what was missed)
 */
import { authHeader } from './api.js';

export type LiveStatus = 'connecting' | 'connected' | 'down';

export interface LiveHandlers {
  onEvent(name: string, data: any): void;
  onStatus(s: LiveStatus): void;
  /** After a reconnect: whatever happened meanwhile was not seen. */
  onReconnect(): void;
}

/** Parses SSE text: complete events are handed over, the unfinished tail returned. */
export function parseSse(buffer: string, emit: (name: string, data: string) => void): string {
  let at: number;
  while ((at = buffer.indexOf('\n\n')) >= 0) {
    const block = buffer.slice(0, at);
    buffer = buffer.slice(at + 2);
    let name = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) emit(name, data.join('\n'));
  }
  return buffer;
}

/** Reads the stream until `stop()`; reconnects by itself. */
export function connectLive(h: LiveHandlers): { stop(): void } {
  let stopped = false;
  let abort: AbortController | null = null;
  let attempt = 0;
  const run = async () => {
    while (!stopped) {
      h.onStatus('connecting');
      abort = new AbortController();
      try {
        const res = await fetch('/api/v1/live', { headers: { ...authHeader(), accept: 'text/event-stream' }, signal: abort.signal });
        if (!res.ok || !res.body) throw new Error(`live: ${res.status}`);
        h.onStatus('connected');
        if (attempt > 0) h.onReconnect();
        attempt = 0;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf = parseSse(buf + value.replace(/\r\n/g, '\n'), (name, data) => {
            try {
              h.onEvent(name, JSON.parse(data));
            } catch {
              /* one bad message never stops the stream */
            }
          });
        }
      } catch {
        /* closed, refused or aborted: retried below */
      }
      if (stopped) return;
      h.onStatus('down');
      attempt++;
      await new Promise((r) => setTimeout(r, Math.min(15_000, 1000 * attempt)));
    }
  };
  void run();
  return {
    stop() {
      stopped = true;
      abort?.abort();
    },
  };
}
