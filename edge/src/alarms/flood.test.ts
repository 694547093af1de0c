import { AlarmLevel } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import type { AlarmManager } from './manager.js';
import { T0, c, setup } from '../../test/alarms/manager-harness.js';

describe('alarm flood', () => {
  const flood = { count: 5, windowMs: 60_000, clearCount: 2 };
  const raise = (m: AlarmManager, i: number, level: AlarmLevel, ts: number) =>
    m.onCondition(c(level, ts, { alarmId: `dev-${i}/level/threshold`, device: `dev-${i}`, point: 'level' }));

  it('raises one summary alarm, suppresses new alarms below red while it lasts, and releases them after', () => {
    const { m, sent, clock } = setup({ flood });
    for (let i = 0; i < 5; i++) raise(m, i, AlarmLevel.Yellow, T0 + i * 1000);
    expect(m.flooding).toBe(true);
    const summary = m.get('gw-1/alarms/flood')!;
    expect(summary).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Orange, device: 'gw-1', detector: 'flood', value: 5 });
    expect(summary.cause).toMatch(/5 alarms raised within 1m0s|5 alarms raised within 1m/);
    // Lower levels are suppressed; red still gets through.
    for (let i = 5; i < 15; i++) raise(m, i, AlarmLevel.Yellow, T0 + 6000 + i);
    raise(m, 99, AlarmLevel.Red, T0 + 7000);
    expect(m.get('dev-7/level/threshold')!.state).toBe('suppressed');
    expect(m.get('dev-99/level/threshold')!.state).toBe('active_unacked');
    // Each suppressed alarm is sent once (so the cloud knows it exists), no more.
    expect(sent().filter((e) => e.to === 'suppressed')).toHaveLength(10);
    // One of them clears while suppressed: quietly.
    raise(m, 7, AlarmLevel.Normal, T0 + 8000);
    // Quiet for a window: the flood ends, the summary clears, suppressed alarms show their base state.
    clock.now = T0 + 70_000;
    m.tick();
    expect(m.flooding).toBe(false);
    expect(m.get('gw-1/alarms/flood')).toMatchObject({ state: 'cleared_unacked', level: AlarmLevel.Normal });
    expect(m.get('dev-8/level/threshold')!.state).toBe('active_unacked');
    expect(m.get('dev-7/level/threshold')!.state).toBe('cleared_unacked');
    expect(sent().filter((e) => e.alarmId === 'gw-1/alarms/flood').map((e) => `${e.from}>${e.to}`)).toEqual(['normal>active_unacked', 'active_unacked>cleared_unacked']);
  });

  it('raises spread out do not make a flood', () => {
    const { m } = setup({ flood });
    for (let i = 0; i < 20; i++) raise(m, i, AlarmLevel.Yellow, T0 + i * 20_000);
    expect(m.flooding).toBe(false);
    expect(m.get('gw-1/alarms/flood')).toBeUndefined();
  });
});
