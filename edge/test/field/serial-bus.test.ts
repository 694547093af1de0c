/**
 * The agent's poller on a byte-timed RS-485 bus (the pty simulator at real
 * baud rates): a USB adapter unplugged and plugged back, and a dead slave
 * among live ones.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Reading } from '@lifeline/shared';
import { loadProfile, SimulatedDevice, startPtySimulator, type PtySimulator } from '@lifeline/devices';
import { EventBus, type AgentEvents } from '../../src/events/event-bus.js';
import type { Bus } from '../../src/config/schema.js';
import { BusPoller } from '../../src/poller/poller.js';
import { tempDir, testLog, waitFor } from '../../../test/helpers.js';
import { requireTools } from './peers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function bus(opts: { baud: number; devices: SimulatedDevice[]; pollMs: number; timeoutMs: number; polled?: number[] }) {
  requireTools('socat');
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const path = join(tmp.dir, 'ttyUSB0');
  const sim: PtySimulator = await startPtySimulator({ devices: opts.devices, path, baud: opts.baud, parity: 'even', turnaroundMs: 5 });
  cleanups.push(() => sim.close());
  const units = opts.polled ?? opts.devices.map((d) => d.unit);
  const config = {
    name: 'rs485-1',
    link: 'rtu',
    path,
    baud: opts.baud,
    parity: 'even',
    timeoutMs: opts.timeoutMs,
    devices: units.map((u) => ({ id: `dev-${u}`, profile: opts.devices.find((d) => d.unit === u)!.profile.id, unit: u, pollMs: opts.pollMs })),
  } as Bus;
  const profiles = new Map(units.map((u) => [`dev-${u}`, opts.devices.find((d) => d.unit === u)!.profile]));
  const events = new EventBus(testLog);
  const readings: { device: string; at: number; batch: Reading[] }[] = [];
  const comm: (AgentEvents['comm'] & { at: number })[] = [];
  events.on('readings', (batch) => readings.push({ device: batch[0].device, at: performance.now(), batch }));
  events.on('comm', (c) => comm.push({ ...c, at: performance.now() }));
  const poller = new BusPoller(config, profiles, events, testLog);
  cleanups.unshift(() => poller.stop());
  return { sim, poller, readings, comm, path };
}

describe('serial bus', () => {
  it('reopens an unplugged and replugged adapter by itself; polling resumes within 5 s', async () => {
    const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1);
    const { sim, poller, readings, comm } = await bus({ baud: 19200, devices: [flood], pollMs: 200, timeoutMs: 200 });
    await poller.start();
    await waitFor(() => readings.length >= 2, 10_000, 'first readings');

    // Unplug: the simulator kills its socat, the pty vanishes from under the open port.
    flood.inject({ kind: 'disconnect' });
    await waitFor(() => !sim.connected(), 5000, 'the pty to vanish');
    await waitFor(() => comm.some((c) => !c.ok), 10_000, 'comm-lost');
    expect(comm[0].error).toMatch(/LINK_DOWN|DEVICE_TIMEOUT/);
    // Stay unplugged long enough for the probe backoff to grow well past 5 s.
    await new Promise((r) => setTimeout(r, 2500));
    const before = readings.length;

    // Replug: a new socat creates a new pty at the same path.
    flood.clear('disconnect');
    await waitFor(() => sim.connected(), 5000, 'the pty to come back');
    const back = performance.now();
    await waitFor(() => readings.length > before, 8000, 'readings after the replug');
    const resumed = readings[before].at - back;
    expect(resumed).toBeLessThan(5000);
    expect(comm.map((c) => c.ok)).toEqual([false, true]);
    expect(readings.at(-1)!.batch.find((r) => r.point === 'water_level')).toBeDefined();
  });

  it('a dead slave costs the live ones on a busy 9600-baud bus less than 10 % of their poll rate', async () => {
    const profile = loadProfile('flood-gauge');
    const live = [1, 2, 3, 4];
    const window = { from: 1500, to: 7500 };
    // Two identical buses side by side, so both see the same machine load; on one, unit 5 is dead.
    // Poll as fast as the bus allows (100 ms is far below what four devices need at 9600 baud).
    const setup = async (withDead: boolean) => {
      const devices = [...live, 5].map((u) => new SimulatedDevice(profile, u));
      if (withDead) devices[4].inject({ kind: 'silent' });
      return bus({ baud: 9600, devices, pollMs: 100, timeoutMs: 100, polled: withDead ? [...live, 5] : live });
    };
    const [healthy, degraded] = [await setup(false), await setup(true)];
    const t0 = performance.now();
    await Promise.all([healthy.poller.start(), degraded.poller.start()]);
    await new Promise((r) => setTimeout(r, window.to));
    const polls = (b: typeof healthy) => b.readings.filter((r) => r.at - t0 >= window.from && r.at - t0 < window.to && r.device !== 'dev-5').length;
    const [h, d] = [polls(healthy), polls(degraded)];
    // The bus was the limit: each live device got far fewer than the 10 polls/s it asked for.
    expect(h / live.length / ((window.to - window.from) / 1000)).toBeLessThan(8);
    // The dead unit is reported comm-lost once and never back. (A live unit may time out
    // now and then when the machine is starved of CPU: the ratio below is what counts.)
    expect(degraded.comm.filter((c) => c.device === 'dev-5').map((c) => c.ok)).toEqual([false]);
    expect(d / h).toBeGreaterThanOrEqual(0.9);
  }, 40_000);
});
