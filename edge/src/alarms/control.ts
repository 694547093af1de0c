/**
 * The local control channel: how `lifeline alarms ack|shelve|unshelve` reach the
 * running agent. One Unix socket (mode 0600: only the gateway's user), one JSON
 * request and one JSON answer per line.
 *
 *     CLI ──{"op":"ack","id":"flood-1/ponding_depth/threshold","user":"li"}\n──▶ agent
 *     CLI ◀──{"ok":true,"message":"…","alarm":{…}}\n──────────────────────────── agent
 *
 * `{"op":"status"}` answers the agent's whole snapshot (`lifeline status`, agent/status.ts).
 *
 * Why a socket and not the CLI writing to the SQLite file: the agent holds the
 * alarm state in memory and owns the event lane's sequence numbers; a second
 * writer would race both. Listing needs no agent: it reads the file (WAL lets a
 * reader in while the agent writes).
 */
import { chmodSync, closeSync, existsSync, lstatSync, openSync, rmSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { ErrorCodes, LifelineError, isLifelineError } from '@lifeline/shared';
import type { Logger } from '../log.js';

/** A request on the control channel. */
export type ControlRequest =
  | { op: 'list' }
  | { op: 'ack'; id: string; user: string }
  | { op: 'shelve'; id: string; untilTs: number; user: string }
  | { op: 'unshelve'; id: string; user: string }
  | { op: 'outputs' }
  | { op: 'status' }
  | { op: 'test-output'; name: string; forMs: number; user: string };

/** An answer on the control channel. */
export type ControlResponse = { ok: true; message?: string; [k: string]: unknown } | { ok: false; code: string; message: string };

/** Unix socket paths are limited to about 108 bytes. */
const MAX_SOCKET_PATH = 100;

/**
 * The socket path: the configured one, else `lifeline-<gateway>.sock` beside the
 * buffer file, else (path too long, or the buffer's file system read-only) one in the
 * temp directory named after both.
 */
export function controlSocketPath(gateway: string, bufferPath: string, configured?: string): string {
  if (configured) return configured;
  const beside = join(dirname(bufferPath), `lifeline-${gateway}.sock`);
  // On a card the kernel made read-only the agent cannot listen there (nor remove a stale socket): agent and CLI both move.
  if (Buffer.byteLength(beside) <= MAX_SOCKET_PATH && bufferPath !== ':memory:' && !readOnlyDir(dirname(bufferPath))) return beside;
  const h = createHash('sha1').update(bufferPath).digest('hex').slice(0, 10);
  return join(tmpdir(), `lifeline-${gateway.slice(0, 40)}-${h}.sock`);
}

/** Whether a directory's file system refuses every write (EROFS for any user; EACCES and the like are not that). */
function readOnlyDir(dir: string): boolean {
  const probe = join(dir, `.lifeline-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
    rmSync(probe, { force: true });
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/** Serves control requests on a Unix socket. */
export class ControlServer {
  private server?: Server;

  constructor(
    readonly path: string,
    private readonly handle: (req: ControlRequest) => Promise<ControlResponse> | ControlResponse,
    private readonly log?: Logger,
  ) {}

  /** Listens; refuses when another agent already answers on the socket, removes a stale one. */
  async start(): Promise<void> {
    if (existsSync(this.path)) {
      // Only ever remove a stale socket: a file at this path is someone's data, not ours to delete.
      if (!lstatSync(this.path).isSocket()) throw new LifelineError(ErrorCodes.ConfigInvalid, `alarms.controlSocket: ${this.path} exists and is not a socket; the agent will not remove it`);
      const alive = await controlRequest(this.path, { op: 'outputs' }, 1000).then(
        (r) => r !== null,
        () => false,
      );
      if (alive) throw new LifelineError(ErrorCodes.ConfigInvalid, `another agent already answers on ${this.path}: two agents must not share one buffer`);
      unlinkSync(this.path);
    }
    const server = createServer((sock) => {
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('error', () => sock.destroy());
      sock.on('data', (chunk: string) => {
        buf += chunk;
        if (buf.length > 65_536) return sock.destroy();
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = '';
        void this.answer(line).then((res) => sock.end(`${JSON.stringify(res)}\n`));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.path, 0o600);
    this.server = server;
    this.log?.info({ socket: this.path }, 'control channel listening');
  }

  private async answer(line: string): Promise<ControlResponse> {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
      if (typeof req !== 'object' || req === null || typeof req.op !== 'string') throw new Error('not a request object');
    } catch (e) {
      return { ok: false, code: ErrorCodes.RequestInvalid, message: `bad control request: ${(e as Error).message}` };
    }
    try {
      return await this.handle(req);
    } catch (e) {
      if (isLifelineError(e)) return { ok: false, code: e.code, message: e.message.replace(/^[A-Z_]+: /, '') };
      this.log?.error({ err: e, op: req.op }, 'control request failed');
      return { ok: false, code: 'INTERNAL', message: (e as Error).message };
    }
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

/**
 * Sends one request to the agent. Resolves null when no agent listens (no
 * socket, or a stale one); rejects on a timeout or a garbled answer.
 */
export function controlRequest(path: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlResponse | null> {
  return new Promise((resolve, reject) => {
    if (!existsSync(path)) return resolve(null);
    const sock = createConnection(path);
    let buf = '';
    sock.setEncoding('utf8');
    sock.setTimeout(timeoutMs, () => {
      sock.destroy();
      reject(new LifelineError(ErrorCodes.DeviceTimeout, `the agent did not answer on ${path} within ${timeoutMs} ms`));
    });
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (c: string) => (buf += c));
    sock.on('end', () => {
      try {
        resolve(JSON.parse(buf) as ControlResponse);
      } catch {
        reject(new Error(`garbled answer from the agent on ${path}: ${buf.slice(0, 200)}`));
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') resolve(null);
      else reject(e);
    });
  });
}
