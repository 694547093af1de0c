import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { Quality, type LifelineError, type Reading } from '@lifeline/shared';
import { buildTcpException, type ModbusRequest } from '@lifeline/shared/protocols';
import type { Profile } from '@lifeline/devices';
import { EventBus, type AgentEvents } from '../events/event-bus.js';
import type { Bus } from '../config/schema.js';
import { linkDownError, timeoutError, type FrameDone, type LinkHooks, type ModbusLink } from '../links/link.js';
import { TickClock } from '../links/clock.js';
import { BusPoller } from './poller.js';

const log = pino({ level: 'silent' });

/** Two blocks: holding 0..1 (a uint32) and holding 40 (an int16 scaled 0.1), far enough apart not to be merged. */
const profile = {
  id: 'test-device',
  vendor: 'Test',
  model: 'T-1',
  kind: 'flood',
  description: 'two blocks',
  protocol: 'modbus',
  defaultPollMs: 100,
  points: [
    { name: 'total_volume', table: 'holding', address: 0, type: 'uint32', unit: 'm3' },
    { name: 'water_temperature', table: 'holding', address: 40, type: 'int16', scale: 0.1, unit: '°C' },
  ],
} as unknown as Profile;

/** A link whose units answer register i with i + 100 * unit, unless dead, refusing or the link is down. */
class FakeLink implements ModbusLink {
  readonly kind = 'tcp' as const;
  readonly where = 'fake link';
  isUp = true;
  dead = new Set<number>();
  refuse = new Set<number>();
  sent: { unit: number; address: number; at: number }[] = [];
  dropped = 0;
  private timers = new Set<NodeJS.Timeout>();
  constructor(private readonly timeoutMs: number) {}
  submit(unit: number, req: ModbusRequest, done: FrameDone): void {
    const r = req as { address: number; quantity: number };
    this.sent.push({ unit, address: r.address, at: Date.now() });
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        fn();
      }, ms);
      this.timers.add(t);
    };
    if (!this.isUp) return later(0, () => done(linkDownError(this.where, 'lost: EIO'), new Uint8Array(0), 0, 0));
    if (this.dead.has(unit)) return later(this.timeoutMs, () => done(timeoutError(this.where, unit, req, this.timeoutMs), new Uint8Array(0), 0, 0));
    if (this.refuse.has(unit)) {
      return later(1, () => {
        const f = buildTcpException(1, unit, 3, 2);
        done(
          { code: 'DEVICE_EXCEPTION', message: 'DEVICE_EXCEPTION: unit 1 0x03: exception 0x02 illegal data address', lifelineError: true } as unknown as LifelineError,
          f,
          7,
          9,
        );
      });
    }
    later(1, () => {
      const pdu = new Uint8Array(2 + 2 * r.quantity);
      pdu[0] = 3;
      pdu[1] = 2 * r.quantity;
      for (let i = 0; i < r.quantity; i++) {
        const v = r.address + i + 100 * unit;
        pdu[2 + 2 * i] = v >> 8;
        pdu[3 + 2 * i] = v & 0xff;
      }
      done(null, pdu, 0, pdu.length);
    });
  }
  drop(): void {
    this.dropped++;
  }
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
  }
}

