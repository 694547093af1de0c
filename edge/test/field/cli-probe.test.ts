/**
 * `lifeline probe` as a technician runs it on an RS-485 bus (a byte-timed pty
 * simulator) in front of a device whose vendor mixed byte orders: for every
 * register, the value read off the display names the profile's type, order and scale.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedDevice, isModbusProfile, loadProfile, startPtySimulator } from '@lifeline/devices';
import { tempDir } from '../../../test/helpers.js';
import { lifeline as run } from './cli-run.js';
import { main } from '../../src/cli/main.js';
import { requireTools } from './peers.js';

const tmp = tempDir();
const lifeline = (...args: string[]) => run(tmp.dir, ...args);
const profile = loadProfile(resolve(import.meta.dirname, 'fixtures/mixed-orders.yaml'));
const shown: Record<string, string> = {
  level_abcd: '123.456',
  level_cdab: '7.25',
  level_badc: '-0.875',
  level_dcba: '4021.5',
  volume_abcd: '305419896',
  volume_cdab: '2882400018',
  volume_badc: '16909060',
  volume_dcba: '3735928559',
  air_temperature: '-40.5',
  water_level: '3.217',
  flow: '12.34',
};
let close: () => Promise<void>;

/** `lifeline ...args` through main() in this process, its console output captured. */
async function probeHere(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const status = await main(['node', 'lifeline', ...args]);
    return { status, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}
let bus = '';

beforeAll(async () => {
  requireTools('socat');
  const dev = new SimulatedDevice(profile, 7);
  dev.refreshMs = Number.POSITIVE_INFINITY; // hold what the "display" shows
  for (const [name, v] of Object.entries(shown)) dev.write(dev.point(name)!, Number(v));
  bus = join(tmp.dir, 'ttyMixed');
  const sim = await startPtySimulator({ devices: [dev], path: bus, baud: 19200, parity: 'even' });
  close = () => sim.close();
});
afterAll(async () => {
  await close?.();
  tmp.cleanup();
});

describe('lifeline probe on a mixed-order device', { timeout: 180_000 }, () => {
  it('names the type, byte order and scale of every register from the value on the display', async () => {
    if (!isModbusProfile(profile)) throw new Error('mixed-orders.yaml is a Modbus profile');
    for (const point of profile.points) {
      // In this process (main, as bin/lifeline runs it): eleven spawned CLIs cost minutes on a loaded machine.
      const r = await probeHere(
        'probe', '--serial', bus, '--baud', '19200', '--unit', '7', '--register', String(point.address),
        ...(point.table === 'input' ? ['--table', 'input'] : []), '--expect', shown[point.name], '--json',
      );
      expect(r.stderr, point.name).toBe('');
      expect(r.status, point.name).toBe(0);
      const out = JSON.parse(r.stdout) as { matches: { type: string; order?: string; scale: number }[]; registers: number[] };
      const best = out.matches[0];
      expect({ point: point.name, order: best.order, scale: best.scale }).toEqual({
        point: point.name,
        order: point.type.endsWith('32') ? (point.order ?? 'ABCD') : undefined,
        scale: point.scale ?? 1,
      });
      // 32-bit unsigned values above 2^31 are not int32s; below, int32 and uint32 read alike.
      if (point.type === 'float32' || point.type.endsWith('16')) expect(best.type, point.name).toBe(point.type);
      else expect(['int32', 'uint32'], point.name).toContain(best.type);
    }
  });

  it('shows every reading side by side as a table, and says so when nothing matches (exit 1)', async () => {
    const table = await lifeline('probe', '--serial', bus, '--baud', '19200', '--unit', '7', '--register', '2');
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^unit 7 holding 2\.\.3: 0x[0-9A-F]{4} 0x[0-9A-F]{4}$/m);
    expect(table.stdout).toMatch(/^register\s+type\s+ABCD\s+CDAB\s+BADC\s+DCBA$/m);
    expect(table.stdout).toMatch(/^2\s+float32\s+\S+\s+7\.25\s/m);
    const none = await lifeline('probe', '--serial', bus, '--baud', '19200', '--unit', '7', '--register', '0', '--expect', '99999.999');
    expect(none.status).toBe(1);
    expect(none.stdout).toMatch(/no match for 99999\.999/);
    expect(none.stderr).toMatch(/no type, byte order and scale gives 99999\.999 from holding 0: check the address/);
  });
});
