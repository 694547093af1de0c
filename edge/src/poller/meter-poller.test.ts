/**
 * MeterPoller over a fake meter link: the poll state machine it shares with
 * BusPoller (device-poller.ts) seen through meters: the poll clock and its
 * cadence, comm loss and probes, refusals and retries of garbled replies.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { ErrorCodes, LifelineError, Quality, type Reading } from '@lifeline/shared';
import { buildCjt188Frame, buildCjt188ReadReply } from '@lifeline/shared/protocols';
import { loadProfile } from '@lifeline/devices';
import { EventBus, type AgentEvents } from '../events/event-bus.js';
import type { Bus } from '../config/schema.js';
import type { LinkHooks } from '../links/link.js';
import type { MeterDone, MeterLink, MeterRequest } from '../links/meter.js';
import { TickClock } from '../links/clock.js';
import { MeterPoller } from './meter-poller.js';

const log = pino({ level: 'silent' });
const water = loadProfile('water-meter');

type Mode = 'ok' | 'dead' | 'refuse' | 'garbled';

/** A meter link whose water meters answer as their mode says (all one CJ/T 188 901F read each). */
class FakeMeterLink {
  readonly where = 'fake meter link';
  mode = new Map<string, Mode>();
  sent: { address: string; at: number }[] = [];
  private timers = new Set<NodeJS.Timeout>();
  constructor(private readonly timeoutMs: number) {}
  submit(req: MeterRequest, done: MeterDone): void {
    this.sent.push({ address: req.address, at: Date.now() });
    const later = (ms: number, err: LifelineError | null, reply: Uint8Array = new Uint8Array(0)) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        done(err, reply);
      }, ms);
      this.timers.add(t);
    };
    const mode = this.mode.get(req.address) ?? 'ok';
    if (mode === 'dead') return later(this.timeoutMs, new LifelineError(ErrorCodes.DeviceTimeout, `meter ${req.address}: no reply within ${this.timeoutMs} ms`));
    // An abnormal reply (C1): the meter is there but gives no data.
    if (mode === 'refuse') return later(1, null, buildCjt188Frame(0x10, req.address, 0xc1, Uint8Array.of(0x90, 0x1f, 0, 0, 0)));
    // A well-formed reply from a meter of another type: the decoder refuses it (FRAME_INVALID).
    if (mode === 'garbled') return later(1, null, buildCjt188ReadReply(0x20, req.address, { values: { currentFlow: 1 } }));
    later(1, null, buildCjt188ReadReply(0x10, req.address, { values: { currentFlow: 12.5, settlementFlow: 10 }, status: [0x01, 0] }));
  }
  drop(): void {}
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
  }
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
  vi.useRealTimers();
});

function setup(addresses: string[], opts: { timeoutMs?: number; pollMs?: number; clock?: TickClock } = {}) {
  const timeoutMs = opts.timeoutMs ?? 30;
  const bus = {
    name: 'm',
    link: 'meter',
    path: '/dev/null',
    timeoutMs,
    retries: 1,
    devices: addresses.map((address) => ({ id: `w${address.slice(-2)}`, profile: 'water-meter', address, pollMs: opts.pollMs ?? 100 })),
  } as Bus;
  const profiles = new Map(bus.devices.map((d) => [d.id, water]));
  const events = new EventBus(log);
  const readings: Reading[][] = [];
  const comm: AgentEvents['comm'][] = [];
  events.on('readings', (r) => readings.push(r));
  events.on('comm', (c) => comm.push(c));
  const link = new FakeMeterLink(timeoutMs);
  let hooks: LinkHooks = {};
  const poller = new MeterPoller(bus, profiles, events, log, {
    link: (h) => {
      hooks = h;
      return link as unknown as MeterLink;
    },
    maxBackoffMs: 5000,
    clock: opts.clock,
  });
  cleanup.push(() => poller.stop());
  return { poller, link, readings, comm, up: () => hooks.onUp?.() };
}

const A = '12345678000001';
const B = '12345678000002';

