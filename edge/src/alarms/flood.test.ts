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

describe('the alarm flood and the multivariate detector\'s yellow watch', () => {
  const flood = { count: 5, windowMs: 60_000, clearCount: 2 };
  const watchCause = 'flow 41.2 has been beyond its learned band and its excess has piled up to 96.4 (CUSUM; watch at 88, 8× the most it reached while learning): 黄色 III';
  const watch = (m: AlarmManager, pump: number, level: AlarmLevel, ts: number, cause: string, withdrawn = false) =>
    m.onCondition(c(level, ts, { alarmId: `pump-${pump}/multivariate`, device: `pump-${pump}`, point: 'flow', detector: 'multivariate', value: 41.2, cause, ...(withdrawn ? { withdrawn } : {}) }));
  const raise = (m: AlarmManager, i: number, ts: number) =>
    m.onCondition(c(AlarmLevel.Orange, ts, { alarmId: `dev-${i}/level/threshold`, device: `dev-${i}`, point: 'level' }));

  it('a watch is no raise for the window (withdrawn or waiting); the orange alarm that confirms it is', () => {
    const { m } = setup({ flood });
    for (let i = 0; i < 4; i++) raise(m, i, T0 + i * 1000);
    // Three watches on a busy box, one withdrawn: the next real alarm is not pushed into a flood.
    for (let p = 0; p < 3; p++) watch(m, p, AlarmLevel.Yellow, T0 + 5000 + p, watchCause);
    watch(m, 0, AlarmLevel.Normal, T0 + 35_000, 'flow watch withdrawn: not confirmed within 30 s (score 1.2×)', true);
    expect(m.flooding).toBe(false);
    expect(m.get('pump-2/multivariate')).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Yellow, suppressedBy: null });
    // A watch confirmed: the orange alarm is the fifth raise in the window.
    watch(m, 1, AlarmLevel.Orange, T0 + 36_000, 'flow 44.0 beyond its learned band for 2 s (k 6): 橙色 II');
    expect(m.flooding).toBe(true);
    expect(m.get('gw-1/alarms/flood')).toMatchObject({ state: 'active_unacked', value: 5 });
  });

  it('a watch suppressed by a flood still counts when its alarm confirms it; a shelved one does not', () => {
    const { m, clock } = setup({ flood });
    for (let i = 0; i < 5; i++) raise(m, i, T0 + i * 1000);
    expect(m.flooding).toBe(true);
    watch(m, 1, AlarmLevel.Yellow, T0 + 6000, watchCause);
    expect(m.get('pump-1/multivariate')).toMatchObject({ state: 'suppressed', suppressedBy: 'flood' });
    watch(m, 2, AlarmLevel.Yellow, T0 + 6000, watchCause);
    m.shelve('pump-2/multivariate', T0 + 3_600_000, 'op', T0 + 6500);
    watch(m, 1, AlarmLevel.Orange, T0 + 20_000, 'flow 44.0 beyond its learned band for 2 s (k 6): 橙色 II');
    watch(m, 2, AlarmLevel.Orange, T0 + 20_000, 'flow 44.0 beyond its learned band for 2 s (k 6): 橙色 II');
    // At T0 + 65 s only the confirmation (T0 + 20 s) is left in the window, fewer than clearCount:
    // the flood is over, after six raises (five alarms and the confirmed watch that was not shelved).
    clock.now = T0 + 65_000;
    m.tick();
    expect(m.flooding).toBe(false);
    expect(m.get('gw-1/alarms/flood')).toMatchObject({ level: AlarmLevel.Normal, value: 6 });
  });
});
