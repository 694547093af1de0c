/**
 * The whole local alarm path with real parts: simulator → Modbus TCP → decode →
 * threshold → alarm manager → outputs (GPIO, simulated here since this machine
 * has none; a Modbus coil of a real simulated device) → event lane; operator
 * acknowledgement through the control socket. And the underpass beacon lit by
 * the flood gauge's own profile defaults (the CMA rainstorm detector) while sync
 * has no broker: the gauge alone, no network.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmLevel, type AlarmTransition } from '@lifeline/shared';
import { SimulatedDevice, loadProfile, startPtySimulator, startTcpSimulator } from '@lifeline/devices';
import { Agent, validateConfig } from '../../src/index.js';
import { SimulatedOutput } from '../../src/actions/backends.js';
import { controlRequest } from '../../src/alarms/control.js';
import { tempDir, testLog, waitFor } from '../../../test/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

describe('agent: alarm → outputs', () => {
  it('lights the beacon and switches the lamp coil at red, reports the missing GPIO, and releases both after ack and clear', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1).inject({ kind: 'fixed', point: 'water_level', value: 3.5 });
    const lamp = new SimulatedDevice(loadProfile('lamp-post-controller'), 3).inject({ kind: 'fixed', point: 'lamp_on', value: 0 });
    const sim = await startTcpSimulator({ devices: [flood, lamp] });
    cleanups.push(() => sim.close());
    const loaded = validateConfig(
      {
        gateway: { id: 'gw-act' },
        buses: [
          {
            name: 'lan',
            link: 'tcp',
            host: '127.0.0.1',
            port: sim.port,
            devices: [
              { id: 'flood-1', profile: 'flood-gauge', unit: 1, pollMs: 100 },
              { id: 'lamp-1', profile: 'lamp-post-controller', unit: 3, pollMs: 1000 },
            ],
          },
        ],
        detectors: { points: [{ device: 'flood-1', point: 'water_level', threshold: { high: { yellow: 3.0, red: 3.2 } } }] },
        outputs: [
          { name: 'beacon', gpio: { pin: 17 }, failSafe: 'on' },
          { name: 'lamp-warning', modbus: { device: 'lamp-1', point: 'lamp_on' }, mode: 'latching' },
        ],
        actions: [
          { output: 'beacon', when: { device: 'flood-1', level: 'red' } },
          { output: 'lamp-warning', when: { alarm: 'flood-1/*', level: 'red' } },
        ],
        buffer: { path: join(tmp.dir, 'edge.db') },
        // No broker: everything stays in the buffer, where the test reads it.
        sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:9', intervalMs: 100 },
      },
      'test config',
    );
    const agent = new Agent(loaded, testLog);
    await agent.start();
    cleanups.push(() => agent.stop());
    const beacon = agent.alarms.actions.backend('beacon') as SimulatedOutput;
    const events = () => agent.buffer.events(1, agent.buffer.lastWritten('events')).map((e) => e.body as AlarmTransition & { type?: string; message?: string });

    // No GPIO on this machine: said clearly at start, and the output is simulated.
    expect(beacon).toBeInstanceOf(SimulatedOutput);
    expect(beacon.kind).toBe('simulated');
    expect(events()[0]).toMatchObject({ kind: 'event', type: 'outputs_simulated', message: expect.stringMatching(/GPIO is not available.*beacon.*SIMULATED/) });

    // Red: the beacon is switched on (it started in its fail-safe state: on; the first evaluation found no alarm and switched it off).
    await waitFor(() => beacon.switched.some((s) => s.on), 5000, 'the beacon to switch on');
    await waitFor(() => lamp.valueOf('lamp_on') === 1, 5000, 'the lamp coil to be written');
    expect(beacon.switched.map((s) => s.on)).toEqual([false, true]);
    const raise = events().find((e) => e.kind === 'alarm')!;
    expect(raise).toMatchObject({ alarmId: 'flood-1/water_level/threshold', from: 'normal', to: 'active_unacked', level: AlarmLevel.Red, value: 3.5, detector: 'threshold' });

    // The operator acknowledges through the control socket; the alarm stays active, so do the outputs.
    const res = await controlRequest(agent.alarms.socketPath, { op: 'ack', id: 'water_level', user: 'li.wei' });
    expect(res).toMatchObject({ ok: true, changed: true, alarm: { state: 'active_acked', ackedBy: 'li.wei' } });
    expect(beacon.state).toBe(true);

    // The water falls: the alarm returns to normal (already acknowledged); follow and latching outputs release.
    flood.clear().inject({ kind: 'fixed', point: 'water_level', value: 1.0 });
    await waitFor(() => !beacon.state, 5000, 'the beacon to switch off');
    await waitFor(() => lamp.valueOf('lamp_on') === 0, 5000, 'the lamp coil to be released');
    expect(agent.alarms.manager.get('flood-1/water_level/threshold')).toMatchObject({ state: 'normal' });
    expect(
      events()
        .filter((e) => e.kind === 'alarm')
        .map((e) => `${e.from}>${e.to}@${e.level}${e.user ? ` by ${e.user}` : ''}`),
    ).toEqual(['normal>active_unacked@4', 'active_unacked>active_acked@4 by li.wei', 'active_acked>normal@0']);
    const log = agent.alarms.store.recentOutputLog(10).reverse();
    expect(log.filter((e) => e.output === 'lamp-warning').map((e) => [e.on, e.backend])).toEqual([
      [true, 'modbus'],
      [false, 'modbus'],
    ]);
    expect(agent.alarms.actions.status().find((s) => s.name === 'lamp-warning')).toMatchObject({ on: false, pending: false });

    // Stopping sets the fail-safe states: the beacon (fail-safe on) lights.
    await agent.stop();
    expect(beacon.state).toBe(true);
  });

  it('writes a coil on an RS-485 bus through the poller’s own link: one request in flight, no collision', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1).inject({ kind: 'fixed', point: 'water_level', value: 3.5 });
    const lamp = new SimulatedDevice(loadProfile('lamp-post-controller'), 3).inject({ kind: 'fixed', point: 'lamp_on', value: 0 });
    const path = join(tmp.dir, 'ttyUSB0');
    const sim = await startPtySimulator({ devices: [flood, lamp], path, baud: 19200, parity: 'even', turnaroundMs: 5 });
    cleanups.push(() => sim.close());
    const loaded = validateConfig(
      {
        gateway: { id: 'gw-act-rtu' },
        buses: [
          {
            name: 'rs485-1',
            link: 'rtu',
            path,
            baud: 19200,
            parity: 'even',
            timeoutMs: 300,
            devices: [
              // Polled flat out: a write that did not wait its turn would collide.
              { id: 'flood-1', profile: 'flood-gauge', unit: 1, pollMs: 100 },
              { id: 'lamp-1', profile: 'lamp-post-controller', unit: 3, pollMs: 100 },
            ],
          },
        ],
        detectors: { points: [{ device: 'flood-1', point: 'water_level', threshold: { high: { red: 3.2 } } }] },
        outputs: [{ name: 'lamp-warning', modbus: { device: 'lamp-1', point: 'lamp_on' }, mode: 'follow' }],
        actions: [{ output: 'lamp-warning', when: { device: 'flood-1', level: 'red' } }],
        buffer: { path: join(tmp.dir, 'edge.db') },
        sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:9', intervalMs: 100 },
      },
      'test config',
    );
    const agent = new Agent(loaded, testLog);
    await agent.start();
    cleanups.push(() => agent.stop());
    // The lamp's own schedule also switches lamp_on (on at night): wait for the confirmed write, then look.
    const output = () => agent.alarms.actions.status().find((o) => o.name === 'lamp-warning')!;
    await waitFor(() => output().on && !output().pending, 10_000, 'the lamp coil write to be confirmed over RS-485');
    expect(lamp.valueOf('lamp_on')).toBe(1);
    flood.clear().inject({ kind: 'fixed', point: 'water_level', value: 1.0 });
    await waitFor(() => !output().on && !output().pending, 10_000, 'the lamp coil release to be confirmed');
    expect(lamp.valueOf('lamp_on')).toBe(0);
    const log = agent.alarms.store.recentOutputLog(10).reverse();
    expect(log.filter((e) => e.output === 'lamp-warning').map((e) => [e.on, e.backend])).toEqual([
      [true, 'modbus'],
      [false, 'modbus'],
    ]);
    expect(sim.line.stats).toMatchObject({ collisions: 0, badFrames: 0 });
  });
});

describe('underpass beacon without a network', () => {
  /** An agent whose sync points at port 9 (discard): no broker ever answers, the network is "down" throughout. */
  async function startWithoutNetwork(config: Record<string, unknown>): Promise<Agent> {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const offline = { buffer: { path: join(tmp.dir, 'edge.db') }, sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:9', intervalMs: 100 } };
    const agent = new Agent(validateConfig({ ...config, ...offline }, 'test config'), testLog);
    await agent.start();
    cleanups.push(() => agent.stop());
    return agent;
  }

  it('lights at the red rainstorm signal from the gauge’s profile defaults while sync is disconnected', async () => {
    // A cloudburst: 105 mm in the gauge's last 10 minutes (the CMA red signal is 100 mm within 3 h).
    const gauge = new SimulatedDevice(loadProfile('flood-gauge'), 1).inject({ kind: 'fixed', point: 'rainfall', value: 105 });
    const sim = await startTcpSimulator({ devices: [gauge] });
    cleanups.push(() => sim.close());
    // No detectors in the config: the profile's defaults are all there is.
    const agent = await startWithoutNetwork({
      gateway: { id: 'gw-underpass' },
      buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: sim.port, devices: [{ id: 'flood-1', profile: 'flood-gauge', unit: 1, pollMs: 100 }] }],
      outputs: [{ name: 'beacon', gpio: { pin: 17 }, failSafe: 'on' }],
      actions: [{ output: 'beacon', when: { device: 'flood-1', level: 'red' } }],
    });
    const beacon = agent.alarms.actions.backend('beacon') as SimulatedOutput;

    await waitFor(() => beacon.switched.some((s) => s.on), 5000, 'the beacon to switch on');
    expect(agent.sync.connected).toBe(false);
    expect(agent.alarms.manager.get('flood-1/rainfall/rainstorm')).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Red });
    const raise = agent.buffer
      .events(1, agent.buffer.lastWritten('events'))
      .map((e) => e.body as AlarmTransition)
      .find((e) => e.kind === 'alarm' && e.alarmId === 'flood-1/rainfall/rainstorm');
    expect(raise).toMatchObject({ from: 'normal', to: 'active_unacked', level: AlarmLevel.Red, detector: 'rainstorm', value: 105 });
    expect(beacon.state).toBe(true);
  });
});
