/**
 * `lifeline scan` identifies the units that answer Modbus function 43/14 (read device
 * identification): over TCP against the simulator, and over RTU on a pty bus (socat), where
 * the reply's length comes from its objects. A unit that refuses 43 is still found, unnamed.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedDevice, loadProfile, startPtySimulator, startTcpSimulator, type PtySimulator, type TcpSimulator } from '@lifeline/devices';
import { tempDir } from '../../../test/helpers.js';
import { jsonLines, lifeline } from '../field/cli-run.js';

const tmp = tempDir();
let sim: TcpSimulator;
let pty: PtySimulator;

beforeAll(async () => {
  const named = new SimulatedDevice(loadProfile('flood-gauge'), 1, { identification: [{ id: 0, value: 'Jining Hydro' }, { id: 1, value: 'FG-300' }, { id: 2, value: 'V2.31' }, { id: 4, value: 'Flood gauge' }] });
  const mute = new SimulatedDevice(loadProfile('water-pressure-station'), 3, { identification: false });
  sim = await startTcpSimulator({ devices: [named, mute] });
  pty = await startPtySimulator({ path: join(tmp.dir, 'ttyID'), devices: [new SimulatedDevice(loadProfile('flood-gauge'), 2)], baud: 19200, parity: 'none' });
});

afterAll(async () => {
  await sim?.close();
  await pty?.close();
  tmp.cleanup();
});

describe('lifeline scan identifies units (function 43/14)', { timeout: 90_000 }, () => {
  it('names vendor, product code and revision over TCP; a unit refusing 43 is found without them', async () => {
    const r = await lifeline(tmp.dir, 'scan', '--tcp', `127.0.0.1:${sim.port}`, '--units', '1-4', '--no-profiles', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const found = jsonLines(r.stdout) as { unit: number; identification?: Record<string, string> }[];
    expect(found.map((f) => f.unit)).toEqual([1, 3]);
    // Basic objects only (code 01): the product name (object 4) is not asked for.
    expect(found[0].identification).toEqual({ vendor: 'Jining Hydro', 'product code': 'FG-300', revision: 'V2.31' });
    expect(found[1].identification).toBeUndefined();
    const text = await lifeline(tmp.dir, 'scan', '--tcp', `127.0.0.1:${sim.port}`, '--units', '1', '--no-profiles');
    expect(text.stdout).toMatch(/^unit {3}1 {2}answers.*\n {10}identifies as: vendor Jining Hydro, product code FG-300, revision V2\.31\n/);
  });

  it('identifies a unit on an RTU bus (pty), the reply delimited by its objects', async () => {
    const r = await lifeline(tmp.dir, 'scan', '--serial', pty.path, '--baud', '19200', '--parity', 'none', '--units', '1-2', '--timeout', '200', '--no-profiles', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const found = jsonLines(r.stdout) as { unit: number; identification?: Record<string, string> }[];
    expect(found).toHaveLength(1);
    // The simulator's default: the profile's vendor and model.
    expect(found[0]).toMatchObject({ unit: 2, identification: { vendor: 'Generic', 'product code': 'FG-300', revision: 'V1.0' } });
  });
});
