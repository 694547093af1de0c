/**
 * The pre-test step (scripts/prepare-tests.mjs): what it decides for each
 * machine, without running apt-get, and what a user sees when a package is
 * missing and the step may not install it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, 'prepare-tests.mjs');

// The step is plain JavaScript (it must start fast); these are the shapes it documents.
interface Need { name: string; probe: string | string[]; pkg: string; why: string }
interface Service { name: string; port: number; start: string[] | null; absent?: string }
interface Facts {
  missing: Need[];
  notOnPath: { need: Need; at: string }[];
  down: Service[];
  privilege: 'root' | 'sudo' | 'none';
  aptGet: boolean;
  noInstall: boolean;
  ci: boolean;
}
interface Plan { install: string[][]; start: { service: Service; argv: string[] }[]; advice: string[]; fail: boolean }
interface Step { NEEDS: Need[]; SERVICES: Service[]; plan(f: Facts): Plan; onPath(cmd: string, path?: string): string | null }

const step = (await import(pathToFileURL(SCRIPT).href)) as Step;
const need = (name: string) => step.NEEDS.find((n) => n.name === name)!;
const mosquittoService = step.SERVICES.find((s) => s.name === 'Mosquitto')!;
const facts = (f: Partial<Facts>): Facts => ({ missing: [], notOnPath: [], down: [], privilege: 'root', aptGet: true, noInstall: false, ci: false, ...f });

describe('prepare-tests: the table', () => {
  it('probes every Debian package the tests use (what .ci/run used to install)', () => {
    expect(step.NEEDS.map((n) => n.pkg).sort()).toEqual(['chromium', 'fonts-wqy-zenhei', 'mbpoll', 'mosquitto', 'python3-pymodbus', 'socat', 'zsh']);
    expect(need('pymodbus').probe).toEqual(['/usr/bin/python3', '-c', 'import pymodbus']);
  });
  it('starts the services with the commands .ci/run used', () => {
    expect(mosquittoService.start).toEqual(['mosquitto', '-d', '-c', '/etc/mosquitto/mosquitto.conf']);
    const pg = step.SERVICES.find((s) => s.name === 'PostgreSQL')!;
    expect(pg.port).toBe(5432);
    if (pg.start) expect(pg.start.slice(0, 2)).toEqual(['pg_ctlcluster', '--skip-systemctl-redirect']);
  });
});

describe('prepare-tests: the decision', () => {
  it('does and says nothing when everything is there', () => {
    expect(step.plan(facts({}))).toEqual({ install: [], start: [], advice: [], fail: false });
  });

  it('as root: installs every missing package in one apt-get, prints no advice', () => {
    const p = step.plan(facts({ missing: [need('socat'), need('pymodbus')] }));
    expect(p.install).toEqual([
      ['apt-get', 'update', '-qq'],
      ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=120', 'socat', 'python3-pymodbus'],
    ]);
    expect(p.advice).toEqual([]);
    expect(p.fail).toBe(false);
  });

  it('with passwordless sudo: the same through sudo -n (never a password prompt)', () => {
    const p = step.plan(facts({ missing: [need('mbpoll')], privilege: 'sudo' }));
    expect(p.install.map((a) => a.slice(0, 2))).toEqual([['sudo', '-n'], ['sudo', '-n']]);
    expect(p.install[1]).toContain('mbpoll');
  });

  it('without root or sudo: prints the exact command; a developer still runs the other tests', () => {
    const p = step.plan(facts({ missing: [need('socat'), need('mbpoll')], privilege: 'none' }));
    expect(p.install).toEqual([]);
    expect(p.advice).toContain('  sudo apt-get update && sudo apt-get install -y socat mbpoll');
    expect(p.advice.at(-1)).toMatch(/the others run/);
    expect(p.fail).toBe(false);
  });

  it('under CI the same machine fails the step before any test runs', () => {
    const p = step.plan(facts({ missing: [need('socat')], privilege: 'none', ci: true }));
    expect(p.fail).toBe(true);
    expect(p.advice).toContain('  sudo apt-get update && sudo apt-get install -y socat');
  });

  it('LIFELINE_NO_INSTALL=1 as root: changes nothing, prints the command without sudo', () => {
    const p = step.plan(facts({ missing: [need('mosquitto')], down: [mosquittoService], noInstall: true }));
    expect(p.install).toEqual([]);
    expect(p.start).toEqual([]);
    expect(p.advice).toContain('  apt-get update && apt-get install -y mosquitto');
    expect(p.advice).toContain('  mosquitto -d -c /etc/mosquitto/mosquitto.conf');
  });

  it('without apt-get: names the Debian packages instead of running anything', () => {
    const p = step.plan(facts({ missing: [need('pymodbus')], aptGet: false }));
    expect(p.install).toEqual([]);
    expect(p.advice.join('\n')).toMatch(/Debian packages: python3-pymodbus/);
  });

  it('starts a service that is down when allowed, else prints how', () => {
    expect(step.plan(facts({ down: [mosquittoService], privilege: 'sudo' })).start).toEqual([
      { service: mosquittoService, argv: ['sudo', '-n', 'mosquitto', '-d', '-c', '/etc/mosquitto/mosquitto.conf'] },
    ]);
    const p = step.plan(facts({ down: [mosquittoService], privilege: 'none' }));
    expect(p.start).toEqual([]);
    expect(p.advice).toContain('  sudo mosquitto -d -c /etc/mosquitto/mosquitto.conf');
  });

  it('says so when PostgreSQL has no cluster to start', () => {
    const pg: Service = { name: 'PostgreSQL', port: 5432, start: null, absent: 'no cluster in /etc/postgresql' };
    const p = step.plan(facts({ down: [pg] }));
    expect(p.start).toEqual([]);
    expect(p.advice[0]).toBe('PostgreSQL is not running on 127.0.0.1:5432 (no cluster in /etc/postgresql)');
  });

  it('an installed command outside PATH (mosquitto in /usr/sbin for a Debian user) is a PATH fix, not an install', () => {
    const p = step.plan(facts({ notOnPath: [{ need: need('mosquitto'), at: '/usr/sbin/mosquitto' }] }));
    expect(p.install).toEqual([]);
    expect(p.advice[0]).toMatch(/add \/usr\/sbin to PATH/);
  });
});

describe('prepare-tests: run as a user would, socat hidden from PATH', () => {
  // Only the commands the step looks up, minus socat; LIFELINE_NO_INSTALL=1 keeps it from changing the machine.
  function run(env: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-path-'));
    try {
      for (const cmd of ['mbpoll', 'mosquitto', 'apt-get', 'sudo']) {
        const at = step.onPath(cmd, `${process.env.PATH}:/usr/sbin:/sbin`);
        if (at) symlinkSync(at, join(dir, cmd));
      }
      const { CI: _ci, ...rest } = process.env;
      return spawnSync(process.execPath, [SCRIPT], { env: { ...rest, PATH: dir, LIFELINE_NO_INSTALL: '1', ...env }, encoding: 'utf8' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('prints what to install and lets a developer go on', () => {
    const r = run({});
    expect(r.stderr).toMatch(/^prepare-tests: missing socat \(serial pty pairs/m);
    expect(r.stderr).toMatch(/install -y( \S+)* socat\b|Debian packages:( \S+)* socat\b/);
    expect(r.status).toBe(0);
  });

  it('exits non-zero under CI', () => {
    const r = run({ CI: 'true' });
    expect(r.stderr).toMatch(/missing socat/);
    expect(r.status).toBe(1);
  });
});
