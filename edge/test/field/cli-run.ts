/** Run the `lifeline` CLI as a person does: a spawned process, stdout, stderr and exit code. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll } from 'vitest';
import { tempDir } from '../../../test/helpers.js';

const cli = resolve(import.meta.dirname, '../../src/cli/main.ts');

/** Run `lifeline ...args` in `cwd` without blocking the event loop (simulators may live in the test process). */
export function lifeline(cwd: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), cli, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 40_000);
    p.on('close', (status) => {
      clearTimeout(timer);
      res({ status, stdout, stderr });
    });
  });
}

/** One JSON object per line. */
export const jsonLines = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * A test file's CLI session: a temp directory, `lifeline(...args)` run in it, and cleanups
 * (simulators, links) undone in reverse order after all its tests, then the directory removed.
 */
export function cliSession(): { dir: string; lifeline: (...args: string[]) => ReturnType<typeof lifeline>; cleanups: (() => Promise<void> | void)[] } {
  const tmp = tempDir();
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    tmp.cleanup();
  });
  return { dir: tmp.dir, lifeline: (...args: string[]) => lifeline(tmp.dir, ...args), cleanups };
}
