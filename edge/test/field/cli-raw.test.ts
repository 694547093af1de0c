/**
 * `lifeline write` and `lifeline read --raw` as a technician uses them without a
 * profile (like mbpoll), against a simulated lamp post controller over Modbus TCP.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';
import { tempDir, waitFor } from '../../../test/helpers.js';
import { lifeline as run } from './cli-run.js';

const tmp = tempDir();
const lifeline = (...args: string[]) => run(tmp.dir, ...args);
let sim: TcpSimulator;
let lamp: SimulatedDevice;
beforeAll(async () => {
  lamp = new SimulatedDevice(loadProfile('lamp-post-controller'), 4);
  lamp.refreshMs = Number.POSITIVE_INFINITY; // registers hold what is written
  sim = await startTcpSimulator({ devices: [lamp] });
});
afterAll(async () => {
  await sim?.close();
  tmp.cleanup();
});

describe('raw reads and writes', { timeout: 90_000 }, () => {
  it('writes a holding register (FC6) and a coil (FC5), and reads them back raw', async () => {
    const tcp = `127.0.0.1:${sim.port}`;
    const w = await lifeline('write', '--tcp', tcp, '--unit', '4', '--register', '0', '50');
    expect(w.stderr).toBe('');
    expect(w.stdout.trim()).toBe('unit 4: wrote holding 0 = 50 (FC6)');
    const c = await lifeline('write', '--tcp', tcp, '--unit', '4', '--coil', '0', 'on');
    expect(c.stdout.trim()).toBe('unit 4: wrote coil 0 = on (FC5)');
    const [reg, coil] = await Promise.all([
      lifeline('read', '--raw', '--tcp', tcp, '--unit', '4', '--register', '0'),
      lifeline('read', '--raw', '--tcp', tcp, '--unit', '4', '--register', '0', '--table', 'coil', '--json'),
    ]);
    expect(reg.status).toBe(0);
    expect(reg.stdout).toMatch(/^\[0\]: 50 {2}\(0x0032, int16 50\)$/m);
    expect(JSON.parse(coil.stdout)).toMatchObject({ unit: 4, table: 'coil', address: 0, values: [1] });
  });

  it('refuses bad values and mixed options with exit 2, naming them', async () => {
    const tcp = `127.0.0.1:${sim.port}`;
    const [big, both, profile] = await Promise.all([
      lifeline('write', '--tcp', tcp, '--unit', '4', '--register', '0', '70000'),
      lifeline('write', '--tcp', tcp, '--unit', '4', '--register', '0', '--coil', '0', '1'),
      lifeline('read', '--raw', '--tcp', tcp, '--unit', '4', '--register', '0', '--profile', 'lamp-post-controller'),
    ]);
    expect(big.status).toBe(2);
    expect(big.stderr).toMatch(/value "70000": a register holds 0\.\.65535/);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/exactly one of --register <address> or --coil <address>/);
    expect(profile.status).toBe(2);
    expect(profile.stderr).toMatch(/--raw takes --unit and --register \(and no --profile\)/);
  });

  it('polls until Ctrl-C, then exits 0', async () => {
    const p = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), resolve(import.meta.dirname, '../../src/cli/main.ts'),
      'read', '--raw', '--tcp', `127.0.0.1:${sim.port}`, '--unit', '4', '--register', '0', '--count', '1', '--poll', '200', '--json'], { cwd: tmp.dir });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    await waitFor(() => out.trim().split('\n').length >= 3, 60_000, 'three polls');
    p.kill('SIGINT');
    expect(await exit).toBe(0);
    const reads = out.trim().split('\n').map((l) => JSON.parse(l) as { at: string; values: number[] });
    expect(reads.every((r) => r.values.length === 1)).toBe(true);
    expect(Date.parse(reads[2].at) - Date.parse(reads[0].at)).toBeGreaterThanOrEqual(390);
  });
});
