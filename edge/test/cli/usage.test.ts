/**
 * What a technician meets when a command line is wrong or ends: errors point at the
 * command's own help, a repeated single option is refused, simulate's hint is a
 * command that works, Ctrl-C ends cleanly (exit 0), logs are readable on a terminal.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { logFormat } from '../../src/log.js';
import { lifeline as run } from '../field/cli-run.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const lifeline = (...args: string[]) => run(tmp.dir, ...args);
const cli = resolve(import.meta.dirname, '../../src/cli/main.ts');

describe('lifeline usage errors and exits', { timeout: 90_000 }, () => {
  it('refuses a second --profile instead of silently taking one, pointing at read --help', async () => {
    const r = await lifeline('read', '--tcp', '127.0.0.1:1', '--unit', '1', '--profile', 'flood-gauge', '--profile', 'gas-detector');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--profile given twice \("flood-gauge" and "gas-detector"\)/);
    expect(r.stderr).toMatch(/\(run "lifeline read --help" for usage\)/);
  });

  it("points a nested command's error at that command's help", async () => {
    const r = await lifeline('alarms', 'ack');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/missing required argument 'id'/);
    expect(r.stderr).toMatch(/\(run "lifeline alarms ack --help" for usage\)/);
  });

  it('lists every command in the top-level help and prints the version', async () => {
    const [help, version] = await Promise.all([lifeline('--help'), lifeline('--version')]);
    expect(help.status).toBe(0);
    for (const c of ['run', 'check', 'read', 'probe', 'scan', 'decode', 'simulate', 'alarms', 'service', 'enroll']) expect(help.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('simulate --rtu-over-tcp hints a read that works, and Ctrl-C ends it with exit 0', async () => {
    const sim = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), cli, 'simulate', '--profile', 'flood-gauge', '--tcp', '0', '--rtu-over-tcp'], { cwd: tmp.dir });
    let out = '';
    sim.stdout.on('data', (d: Buffer) => (out += d.toString()));
    sim.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((r) => sim.on('exit', (code) => r(code)));
    const hint = await new Promise<string>((res, rej) => {
      const t = setInterval(() => {
        const m = /read it with: pnpm lifeline (read .*)/.exec(out);
        if (m) {
          clearInterval(t);
          res(m[1]);
        }
      }, 50);
      void exit.then(() => rej(new Error(`simulate exited: ${out}`)));
    });
    expect(hint).toMatch(/^read --rtu-over-tcp 127\.0\.0\.1:\d+ --unit 1 --profile flood-gauge$/);
    const r = await lifeline(...hint.split(' '));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^point\s+value/);
    sim.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(out).toMatch(/stopped; [1-9]\d* request\(s\) served\./);
  });
});

describe('agent log format', () => {
  it('is pretty on a terminal, JSON lines otherwise; LOG_FORMAT overrides', () => {
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'PRETTY' }, false)).toBe('pretty');
  });

  it('writes a pretty record as a person reads it, and a JSON one whose level is the log level', async () => {
    const code = (format: string) =>
      `import('${resolve(import.meta.dirname, '../../src/log.ts')}').then(({ createLogger }) => createLogger('edge', 'info', '${format}').info({ alarm: 'a/b', alarmLevel: 2 }, 'alarm transition'))`;
    const out = (format: string) =>
      new Promise<string>((res) => {
        const p = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '-e', code(format)]);
        let s = '';
        p.stdout.on('data', (d: Buffer) => (s += d.toString()));
        p.on('close', () => res(s));
      });
    const [colour, json] = await Promise.all([out('pretty'), out('json')]);
    const pretty = colour.replace(/\x1b\[[0-9;]*m/g, '');
    expect(pretty).toMatch(/INFO.*\(edge\): alarm transition/);
    expect(pretty).toMatch(/alarm: "a\/b"/);
    expect(JSON.parse(json)).toMatchObject({ level: 30, name: 'edge', msg: 'alarm transition', alarmLevel: 2 });
  });
});
