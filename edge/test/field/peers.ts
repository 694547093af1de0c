/**
 * Real peers for the field tests: pymodbus (a slave we did not write) over TCP
 * or over a socat pty pair, and the project's own simulators. A missing
 * socat or python3-pymodbus fails the test that needs it, never skips it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const PYTHON = '/usr/bin/python3';
const SLAVE = resolve(import.meta.dirname, 'fixtures/pymodbus_slave.py');
const BAUD_AWARE = resolve(import.meta.dirname, 'fixtures/baud_aware_slave.py');

/** Throws naming the Debian package when socat or pymodbus is missing. */
export function requireTools(...tools: ('socat' | 'pymodbus')[]): void {
  for (const t of tools) {
    const ok =
      t === 'socat'
        ? spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0
        : existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import pymodbus'], { stdio: 'ignore' }).status === 0;
    if (!ok) throw new Error(`${t === 'socat' ? 'socat' : 'python3-pymodbus'} is not installed; run: apt-get install -y ${t === 'socat' ? 'socat' : 'python3-pymodbus'} ('pnpm test' installs it when it may)`);
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** A child process we started, stopped by its pid. */
export interface Child {
  proc: ChildProcess;
  stop(): Promise<void>;
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((res) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return res();
      proc.once('exit', () => res());
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 2000).unref();
    });
}

/** Start the pymodbus slave (fixtures/pymodbus_slave.py) and wait for its "ready". */
export function startPymodbus(args: string[]): Promise<Child> {
  requireTools('pymodbus');
  return startPython(SLAVE, args, 'pymodbus slave');
}

/** A slave on a pty at `path` that answers `units` only when the master set `baud` (fixtures/baud_aware_slave.py). */
export function startBaudAwareSlave(path: string, baud: number, units: number[]): Promise<Child> {
  return startPython(BAUD_AWARE, [path, String(baud), ...units.map(String)], 'baud-aware slave');
}

async function startPython(script: string, args: string[], what: string): Promise<Child> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing; apt-get install -y python3`);
  const proc = spawn(PYTHON, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${what} did not start within 10 s: ${err}`)), 10_000);
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        res();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${what} exited with ${code}: ${err}`));
    });
  });
  return { proc, stop: stopper(proc) };
}

/** A socat pty pair: two linked ptys at `a` and `b`. */
export async function startPtyPair(a: string, b: string): Promise<Child> {
  requireTools('socat');
  const proc = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  while (!(existsSync(a) && existsSync(b))) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`socat did not create ${a} and ${b}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { proc, stop: stopper(proc) };
}
