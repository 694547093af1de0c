/** Helpers for integration tests that run real processes and services. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(fn: () => Promise<T> | T, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'lifeline-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A logger that only speaks up on errors (set LOG_LEVEL=debug to see more). */
export const testLog = pino({ level: process.env.LOG_LEVEL ?? 'error' });

/**
 * Resolves if something listens on host:port. A test that needs a machine
 * service calls this first: the service missing is a failure, never a skip.
 */
export function requireService(name: string, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host, port });
    s.setTimeout(2000);
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    const fail = (why: string) => {
      s.destroy();
      reject(new Error(`${name} is not reachable at ${host}:${port} (${why}); start it (see README, "Services") and run again`));
    };
    s.once('timeout', () => fail('timeout'));
    s.once('error', (e) => fail(e.message));
  });
}
