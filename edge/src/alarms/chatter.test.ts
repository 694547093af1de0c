import { AlarmLevel } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { ID, T0, c, setup } from '../../test/alarms/manager-harness.js';

describe('chattering', () => {
  it('suppresses an alarm raised N times within T, sends nothing while it chatters, releases it when quiet', () => {
    const { m, moves, clock } = setup({ chatter: { count: 3, windowMs: 60_000, releaseMs: 120_000 } });
    for (let i = 0; i < 3; i++) {
      m.onCondition(c(AlarmLevel.Yellow, T0 + i * 10_000));
      m.onCondition(c(AlarmLevel.Normal, T0 + i * 10_000 + 5000));
    }
    // Third raise within 60 s: suppressed. Its flips after that stay local.
    for (let i = 3; i < 8; i++) {
      m.onCondition(c(AlarmLevel.Yellow, T0 + i * 10_000));
      m.onCondition(c(AlarmLevel.Normal, T0 + i * 10_000 + 5000));
    }
    expect(moves()).toEqual([
      'normal>active_unacked@2',
      'active_unacked>cleared_unacked@0',
      'cleared_unacked>active_unacked@2',
      'active_unacked>cleared_unacked@0',
      'cleared_unacked>suppressed@2',
    ]);
    expect(m.get(ID)).toMatchObject({ state: 'suppressed', suppressedBy: 'chatter', level: AlarmLevel.Normal, base: 'cleared_unacked' });
    const lastRaise = T0 + 70_000;
    clock.now = lastRaise + 119_999;
    m.tick();
    expect(m.get(ID)!.state).toBe('suppressed');
    clock.now = lastRaise + 120_000;
    m.tick();
    expect(m.get(ID)).toMatchObject({ state: 'cleared_unacked', suppressedBy: null });
    expect(moves().at(-1)).toBe('suppressed>cleared_unacked@0');
  });

  it('raises spread wider than the window do not chatter', () => {
    const { m, moves } = setup({ chatter: { count: 3, windowMs: 60_000 } });
    for (let i = 0; i < 5; i++) {
      m.onCondition(c(AlarmLevel.Yellow, T0 + i * 31_000));
      m.onCondition(c(AlarmLevel.Normal, T0 + i * 31_000 + 1000));
    }
    expect(moves().filter((x) => x.includes('suppressed'))).toEqual([]);
  });
});
