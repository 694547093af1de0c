/**
 * `lifeline service`: the unit it writes (checked by systemd's own `systemd-analyze
 * verify`), and a clear refusal where systemd is not running.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { lifeline as run } from '../field/cli-run.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const lifeline = (...args: string[]) => run(tmp.dir, ...args);

describe('lifeline service', { timeout: 90_000 }, () => {
  const exec = join(tmp.dir, 'opt/lifeline/bin/lifeline');
  const config = join(tmp.dir, 'etc/lifeline/gateway.yaml');
  mkdirSync(join(tmp.dir, 'opt/lifeline/bin'), { recursive: true });
  mkdirSync(join(tmp.dir, 'etc/lifeline'), { recursive: true });
  writeFileSync(exec, '#!/bin/sh\nexit 0\n');
  chmodSync(exec, 0o755);
  /** A config polling `devices` flood gauges every `pollMs`. */
  const site = (devices: number, pollMs: number) =>
    `gateway: { id: gw-1 }\nbuses:\n  - name: lan\n    link: tcp\n    host: 127.0.0.1\n    port: 5020\n    devices:\n${Array.from({ length: devices }, (_, i) => `      - { id: flood-${i + 1}, profile: flood-gauge, unit: ${i + 1}, pollMs: ${pollMs} }\n`).join('')}buffer: { path: /var/lib/lifeline/edge.db }\nsync: { transport: mqtt, url: 'mqtt://127.0.0.1:1883' }\n`;
  writeFileSync(config, site(2, 1000));

  it('prints a Type=notify unit with a watchdog, a dialout user, its state directory, journald and hardening', async () => {
    const r = await lifeline('service', 'install', '--print', '--exec', exec, '--config', config, '--group', 'gpio', '--watchdog-seconds', '20');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const unit = r.stdout;
    for (const line of [
      'Type=notify',
      'NotifyAccess=all',
      `ExecStart=${exec} run --config ${config} --data-dir /var/lib/lifeline`,
      'User=lifeline',
      'SupplementaryGroups=dialout gpio',
      'StateDirectory=lifeline',
      'Restart=on-failure',
      'WatchdogSec=20',
      'StandardOutput=journal',
      'Environment=LOG_FORMAT=json',
      'Environment=MALLOC_ARENA_MAX=2',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      `ReadWritePaths=/var/lib/lifeline ${join(tmp.dir, 'etc/lifeline')}`,
      'WantedBy=multi-user.target',
    ]) {
      expect(unit.split('\n'), line).toContain(line);
    }
    // What the agent needs stays open: sysfs GPIO and the serial devices.
    expect(unit).not.toMatch(/^ProtectKernelTunables=yes/m);
    expect(unit).not.toMatch(/^PrivateDevices=yes/m);

    const unitDir = join(tmp.dir, 'units');
    mkdirSync(unitDir);
    writeFileSync(join(unitDir, 'lifeline.service'), unit);
    const v = spawnSync('systemd-analyze', ['verify', join(unitDir, 'lifeline.service')], { encoding: 'utf8' });
    if (v.error) throw new Error(`systemd-analyze is missing (apt-get install systemd): ${v.error.message}`);
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
  });

  it('sizes the node flags from the config: --lite-mode for a small site, the optimising compiler for a large one (issue #18)', async () => {
    const small = await lifeline('service', 'install', '--print', '--exec', exec, '--config', config);
    expect(small.stderr).toBe('');
    expect(small.stdout.split('\n')).toContain('Environment=LIFELINE_NODE_FLAGS=--lite-mode');
    const large = join(tmp.dir, 'etc/lifeline/large.yaml');
    // 100 flood gauges polled every 100 ms: thousands of points a second.
    writeFileSync(large, site(100, 100));
    const r = await lifeline('service', 'install', '--print', '--exec', exec, '--config', large);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/LIFELINE_NODE_FLAGS/);
    expect(r.stdout.split('\n')).toContain('Environment=MALLOC_ARENA_MAX=2');
  });

  it('refuses a config with a mistake before printing or installing anything', async () => {
    const bad = join(tmp.dir, 'etc/lifeline/bad.yaml');
    writeFileSync(bad, 'gateway: { id: gw-1 }\nbuses: []\nbuffer: { path: /var/lib/lifeline/edge.db }\n');
    const r = await lifeline('service', 'install', '--print', '--exec', exec, '--config', bad);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/bad\.yaml/);
  });

  it('refuses bad names with exit 2', async () => {
    const r = await lifeline('service', 'install', '--print', '--exec', exec, '--name', 'Life Line');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--name <name>' argument 'Life Line' is invalid\. must be lowercase letters/);
    expect(r.stderr).toMatch(/lifeline service install --help/);
  });

  it('refuses clearly where systemd is not running (or names what is missing where it is)', async () => {
    const [install, status] = await Promise.all([lifeline('service', 'install', '--exec', exec, '--config', config), lifeline('service', 'status', '--name', 'lifeline-absent-unit')]);
    if (!existsSync('/run/systemd/system')) {
      for (const r of [install, status]) {
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/systemd is not running on this machine \(no \/run\/systemd\/system\)/);
      }
    } else {
      expect(status.status).toBe(1);
      expect(status.stderr).toMatch(/lifeline-absent-unit\.service is not running/);
    }
  });
});
