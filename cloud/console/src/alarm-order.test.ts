import { describe, expect, it } from 'vitest';
import { compareAlarms, filterAlarms, levelTransition, NO_FILTERS } from './alarm-order.js';
import type { Alarm } from './api.js';

const alarm = (id: number, level: number, state: Alarm['state'], raisedAt: number, extra: Partial<Alarm> = {}): Alarm => ({
  id, gateway: 'gw', alarmId: `a${id}`, device: `d${id}`, point: 'p', detector: 'threshold', level, state, since: raisedAt, cause: '', value: null, raisedAt, raisedCause: null, kind: 'flood', district: '任城区', pointLabel: null, ...extra,
});

describe('alarm order', () => {
  it('puts an unacknowledged red first, then level, then active before acknowledged, then newest', () => {
    const list = [alarm(1, 3, 'active_unacked', 100), alarm(2, 4, 'active_acked', 300), alarm(3, 4, 'active_unacked', 50), alarm(4, 3, 'active_unacked', 200), alarm(5, 1, 'active_unacked', 999)];
    expect(list.sort(compareAlarms).map((a) => a.id)).toEqual([3, 2, 4, 1, 5]);
  });

  it('filters by lifeline, district, grid unit and state together', () => {
    const list = [alarm(1, 3, 'active_unacked', 1, { kind: 'gas' }), alarm(2, 3, 'shelved', 2, { district: '兖州区' }), alarm(3, 3, 'active_acked', 3)];
    expect(filterAlarms(list, { ...NO_FILTERS, kind: 'flood' }, () => null).map((a) => a.id)).toEqual([3, 2]);
    expect(filterAlarms(list, { ...NO_FILTERS, district: '兖州区' }, () => null).map((a) => a.id)).toEqual([2]);
    expect(filterAlarms(list, { ...NO_FILTERS, state: 'active_acked' }, () => null).map((a) => a.id)).toEqual([3]);
    expect(filterAlarms(list, { ...NO_FILTERS, grid: 'G1' }, (a) => (a.id === 1 ? 'G1' : null)).map((a) => a.id)).toEqual([1]);
  });
});

import { alignRange } from './api.js';
describe('chart ranges', () => {
  it('put bucket edges on whole minutes for steps of a minute or more, and leave small steps alone', () => {
    expect(alignRange(1_000_123, 2_000_456, 90_000)).toEqual({ from: 960_000, to: 2_039_999, step: 120_000 });
    expect(alignRange(1_000_123, 2_000_456, 5000)).toEqual({ from: 1_000_123, to: 2_000_456, step: 5000 });
  });
});

describe('the transition that set an alarm\'s level', () => {
  const h = (from: string, to: string, level: number, cause: string) => ({ from, to, level, cause });
  it('is the escalation of a red alarm raised at blue, through its acknowledgement and clearing', () => {
    const history = [h('normal', 'active_unacked', 1, 'blue'), h('active_unacked', 'active_unacked', 4, 'red'), h('active_unacked', 'active_acked', 4, 'acknowledged by op')];
    expect(levelTransition(history)?.cause).toBe('red');
    expect(levelTransition([...history, h('active_acked', 'cleared_unacked', 0, 'back below')])?.cause).toBe('red');
    // Lowered while active, it still says why it reached red; raised again, why this time.
    expect(levelTransition([...history, h('active_acked', 'active_acked', 3, 'orange')])?.cause).toBe('red');
    expect(levelTransition([...history, h('active_acked', 'normal', 0, 'back'), h('normal', 'active_unacked', 2, 'yellow again')])?.cause).toBe('yellow again');
  });
});
