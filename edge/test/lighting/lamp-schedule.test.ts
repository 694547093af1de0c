/**
 * A lamp schedule against the Modbus TCP simulator through the real point
 * writer: the Guanghe Road lamp switches on at the computed dusk of 21 December
 * 2026 (17:32:53 CST), dims to 50 % at midnight and goes off at dawn, and the
 * coil and holding register say so.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { SimulatedDevice, loadProfile, startTcpSimulator } from '@lifeline/devices';
import { validateConfig } from '../../src/index.js';
import { LinkPointWriter } from '../../src/actions/point-writer.js';
import { Lighting } from '../../src/lighting/lighting.js';
import { sunTimes } from '../../src/schedule/sun.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
  vi.useRealTimers();
});

describe('lamp schedule on a simulated lamp post', () => {
  it('switches on at the computed dusk, dims at midnight, switches off at dawn', async () => {
    // The clock is faked (Date and timers; the sockets are real): the schedule runs through its own timer.
    const dusk = sunTimes({ year: 2026, month: 12, day: 21 }, 116.59, 35.41).dusk!;
    const dawn = sunTimes({ year: 2026, month: 12, day: 22 }, 116.59, 35.41).dawn!;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(dusk - 60_000);
    const lamp = new SimulatedDevice(loadProfile('lamp-post-controller'), 7);
    // The simulator's own day/night signal would overwrite what the gateway wrote: freeze it,
    // so the registers hold the writes only. The lamp was left on by hand.
    lamp.refreshMs = Number.POSITIVE_INFINITY;
    lamp.write(lamp.point('lamp_on')!, 1);
    const sim = await startTcpSimulator({ devices: [lamp] });
    cleanups.push(() => sim.close());
    const loaded = validateConfig(
      {
        gateway: { id: 'gw-lamp', location: { lon: 116.59, lat: 35.41 }, timeZone: 'Asia/Shanghai' },
        buses: [{ name: 'guanghe-rd', link: 'tcp', host: '127.0.0.1', port: sim.port, devices: [{ id: 'lamp-2', profile: 'lamp-post-controller', unit: 7 }] }],
        lighting: { schedules: [{ name: 'guanghe-rd', devices: ['lamp-2'], on: 'dusk', off: 'dawn', dim: [{ at: '00:00', percent: 50 }] }] },
        buffer: { path: ':memory:' },
        sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:9' },
      },
      'test',
    );
    const writer = new LinkPointWriter(loaded);
    cleanups.push(() => writer.close());
    const l = new Lighting(loaded.config.lighting!, { lon: 116.59, lat: 35.41, zone: 'Asia/Shanghai' }, loaded.profiles, writer, pino({ level: 'silent' }));
    cleanups.push(() => l.stop());
    expect(lamp.valueOf('lamp_on')).toBe(1);
    l.start();
    await vi.waitFor(() => expect(l.status()[0]).toMatchObject({ on: false, applied: true }));
    expect(lamp.valueOf('lamp_on')).toBe(0);
    expect(l.status()[0].next).toBe(new Date(dusk).toISOString());

    // The feature wakes 1 s after a transition: nothing yet at dusk − 1 s, on by dusk + 1 s.
    await vi.advanceTimersByTimeAsync(59_000);
    expect(lamp.valueOf('lamp_on')).toBe(0);
    await vi.advanceTimersByTimeAsync(2_000);
    await vi.waitFor(() => expect(l.status()[0]).toMatchObject({ on: true, percent: 100, applied: true }));
    expect(lamp.valueOf('lamp_on')).toBe(1); // coil 0 of unit 7
    expect(lamp.valueOf('dimming')).toBe(100); // holding register 0

    await vi.advanceTimersByTimeAsync(Date.parse('2026-12-22T00:00:01+08:00') - Date.now());
    await vi.waitFor(() => expect(lamp.valueOf('dimming')).toBe(50));
    expect(lamp.valueOf('lamp_on')).toBe(1);

    await vi.advanceTimersByTimeAsync(dawn - 2_000 - Date.now());
    expect(lamp.valueOf('lamp_on')).toBe(1);
    await vi.advanceTimersByTimeAsync(3_000);
    await vi.waitFor(() => expect(lamp.valueOf('lamp_on')).toBe(0));
    expect(new Date(dusk + 8 * 3_600_000).toISOString().slice(11, 19)).toBe('17:32:53'); // the dusk it switched on at, CST
  });
});
