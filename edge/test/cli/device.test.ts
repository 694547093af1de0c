/**
 * `lifeline device list|add|remove|test` as a technician uses it: a hand-written,
 * commented gateway config edited through the real CLI (every other byte kept; a
 * bad edit refused with the loader's error and the file untouched), and `test`
 * reading a TCP simulator whose flood gauge reports a level outside its profile's range.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';
import { tempDir } from '../../../test/helpers.js';
import { jsonLines, lifeline } from '../field/cli-run.js';

const tmp = tempDir();
const file = join(tmp.dir, 'gateway.yaml');
let sim: TcpSimulator;
let original = '';

beforeAll(async () => {
  const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1).inject({ kind: 'fixed', point: 'water_level', value: 45 });
  const water = new SimulatedDevice(loadProfile('water-pressure-station'), 2);
  sim = await startTcpSimulator({ devices: [flood, water] });
  original = `# 洸河路 underpass cabinet
gateway: { id: gw-dev }       # set by lifeline enroll

buses:
  - name: lan                 # the serial server in the cabinet
    link: tcp
    host: 127.0.0.1
    port: ${sim.port}
    timeoutMs: 500
    devices:
      # the gauge at the entrance
      - { id: flood-1, profile: flood-gauge, unit: 1 }   # mounted 2026-11

buffer: { path: edge.db }
sync: { transport: mqtt, url: mqtt://127.0.0.1:1883 }
`;
  writeFileSync(file, original);
});

afterAll(async () => {
  await sim?.close();
  tmp.cleanup();
});

const dev = (...args: string[]) => lifeline(tmp.dir, 'device', ...args, '--config', file);

describe('lifeline device', () => {
  it('adds a device keeping every comment, and lists it', async () => {
    const r = await dev('add', 'water-2', '--bus', 'lan', '--profile', 'water-pressure-station', '--unit', '2', '--name', '洸河路供水管网压力监测点');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('added water-2 (water-pressure-station) to bus lan');
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(
      original.replace(
        '# mounted 2026-11\n',
        '# mounted 2026-11\n      - { id: water-2, profile: water-pressure-station, unit: 2, name: 洸河路供水管网压力监测点 }\n',
      ),
    );
    const list = await dev('list', '--json');
    expect(list.status).toBe(0);
    expect(jsonLines(list.stdout)).toEqual([
      { bus: 'lan', link: 'tcp', id: 'flood-1', profile: 'flood-gauge', unit: 1, address: null, pollMs: expect.any(Number), name: null },
      { bus: 'lan', link: 'tcp', id: 'water-2', profile: 'water-pressure-station', unit: 2, address: null, pollMs: expect.any(Number), name: '洸河路供水管网压力监测点' },
    ]);
    const table = await dev('list');
    expect(table.stdout).toMatch(/^BUS +LINK +DEVICE +PROFILE +UNIT\/ADDRESS +POLL +NAME\nlan +tcp +flood-1 +flood-gauge +1 +\d+ ms/);
  });

  it('refuses an edit the config loader rejects, naming field and value, and leaves the file untouched', async () => {
    const before = readFileSync(file, 'utf8');
    const dup = await dev('add', 'flood-1', '--bus', 'lan', '--profile', 'flood-gauge', '--unit', '3');
    expect(dup.status).toBe(2);
    expect(dup.stderr).toContain('not written');
    expect(dup.stderr).toMatch(/flood-1/);
    const noProfile = await dev('add', 'x-1', '--bus', 'lan', '--profile', 'no-such-gauge', '--unit', '4');
    expect(noProfile.status).toBe(2);
    expect(noProfile.stderr).toMatch(/buses\[0\]\.devices\[2\]\.profile: no profile ".*no-such-gauge/);
    const noBus = await dev('add', 'x-2', '--bus', 'cellar', '--profile', 'flood-gauge', '--unit', '4');
    expect(noBus.status).toBe(2);
    expect(noBus.stderr).toContain('--bus: no bus named "cellar" in the config; it has lan');
    const badUnit = await dev('add', 'x-3', '--bus', 'lan', '--profile', 'flood-gauge', '--unit', '300');
    expect(badUnit.status).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('test reads every point once and flags a value outside the profile range (exit 1)', async () => {
    const r = await dev('test', 'flood-1');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^flood-1 \(flood-gauge\) on bus lan:\nPOINT +VALUE +UNIT +RANGE +CHECK\n/);
    expect(r.stdout).toMatch(/water_level +45 +m +0\.\.30 +outside range 0\.\.30/);
    expect(r.stdout).toMatch(/rainfall +[\d.]+ +mm +0\.\.200 +ok/);
    expect(r.stderr).toMatch(/flood-1: 1 of \d+ point\(s\) flagged: water_level outside range 0\.\.30/);
    const ok = await dev('test', 'water-2', '--json');
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const rows = jsonLines(ok.stdout);
    expect(rows.length).toBe(loadProfile('water-pressure-station').points.length);
    for (const row of rows) expect(row.flag).toBe('');
    const unknown = await dev('test', 'nope-1');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no device "nope-1"');
  }, 60_000);

  it('removes a device with the comment above it, keeping the rest byte for byte', async () => {
    const r = await dev('remove', 'flood-1');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(
      original.replace('      # the gauge at the entrance\n      - { id: flood-1, profile: flood-gauge, unit: 1 }   # mounted 2026-11\n', '      - { id: water-2, profile: water-pressure-station, unit: 2, name: 洸河路供水管网压力监测点 }\n'),
    );
    // The last device of a bus cannot go: the loader wants one at least.
    const last = await dev('remove', 'water-2');
    expect(last.status).toBe(2);
    expect(last.stderr).toContain('buses[0].devices: water-2 is the only device on bus "lan" and a bus needs one at least; add its replacement first');
    expect(readFileSync(file, 'utf8')).toContain('id: water-2');
  });
});
