/** Helpers for integration tests that run real processes and services. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
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
/**
 * Sequence numbers per lane for committing straight to a store: `next(lane, n)` returns the
 * first of the next n numbers of that lane (1, 2, …), e.g. a gateway's telemetry and `gw/events`.
 */
export function seqLanes(): (lane: string, n: number) => number {
  const last = new Map<string, number>();
  return (lane, n) => {
    const first = (last.get(lane) ?? 0) + 1;
    last.set(lane, first + n - 1);
    return first;
  };
}

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
      reject(new Error(`${name} is not reachable at ${host}:${port} (${why}); 'pnpm test' starts it when it may, else prints the command (README, "Tests")`));
    };
    s.once('timeout', () => fail('timeout'));
    s.once('error', (e) => fail(e.message));
  });
}

/** A free TCP port on 127.0.0.1 (free when asked; bind it soon). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * A Mosquitto of the test's own on a free port (the machine's mosquitto binary):
 * no other test's subscribers, and a queue deep enough for a slow subscriber
 * (the default max_queued_messages, 1000, silently drops). `extra` adds config lines.
 * Benches use it too.
 */
export async function startMosquitto(extra = '', maxQueued = 100_000): Promise<{ port: number; url: string; stop: () => Promise<void> }> {
  const tmp = tempDir('lifeline-mosquitto-');
  const port = await freePort();
  const conf = join(tmp.dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages ${maxQueued}\npersistence false\n${extra}`);
  const broker = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => broker.once('exit', () => r()));
  const stop = async () => {
    if (broker.exitCode === null) broker.kill('SIGTERM');
    await exited;
    tmp.cleanup();
  };
  try {
    await waitFor(() => requireService('mosquitto (started by this test)', '127.0.0.1', port).then(() => true), 5000, 'mosquitto to listen');
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, url: `mqtt://127.0.0.1:${port}`, stop };
}
