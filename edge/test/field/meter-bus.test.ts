/**
 * The agent's meter poller on byte-timed RS-485 buses (the pty simulator, socat):
 * DL/T 645 lamp-post meters and CJ/T 188 water and heat meters read with their
 * units and scales applied, a silent meter reported comm-lost while the others
 * keep their rate, and the same meters through a TCP serial server.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Reading } from '@lifeline/shared';
import { loadProfile, SimulatedDevice, startPtySimulator, startSerialServerSimulator } from '@lifeline/devices';
import { EventBus, type AgentEvents } from '../../src/events/event-bus.js';
import type { Bus } from '../../src/config/schema.js';
import { MeterPoller } from '../../src/poller/meter-poller.js';
import { tempDir, testLog, waitFor } from '../../../test/helpers.js';
import { requireTools } from './peers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Values every point of a meter is held at (fixed behaviours), in the profile's units. */
const LAMP = { active_energy: 1206.42, voltage: 228.4, current: 0.682, power: 148.3, power_factor: 0.962, frequency: 49.98 };
const WATER = { total_volume: 1234.56, settlement_volume: 1201.3, valve_closed: 1, battery_low: 0 };
const GAS = { total_volume: 856.21, settlement_volume: 840.7, valve_closed: 0, battery_low: 1 };
const HEAT = {
  heat_energy: 12500.57,
  settlement_heat_energy: 12000,
  heat_power: 4.25,
  flow_rate: 0.1234,
  total_volume: 456.78,
  supply_temperature: 55.37,
  return_temperature: 40.05,
  working_hours: 18000,
  valve_closed: 0,
  battery_low: 1,
};

function meter(profile: string, address: string, values?: Record<string, number>): SimulatedDevice {
  const d = new SimulatedDevice(loadProfile(profile), 1, { address });
  if (values) for (const [point, value] of Object.entries(values)) d.inject({ kind: 'fixed', point, value });
  return d;
}

type Where = { link: 'meter'; path: string } | { link: 'meter-over-tcp'; host: string; port: number };

/** A MeterPoller on a bus of `devices`, recording what it emits. */
function poller(where: Where, devices: SimulatedDevice[], opts: { baud: number; pollMs: number; timeoutMs: number }) {
  const config = {
    name: 'meters-1',
    ...where,
    baud: opts.baud,
    parity: 'even',
    timeoutMs: opts.timeoutMs,
    devices: devices.map((d) => ({ id: `m-${d.address}`, profile: d.profile.id, address: d.address, pollMs: opts.pollMs })),
  } as Bus;
  const profiles = new Map(devices.map((d) => [`m-${d.address}`, d.profile]));
  const events = new EventBus(testLog);
  const readings: { device: string; at: number; batch: Reading[] }[] = [];
  const comm: AgentEvents['comm'][] = [];
  events.on('readings', (batch) => readings.push({ device: batch[0].device, at: performance.now(), batch }));
  events.on('comm', (c) => comm.push(c));
  const p = new MeterPoller(config, profiles, events, testLog);
  cleanups.unshift(() => p.stop());
  const last = (device: string) => {
    const r = readings.filter((x) => x.device === device).at(-1);
    return r && Object.fromEntries(r.batch.map((x) => [x.point, x.value]));
  };
  return { poller: p, readings, comm, last };
}

async function ptyBus(devices: SimulatedDevice[], baud: number) {
  requireTools('socat');
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const path = join(tmp.dir, 'ttyUSB0');
  const sim = await startPtySimulator({ devices, path, baud, parity: 'even' });
  cleanups.push(() => sim.close());
  return { path, sim };
}

