/**
 * The processes and plumbing of `pnpm chaos` (chaos.ts): its log line, cleanup of children at
 * an abrupt end, free ports, the TCP proxy that partitions the network, and Mosquitto.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';

/** One line of the run's narrative on stderr. */
export const say = (msg: string) => console.error(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}`);
/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Synchronous cleanups for an abrupt end (an uncaught error still fires 'exit'): children by pid, the lab by name. */
export const atExit = new Set<() => void>();
process.on('exit', () => {
  for (const f of atExit) {
    try {
      f();
    } catch {
      /* best effort */
    }
  }
});
/** Kills `p` with SIGKILL if this process ends first. */
export const killAtExit = (p: ChildProcess) => {
  const f = () => p.exitCode === null && p.signalCode === null && p.kill('SIGKILL');
  atExit.add(f);
  p.once('exit', () => atExit.delete(f));
};

/** A free TCP port on 127.0.0.1 (free when asked). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Resolves once something listens on host:port; throws after `ms`. */
export async function waitPort(port: number, host = '127.0.0.1', ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, host);
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port}`);
    await sleep(50);
  }
}

/** A TCP proxy the script controls: `cut()` drops every connection and refuses new ones. */
export class TcpProxy {
  private server?: Server;
  private sockets = new Set<Socket>();
  private isCut = false;
  constructor(readonly port: number, private readonly target: number) {}
  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.isCut) return client.destroy();
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }
  cut(): void {
    this.isCut = true;
    for (const s of this.sockets) s.destroy();
  }
  heal(): void {
    this.isCut = false;
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server?.close(r));
  }
}

/** A Mosquitto of the run's own (its config written by the caller), killed -9 to restart it. */
export class Mosquitto {
  private proc?: ChildProcess;
  constructor(private readonly conf: string, readonly host: string, readonly port: number) {}
  async start(): Promise<void> {
    this.proc = spawn('mosquitto', ['-c', this.conf], { stdio: 'ignore' });
    killAtExit(this.proc);
    await waitPort(this.port, this.host);
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}