function setup(units: number[], opts: { timeoutMs?: number; pollMs?: number; retries?: number; clock?: TickClock } = {}) {
  const timeoutMs = opts.timeoutMs ?? 30;
  const bus = {
    name: 'b',
    link: 'tcp',
    host: 'x',
    port: 1,
    timeoutMs,
    retries: opts.retries ?? 1,
    devices: units.map((u) => ({ id: `d${u}`, profile: 'test-device', unit: u, pollMs: opts.pollMs ?? 100 })),
  } as Bus;
  const profiles = new Map(units.map((u) => [`d${u}`, profile]));
  const events = new EventBus(log);
  const readings: Reading[][] = [];
  const comm: AgentEvents['comm'][] = [];
  events.on('readings', (r) => readings.push(r));
  events.on('comm', (c) => comm.push(c));
  const link = new FakeLink(timeoutMs);
  let hooks: LinkHooks = {};
  const poller = new BusPoller(bus, profiles, events, log, {
    link: (h) => {
      hooks = h;
      return link;
    },
    maxBackoffMs: 5000,
    clock: opts.clock,
  });
  cleanup.push(() => poller.stop());
  return { poller, link, readings, comm, up: () => hooks.onUp?.() };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Wait until `fn()` holds (a loaded machine runs timers late). */
async function until(fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('BusPoller', () => {
  it('reads every block of the plan, decodes with the profile and hands one batch per poll to the event bus', async () => {
    const { poller, readings } = setup([2]);
    await poller.start();
    await until(() => readings.length >= 1);
    const first = readings[0];
    const byPoint = Object.fromEntries(first.map((r) => [r.point, r]));
    // registers 200, 201 → uint32 200 * 65536 + 201; register 240 → 24.0 °C
    expect(byPoint.total_volume.value).toBe(200 * 65536 + 201);
    expect(byPoint.water_temperature.value).toBe(24);
    expect(first.every((r) => r.device === 'd2' && r.quality === undefined)).toBe(true);
  });

  it('reports a silent device comm-lost once, then only probes it, less and less often, and tells when it is back', async () => {
    const { poller, link, comm, readings } = setup([1, 3], { timeoutMs: 20, pollMs: 50 });
    link.dead.add(3);
    await poller.start();
    await sleep(900);
    expect(comm).toHaveLength(1);
    expect(comm[0]).toMatchObject({ device: 'd3', ok: false });
    expect(comm[0].error).toMatch(/DEVICE_TIMEOUT: unit 3/);
    const toDead = link.sent.filter((s) => s.unit === 3);
    // First poll: both blocks in flight together (a TCP-like link), each retried once.
    expect(toDead.slice(0, 4).map((s) => s.address).sort()).toEqual([0, 0, 40, 40]);
    // Probes: the first block only, the first one no sooner than ten timeouts (200 ms) after the failed poll began.
    const probes = toDead.slice(4);
    expect(probes.every((p) => p.address === 0)).toBe(true);
    expect(probes.length).toBeGreaterThanOrEqual(1);
    expect(probes[0].at - toDead[0].at).toBeGreaterThanOrEqual(195);
    for (let i = 2; i < probes.length; i++) expect(probes[i].at - probes[i - 1].at).toBeGreaterThan(probes[i - 1].at - probes[i - 2].at);
    // The healthy unit kept its pace meanwhile.
    expect(readings.filter((r) => r[0].device === 'd1').length).toBeGreaterThanOrEqual(5);
    link.dead.delete(3);
    // The probe that succeeds reads the first block; the full poll follows at once.
    await until(() => comm.length >= 2 && readings.some((r) => r[0].device === 'd3' && r.length === 2), 3000);
    expect(comm.map((c) => [c.device, c.ok])).toEqual([
      ['d3', false],
      ['d3', true],
    ]);
    expect(readings.some((r) => r[0].device === 'd3' && r.length === 2)).toBe(true);
  });

  /** Poll times (ms from start) of each unit's first block, with fake timers and clock. */
  async function pollTimes(pollMs: number, runMs: number): Promise<Map<number, number[]>> {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance', 'Date'] });
    try {
      const { poller, link } = setup([1, 2], { pollMs, clock: new TickClock(20) });
      const t0 = Date.now();
      await poller.start();
      await vi.advanceTimersByTimeAsync(runMs);
      await poller.stop();
      return new Map([1, 2].map((u) => [u, link.sent.filter((s) => s.unit === u && s.address === 0).map((s) => s.at - t0)]));
    } finally {
      vi.useRealTimers();
    }
  }

  it('polls on the clock tick after each due time and keeps the cadence from the due time, so a late start never drifts', async () => {
    // 230 ms polls on a 20 ms tick: each poll runs up to 20 ms late; counting from the late start would make every interval 240 ms.
    const times = await pollTimes(230, 230 * 19 + 20);
    for (const [unit, polls] of times) {
      // Due at start (+ unit - 1 ms of spread), then every 230 ms after that: 20 polls.
      expect(polls).toHaveLength(20);
      polls.forEach((at, k) => {
        const due = unit - 1 + 230 * k;
        expect(at).toBeGreaterThanOrEqual(due);
        expect(at).toBeLessThan(due + 20);
        if (k > 0) expect(at % 20).toBe(0);
      });
    }
  });

  it('never stamps two polls of a device with one time, even when the clock has not moved between them', async () => {
    // An overrun poll is followed at once and may finish in the same millisecond; a frozen Date makes that certain.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const { poller, readings } = setup([1], { pollMs: 50 });
      await poller.start();
      await until(() => readings.length >= 4);
      const ts = readings.map((b) => b[0].ts);
      for (let i = 1; i < ts.length; i++) expect(ts[i], `poll ${i} at ${ts[i]} after ${ts[i - 1]}`).toBeGreaterThan(ts[i - 1]);
      // Within a poll every point keeps its read's time, and no time runs ahead of the clock by more than a step a poll.
      for (const b of readings) expect(new Set(b.map((r) => r.ts)).size).toBeLessThanOrEqual(2);
      expect(ts[ts.length - 1] - Date.now()).toBeLessThanOrEqual(2 * ts.length);
    } finally {
      vi.useRealTimers();
    }
  });

  it('polls a device faster than ten ticks at its exact due times', async () => {
    const times = await pollTimes(30, 30 * 19 + 20);
    for (const [unit, polls] of times) {
      expect(polls).toHaveLength(20);
      polls.forEach((at, k) => expect(at - (unit - 1 + 30 * k)).toBeLessThanOrEqual(1));
    }
  });

  it('keeps a device that refuses a read alive, with Bad-quality points for that block', async () => {
    const { poller, link, comm, readings } = setup([4]);
    link.refuse.add(4);
    await poller.start();
    await until(() => readings.length >= 1);
    expect(comm).toHaveLength(0);
    expect(readings[0].every((r) => r.quality === Quality.Bad && Number.isNaN(r.value))).toBe(true);
  });

  it('probes comm-lost devices at once when the link comes back', async () => {
    const { poller, link, comm, up } = setup([5], { timeoutMs: 500, pollMs: 100 });
    link.isUp = false;
    await poller.start();
    await until(() => comm.length >= 1);
    expect(comm).toMatchObject([{ device: 'd5', ok: false, error: 'LINK_DOWN: fake link: lost: EIO' }]);
    // Backoff would now wait 10 timeouts (5 s); the link coming back must not wait for that.
    link.isUp = true;
    up();
    // Far sooner than the 5 s backoff.
    await until(() => comm.length >= 2, 2000);
    expect(comm.map((c) => c.ok)).toEqual([false, true]);
  });
});
