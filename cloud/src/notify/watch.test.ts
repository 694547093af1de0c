/**
 * What the duty officers' side makes of a yellow watch (shared/src/alarm-watch.ts): its messages say
 * it is a watch or withdrawn, and the daily digest counts the alarm that confirms it, not the watch.
 */
import type { AlarmTransition } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { raisesOf } from './digest.js';
import { alarmText, alarmTitle, stateLabel, type AlarmPayload } from './messages.js';

const WATCH = 'flow 41.2 has been beyond its learned band and its excess has piled up to 9.1 (CUSUM; watch at 8, 8× the most it reached while learning): yellow (III); the change began about 12 s earlier';
const WITHDRAWN = 'flow watch withdrawn: not confirmed within 30 s (score 1.4×)';
const ORANGE = 'flow 40.8 is 2.4× outside its learned band (8 points together, alarm at 2×): orange (II)';
let seq = 0;
const t = (p: Partial<AlarmTransition>): AlarmTransition => ({
  kind: 'alarm', seq: ++seq, alarmId: 'pump-1/multivariate', device: 'pump-1', point: 'flow', ts: 1_765_000_000_000 + seq * 1000,
  from: 'normal', to: 'active_unacked', level: 2, detector: 'multivariate', cause: WATCH, value: 41.2, ...p,
});
const payload = (tr: AlarmTransition): AlarmPayload => ({ type: 'alarm.transition', gateway: 'gw-1', epoch: 1, transition: tr, site: { name: '泵站1号', district: '任城区' }, pointLabel: '流量' });

describe('messages of a yellow watch', () => {
  it('say a watch waits for its alarm, and that a withdrawn one was no alarm, in Chinese', () => {
    expect(alarmTitle(payload(t({})))).toBe('【黄色预警】泵站1号（pump-1） 预警观察（待报警确认，30 秒内未确认即撤销）');
    const withdrawn = t({ from: 'active_unacked', to: 'normal', level: 0, cause: WITHDRAWN });
    expect(stateLabel(withdrawn)).toBe('预警已撤销（未报警）');
    expect(alarmText(payload(withdrawn))).toMatch(/^【Lifeline】正常：泵站1号（pump-1），任城区，流量 预警撤销：30 秒内未确认（分数 1\.4 倍），预警已撤销（未报警），/);
    // The alarm that confirms it reads as any alarm.
    expect(alarmTitle(payload(t({ from: 'active_unacked', level: 3, cause: ORANGE })))).toBe('【橙色预警】泵站1号（pump-1） 报警（未确认）');
  });
});

describe('the digest counts of a watch', () => {
  it('count the orange alarm confirming a watch, at orange; a withdrawn watch not at all; other raises as before', () => {
    const rows = [
      t({}), // watch...
      t({ from: 'active_unacked', to: 'normal', level: 0, cause: WITHDRAWN }), // ...withdrawn
      t({}), // watch...
      t({ from: 'active_unacked', level: 3, cause: ORANGE }), // ...confirmed
      t({ from: 'active_unacked', to: 'cleared_unacked', level: 0, cause: 'flow back within its learned band (score 0.4×, episode peak 2.6×; back for 9 s)' }),
      t({ alarmId: 'pump-1/flow/threshold', detector: 'threshold', level: 2, cause: 'flow 41.2 below yellow (III) low limit 42' }), // a yellow threshold alarm
    ].map((transition) => ({ gateway: 'gw-1', transition }));
    expect(raisesOf(rows).map((r) => [r.transition.seq, r.transition.level])).toEqual([[rows[3].transition.seq, 3], [rows[5].transition.seq, 2]]);
  });
});
