/**
 * `lifeline init` as a technician runs it: all by flags (no terminal), and answering
 * its prompts in a real terminal (tmux: send-keys, capture-pane). What it writes is
 * then accepted by `lifeline check`; a bad answer writes nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listProfiles } from '@lifeline/devices';
import { tempDir, waitFor } from '../../../test/helpers.js';
import { lifeline } from '../field/cli-run.js';

const tmp = tempDir();
const cli = resolve(import.meta.dirname, '../../src/cli/main.ts');
const socket = `lifeline-init-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });

afterAll(() => {
  spawnSync('tmux', ['-L', socket, 'kill-server']);
  tmp.cleanup();
});

describe('lifeline init', () => {
  it('writes a commented config from flags that lifeline check accepts', async () => {
    const out = join(tmp.dir, 'flags.yaml');
    const r = await lifeline(tmp.dir, 'init', '--out', out, '--gateway', 'gw-init', '--name', '洸河路下穿通道', '--broker', 'mqtt://127.0.0.1:1883', '--bus', 'cabinet=rtu:/dev/ttyUSB0:9600', '--bus', 'lan=tcp:10.0.0.5:502', '--device', 'flood-1=flood-gauge@cabinet:1', '--device', 'water-1=water-pressure-station@lan:2');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${out}: written (mode 600), 2 device(s) on 2 bus(es)\nnext: lifeline doctor --config ${out}   then   lifeline run --config ${out}\n`);
    const text = readFileSync(out, 'utf8');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(text).toContain('# The RS-485 buses and network links');
    expect(text).toContain('      - { id: water-1, profile: water-pressure-station, unit: 2 }');
    const check = await lifeline(tmp.dir, 'check', '--config', out);
    expect(check.status).toBe(0);
  }, 60_000);

  it('refuses what the loader rejects, missing flags and an existing file, writing nothing', async () => {
    const out = join(tmp.dir, 'bad.yaml');
    const r = await lifeline(tmp.dir, 'init', '--out', out, '--gateway', 'gw-init', '--broker', 'mqtt://127.0.0.1:1883', '--bus', 'cabinet=rtu:/dev/ttyUSB0', '--device', 'flood-1=no-such-gauge@cabinet:1');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/buses\[0\]\.devices\[0\]\.profile: no profile "no-such-gauge"/);
    expect(existsSync(out)).toBe(false);
    const missing = await lifeline(tmp.dir, 'init', '--out', out, '--gateway', 'gw-init');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('init without a terminal needs --broker, --bus, --device');
    writeFileSync(out, 'mine\n');
    const exists = await lifeline(tmp.dir, 'init', '--out', out, '--gateway', 'gw-init', '--broker', 'mqtt://x:1883', '--bus', 'a=tcp:h:1', '--device', 'd=flood-gauge@a:1');
    expect(exists.status).toBe(2);
    expect(exists.stderr).toContain('exists; pass --force');
    expect(readFileSync(out, 'utf8')).toBe('mine\n');
  }, 60_000);

  it('re-commissioning with --force keeps the login enroll wrote for the same gateway and broker, and only then', async () => {
    const out = join(tmp.dir, 'again.yaml');
    const init = (...more: string[]) =>
      lifeline(tmp.dir, 'init', '--force', '--out', out, '--broker', 'mqtt://127.0.0.1:1883', '--bus', 'lan=tcp:10.0.0.5:502', '--device', 'water-1=water-pressure-station@lan:2', ...more);
    expect((await init('--gateway', 'gw-again')).status).toBe(0);
    // What lifeline enroll leaves in the file.
    writeFileSync(out, readFileSync(out, 'utf8').replace('  url: mqtt://127.0.0.1:1883', '  url: mqtt://127.0.0.1:1883\n  username: gw-again\n  password: "s3cret-from-enrol"'));
    const again = await init('--gateway', 'gw-again', '--device', 'flood-1=flood-gauge@lan:1');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`${out}: kept the MQTT login gw-again (sync.username, sync.password) of the config it replaces: the box stays enrolled`);
    expect(readFileSync(out, 'utf8')).toMatch(/username: "?gw-again"?\n {2}password: "s3cret-from-enrol"/);
    expect(readFileSync(out, 'utf8')).toContain('id: flood-1');
    // Another gateway id is another box: its login is not carried over.
    const other = await init('--gateway', 'gw-other');
    expect(other.stdout).not.toContain('kept the MQTT login');
    expect(readFileSync(out, 'utf8')).not.toContain('s3cret-from-enrol');
  }, 60_000);

  it('asks its questions in a terminal and writes what was answered', async () => {
    const out = join(tmp.dir, 'tty.yaml');
    tmux('new-session', '-d', '-s', 'init', '-x', '120', '-y', '40', '-c', tmp.dir, `${process.execPath} --import ${import.meta.resolve('tsx')} ${cli} init --out ${out}; echo EXIT=$?; sleep 60`);
    const screen = () => tmux('capture-pane', '-p', '-t', 'init');
    const answer = async (prompt: string, ...keys: string[]) => {
      await waitFor(() => screen().includes(prompt), 30_000, `the prompt "${prompt}" (screen:\n${screen()})`);
      for (const k of keys) tmux('send-keys', '-t', 'init', ...(k.length > 1 && /^[A-Z]/.test(k) ? [k] : ['-l', k]));
    };
    await answer('Gateway id', 'gw-tty', 'Enter');
    await answer('Site name', 'Test site', 'Enter');
    await answer('Cloud broker URL', 'BSpace', 'BSpace', 'BSpace', 'BSpace', 'BSpace', 'BSpace', 'BSpace', 'BSpace', 'mqtt://127.0.0.1:1883', 'Enter');
    await answer('MQTT username', 'Enter');
    await answer('Bus name', 'lan', 'Enter');
    await answer('How is it reached?', 'Down', 'Enter');
    await answer('Host:', '127.0.0.1', 'Enter');
    await answer('Port:', '5020', 'Enter');
    await answer('Device id:', 'flood-1', 'Enter');
    const idx = listProfiles().indexOf('flood-gauge');
    await answer('Profile:', ...Array<string>(idx).fill('Down'), 'Enter');
    await answer('Unit id:', '3', 'Enter');
    await answer('Another device on lan?', 'n', 'Enter');
    await answer('Another bus?', 'n', 'Enter');
    await waitFor(() => screen().includes('EXIT='), 30_000, `init to end (screen:\n${screen()})`);
    expect(screen()).toContain(`${out}: written (mode 600), 1 device(s) on 1 bus(es)`);
    expect(screen()).toContain('EXIT=0');
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('  id: gw-tty\n  name: "Test site"\n');
    expect(text).toContain('  - name: lan\n    link: tcp\n    host: 127.0.0.1\n    port: 5020\n');
    expect(text).toContain('      - { id: flood-1, profile: flood-gauge, unit: 3 }');
    expect(text).toContain('  url: mqtt://127.0.0.1:1883\n');
    expect((await lifeline(tmp.dir, 'check', '--config', out)).status).toBe(0);
  }, 120_000);
});
