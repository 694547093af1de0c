import { describe, expect, it } from 'vitest';
import { Quality, type Reading } from '@lifeline/shared';
import type { ModbusRequest } from '@lifeline/shared/protocols';
import { bridgeBurst, loadProfile } from '@lifeline/devices';
import { EventBus } from '../events/event-bus.js';
import type { FrameDone, ModbusLink } from '../links/link.js';
import type { Bus } from '../config/schema.js';
import { testLog, waitFor } from '../../../test/helpers.js';
import { BurstScheduler } from './burst-scheduler.js';

const profile = loadProfile('bridge-structural-monitor');
const bus = (burst?: Record<string, unknown>): Bus =>
  ({ name: 'deck', link: 'tcp', host: 'h', port: 1, timeoutMs: 100, devices: [{ id: 'bridge-1', profile: 'bridge-structural-monitor', unit: 1, ...(burst ? { burst } : {}) }] }) as Bus;

/** A link answering FC3 from `regs`; `garble` cuts a page's reply short. */
function link(regs: Int16Array, how: { garble?: boolean } = {}): ModbusLink & { pages: number } {
  const l = {
    kind: 'tcp' as const,
    where: 'fake',
    isUp: true,
    pages: 0,
    submit(_unit: number, req: ModbusRequest, done: FrameDone) {
      l.pages++;
      const q = (req as { quantity: number }).quantity;
      const n = how.garble ? q - 1 : q;
      const pdu = new Uint8Array(2 + 2 * n);
      pdu[0] = 3;
      pdu[1] = 2 * n;
      for (let i = 0; i < n; i++) {
        const v = regs[(req as { address: number }).address - 1000 + i] & 0xffff;
        pdu[2 + 2 * i] = v >> 8;
        pdu[3 + 2 * i] = v & 0xff;
      }
      setImmediate(() => done(null, pdu, 0, pdu.length));
    },
    drop() {},
    close: async () => {},
  };
  return l;
}

function scheduler(b: Bus, linkFor: () => ModbusLink | undefined, answering = true) {
  const events = new EventBus(testLog);
  const got: Reading[][] = [];
  events.on('readings', (r) => got.push(r));
  const s = new BurstScheduler([b], new Map([['bridge-1', profile]]), events, testLog, { linkFor, answering: () => answering, firstDelayMs: 0 });
  return { s, got };
}

const burst = bridgeBurst({ modes: [{ frequencyHz: 2.35 }, { frequencyHz: 7.9, rms: 0.006 }, { frequencyHz: 13.6, rms: 0.004 }], temperatureC: 15, seed: 9 });
const regs = Int16Array.from(burst.samples, (v) => Math.round(v / 0.0001));

describe('BurstScheduler', () => {
  it('reads a burst in the profile\'s pages and emits its readings, the device\'s override of the modes included', async () => {
    const l = link(regs);
    const { s, got } = scheduler(bus({ periodMs: 60000, modes: 2 }), () => l);
    s.start();
    await waitFor(() => got.length === 1, 5000, 'a burst');
    await s.stop();
    expect(l.pages).toBe(Math.ceil(6000 / 64)); // the profile's maxRegistersPerRequest
    expect(got[0].map((r) => r.point)).toEqual(['acceleration_rms', 'acceleration_peak', 'natural_frequency_1', 'natural_frequency_2']);
    expect(Math.abs(got[0][2].value / 2.35 - 1)).toBeLessThan(0.02);
    expect(s.stats()[0]).toMatchObject({ bursts: 1, failures: 0 });
  });

  it('counts a garbled page, a burst of one repeated value and a link not open as failures with Bad readings, and nothing when the device answers nothing', async () => {
    for (const [linkFor, error] of [
      [() => link(regs, { garble: true }), /reply carries 63 registers, asked 64/],
      [() => link(new Int16Array(6000).fill(7)), /every sample is 0\.0007 \(nothing recorded\)/],
      [() => undefined, /bus deck has no link/],
    ] as const) {
      const { s, got } = scheduler(bus(), linkFor);
      s.start();
      await waitFor(() => s.stats()[0]?.failures === 1, 5000, `a failed burst (${String(error)}: ${JSON.stringify(s.stats())})`);
      await s.stop();
      expect(s.stats()[0].lastError).toMatch(error);
      expect(got).toHaveLength(1);
      expect(got[0].map((r) => r.point)).toEqual(['acceleration_rms', 'acceleration_peak', 'natural_frequency_1', 'natural_frequency_2', 'natural_frequency_3']);
      expect(got[0].every((r) => r.quality === Quality.Bad && Number.isNaN(r.value))).toBe(true);
    }
    const { s, got } = scheduler(bus(), () => undefined, false);
    s.start();
    await waitFor(() => s.stats()[0]?.failures === 1, 5000, 'a failed burst');
    await s.stop();
    expect(got).toEqual([]);
  });

  it('reads nothing for a device whose burst is off', () => {
    expect(scheduler(bus({ enabled: false }), () => undefined).s.size).toBe(0);
    expect(scheduler(bus(), () => undefined).s.size).toBe(1);
  });
});
