import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { loadProfile } from '@lifeline/devices';
import type { PointWriter } from '../actions/point-writer.js';
import { Lighting } from './lighting.js';
import type { LightingConfig } from './config.js';

const jining = { lon: 116.59, lat: 35.41, zone: 'Asia/Shanghai' };
const cst = (s: string) => Date.parse(`${s}+08:00`);
const lamp = loadProfile('lamp-post-controller');
const profiles = new Map([['lamp-2', lamp], ['lamp-3', lamp]]);
/** Guanghe Road: on at dusk, 50 % after midnight, off at dawn. */
const guanghe: LightingConfig = { schedules: [{ name: 'guanghe-rd', devices: ['lamp-2', 'lamp-3'], on: 'dusk', off: 'dawn', dim: [{ at: '00:00', percent: 50 }] }] };

/** A writer that records writes (as `device.point=value`) and fails while `failing` > 0. */
function fakeWriter() {
  const writes: string[] = [];
  const w = {
    writes,
    failing: 0,
    async writePoint(device: string, point: string, value: number) {
      if (w.failing > 0) {
        w.failing--;
        throw new Error('LINK_DOWN: bus guanghe-rd is not open yet');
      }
      writes.push(`${device}.${point}=${value}`);
      return { readBack: value };
    },
    async close() {},
  };
  return w satisfies PointWriter;
}

/** Writes grouped by lamp: the lamps are written side by side, each in its own order. */
function byLamp(writes: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const w of writes) (out[w.split('.')[0]] ??= []).push(w.slice(w.indexOf('.') + 1));
  return out;
}

const logs: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
let running: Lighting | undefined;
function start(at: string, writer: PointWriter, config = guanghe) {
  vi.setSystemTime(cst(at));
  running = new Lighting(config, jining, profiles, writer, log, { now: () => Date.now() });
  running.start();
  return running;
}

beforeEach(() => {
  vi.useFakeTimers();
  logs.length = 0;
});
afterEach(() => {
  running?.stop();
  vi.useRealTimers();
});

describe('Lighting', () => {
  it('switches off at noon on start (a lamp left on by hand or by a crash goes off)', async () => {
    const w = fakeWriter();
    start('2026-12-21T12:00', w);
    await vi.advanceTimersByTimeAsync(0);
    expect(byLamp(w.writes)).toEqual({ 'lamp-2': ['lamp_on=0'], 'lamp-3': ['lamp_on=0'] });
  });

  it('a restart in the middle of the night sets on and 50 % at once, then off at dawn', async () => {
    const w = fakeWriter();
    const l = start('2026-12-22T01:00', w);
    await vi.advanceTimersByTimeAsync(0);
    // Dimmed first, then switched on: no flash at full power.
    expect(byLamp(w.writes)).toEqual({ 'lamp-2': ['dimming=50', 'lamp_on=1'], 'lamp-3': ['dimming=50', 'lamp_on=1'] });
    expect(l.status()[0]).toEqual({ schedule: 'guanghe-rd', device: 'lamp-2', on: true, percent: 50, applied: true, next: '2026-12-21T22:50:43.457Z' }); // dawn 06:50:43 CST
    // The next transition is logged in the site's time: dawn, off.
    expect(logs.find((e) => e.msg === 'lamp schedule: state now and next transition')?.next).toEqual({ 'guanghe-rd': [{ at: '2026-12-22 06:50 Asia/Shanghai', on: false }] });
    w.writes.length = 0;
    await vi.advanceTimersByTimeAsync(cst('2026-12-22T06:50') - Date.now()); // 06:50:00: dawn is 06:50:43
    expect(w.writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(byLamp(w.writes)).toEqual({ 'lamp-2': ['lamp_on=0'], 'lamp-3': ['lamp_on=0'] });
  });

  it('at 18:00 the lamps are on in December and off in June; June switches on at its later dusk', async () => {
    const dec = fakeWriter();
    start('2026-12-21T18:00', dec);
    await vi.advanceTimersByTimeAsync(0);
    expect(byLamp(dec.writes)).toEqual({ 'lamp-2': ['dimming=100', 'lamp_on=1'], 'lamp-3': ['dimming=100', 'lamp_on=1'] });
    running!.stop();
    const jun = fakeWriter();
    start('2026-06-21T18:00', jun);
    await vi.advanceTimersByTimeAsync(0);
    expect(byLamp(jun.writes)).toEqual({ 'lamp-2': ['lamp_on=0'], 'lamp-3': ['lamp_on=0'] });
    jun.writes.length = 0;
    await vi.advanceTimersByTimeAsync(cst('2026-06-21T20:01') - Date.now()); // dusk 20:01:55
    expect(jun.writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(byLamp(jun.writes)).toEqual({ 'lamp-2': ['dimming=100', 'lamp_on=1'], 'lamp-3': ['dimming=100', 'lamp_on=1'] });
    // And midnight dims.
    jun.writes.length = 0;
    await vi.advanceTimersByTimeAsync(cst('2026-06-22T00:00:30') - Date.now());
    expect(byLamp(jun.writes)).toEqual({ 'lamp-2': ['dimming=50', 'lamp_on=1'], 'lamp-3': ['dimming=50', 'lamp_on=1'] });
  });

  it('retries a failed write with a growing delay and logs each failure', async () => {
    const w = fakeWriter();
    w.failing = 3; // lamp-2's dimming, then its two retries
    const l = start('2026-12-21T20:00', w, { schedules: [{ devices: ['lamp-2'], on: 'sunset', off: 'sunrise' }] });
    await vi.advanceTimersByTimeAsync(0);
    expect(w.writes).toEqual([]);
    expect(l.status()[0]).toMatchObject({ schedule: 'schedules[0]', on: true, applied: false });
    await vi.advanceTimersByTimeAsync(1_000); // retry 1 after 1 s: fails
    await vi.advanceTimersByTimeAsync(1_999); // retry 2 is due 2 s later
    expect(w.writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1); // retry 2: fails
    await vi.advanceTimersByTimeAsync(4_000); // retry 3 after 4 s: succeeds
    expect(byLamp(w.writes)).toEqual({ 'lamp-2': ['dimming=100', 'lamp_on=1'] });
    expect(l.status()[0].applied).toBe(true);
    const failures = logs.filter((e) => e.msg === 'lamp schedule: write failed; retrying');
    expect(failures.map((e) => [e.attempt, e.retryInMs])).toEqual([[1, 1000], [2, 2000], [3, 4000]]);
    expect(failures[0].err).toMatch(/LINK_DOWN/);
  });

  it('retries nothing once stopped', async () => {
    const w = fakeWriter();
    w.failing = 2; // both lamps' first writes fail; their retries must not run
    start('2026-12-21T20:00', w).stop();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(w.writes).toEqual([]);
  });
});