describe('MeterPoller', () => {
  it('reads every point of a meter and hands one batch per poll to the event bus', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance', 'Date'] });
    const { poller, readings } = setup([A], { clock: new TickClock(20) });
    await poller.start();
    await vi.advanceTimersByTimeAsync(50);
    expect(readings).toHaveLength(1);
    expect(Object.fromEntries(readings[0].map((r) => [r.point, r.value]))).toEqual({ total_volume: 12.5, settlement_volume: 10, valve_closed: 1, battery_low: 0 });
    expect(readings[0].every((r) => r.device === 'w01' && r.quality === undefined)).toBe(true);
  });

  it('polls on the clock tick after each due time and keeps the cadence from the due time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance', 'Date'] });
    const { poller, link } = setup([A, B], { pollMs: 230, clock: new TickClock(20) });
    const t0 = Date.now();
    await poller.start();
    await vi.advanceTimersByTimeAsync(230 * 19 + 20);
    await poller.stop();
    [A, B].forEach((address, i) => {
      const polls = link.sent.filter((s) => s.address === address).map((s) => s.at - t0);
      expect(polls).toHaveLength(20);
      polls.forEach((at, k) => {
        const due = i + 230 * k;
        expect(at).toBeGreaterThanOrEqual(due);
        expect(at).toBeLessThan(due + 20);
        if (k > 0) expect(at % 20).toBe(0);
      });
    });
  });

  it('reports a silent meter comm-lost once, probes it less and less often, and tells when it is back', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance', 'Date'] });
    const { poller, link, comm, readings } = setup([A, B], { timeoutMs: 20, pollMs: 50, clock: new TickClock(20) });
    link.mode.set(B, 'dead');
    await poller.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(comm).toMatchObject([{ device: 'w02', ok: false, error: expect.stringMatching(/^DEVICE_TIMEOUT: meter 12345678000002/) }]);
    const toDead = link.sent.filter((s) => s.address === B).map((s) => s.at);
    // The first poll: the read and its one retry. Then probes, the first ten timeouts after the failed poll ran, then further apart.
    expect(toDead.length).toBeGreaterThanOrEqual(5);
    expect(toDead[2] - toDead[0]).toBeGreaterThanOrEqual(200);
    for (let i = 4; i < toDead.length; i++) expect(toDead[i] - toDead[i - 1]).toBeGreaterThan(toDead[i - 1] - toDead[i - 2]);
    // The live meter kept its pace: one poll per 50 ms.
    expect(readings.filter((r) => r[0].device === 'w01').length).toBeGreaterThanOrEqual(55);
    link.mode.set(B, 'ok');
    await vi.advanceTimersByTimeAsync(5000);
    expect(comm.map((c) => [c.device, c.ok])).toEqual([
      ['w02', false],
      ['w02', true],
    ]);
    expect(readings.some((r) => r[0].device === 'w02' && r.length === 4)).toBe(true);
  });

  it('keeps a meter that refuses alive with Bad points; a garbled reply is retried, then the meter is comm-lost', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance', 'Date'] });
    const { poller, link, comm, readings } = setup([A, B], { clock: new TickClock(20) });
    link.mode.set(A, 'refuse');
    link.mode.set(B, 'garbled');
    await poller.start();
    await vi.advanceTimersByTimeAsync(80);
    expect(readings).toHaveLength(1);
    expect(readings[0].map((r) => r.point).sort()).toEqual(['battery_low', 'settlement_volume', 'total_volume', 'valve_closed']);
    expect(readings[0].every((r) => r.device === 'w01' && r.quality === Quality.Bad && Number.isNaN(r.value))).toBe(true);
    expect(link.sent.filter((s) => s.address === B)).toHaveLength(2);
    expect(comm).toMatchObject([{ device: 'w02', ok: false, error: expect.stringMatching(/^FRAME_INVALID: .*meter type/) }]);
  });

  it('probes comm-lost meters at once when the link comes back', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance', 'Date'] });
    const { poller, link, comm, up } = setup([A], { timeoutMs: 500, pollMs: 100, clock: new TickClock(20) });
    link.mode.set(A, 'dead');
    await poller.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(comm).toHaveLength(1);
    // Backoff would now wait ten timeouts (5 s) from the failed poll; the link coming back must not wait for that.
    link.mode.set(A, 'ok');
    up();
    await vi.advanceTimersByTimeAsync(100);
    expect(comm.map((c) => c.ok)).toEqual([false, true]);
  });
});
