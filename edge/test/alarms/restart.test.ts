/**
 * kill -9 in the middle of alarms: a real `lifeline run` child process is
 * killed with SIGKILL while alarms are acknowledged and shelved and outputs hold
 * pending actions (a siren pulse, a minimum on-time); after the restart every
 * alarm, its state and every pending action are exactly as before, and nothing
 * is switched or sent twice. The operator actions go through the real CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';
import { AlarmStore } from '../../src/alarms/store.js';
import { controlRequest } from '../../src/alarms/control.js';
import { tempDir, waitFor } from '../../../test/helpers.js';

const cli = resolve(import.meta.dirname, '../../src/cli/main.ts');
const tmp = tempDir();
const db = join(tmp.dir, 'edge.db');
const socket = join(tmp.dir, 'lifeline-gw-kill.sock');
const configFile = join(tmp.dir, 'gateway.yaml');
let sim: TcpSimulator;
let child: ChildProcess | undefined;
let stderr = '';

function startAgent(): ChildProcess {
  const c = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), cli, 'run', '--config', configFile], {
    cwd: tmp.dir,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return c;
}

/** The CLI, asynchronously: the simulator lives in this process and must keep answering the agent meanwhile. */
function lifeline(...args: string[]): Promise<{ status: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const c = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), cli, 'alarms', ...args, '--config', configFile], { cwd: tmp.dir, timeout: 60_000 });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (status) => done({ status, out, err }));
  });
}

/** What must survive: every alarm and every output as the database holds them. */
function snapshot() {
  const { store, close } = AlarmStore.openReadonly(db);
  try {
    return {
      alarms: store.loadAlarms().map(({ updated: _u, ...a }) => a),
      outputs: store.loadOutputs().map(({ ...o }) => o),
      switched: store.recentOutputLog(100).length,
      transitions: store.recentLog(1000).length,
    };
  } finally {
    close();
  }
}

beforeAll(async () => {
  const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1).inject({ kind: 'fixed', point: 'water_level', value: 3.5 });
  const water = new SimulatedDevice(loadProfile('water-pressure-station'), 2).inject({ kind: 'fixed', point: 'pressure', value: 0.18 });
  sim = await startTcpSimulator({ devices: [flood, water] });
  writeFileSync(
    configFile,
    `gateway: { id: gw-kill }
buses:
  - name: lan
    link: tcp
    host: 127.0.0.1
    port: ${sim.port}
    timeoutMs: 5000
    devices:
      - { id: flood-1, profile: flood-gauge, unit: 1, pollMs: 200 }
      - { id: water-1, profile: water-pressure-station, unit: 2, pollMs: 200 }
detectors:
  points:
    - { device: flood-1, point: water_level, threshold: { high: { yellow: 3.0, red: 3.2 } } }
    - { device: water-1, point: pressure, threshold: { low: { yellow: 0.25, red: 0.20 } } }
# The simulator shares the test's process; a slow machine must not add comm-loss alarms to the picture.
alarms: { commLoss: { enabled: false } }
outputs:
  - { name: siren, gpio: { pin: 27 }, mode: momentary, pulseMs: 600000 }
  - { name: beacon, gpio: { pin: 17 }, minOnMs: 600000 }
  - { name: relay, gpio: { pin: 22 }, mode: latching }
actions:
  - { output: siren, when: { device: flood-1, level: red } }
  - { output: beacon, when: { device: flood-1, level: red } }
  - { output: relay, when: { device: water-1, level: red } }
buffer: { path: edge.db }
sync: { transport: mqtt, url: "mqtt://127.0.0.1:9" }
`,
  );
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await sim?.close();
  tmp.cleanup();
});

