/**
 * `lifeline read` as a person runs it (a spawned process) against pymodbus, a
 * slave we did not write, over Modbus TCP and over RTU on a socat pty pair.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { jsonLines, lifeline as run } from './cli-run.js';
import { freePort, startPtyPair, startPymodbus, type Child } from './peers.js';

const tmp = tempDir();
const lifeline = (...args: string[]) => run(tmp.dir, ...args);
const fixture = (f: string) => resolve(import.meta.dirname, 'fixtures', f);
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  tmp.cleanup();
});

// Each test spawns the CLI (about 1.5 s of CPU to start): allow for a busy machine.
describe('lifeline read against pymodbus', { timeout: 90_000 }, () => {
  let tcpPort = 0;
  let ptyA = '';
  beforeAll(async () => {
    tcpPort = await freePort();
    const tcp = await startPymodbus(['tcp', String(tcpPort)]);
    cleanups.push(tcp.stop);
    ptyA = join(tmp.dir, 'ttyA');
    const b = join(tmp.dir, 'ttyB');
    const pair: Child = await startPtyPair(ptyA, b);
    cleanups.push(pair.stop);
    // pyserial cannot set parity on a pty, so this bus runs 8N1.
    const rtu = await startPymodbus(['rtu', b, '19200', 'N']);
    cleanups.unshift(rtu.stop); // stop the slave before its pty pair
  });

  const expected = {
    abcd_level: 123.456,
    cdab_level: 123.456,
    badc_level: 123.456,
    dcba_level: 123.456,
    offset_level: -1234,
    total_volume: 305419896,
    water_level: 3.217,
    air_temperature: -40.5,
    pump_state: 1,
    valve_state: 0,
    door_state: 1,
  };

  it('reads 32-bit floats in all four byte orders, integers and bits over Modbus TCP, as a table', async () => {
    const r = await lifeline('read', '--tcp', `127.0.0.1:${tcpPort}`, '--unit', '1', '--profile', fixture('pymodbus-map.yaml'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^point\s+value\s+unit\s+raw$/);
    expect(lines).toContainEqual(expect.stringMatching(/^abcd_level\s+123\.456\s+m\s+0x42F6 0xE979$/));
    expect(lines).toContainEqual(expect.stringMatching(/^cdab_level\s+123\.456\s+m\s+0xE979 0x42F6$/));
    expect(lines).toContainEqual(expect.stringMatching(/^badc_level\s+123\.456\s+m\s+0xF642 0x79E9$/));
    expect(lines).toContainEqual(expect.stringMatching(/^dcba_level\s+123\.456\s+m\s+0x79E9 0xF642$/));
    expect(lines).toContainEqual(expect.stringMatching(/^water_level\s+3\.217\s+m\s+0x0C91$/));
    expect(lines).toHaveLength(2 + Object.keys(expected).length);
  });

  it('reads the same map over RTU on a serial pty, one JSON object per point', async () => {
    const r = await lifeline('read', '--serial', ptyA, '--baud', '19200', '--parity', 'none', '--unit', '2', '--profile', fixture('pymodbus-map.yaml'), '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = jsonLines(r.stdout);
    expect(Object.fromEntries(rows.map((x) => [x.point, x.value]))).toEqual(expected);
    expect(rows.find((x) => x.point === 'total_volume')).toMatchObject({ unit: 'm3', raw: [0x1234, 0x5678], table: 'holding', address: 9, type: 'uint32' });
  });

  it('shows the points a device refuses (exception 02) and exits 1 naming the cause', async () => {
    const r = await lifeline('read', '--tcp', `127.0.0.1:${tcpPort}`, '--unit', '1', '--profile', fixture('pymodbus-missing.yaml'));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/water_level\s+3\.217\s+m\s+0x0C91/);
    expect(r.stdout).toMatch(/rain_depth\s+refused\s+mm\s+exception 0x02 illegal data address/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/1 of 2 point\(s\) not read: unit 1 read holding registers 40\.\.40 on tcp 127\.0\.0\.1:\d+: .*likely cause: the device has no such registers/);
  });

  it('a unit that does not answer: one line saying what, where and the likely cause, exit 1', async () => {
    const r = await lifeline('read', '--serial', ptyA, '--baud', '19200', '--parity', 'none', '--unit', '7', '--profile', fixture('pymodbus-map.yaml'), '--timeout', '200');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^DEVICE_TIMEOUT: unit 7 read (coils|discrete inputs|holding registers|input registers) \\d+\\.\\.\\d+: no reply within 200 ms on serial ${ptyA} 19200 8N1; likely cause: wrong unit id, baud rate or parity`),
    );
  });
});

