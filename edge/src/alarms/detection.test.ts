import { AlarmLevel, Quality, type Reading } from '@lifeline/shared';
import { loadProfile } from '@lifeline/devices';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeBuffer } from '../buffer/buffer.js';
import { AlarmStore } from './store.js';
import { resolveAlarmsConfig } from './config.js';
import { AlarmManager, bufferSink } from './manager.js';
import type { LoadedConfig } from '../config/load.js';
import { Detection, commLossId } from './detection.js';
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

function rig(buffer = new EdgeBuffer(':memory:'), now = () => Date.now(), config = loaded.config) {
  open.push(buffer);
  const cfg = resolveAlarmsConfig({ restoreGraceMs: 10_000 });
  const m = new AlarmManager({ gateway: 'gw', config: cfg, store: new AlarmStore(buffer.alarmTables()), sink: bufferSink(buffer), clock: now, log });
  m.start();
  const events = new EventBus(log);
  const d = new Detection({ ...cfg, detectors: effectiveDetectors(config, loaded.profiles) }, events, m, log);
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
      const first = rig(new EdgeBuffer(':memory:'), undefined, config);
      first.m.onCondition({ alarmId: id, device: 'flood-1', point: 'water_level', detector: 'multivariate', ts: t, level, value: 2.5, cause: 'raised' });
      // Restart on the same database: the detector learns afresh (normal), the grace time passes.
      const again = rig(first.buffer, undefined, config);
      again.events.emit('readings', again.reading(t + 11_000, 2.4));
      return again.m.get(id)!;
    };
    expect(outcome(AlarmLevel.Yellow)).toMatchObject({ state: 'normal', level: AlarmLevel.Normal, cause: 'water_level watch withdrawn: not confirmed after restart' });
    expect(outcome(AlarmLevel.Orange)).toMatchObject({ state: 'cleared_unacked', level: AlarmLevel.Normal, cause: expect.stringMatching(/^not confirmed after restart/) });
  });

  it('withdraws a yellow watch when its device stops answering, and the detector does not send it again when it answers', () => {
    const config = { ...loaded.config, detectors: { multivariate: [{ device: 'flood-1', points: ['water_level'], warmup: 20, lambda: 1, onDelayMs: 60_000, watch: 8, watchGate: 1 }] } } as LoadedConfig['config'];
    const { m, events, reading, buffer } = rig(new EdgeBuffer(':memory:'), undefined, config);
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
});
