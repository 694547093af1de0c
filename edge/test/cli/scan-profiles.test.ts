/**
 * `lifeline scan` proposes profiles: each unit found is read with every shipped
 * Modbus profile's plan, and the profiles whose every read answers within range
 * are named, most points first. Against the TCP simulator serving two device types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';
import { tempDir } from '../../../test/helpers.js';
import { jsonLines, lifeline } from '../field/cli-run.js';

const tmp = tempDir();
let sim: TcpSimulator;

beforeAll(async () => {
  sim = await startTcpSimulator({ devices: [new SimulatedDevice(loadProfile('flood-gauge'), 1), new SimulatedDevice(loadProfile('water-pressure-station'), 3)] });
});

afterAll(async () => {
  await sim?.close();
  tmp.cleanup();
});

describe('lifeline scan proposes profiles', () => {
  it('names the profile each unit reads within range, best first; --no-profiles skips it', async () => {
    const r = await lifeline(tmp.dir, 'scan', '--tcp', `127.0.0.1:${sim.port}`, '--units', '1-4', '--json');
    expect(r.status).toBe(0);
    const found = jsonLines(r.stdout) as { unit: number; profiles?: string[] }[];
    expect(found.map((f) => f.unit)).toEqual([1, 3]);
    expect(found[0].profiles?.[0]).toBe('flood-gauge');
    expect(found[1].profiles?.[0]).toBe('water-pressure-station');
    expect(found[0].profiles).not.toContain('water-pressure-station');
    const text = await lifeline(tmp.dir, 'scan', '--tcp', `127.0.0.1:${sim.port}`, '--units', '1');
    expect(text.stdout).toMatch(/^unit {3}1 {2}answers.*\n {10}identifies as: .*\n {10}profiles that read within range: flood-gauge/);
    const none = await lifeline(tmp.dir, 'scan', '--tcp', `127.0.0.1:${sim.port}`, '--units', '1', '--no-profiles', '--json');
    expect(jsonLines(none.stdout)[0].profiles).toBeUndefined();
  }, 90_000);
});
