import { AlarmLevel, Quality, type Reading } from '@lifeline/shared';
import { loadProfile } from '@lifeline/devices';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeBuffer } from '../buffer/buffer.js';
import { AlarmStore } from './store.js';
import { resolveAlarmsConfig } from './config.js';
import { bufferSink } from './journal.js';
import { AlarmManager } from './manager.js';
import type { LoadedConfig } from '../config/load.js';
import { Detection, commLossId, type WallClockSteps } from './detection.js';
import { effectiveDetectors } from '../detect/profile-defaults.js';
import { EventBus } from '../events/event-bus.js';

const log = pino({ level: 'silent' });
const open: EdgeBuffer[] = [];
afterEach(() => {
  for (const b of open.splice(0)) b.close();
});

const loaded = {
  config: {
    gateway: { id: 'gw' },
    buses: [],
    buffer: { path: ':memory:' },
    detectors: { points: [{ device: 'flood-1', point: 'water_level', threshold: { high: { yellow: 3, red: 3.2 } } }] },
  },
  profiles: new Map([['flood-1', loadProfile('flood-gauge')]]),
} as unknown as LoadedConfig;

function rig(buffer = new EdgeBuffer(':memory:'), now = () => Date.now(), clock?: { steps: WallClockSteps; selfStamped: ReadonlySet<string> }, config = loaded.config) {
  open.push(buffer);
  const cfg = resolveAlarmsConfig({ restoreGraceMs: 10_000 });
  const m = new AlarmManager({ gateway: 'gw', config: cfg, store: new AlarmStore(buffer.alarmTables()), sink: bufferSink(buffer), clock: now, log });
  m.start();
  const events = new EventBus(log);
  const d = new Detection({ ...cfg, detectors: effectiveDetectors(config, loaded.profiles) }, events, m, log, clock);
  d.start();
  const reading = (ts: number, value: number, quality?: Quality): Reading[] => [{ device: 'flood-1', point: 'water_level', ts, value, quality }];
  return { buffer, m, events, d, reading };
}

