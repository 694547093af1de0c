/** A technician's broken gateway.yaml: one message naming every mistake, exit code 2, nothing started. */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';

const cli = resolve(import.meta.dirname, '../../src/cli/main.ts');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function lifeline(...args: string[]) {
  return spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), cli, ...args], { encoding: 'utf8', timeout: 20_000, cwd: tmp.dir });
}

describe('lifeline run with a bad config', () => {
  it('names all three mistakes with path and value, exits 2 and starts nothing', () => {
    const file = join(tmp.dir, 'gateway.yaml');
    writeFileSync(
      file,
      `gateway: { id: gw-1 }
buses:
  - name: lan
    link: tcp
    host: 127.0.0.1
    port: 70000
    devices:
      - { id: flood-1, profile: flood-gauge, unit: 300 }
buffer: { path: edge.db }
sync: { transport: mqtt, url: "http://broker:1883" }
`,
    );
    const r = lifeline('run', '--config', file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('3 error(s)');
    expect(r.stderr).toMatch(/buses\[0\]\.port: .*65535.*got 70000/);
    expect(r.stderr).toMatch(/buses\[0\]\.devices\[0\]\.unit: .*247.*got 300/);
    expect(r.stderr).toMatch(/sync\.url: .*got "http:\/\/broker:1883"/);
    expect(existsSync(join(tmp.dir, 'edge.db'))).toBe(false);
  });

  it('names a missing profile and a duplicate device id together', () => {
    const file = join(tmp.dir, 'gateway2.yaml');
    writeFileSync(
      file,
      `gateway: { id: gw-1 }
buses:
  - name: lan
    link: tcp
    host: 127.0.0.1
    port: 502
    devices:
      - { id: d1, profile: flood-gauge, unit: 1 }
      - { id: d1, profile: no-such-profile, unit: 2 }
detectors:
  points:
    - { device: d1, point: water_level, threshold: { high: { yellow: 3, red: 2 } } }
buffer: { path: edge.db }
sync: { transport: mqtt, url: "mqtt://127.0.0.1:1883" }
`,
    );
    const r = lifeline('check', '--config', file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('buses[0].devices[1].id: duplicate device id "d1"');
    expect(r.stderr).toContain('buses[0].devices[1].profile: no profile "no-such-profile"');
    expect(r.stderr).toContain('detectors.points[0].threshold.high.red: must be above yellow (3) on a rising threshold, got 2');
  });

  it('check lists schema and semantic mistakes in one pass, says what was meant, and adds no follow-on noise', () => {
    const file = join(tmp.dir, 'gateway3.yaml');
    writeFileSync(
      file,
      `gateway: { id: gw-1 }
buses:
  - name: lan
    link: tpc
    host: 127.0.0.1
    port: 502
    devices:
      - { id: d1, profile: flod-gauge, unit: 1 }
      - { id: d1, profile: flood-gauge, unit: 2 }
      - { id: d2, profile: flood-gauge, unit: 3 }
  - name: lan2
    link: tcp
    host: 127.0.0.1
    port: 503
    devices:
      - { id: d3, profile: flood-gauge, unti: 1 }
detectors:
  points:
    - { device: d2, point: water_levle, threshold: { high: { yellow: 3, red: 4 } } }
    - { device: d1, point: water_level, threshold: { high: { yellow: 3, red: 4 } } }
    - { device: d22, point: water_level, threshold: { high: { yellow: 3, red: 4 } } }
alarms: { commLoss: { level: rde } }
buffer: { path: /etc/hostname/buffer.db }
sync: { transport: mqtt, url: "mqtt://127.0.0.1:1883" }
`,
    );
    const r = lifeline('check', '--config', file);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n').slice(1).map((l) => l.trim());
    expect(lines).toEqual([
      'buses[0].link: must be one of tcp, rtu, rtu-over-tcp, meter, meter-over-tcp, sl651-listen, got "tpc" (did you mean "tcp"?)',
      'buses[1].devices[0].unti: is not a known field (did you mean "unit"?), got 1',
      'alarms.commLoss.level: must be one of blue, yellow, orange, red, got "rde" (did you mean "red"?)',
      expect.stringMatching(/^buses\[0\]\.devices\[0\]\.profile: no profile "flod-gauge" \(did you mean "flood-gauge"\?\) \(shipped: .*flood-gauge/),
      'buses[0].devices[1].id: duplicate device id "d1", also at buses[0].devices[0]',
      'detectors.points[0].point: device "d2" has no point "water_levle" (did you mean "water_level"?)',
      'detectors.points[2].point: unknown device "d22" (did you mean "d2"?)',
      `buffer.path: must be inside the data directory ${tmp.dir}, got "/etc/hostname/buffer.db"`,
    ]);
    expect(r.stderr).toContain('has 8 error(s)');
  });

  it('check refuses a buffer under a file or where no directory can be made, instead of crashing or spinning at run', () => {
    const file = join(tmp.dir, 'gateway4.yaml');
    writeFileSync(join(tmp.dir, 'hostname'), 'box\n');
    const cfg = (path: string) => `gateway: { id: gw-1 }
buses: [{ name: lan, link: tcp, host: 127.0.0.1, port: 502, devices: [{ id: d1, profile: flood-gauge, unit: 1 }] }]
buffer: { path: ${path} }
sync: { transport: mqtt, url: "mqtt://127.0.0.1:1883" }
`;
    writeFileSync(file, cfg('hostname/buffer.db'));
    let r = lifeline('check', '--config', file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`buffer.path: ${join(tmp.dir, 'hostname')} is not a directory, got "hostname/buffer.db"`);
    writeFileSync(file, cfg('/proc/nope/buffer.db'));
    r = lifeline('check', '--config', file, '--data-dir', '/');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('buffer.path: cannot create /proc/nope: /proc is not writable, got "/proc/nope/buffer.db"');
    // run refuses it alike (it used to spin in mkdirSync at 75 % CPU)
    r = lifeline('run', '--config', file, '--data-dir', '/');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('buffer.path: cannot create /proc/nope');
  });

  it('prints help listing the commands', () => {
    const r = lifeline('--help');
    expect(r.status).toBe(0);
    // The top-level help lists each command by its summary (its options load with the command).
    expect(r.stdout).toMatch(/^ {2}run +run the gateway agent/m);
    expect(r.stdout).toMatch(/^ {2}check +validate a gateway config/m);
  });

  it('accepts the shipped example config', () => {
    // Its buffer is in the repository's var/ (../../var), the demo's data directory.
    const r = lifeline('check', '--config', resolve(import.meta.dirname, '../../examples/gateway.yaml'), '--data-dir', resolve(import.meta.dirname, '../../..'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ok (gateway gw-demo-1, 3 bus(es), 19 device(s))');
  });
});
