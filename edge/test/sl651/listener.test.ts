/**
 * The SL 651 listener as stations meet it: a simulated RTU connects over TCP and
 * reports; readings reach the event bus with the station's observation time and
 * the report is acknowledged; garbage, bad CRCs, unknown stations and resent
 * reports are counted, never stored and never stop the next good report.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { prng, type Reading } from '@lifeline/shared';
import { SL651_PUBLISHED_FRAMES, Sl651Ctl, buildSl651Body, buildSl651Frame, parseHex } from '@lifeline/shared/protocols';
import { Sl651Station, loadProfile, type Profile, type Sl651Profile } from '@lifeline/devices';
import { freePort, testLog, waitFor } from '../../../test/helpers.js';
import { EventBus } from '../../src/events/event-bus.js';
import { Sl651Listener } from '../../src/poller/sl651-listener.js';
import type { Bus } from '../../src/config/schema.js';
import { startSimulation } from '../../src/cli/simulate.js';

const rain = loadProfile('sl651-rain-station') as Sl651Profile;
const level = loadProfile('sl651-water-level-station') as Sl651Profile;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: { pollMs?: number; silentIntervals?: number; stallMs?: number } = {}) {
  const port = await freePort();
  const bus: Bus = {
    name: 'hydrology',
    link: 'sl651-listen',
    host: '127.0.0.1',
    port,
    timeoutMs: 1000,
    devices: [
      { id: 'rain-1', profile: 'sl651-rain-station', station: '0012345678', ...(opts.pollMs ? { pollMs: opts.pollMs } : {}) },
      { id: 'level-1', profile: 'sl651-water-level-station', station: '0087654321' },
    ],
  };
  const profiles = new Map<string, Readonly<Profile>>([
    ['rain-1', rain],
    ['level-1', level],
  ]);
  const events = new EventBus(testLog);
  const readings: Reading[] = [];
  const comm: Array<{ device: string; ok: boolean }> = [];
  events.on('readings', (b) => readings.push(...b));
  events.on('comm', (c) => comm.push({ device: c.device, ok: c.ok }));
  const listener = new Sl651Listener(bus, profiles, events, testLog, { silentIntervals: opts.silentIntervals, stallMs: opts.stallMs });
  await listener.start();
  cleanups.push(() => listener.stop());
  const station = (profile: Sl651Profile, address: string, extra: Partial<ConstructorParameters<typeof Sl651Station>[0]> = {}) => {
    const s = new Sl651Station({ profile, station: address, host: '127.0.0.1', port, intervalMs: 0, ...extra });
    cleanups.push(() => s.stop());
    return s;
  };
  return { port, listener, readings, comm, station };
}

describe('SL 651 listener', () => {
  it('a rain station reports: readings with the observation time, then the reply', async () => {
    const { listener, readings, station } = await setup();
    const values: Record<string, number> = { rainfall: 2.5, cumulative_rainfall: 1234.5, daily_rainfall: 17.5, battery_voltage: 12.61 };
    const s = station(rain, '0012345678', { pointValue: (p) => values[p.name] });
    await s.start();
    const t0 = Date.now();
    expect(await s.report()).toBe(true);
    expect(readings.map((r) => [r.device, r.point, r.value])).toEqual([
      ['rain-1', 'rainfall', 2.5],
      ['rain-1', 'cumulative_rainfall', 1234.5],
      ['rain-1', 'daily_rainfall', 17.5],
      ['rain-1', 'battery_voltage', 12.61],
    ]);
    // Observation time: the station's clock to the minute (China time), read back as epoch ms.
    const minute = Math.floor(t0 / 60_000) * 60_000;
    expect(readings[0].ts === minute || readings[0].ts === minute + 60_000).toBe(true);
    expect(listener.stats().stations.find((x) => x.device === 'rain-1')).toMatchObject({ frames: 1, reports: 1, malformed: 0 });
  });

  it('the ASCII form is read the same way', async () => {
    const { readings, station } = await setup();
    const s = station(level, '0087654321', { encoding: 'ascii', pointValue: (p) => (p.name === 'water_level' ? 33.215 : p.name === 'rainfall' ? 0 : 12.5) });
    await s.start();
    expect(await s.report()).toBe(true);
    expect(readings.map((r) => [r.device, r.point, r.value])).toEqual([
      ['level-1', 'water_level', 33.215],
      ['level-1', 'rainfall', 0],
      ['level-1', 'battery_voltage', 12.5],
    ]);
  });

  it('"no data" (FF) is a Bad reading; a value outside the point range is Uncertain', async () => {
    const { readings, station } = await setup();
    const s = station(level, '0087654321', { pointValue: (p) => (p.name === 'water_level' ? null : p.name === 'battery_voltage' ? 31 : 0) });
    await s.start();
    expect(await s.report()).toBe(true);
    expect(readings.find((r) => r.point === 'water_level')).toMatchObject({ quality: 2 });
    expect(Number.isNaN(readings.find((r) => r.point === 'water_level')!.value)).toBe(true);
    expect(readings.find((r) => r.point === 'battery_voltage')).toMatchObject({ value: 31, quality: 1 });
  });

  it('an unknown station address is counted, not stored, not answered; the known one still is', async () => {
    const { listener, readings, station } = await setup();
    const s = station(rain, '0012345678', { pointValue: () => 1 });
    await s.start();
    // A published 32H report of station 0011223344, which no device here has.
    const stranger = parseHex(SL651_PUBLISHED_FRAMES.timed32);
    expect(await s.send(stranger, 400)).toBe(false);
    expect(await s.send(stranger, 400)).toBe(false);
    expect(readings).toEqual([]);
    expect(listener.stats().unknownFrames).toBe(2);
    expect(await s.report()).toBe(true);
    expect(readings.length).toBe(4);
  });

  it('garbage and a bad CRC are counted against the station and do not stop its next report', async () => {
    const { listener, readings, station } = await setup();
    const s = station(rain, '0012345678', { pointValue: () => 1 });
    await s.start();
    expect(await s.report()).toBe(true);
    const bad = s.frame();
    bad[bad.length - 1] ^= 0xff;
    expect(await s.send(Uint8Array.from([0x00, 0x68, 0x16, 0x55, 0xaa]), 300)).toBe(false);
    expect(await s.send(bad, 300)).toBe(false);
    expect(await s.report()).toBe(true);
    const st = listener.stats();
    expect(st.stations.find((x) => x.device === 'rain-1')).toMatchObject({ reports: 2, malformed: 1 });
    expect(st.stations.find((x) => x.device === 'rain-1')!.lastError).toMatch(/^FRAME_INVALID: crc \(byte \d+\): expected/);
    expect(st.skippedBytes).toBeGreaterThanOrEqual(5); // the garbage, then the bad frame's bytes stepped over
    expect(new Set(readings.map((r) => r.ts)).size).toBeGreaterThanOrEqual(1);
  });

  it('a resent report is answered again but stored once', async () => {
    const { listener, readings, station } = await setup();
    const s = station(rain, '0012345678', { pointValue: () => 3 });
    await s.start();
    const f = s.frame();
    expect(await s.send(f)).toBe(true);
    expect(await s.send(f)).toBe(true);
    expect(readings.length).toBe(4);
    expect(listener.stats().stations.find((x) => x.device === 'rain-1')).toMatchObject({ reports: 2, duplicates: 4 });
  });

  it('a connection that sends a frame in pieces, or two frames in one write, is read right', async () => {
    const { port, readings, station } = await setup();
    const s = station(rain, '0012345678', { pointValue: () => 1 });
    const a = s.frame(Date.now() - 120_000);
    const b = s.frame(Date.now() - 60_000);
    const sock = connect({ host: '127.0.0.1', port });
    cleanups.push(() => void sock.destroy());
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const replies: Buffer[] = [];
    sock.on('data', (d: Buffer) => replies.push(d));
    sock.write(a.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 50));
    sock.write(Buffer.concat([a.subarray(10), b]));
    await waitFor(() => readings.length === 8, 5000, 'two reports');
    await waitFor(() => Buffer.concat(replies).length >= 2 * 25, 5000, 'two replies');
  });

  it('a station silent for its intervals is comm-lost once, and back when it reports', async () => {
    const { comm, station } = await setup({ pollMs: 150, silentIntervals: 2 });
    await waitFor(() => comm.some((c) => c.device === 'rain-1' && !c.ok), 5000, 'comm lost');
    const s = station(rain, '0012345678', { pointValue: () => 1 });
    await s.start();
    expect(await s.report()).toBe(true);
    expect(comm.filter((c) => c.device === 'rain-1')).toEqual([
      { device: 'rain-1', ok: false },
      { device: 'rain-1', ok: true },
    ]);
  });

  it('a multi-packet report is acknowledged packet by packet where it can be, not read, not counted malformed', async () => {
    const { listener, readings, station } = await setup();
    const s = station(rain, '0012345678', { pointValue: () => 1 });
    await s.start();
    const head = { direction: 'up' as const, centre: 1, station: '0012345678', password: '0000', functionCode: 0x36 };
    const first = buildSl651Frame({ ...head, packet: { total: 2, seq: 1 }, body: buildSl651Body({ encoding: 'hex', serial: 5, sendTime: '2024-06-01 08:00:00', items: [] }), end: Sl651Ctl.ETB });
    const second = buildSl651Frame({ ...head, packet: { total: 2, seq: 2 }, body: Uint8Array.of(0xff, 0xd8, 0xff, 0xe0), end: Sl651Ctl.ETX });
    expect(await s.send(first)).toBe(true);
    expect(await s.send(second, 300)).toBe(false);
    expect(readings).toEqual([]);
    expect(listener.stats().stations.find((x) => x.device === 'rain-1')).toMatchObject({ frames: 2, malformed: 0, reports: 0 });
  });

  it('lifeline simulate --sl651 runs stations that report to the listener; --tcp is refused for them', async () => {
    const { port, readings } = await setup();
    const base = { profile: ['sl651-rain-station'], host: '127.0.0.1', unit: 1, devices: 1, fault: [] as string[] };
    await expect(startSimulation({ ...base, tcp: 0 })).rejects.toThrow(/sl651-rain-station is an SL 651 station: it reports to a centre, give --sl651/);
    const sim = await startSimulation({ ...base, sl651: `127.0.0.1:${port}`, station: '0012345678', every: 60 });
    cleanups.push(async () => void (await sim.stop()));
    expect(sim.lines[0]).toMatch(/sl651-rain-station station 0012345678/);
    await waitFor(() => readings.length >= 4, 5000, 'the first report');
    expect(new Set(readings.map((r) => r.point))).toEqual(new Set(['rainfall', 'cumulative_rainfall', 'daily_rainfall', 'battery_voltage']));
  });

  it('random bytes, including frame starts whose length promises bytes that never come, do not hold back the next report', async () => {
    const { listener, readings, station } = await setup({ stallMs: 200 });
    const s = station(rain, '0012345678', { pointValue: () => 1 });
    await s.start();
    const rand = prng(651);
    // One base time: Date.now() per round could cross a minute between rounds, and two reports would share an
    // observation minute (SL 651 times are to the minute), the second stored over the first.
    const base = Date.now();
    for (let round = 0; round < 5; round++) {
      const junk = Uint8Array.from({ length: 2000 }, () => Math.floor(rand() * 256));
      // A HEX start whose length field claims 4000 bytes, and an ASCII one claiming 0xFFF characters.
      junk.set([0x7e, 0x7e, 1, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0x32, 0x0f, 0xa0], 100);
      junk.set(Array.from('\u0001010012345678000032000FFF', (c) => c.charCodeAt(0)), 900);
      expect(await s.send(junk, 100)).toBe(false);
      // Each report a minute earlier than the last (one per observation time is stored).
      expect(await s.send(s.frame(base - (round + 1) * 60_000), 5000)).toBe(true);
    }
    expect(readings.length).toBe(5 * 4);
    expect(listener.stats().stations.find((x) => x.device === 'rain-1')).toMatchObject({ reports: 5 });
  });
});