describe('Detection', () => {
  it('takes units from the profile for causes', () => {
    expect(effectiveDetectors(loaded.config, loaded.profiles).points!.find((p) => p.point === 'water_level')!.unit).toBe('m');
  });

  it('turns detector level changes into alarms, escalation included', () => {
    const { m, events, reading } = rig();
    const t = Date.now();
    events.emit('readings', reading(t, 3.1));
    events.emit('readings', reading(t + 1000, 3.3));
    events.emit('readings', reading(t + 2000, Number.NaN, Quality.Bad));
    expect(m.get('flood-1/water_level/threshold')).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Red, peakLevel: AlarmLevel.Red, value: 3.3 });
    expect(m.get('flood-1/water_level/threshold')!.cause).toMatch(/3\.3 m/);
    expect(m.list()).toHaveLength(1);
  });

  it('raises a communication-loss alarm from the bus layer and clears it when the device answers', () => {
    const { m, events, reading } = rig();
    const t = Date.now();
    events.emit('comm', { device: 'flood-1', ok: false, error: 'timeout after 1000 ms', ts: t });
    expect(m.get(commLossId('flood-1'))).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Yellow, detector: 'comm_loss', point: 'comm' });
    expect(m.get(commLossId('flood-1'))!.cause).toBe('flood-1 not answering: timeout after 1000 ms');
    events.emit('readings', reading(t + 5000, 2.0));
    expect(m.get(commLossId('flood-1'))).toMatchObject({ state: 'cleared_unacked', level: AlarmLevel.Normal });
  });

  it('after a restart, clears an alarm its detector does not confirm within the grace time, keeps one it confirms', () => {
    const { buffer, events, reading } = rig(new EdgeBuffer(':memory:'));
    const t = Date.now();
    events.emit('readings', reading(t, 3.5));
    events.emit('comm', { device: 'flood-1', ok: false, ts: t });
    // Restart on the same database: fresh detectors, restored alarms.
    const again = rig(buffer);
    const id = 'flood-1/water_level/threshold';
    expect(again.m.get(id)!.level).toBe(AlarmLevel.Red);
    // Value now normal, within the grace time: not judged yet (a detector may still be on its delays).
    again.events.emit('readings', reading(t + 1000, 1.0));
    expect(again.m.get(id)!.level).toBe(AlarmLevel.Red);
    // After the grace time the fresh detector still says normal: cleared, with the reason. The device answers: comm loss clears.
    again.events.emit('readings', reading(t + 11_000, 1.0));
    expect(again.m.get(id)).toMatchObject({ level: AlarmLevel.Normal, state: 'cleared_unacked' });
    expect(again.m.get(id)!.cause).toMatch(/not confirmed after restart/);
    expect(again.m.get(commLossId('flood-1'))!.level).toBe(AlarmLevel.Normal);
  });

  it('after a restart, a yellow watch its fresh detector does not confirm is withdrawn to normal, an orange alarm only cleared', () => {
    const config = { ...loaded.config, detectors: { multivariate: [{ device: 'flood-1', points: ['water_level'], warmup: 100, watch: 8, watchGate: 1 }] } } as LoadedConfig['config'];
    const id = 'flood-1/multivariate';
    const t = Date.now();
    const outcome = (level: AlarmLevel) => {
      const first = rig(new EdgeBuffer(':memory:'), undefined, undefined, config);
      first.m.onCondition({ alarmId: id, device: 'flood-1', point: 'water_level', detector: 'multivariate', ts: t, level, value: 2.5, cause: 'raised' });
      // Restart on the same database: the detector learns afresh (normal), the grace time passes.
      const again = rig(first.buffer, undefined, undefined, config);
      again.events.emit('readings', again.reading(t + 11_000, 2.4));
      return again.m.get(id)!;
    };
    expect(outcome(AlarmLevel.Yellow)).toMatchObject({ state: 'normal', level: AlarmLevel.Normal, cause: 'water_level watch withdrawn: not confirmed after restart' });
    expect(outcome(AlarmLevel.Orange)).toMatchObject({ state: 'cleared_unacked', level: AlarmLevel.Normal, cause: expect.stringMatching(/^not confirmed after restart/) });
  });

  it('withdraws a yellow watch when its device stops answering, and the detector does not send it again when it answers', () => {
    const config = { ...loaded.config, detectors: { multivariate: [{ device: 'flood-1', points: ['water_level'], warmup: 20, lambda: 1, onDelayMs: 60_000, watch: 8, watchGate: 1 }] } } as LoadedConfig['config'];
    const { m, events, reading, buffer } = rig(new EdgeBuffer(':memory:'), undefined, undefined, config);
    const id = 'flood-1/multivariate';
    const t = Date.now();
    for (let i = 0; i < 20; i++) events.emit('readings', reading(t + i * 1000, i % 2 ? 2.101 : 2.099));
    events.emit('readings', reading(t + 20_000, 2.15));
    expect(m.get(id)).toMatchObject({ level: AlarmLevel.Yellow, state: 'active_unacked' });
    events.emit('comm', { device: 'flood-1', ok: false, error: 'timeout after 1000 ms', ts: t + 21_000 });
    expect(m.get(id)).toMatchObject({ level: AlarmLevel.Normal, state: 'normal', cause: 'water_level watch withdrawn: flood-1 not answering' });
    const sent = buffer.lastWritten('events');
    // Back, 40 s later and quiet: the detector's own withdrawal finds the alarm normal already.
    events.emit('readings', reading(t + 60_000, 2.1));
    events.emit('readings', reading(t + 61_000, 2.1));
    expect(m.get(id)).toMatchObject({ level: AlarmLevel.Normal, state: 'normal' });
    // Only the comm-loss alarm's clear was sent meanwhile.
    expect(buffer.lastWritten('events')).toBe(sent + 1);
  });

  it('after a restart, a confirmed alarm causes no new transition', () => {
    const { buffer, events, reading } = rig(new EdgeBuffer(':memory:'));
    const t = Date.now();
    events.emit('readings', reading(t, 3.5));
    const sent = buffer.lastWritten('events');
    const again = rig(buffer);
    again.events.emit('readings', reading(t + 1000, 3.6));
    again.events.emit('readings', reading(t + 20_000, 3.6));
    expect(again.m.get('flood-1/water_level/threshold')).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Red });
    expect(buffer.lastWritten('events')).toBe(sent);
  });

  describe("when the box's wall clock is stepped (NTP correcting a board without RTC)", () => {
    const DAY = 86_400_000;
    /** A wall clock that NTP steps: readings are stamped with it, the steps are what Detection can measure. */
    function steppedClock() {
      let offset = 0;
      const steps: WallClockSteps = { offsetMs: () => offset };
      return { steps, stepBy: (ms: number) => (offset += ms), wall: (elapsedMs: number) => elapsedMs + offset };
    }
    // The flood gauge's own default: its reading is a rolling 10-minute total, counted once per 10 minutes.
    const rainConfig = { ...loaded.config, detectors: { points: [{ device: 'flood-1', point: 'rainfall', rainstorm: { input: 'interval', intervalMs: 600_000 } }] } } as unknown as LoadedConfig['config'];

    it('still warns of a rainstorm after the clock is put back a day (the 10-minute rain was filed a day old and never summed)', () => {
      const c = steppedClock();
      const { m, events } = rig(undefined, undefined, { steps: c.steps, selfStamped: new Set() }, rainConfig);
      const base = Date.UTC(2026, 6, 18, 0, 0);
      const rain = (i: number, mm: number): Reading[] => [{ device: 'flood-1', point: 'rainfall', ts: base + c.wall(i * 600_000), value: mm }];
      events.emit('readings', rain(0, 0));
      events.emit('readings', rain(1, 0));
      // The box booted a day ahead; NTP puts it back. Then 20 mm every 10 minutes: 100 mm within the hour.
      c.stepBy(-DAY);
      for (let i = 2; i <= 7; i++) events.emit('readings', rain(i, 20));
      const a = m.get('flood-1/rainfall/rainstorm');
      expect(a).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Red });
      // Stamped on the corrected wall clock: raised (blue, 50 mm) at the third reading of 20 mm, red at the fifth.
      expect(a!.raisedAt).toBe(base + 4 * 600_000 - DAY);
      expect(a!.updated).toBe(base + 6 * 600_000 - DAY);
    });

    it('raises no "stuck" for a steady value when the clock jumps from 1970 to today, and still raises one after the real duration', () => {
      const c = steppedClock();
      const config = { ...loaded.config, detectors: { points: [{ device: 'flood-1', point: 'water_level', stuck: { epsilon: 0, durationMs: 600_000 } }] } } as unknown as LoadedConfig['config'];
      const { m, events, reading } = rig(undefined, undefined, { steps: c.steps, selfStamped: new Set() }, config);
      // An RTC-less board: the clock starts at 1970 (plus its uptime).
      const level = (s: number) => events.emit('readings', reading(60_000 + c.wall(s * 1000), 1.25));
      for (let s = 0; s < 60; s++) level(s);
      c.stepBy(Date.UTC(2026, 11, 7) - 60_000);
      for (let s = 60; s < 120; s++) level(s);
      expect(m.get('flood-1/water_level/stuck')).toBeUndefined();
      for (let s = 120; s <= 600; s++) level(s);
      const a = m.get('flood-1/water_level/stuck');
      expect(a).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Yellow });
      expect(a!.cause).toMatch(/for 600 s/);
      expect(a!.raisedAt).toBe(Date.UTC(2026, 11, 7) + 600_000);
    });

    it("does not move the readings of a device that stamps its own (an SL 651 station keeps its clock when the box's steps)", () => {
      const c = steppedClock();
      const { m, events } = rig(undefined, undefined, { steps: c.steps, selfStamped: new Set(['flood-1']) }, rainConfig);
      const base = Date.UTC(2026, 6, 18, 0, 0);
      // The station's own times run on; only the box's clock is put back.
      const rain = (i: number, mm: number): Reading[] => [{ device: 'flood-1', point: 'rainfall', ts: base + i * 600_000, value: mm }];
      events.emit('readings', rain(0, 0));
      c.stepBy(-DAY);
      for (let i = 1; i <= 5; i++) events.emit('readings', rain(i, 20));
      expect(m.get('flood-1/rainfall/rainstorm')).toMatchObject({ level: AlarmLevel.Red, raisedAt: base + 3 * 600_000, updated: base + 5 * 600_000 });
    });
  });
});
