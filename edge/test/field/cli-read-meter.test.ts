/**
 * `lifeline read` on meters as a person runs it (a spawned process): a DL/T 645
 * lamp-post meter on a byte-timed pty bus, a CJ/T 188 heat meter through a TCP
 * serial server, a meter that refuses and an address nobody answers.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfile, SimulatedDevice, startPtySimulator, startSerialServerSimulator } from '@lifeline/devices';
import { jsonLines, cliSession } from './cli-run.js';
import { requireTools } from './peers.js';

const { dir, lifeline, cleanups } = cliSession();

function meter(profile: string, address: string, values: Record<string, number>): SimulatedDevice {
  const d = new SimulatedDevice(loadProfile(profile), 1, { address });
  for (const [point, value] of Object.entries(values)) d.inject({ kind: 'fixed', point, value });
  return d;
}

// Each test spawns the CLI (about 1.5 s of CPU to start): allow for a busy machine.
describe('lifeline read, meters', { timeout: 90_000 }, () => {
  let pty = '';
  let refusing: SimulatedDevice;
  let tcpPort = 0;
  beforeAll(async () => {
    requireTools('socat');
    pty = join(dir, 'ttyUSB0');
    const lamp = meter('lamp-post-meter', '000102030425', { active_energy: 1206.42, voltage: 228.4, current: 0.682, power: 148.3, power_factor: 0.962, frequency: 49.98 });
    refusing = meter('lamp-post-meter', '000000000017', {});
    refusing.inject({ kind: 'exception', code: 0x02 });
    const sim = await startPtySimulator({ devices: [lamp, refusing], path: pty, baud: 2400, parity: 'even' });
    cleanups.push(() => sim.close());

    // A transparent serial server in front of a heat meter's bus.
    const heat = meter('heat-meter', '20250001000003', { heat_energy: 12500.57, heat_power: 4.25, flow_rate: 0.1234, supply_temperature: 55.37, return_temperature: 40.05 });
    const server = await startSerialServerSimulator({ devices: [heat], baud: 2400, parity: 'even' });
    tcpPort = server.port;
    cleanups.push(() => server.close());
  });

  it('reads a DL/T 645 lamp-post meter on a serial pty as a table: value, unit, raw bytes', async () => {
    const r = await lifeline('read', '--serial', pty, '--baud', '2400', '--parity', 'even', '--address', '000102030425', '--profile', 'lamp-post-meter');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^point\s+value\s+unit\s+raw$/);
    expect(lines).toContainEqual(expect.stringMatching(/^active_energy\s+1206\.42\s+kWh\s+42 06 12 00$/));
    expect(lines).toContainEqual(expect.stringMatching(/^voltage\s+228\.4\s+V\s+84 22$/));
    expect(lines).toContainEqual(expect.stringMatching(/^power\s+148\.3\s+W\s+83 14 00$/));
    expect(lines).toHaveLength(2 + 6);
  });

  it('reads the same meter as one JSON object per point (baud and parity from the profile)', async () => {
    const r = await lifeline('read', '--serial', pty, '--address', '000102030425', '--profile', 'lamp-post-meter', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = jsonLines(r.stdout);
    expect(Object.fromEntries(rows.map((x) => [x.point, x.value]))).toEqual({ active_energy: 1206.42, voltage: 228.4, current: 0.682, power: 148.3, power_factor: 0.962, frequency: 49.98 });
    expect(rows.find((x) => x.point === 'current')).toEqual({ point: 'current', value: 0.682, unit: 'A', raw: '82 06 00', di: '02020100' });
  });

  it('reads a CJ/T 188 heat meter through a TCP serial server', async () => {
    const r = await lifeline('read', '--tcp', `127.0.0.1:${tcpPort}`, '--address', '20250001000003', '--profile', 'heat-meter', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = jsonLines(r.stdout);
    expect(rows.map((x) => x.point)).toEqual(loadProfile('heat-meter').points.map((p) => p.name));
    expect(rows.find((x) => x.point === 'flow_rate')).toEqual({ point: 'flow_rate', value: 0.1234, unit: 'm3/h', raw: '34 12 00 00 35', field: 'flowRate' });
    expect(rows.find((x) => x.point === 'supply_temperature')).toMatchObject({ value: 55.37, unit: '°C', raw: '37 55 00' });
    expect(rows.find((x) => x.point === 'heat_power')).toMatchObject({ value: 4.25, unit: 'kW' });
  });

  it('a meter that refuses every read: each point shown refused, one line on stderr, exit 1', async () => {
    const r = await lifeline('read', '--serial', pty, '--address', '000000000017', '--profile', 'lamp-post-meter');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/voltage\s+refused\s+V\s+error reply 0x02: no requested data/);
    const err = r.stderr.trim().split('\n');
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^DEVICE_EXCEPTION: 6 of 6 point\(s\) not read: meter 000000000017: error reply 0x02: no requested data; likely cause: the meter refused the read/);
    expect(refusing.served).toBeGreaterThanOrEqual(6);
  });

  it('an address nobody answers: one line saying what, where and the likely cause, exit 1', async () => {
    const r = await lifeline('read', '--serial', pty, '--address', '000000000099', '--profile', 'lamp-post-meter', '--timeout', '200');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^DEVICE_TIMEOUT: meter 000000000099 read 00010000 \\(forward active energy total\\): no reply within 200 ms on serial ${pty} 2400 8E1; likely cause: wrong meter address, baud rate or parity`),
    );
  });

  it('bad arguments exit 2 naming the option', async () => {
    const short = await lifeline('read', '--serial', pty, '--address', '1234', '--profile', 'lamp-post-meter');
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/--address: a dlt645 meter has a 12-digit address \(AA pairs are wildcards\), got "1234"/);
    const unit = await lifeline('read', '--serial', pty, '--unit', '3', '--profile', 'lamp-post-meter');
    expect(unit.status).toBe(2);
    expect(unit.stderr).toMatch(/--address: profile lamp-post-meter is a dlt645 meter: give its address, not --unit/);
  });
});
