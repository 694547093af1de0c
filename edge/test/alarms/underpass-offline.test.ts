/**
 * The underpass beacon lights from the flood gauge alone, with no network:
 * simulator → Modbus TCP → the profile's own defaults (the CMA rainstorm
 * detector on `rainfall`) → alarm manager → beacon output, while sync has no
 * broker to talk to. Nothing in the gateway config names a limit: the profile
 * brings them.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmLevel, type AlarmTransition } from '@lifeline/shared';
import { SimulatedDevice, loadProfile, startTcpSimulator } from '@lifeline/devices';
import { Agent, validateConfig } from '../../src/index.js';
import type { SimulatedOutput } from '../../src/actions/backends.js';
import { tempDir, testLog, waitFor } from '../../../test/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

describe('underpass beacon without a network', () => {
  it('lights at the red rainstorm signal from the gauge’s profile defaults while sync is disconnected', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    // A cloudburst: 105 mm in the gauge's last 10 minutes (the CMA red signal is 100 mm within 3 h).
    const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1).inject({ kind: 'fixed', point: 'rainfall', value: 105 });
    const sim = await startTcpSimulator({ devices: [flood] });
    cleanups.push(() => sim.close());
    const loaded = validateConfig(
      {
        gateway: { id: 'gw-underpass' },
        buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: sim.port, devices: [{ id: 'flood-1', profile: 'flood-gauge', unit: 1, pollMs: 100 }] }],
        outputs: [{ name: 'beacon', gpio: { pin: 17 }, failSafe: 'on' }],
        actions: [{ output: 'beacon', when: { device: 'flood-1', level: 'red' } }],
        buffer: { path: join(tmp.dir, 'edge.db') },
        // Port 9 (discard): no broker answers; the network is "down" for the whole test.
        sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:9', intervalMs: 100 },
      },
      'test config',
    );
    const agent = new Agent(loaded, testLog);
    await agent.start();
    cleanups.push(() => agent.stop());
    const beacon = agent.alarms.actions.backend('beacon') as SimulatedOutput;

    await waitFor(() => beacon.switched.some((s) => s.on), 5000, 'the beacon to switch on');
    expect(agent.sync.connected).toBe(false);
    const alarm = agent.alarms.manager.get('flood-1/rainfall/rainstorm');
    expect(alarm).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Red });
    const raise = agent.buffer
      .events(1, agent.buffer.lastWritten('events'))
      .map((e) => e.body as AlarmTransition)
      .find((e) => e.kind === 'alarm' && e.alarmId === 'flood-1/rainfall/rainstorm');
    expect(raise).toMatchObject({ from: 'normal', to: 'active_unacked', level: AlarmLevel.Red, detector: 'rainstorm', value: 105 });
    expect(beacon.state).toBe(true);
  });
});
