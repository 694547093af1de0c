/**
 * `lifeline read` and `lifeline scan` as a person runs them, against the
 * Modbus TCP simulator and, for `--baud auto`, a pty slave that answers at one baud rate only.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, cliSession } from './cli-run.js';
import { loadProfile, SimulatedDevice, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';
import { startBaudAwareSlave } from './peers.js';

const { dir, lifeline, cleanups } = cliSession();

// Each test spawns the CLI (about 1.5 s of CPU to start): allow for a busy machine.
describe('lifeline read and scan against the simulators', { timeout: 90_000 }, () => {
  let sim: TcpSimulator;
  beforeAll(async () => {
    const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1);
    flood.inject({ kind: 'fixed', point: 'water_level', value: 3.217 });
    sim = await startTcpSimulator({ devices: [flood, new SimulatedDevice(loadProfile('water-pressure-station'), 3)] });
    cleanups.push(() => sim.close());
  });

  it('reads a shipped profile by name', async () => {
    const r = await lifeline('read', '--tcp', `127.0.0.1:${sim.port}`, '--unit', '1', '--profile', 'flood-gauge', '--json');
    expect(r.status).toBe(0);
    const level = jsonLines(r.stdout).find((x) => x.point === 'water_level');
    expect(level).toMatchObject({ value: 3.217, unit: 'm' });
  });

  it('refuses bad arguments with exit 2', async () => {
    const [noLink, badUnit] = await Promise.all([
      lifeline('read', '--unit', '1', '--profile', 'flood-gauge'),
      lifeline('read', '--tcp', '127.0.0.1:502', '--unit', '300', '--profile', 'no-such-thing'),
    ]);
    expect(noLink.status).toBe(2);
    expect(noLink.stderr).toMatch(/give exactly one of --tcp, --rtu-over-tcp or --serial/);
    expect(badUnit.status).toBe(2);
    expect(badUnit.stderr).toMatch(/--unit <id>.*300.*0\.\.255/);
  });

  it('scan finds the units that answer over TCP', async () => {
    const r = await lifeline('scan', '--tcp', `127.0.0.1:${sim.port}`, '--units', '1-5', '--timeout', '150');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/unit {3}1 {2}answers/);
    expect(r.stdout).toMatch(/unit {3}3 {2}answers/);
    expect(r.stdout).toContain('2 unit(s) found: 1, 3');
    // Not a terminal: no progress bar noise in the output.
    expect(r.stderr).toBe('');
  });

  it('scan --baud auto tries the common settings until the units answer', async () => {
    // A slave that answers only when the master set 19200 baud on the line, like a real device.
    const path = join(dir, 'ttyAUTO');
    const slave = await startBaudAwareSlave(path, 19200, [4, 6]);
    cleanups.push(slave.stop);
    const r = await lifeline('scan', '--serial', path, '--baud', 'auto', '--units', '3-7', '--timeout', '80', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const found = jsonLines(r.stdout);
    expect(found.map((f) => f.unit)).toEqual([4, 6]);
    // 9600 8N1 and 9600 8E1 were tried first and found nothing; 19200 8N1 did.
    expect(found.every((f) => f.where === `serial ${path} 19200 8N1`)).toBe(true);
    expect(found[0].detail).toBe('holding 0 = 400 (0x0190)');
  });

  it('scan says so when nothing answers, exit 1', async () => {
    const r = await lifeline('scan', '--tcp', `127.0.0.1:${sim.port}`, '--units', '10-12', '--timeout', '100');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^DEVICE_TIMEOUT: no unit answered on tcp 127\.0\.0\.1:\d+ \(units 10\.\.12\); likely cause: /);
  });
});