describe('meter bus on a pty', () => {
  it('DL/T 645 lamp-post meters: every point at the simulator\'s value, kW scaled to W; a silent meter is comm-lost once', async () => {
    const a = meter('lamp-post-meter', '000102030425', LAMP);
    const b = meter('lamp-post-meter', '000000000017', { ...LAMP, voltage: 231.7, power: 3 });
    const dead = meter('lamp-post-meter', '000000000099');
    dead.inject({ kind: 'silent' });
    const { path } = await ptyBus([a, b, dead], 2400);
    const { poller: p, comm, last, readings } = poller({ link: 'meter', path }, [a, b, dead], { baud: 2400, pollMs: 2000, timeoutMs: 300 });
    await p.start();
    await waitFor(() => last('m-000102030425') !== undefined && last('m-000000000017') !== undefined, 15_000, 'both live meters read');
    expect(last('m-000102030425')).toEqual(LAMP);
    expect(last('m-000000000017')).toEqual({ ...LAMP, voltage: 231.7, power: 3 });
    expect(readings.every((r) => r.batch.every((x) => x.quality === undefined))).toBe(true);
    await waitFor(() => comm.length > 0, 10_000, 'comm-lost of the silent meter');
    expect(comm).toEqual([expect.objectContaining({ device: 'm-000000000099', ok: false, error: expect.stringMatching(/^DEVICE_TIMEOUT: meter 000000000099 read 00010000 .*no reply within 300 ms on serial .* 2400 8E1/) })]);
    expect(readings.some((r) => r.device === 'm-000000000099')).toBe(false);
  }, 40_000);

  it('CJ/T 188 water and heat meters on one bus: volumes, heat fields with decimals, valve and battery', async () => {
    const water = meter('water-meter', '12345678000001', WATER);
    const heat = meter('heat-meter', '20250001000003', HEAT);
    const { path } = await ptyBus([water, heat], 2400);
    const { poller: p, last, comm } = poller({ link: 'meter', path }, [water, heat], { baud: 2400, pollMs: 2000, timeoutMs: 500 });
    await p.start();
    await waitFor(() => last('m-12345678000001') !== undefined && last('m-20250001000003') !== undefined, 15_000, 'both meters read');
    expect(last('m-12345678000001')).toEqual(WATER);
    expect(last('m-20250001000003')).toEqual(HEAT);
    expect(comm).toEqual([]);
  }, 40_000);

  it('a CJ/T 188 gas meter (T = 0x30) beside a water meter: each answers only to its own type', async () => {
    const water = meter('water-meter', '12345678000001', WATER);
    const gas = meter('gas-meter', '37080012000005', GAS);
    const { path } = await ptyBus([water, gas], 2400);
    const { poller: p, last, comm } = poller({ link: 'meter', path }, [water, gas], { baud: 2400, pollMs: 2000, timeoutMs: 500 });
    await p.start();
    await waitFor(() => last('m-12345678000001') !== undefined && last('m-37080012000005') !== undefined, 15_000, 'both meters read');
    expect(last('m-37080012000005')).toEqual(GAS);
    expect(last('m-12345678000001')).toEqual(WATER);
    expect(comm).toEqual([]);
  }, 40_000);

  it('a silent meter costs the live ones on a 9600-baud bus less than 10 % of their poll rate', async () => {
    // Two identical buses side by side, so both see the same machine load; on one, a third meter is dead.
    // Two live meters take about 1.2 s of the bus per 2 s poll: room for the dead one's probes.
    const setup = async (withDead: boolean) => {
      const devices = ['000000000001', '000000000002', '000000000003'].map((addr) => meter('lamp-post-meter', addr));
      if (withDead) devices[2].inject({ kind: 'silent' });
      const polled = withDead ? devices : devices.slice(0, 2);
      const { path } = await ptyBus(devices, 9600);
      return poller({ link: 'meter', path }, polled, { baud: 9600, pollMs: 2000, timeoutMs: 150 });
    };
    const [healthy, degraded] = [await setup(false), await setup(true)];
    const window = { from: 1500, to: 13_500 };
    const t0 = performance.now();
    await Promise.all([healthy.poller.start(), degraded.poller.start()]);
    await new Promise((r) => setTimeout(r, window.to));
    const polls = (x: typeof healthy) => x.readings.filter((r) => r.at - t0 >= window.from && r.at - t0 < window.to && r.device !== 'm-000000000003');
    // Poll rate of the live meters from the spacing of their polls (not a count, which a poll
    // landing just past the window's edge would change by a tenth).
    const rate = (x: typeof healthy) => {
      const perMeter = ['m-000000000001', 'm-000000000002'].map((m) => polls(x).filter((r) => r.device === m).map((r) => r.at));
      return perMeter.reduce((sum, at) => sum + (at.length - 1) / (at[at.length - 1] - at[0]), 0) * 1000;
    };
    // Both live meters got (about) the 6 polls each the window holds.
    expect(polls(healthy).length).toBeGreaterThanOrEqual(10);
    expect(polls(degraded).length).toBeGreaterThanOrEqual(10);
    expect(degraded.comm.filter((c) => c.device === 'm-000000000003').map((c) => c.ok)).toEqual([false]);
    expect(rate(degraded) / rate(healthy)).toBeGreaterThanOrEqual(0.9);
  }, 40_000);
});

describe('meter bus through a TCP serial server', () => {
  it('reads a heat meter over meter-over-tcp, and reports comm-lost then back when the server drops and returns', async () => {
    // A transparent serial server: TCP bytes in and out of the byte-timed bus.
    const heat = meter('heat-meter', '20250001000003', HEAT);
    let server = await startSerialServerSimulator({ devices: [heat], baud: 9600, parity: 'even' });
    const port = server.port;
    cleanups.push(() => server.close());
    const { poller: p, last, comm, readings } = poller({ link: 'meter-over-tcp', host: '127.0.0.1', port }, [heat], { baud: 9600, pollMs: 300, timeoutMs: 200 });
    await p.start();
    await waitFor(() => last('m-20250001000003') !== undefined, 10_000, 'heat meter read over TCP');
    expect(last('m-20250001000003')).toEqual(HEAT);

    // The serial server goes away (4G drops): comm-lost, then readings again once it is back.
    await server.close();
    await waitFor(() => comm.some((c) => !c.ok), 10_000, 'comm-lost');
    expect(comm[0].error).toMatch(/LINK_DOWN: meter-over-tcp 127\.0\.0\.1:\d+/);
    server = await startSerialServerSimulator({ devices: [heat], baud: 9600, parity: 'even', port });
    const before = readings.length;
    await waitFor(() => readings.length > before && comm.some((c) => c.ok), 15_000, 'readings after the server is back');
    expect(comm.map((c) => c.ok)).toEqual([false, true]);
  }, 40_000);
});