describe('alarms across kill -9', () => {
  it('restores active alarms, their states and pending actions exactly, and sends nothing twice', async () => {
    child = startAgent();
    // Both alarms raised, outputs switched.
    await waitFor(
      () => {
        if (child!.exitCode !== null) throw new Error(`the agent exited with ${child!.exitCode}: ${stderr.slice(-1000)}`);
        const s = snapshot();
        return s.alarms.length === 2 && s.outputs.filter((o) => o.on).length === 3;
      },
      60_000,
      'both alarms and three outputs on',
    );
    await waitFor(() => controlRequest(socket, { op: 'outputs' }), 30_000, 'the control socket');

    // The operator acknowledges one alarm and shelves the other, through the CLI.
    const ack = await lifeline('ack', 'water_level', '--user', 'li.wei');
    expect(ack.err).toBe('');
    expect(ack.out).toMatch(/flood-1\/water_level\/threshold: acknowledged \(active_unacked → active_acked\)/);
    const shelve = await lifeline('shelve', 'water-1/pressure', '--for', '2h', '--user', 'zhang');
    expect(shelve.out).toMatch(/water-1\/pressure\/threshold: shelved until/);
    const list = await lifeline('--json');
    expect(list.status).toBe(0);
    expect((JSON.parse(list.out) as { id: string; state: string }[]).map((a) => [a.id, a.state])).toEqual([
      ['flood-1/water_level/threshold', 'active_acked'],
      ['water-1/pressure/threshold', 'shelved'],
    ]);
    // Shelving released the latching relay; the siren pulse and the beacon are pending.
    await waitFor(() => snapshot().outputs.find((o) => o.name === 'relay')?.on === false, 5000, 'the relay to release');
    const before = snapshot();
    expect(before.outputs.find((o) => o.name === 'siren')).toMatchObject({ on: true, armed: ['flood-1/water_level/threshold'] });
    expect(before.outputs.find((o) => o.name === 'siren')!.pulseUntil).toBeGreaterThan(Date.now() + 500_000);
    expect(before.outputs.find((o) => o.name === 'beacon')!.holdUntil).toBeGreaterThan(Date.now() + 500_000);
    expect(before.alarms.find((a) => a.id === 'water-1/pressure/threshold')).toMatchObject({ state: 'shelved', base: 'active_unacked', shelvedBy: 'zhang', level: 4 });

    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    expect(child.signalCode).toBe('SIGKILL');
    expect(snapshot()).toEqual(before);

    // Restart: a stale socket is left behind; the new agent takes over and confirms the alarms.
    child = startAgent();
    await waitFor(
      () => {
        if (child!.exitCode !== null) throw new Error(`the agent exited with ${child!.exitCode}: ${stderr.slice(-1000)}`);
        return controlRequest(socket, { op: 'outputs' });
      },
      60_000,
      'the restarted agent',
    );
    const res = (await controlRequest(socket, { op: 'list' })) as { ok: true; alarms: { id: string; state: string; shelvedUntil: number }[] };
    expect(res.alarms.map((a) => [a.id, a.state])).toEqual([
      ['flood-1/water_level/threshold', 'active_acked'],
      ['water-1/pressure/threshold', 'shelved'],
    ]);
    // Let it poll for a while (the detectors see the same levels again).
    await new Promise((r) => setTimeout(r, 1500));
    const after = snapshot();
    expect(after.alarms).toEqual(before.alarms);
    expect(after.outputs).toEqual(before.outputs);
    // Nothing switched again and no transition recorded twice.
    expect(after.switched).toBe(before.switched);
    expect(after.transitions).toBe(before.transitions);
    const outs = (await controlRequest(socket, { op: 'outputs' })) as unknown as { outputs: { name: string; on: boolean; backend: string }[] };
    expect(outs.outputs.map((o) => [o.name, o.on, o.backend])).toEqual([
      ['siren', true, 'simulated'],
      ['beacon', true, 'simulated'],
      ['relay', false, 'simulated'],
    ]);

    // A clean stop: fail-safe states recorded, then the CLI works on the file alone.
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    expect(child.exitCode).toBe(0);
    const unshelve = await lifeline('unshelve', 'pressure', '--user', 'zhang');
    expect(unshelve.out).toMatch(/unshelved \(active_unacked\).*agent not running/);
    const outputs = await lifeline('outputs');
    expect(outputs.out).toMatch(/siren\s+ON\s+momentary/);
    expect(outputs.out).toMatch(/agent stopping: fail-safe state/);
  }, 240_000);

  it('refuses bad operator input with exit code 2 and the reason', async () => {
    const bad = await lifeline('shelve', 'pressure', '--for', 'two hours');
    expect(bad.status).toBe(2);
    expect(bad.err).toMatch(/--for: expected a duration like 90s, 30m, 2h or 1h30m, got "two hours"/);
    const unknown = await lifeline('ack', 'nothing-like-this');
    expect(unknown.status).toBe(2);
    expect(unknown.err).toMatch(/no alarm "nothing-like-this" on this gateway/);
  }, 60_000);
});
