import { AlarmLevel, isLifelineError } from '@lifeline/shared';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { EdgeBuffer } from '../buffer/buffer.js';
import { AlarmStore } from './store.js';
import { resolveAlarmsConfig } from './config.js';
import { bufferSink, type EventSink } from './journal.js';
import { AlarmManager } from './manager.js';
import type { ConditionInput } from './types.js';
import { ID, T0, c, setup } from '../../test/alarms/manager-harness.js';

describe('alarm lifecycle (ISA-18.2)', () => {
  it('raise, acknowledge, clear: normal → active_unacked → active_acked → normal', () => {
    const { m, moves, sent } = setup();
    m.onCondition(c(AlarmLevel.Red, T0));
    expect(m.get(ID)).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Red, peakLevel: AlarmLevel.Red, raisedAt: T0 });
    const r = m.ack(ID, 'li.wei', T0 + 5000);
    expect(r.changed).toBe(true);
    m.onCondition(c(AlarmLevel.Normal, T0 + 60_000));
    expect(m.get(ID)).toMatchObject({ state: 'normal', level: AlarmLevel.Normal, peakLevel: AlarmLevel.Normal, raisedAt: null });
    expect(moves()).toEqual(['normal>active_unacked@4', 'active_unacked>active_acked@4', 'active_acked>normal@0']);
    // Every transition carries time, value, level, detector and cause; operator actions carry the user.
    expect(sent()[0]).toMatchObject({ kind: 'alarm', alarmId: ID, device: 'flood-1', point: 'ponding_depth', ts: T0, value: 0.31, detector: 'threshold', cause: 'ponding_depth 0.31 m above red 0.3 m' });
    expect(sent()[1]).toMatchObject({ ts: T0 + 5000, user: 'li.wei', value: null, cause: 'acknowledged by li.wei' });
  });

  it('clear before acknowledge: cleared_unacked until an operator acknowledges', () => {
    const { m, moves } = setup();
    m.onCondition(c(AlarmLevel.Yellow, T0));
    m.onCondition(c(AlarmLevel.Normal, T0 + 1000));
    expect(m.get(ID)!.state).toBe('cleared_unacked');
    // Raised again before anyone acknowledged: back to active_unacked, same alarm.
    m.onCondition(c(AlarmLevel.Yellow, T0 + 2000));
    m.onCondition(c(AlarmLevel.Normal, T0 + 3000));
    expect(m.ack(ID, 'op', T0 + 4000).message).toMatch(/cleared_unacked → normal/);
    expect(m.ack(ID, 'op', T0 + 5000)).toMatchObject({ changed: false, message: expect.stringMatching(/nothing to acknowledge/) });
    expect(moves()).toEqual([
      'normal>active_unacked@2',
      'active_unacked>cleared_unacked@0',
      'cleared_unacked>active_unacked@2',
      'active_unacked>cleared_unacked@0',
      'cleared_unacked>normal@0',
    ]);
    expect(m.list()).toHaveLength(1);
  });

  it('escalation yellow → red is a transition of the same alarm and wants a new acknowledgement; de-escalation keeps it', () => {
    const { m, moves, sent } = setup();
    m.onCondition(c(AlarmLevel.Yellow, T0));
    m.ack(ID, 'op', T0 + 1000);
    m.onCondition(c(AlarmLevel.Red, T0 + 2000));
    expect(m.get(ID)).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Red, ackedBy: null });
    m.ack(ID, 'op', T0 + 3000);
    m.onCondition(c(AlarmLevel.Orange, T0 + 4000));
    expect(m.get(ID)).toMatchObject({ state: 'active_acked', level: AlarmLevel.Orange, peakLevel: AlarmLevel.Red });
    expect(moves()).toEqual([
      'normal>active_unacked@2',
      'active_unacked>active_acked@2',
      'active_acked>active_unacked@4',
      'active_unacked>active_acked@4',
      'active_acked>active_acked@3',
    ]);
    expect(new Set(sent().map((e) => e.alarmId))).toEqual(new Set([ID]));
    expect(m.list()).toHaveLength(1);
  });

  it('records every transition in alarm_log with the event seq it was queued under', () => {
    const { m, store, sent } = setup();
    m.onCondition(c(AlarmLevel.Red, T0));
    m.onCondition(c(AlarmLevel.Normal, T0 + 1000));
    const log = store.recentLog(10).reverse();
    expect(log.map((e) => [e.from, e.to, e.level, e.detector, e.value, e.eventSeq])).toEqual([
      ['normal', 'active_unacked', 4, 'threshold', 0.31, sent()[0].seq],
      ['active_unacked', 'cleared_unacked', 0, 'threshold', 0.05, sent()[1].seq],
    ]);
  });

  it('ignores a repeated level and an invalid one; unknown ids are NOT_FOUND; a prefix resolves', () => {
    const { m, moves } = setup();
    m.onCondition(c(AlarmLevel.Red, T0));
    m.onCondition(c(AlarmLevel.Red, T0 + 10));
    m.onCondition(c(7 as AlarmLevel, T0 + 20));
    m.onCondition(c(AlarmLevel.Normal, T0 + 30, { alarmId: 'never/raised/threshold' }));
    expect(moves()).toEqual(['normal>active_unacked@4']);
    expect(m.resolveId('flood-1/pond')).toBe(ID);
    expect(m.resolveId('ponding')).toBe(ID);
    m.onCondition(c(AlarmLevel.Red, T0 + 40, { alarmId: 'flood-1/water_level/threshold', point: 'water_level' }));
    expect(() => m.resolveId('threshold')).toThrow(/REQUEST_INVALID: "threshold" matches 2 alarms: flood-1\/ponding_depth\/threshold, flood-1\/water_level\/threshold/);
    let err: unknown;
    try {
      m.ack('nope', 'op');
    } catch (e) {
      err = e;
    }
    expect(isLifelineError(err, 'NOT_FOUND')).toBe(true);
  });
});

describe('a yellow watch withdrawn (the multivariate detector\'s two-stage raise)', () => {
  const MV = 'pump-1/multivariate';
  const w = (level: AlarmLevel, ts: number, over: Partial<ConditionInput> = {}) =>
    c(level, ts, { alarmId: MV, device: 'pump-1', point: 'flow', detector: 'multivariate', cause: level ? `flow ${level}` : 'flow watch withdrawn: not confirmed within 30 s (score 1.2×)', ...over });

  it('goes back to normal with no acknowledgement asked, and says so in its log', () => {
    const { m, moves, sent, store } = setup();
    m.onCondition(w(AlarmLevel.Yellow, T0));
    m.onCondition(w(AlarmLevel.Normal, T0 + 30_000, { withdrawn: true }));
    expect(m.get(MV)).toMatchObject({ state: 'normal', base: 'normal', level: AlarmLevel.Normal, peakLevel: AlarmLevel.Normal, raisedAt: null });
    expect(moves()).toEqual(['normal>active_unacked@2', 'active_unacked>normal@0']);
    expect(sent()[1].cause).toBe('flow watch withdrawn: not confirmed within 30 s (score 1.2×)');
    expect(m.ack(MV, 'op', T0 + 31_000).changed).toBe(false);
    expect(store.loadAlarms().find((a) => a.id === MV)).toMatchObject({ state: 'normal' });
  });

  it('acknowledged while it lasted, or shelved: normal underneath as well', () => {
    const { m, moves } = setup();
    m.onCondition(w(AlarmLevel.Yellow, T0));
    m.ack(MV, 'op', T0 + 1000);
    m.onCondition(w(AlarmLevel.Normal, T0 + 30_000, { withdrawn: true }));
    expect(m.get(MV)).toMatchObject({ state: 'normal', base: 'normal' });
    m.onCondition(w(AlarmLevel.Yellow, T0 + 60_000));
    m.shelve(MV, T0 + 3_600_000, 'op', T0 + 61_000);
    m.onCondition(w(AlarmLevel.Normal, T0 + 90_000, { withdrawn: true }));
    expect(m.get(MV)).toMatchObject({ state: 'shelved', base: 'normal' });
    expect(moves().slice(0, 3)).toEqual(['normal>active_unacked@2', 'active_unacked>active_acked@2', 'active_acked>normal@0']);
  });

  it('over an orange episode nobody acknowledged yet: that episode still wants its acknowledgement', () => {
    const { m, moves } = setup();
    m.onCondition(w(AlarmLevel.Orange, T0));
    m.onCondition(w(AlarmLevel.Normal, T0 + 10_000, { cause: 'flow back within its learned band' }));
    m.onCondition(w(AlarmLevel.Yellow, T0 + 20_000));
    m.onCondition(w(AlarmLevel.Normal, T0 + 50_000, { withdrawn: true }));
    expect(m.get(MV)).toMatchObject({ state: 'cleared_unacked', peakLevel: AlarmLevel.Orange });
    expect(moves()).toEqual(['normal>active_unacked@3', 'active_unacked>cleared_unacked@0', 'cleared_unacked>active_unacked@2', 'active_unacked>cleared_unacked@0']);
  });

  it('confirmed by the orange alarm, it is that alarm: its clear wants an acknowledgement', () => {
    const { m, moves } = setup();
    m.onCondition(w(AlarmLevel.Yellow, T0));
    m.onCondition(w(AlarmLevel.Orange, T0 + 2000));
    m.onCondition(w(AlarmLevel.Normal, T0 + 60_000, { cause: 'flow back within its learned band' }));
    expect(m.get(MV)).toMatchObject({ state: 'cleared_unacked', raisedAt: T0 });
    expect(moves()).toEqual(['normal>active_unacked@2', 'active_unacked>active_unacked@3', 'active_unacked>cleared_unacked@0']);
  });
});

describe('batches', () => {
  it('switches for every alarm of a poll batch before any disk write, then records and queues them once', () => {
    const order: string[] = [];
    const { m, store, sent } = setup({}, ':memory:', (b) => ({
      nextSeq: () => b.lastWritten('events') + 1,
      append: (ts, body) => {
        order.push(`queued ${body.alarmId}`);
        return b.appendEvent(ts, 'alarm', body);
      },
    }));
    m.onChange((a) => order.push(`switch ${a.id}`));
    m.batch(() => {
      m.onCondition(c(AlarmLevel.Red, T0));
      m.onCondition(c(AlarmLevel.Orange, T0, { alarmId: 'flood-1/ponding_depth/rate', detector: 'rate' }));
      // Nothing written yet.
      expect(store.loadAlarms()).toEqual([]);
      expect(store.recentLog(10)).toEqual([]);
    });
    expect(order).toEqual([`switch ${ID}`, 'switch flood-1/ponding_depth/rate', `queued ${ID}`, 'queued flood-1/ponding_depth/rate']);
    expect(store.loadAlarms().map((a) => [a.id, a.state])).toEqual([
      ['flood-1/ponding_depth/rate', 'active_unacked'],
      [ID, 'active_unacked'],
    ]);
    // The seqs predicted at commit are the ones the lane gave.
    expect(store.recentLog(2).map((e) => e.eventSeq).reverse()).toEqual(sent().map((e) => e.seq));
  });
});

describe('shelving', () => {
  it('hides the alarm until the expiry, keeps following the condition underneath, then shows the base state', () => {
    const { m, moves, store, clock } = setup();
    m.onCondition(c(AlarmLevel.Yellow, T0));
    const until = T0 + 2 * 3600_000;
    m.shelve(ID, until, 'zhang', T0 + 1000);
    expect(m.get(ID)).toMatchObject({ state: 'shelved', shelvedUntil: until, shelvedBy: 'zhang', base: 'active_unacked' });
    // Changes underneath are logged locally, not sent.
    m.onCondition(c(AlarmLevel.Red, T0 + 2000));
    m.onCondition(c(AlarmLevel.Normal, T0 + 3000));
    m.onCondition(c(AlarmLevel.Red, T0 + 4000));
    expect(moves()).toEqual(['normal>active_unacked@2', 'active_unacked>shelved@2']);
    expect(store.recentLog(3).map((e) => [e.from, e.to, e.level, e.eventSeq])).toEqual([
      ['shelved', 'shelved', 4, null],
      ['shelved', 'shelved', 0, null],
      ['shelved', 'shelved', 4, null],
    ]);
    clock.now = until - 1;
    m.tick();
    expect(m.get(ID)!.state).toBe('shelved');
    clock.now = until;
    m.tick();
    expect(m.get(ID)).toMatchObject({ state: 'active_unacked', level: AlarmLevel.Red, shelvedUntil: null });
    expect(moves().at(-1)).toBe('shelved>active_unacked@4');
    expect(store.recentLog(1)[0].cause).toMatch(/shelving by zhang expired/);
  });

  it('unshelve ends it early; re-shelving moves the expiry; bad requests are refused with the reason', () => {
    const { m, moves } = setup({ shelve: { maxMs: 8 * 3600_000 } });
    m.onCondition(c(AlarmLevel.Yellow, T0));
    m.onCondition(c(AlarmLevel.Normal, T0 + 100));
    m.shelve(ID, T0 + 3600_000, 'a', T0 + 200);
    m.shelve(ID, T0 + 7200_000, 'b', T0 + 300);
    expect(m.get(ID)).toMatchObject({ shelvedUntil: T0 + 7200_000, shelvedBy: 'b' });
    expect(m.unshelve(ID, 'c', T0 + 400).alarm.state).toBe('cleared_unacked');
    expect(m.unshelve(ID, 'c', T0 + 500).changed).toBe(false);
    expect(() => m.shelve(ID, T0 + 600 + 9 * 3600_000, 'a', T0 + 600)).toThrow(/REQUEST_INVALID.*9h.*longest shelving allowed \(8h/);
    expect(() => m.shelve(ID, T0, 'a', T0 + 600)).toThrow(/REQUEST_INVALID.*must be in the future/);
    expect(moves()).toEqual([
      'normal>active_unacked@2',
      'active_unacked>cleared_unacked@0',
      'cleared_unacked>shelved@0',
      'shelved>shelved@0',
      'shelved>cleared_unacked@0',
    ]);
  });
});

describe('restart', () => {
  it('restores every alarm, and queues a transition that was recorded but not queued when the process died', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-alarms-'));
    try {
      const file = join(dir, 'edge.db');
      // First life: the sink dies on the third transition, after the record was written.
      let appends = 0;
      const dying = (b: EdgeBuffer): EventSink => ({
        nextSeq: () => b.lastWritten('events') + 1,
        append: (ts, body) => {
          if (++appends === 3) throw new Error('killed');
          return b.appendEvent(ts, 'alarm', body);
        },
      });
      const a = setup({}, file, dying);
      a.m.onCondition(c(AlarmLevel.Yellow, T0));
      a.m.shelve(ID, T0 + 3600_000, 'op', T0 + 10);
      expect(() => a.m.onCondition(c(AlarmLevel.Red, T0 + 20, { alarmId: 'water-1/pressure/rate', device: 'water-1', point: 'pressure', detector: 'rate' }))).toThrow('killed');
      const before = a.m.list();
      expect(a.moves()).toEqual(['normal>active_unacked@2', 'active_unacked>shelved@2']);
      a.buffer.close();

      const b = setup({}, file);
      expect(b.m.list()).toEqual(before);
      expect(b.moves()).toEqual(['normal>active_unacked@2', 'active_unacked>shelved@2', 'normal>active_unacked@4']);
      const log = b.store.recentLog(1)[0];
      expect(log.eventSeq).toBe(3);
      // A second restart queues nothing again.
      b.buffer.close();
      const c3 = setup({}, file);
      expect(c3.sent()).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies a shelving that expired while the agent was down', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-alarms-'));
    try {
      const file = join(dir, 'edge.db');
      const a = setup({}, file);
      a.m.onCondition(c(AlarmLevel.Red, T0));
      a.m.shelve(ID, T0 + 60_000, 'op', T0);
      a.buffer.close();
      // Comes back after the expiry (the clock of setup starts at T0: move it before start).
      const buffer = new EdgeBuffer(file);
      onTestFinished(() => buffer.close());
      const m = new AlarmManager({ gateway: 'gw-1', config: resolveAlarmsConfig(), store: new AlarmStore(buffer.alarmTables()), sink: bufferSink(buffer), clock: () => T0 + 120_000 });
      m.start();
      expect(m.get(ID)).toMatchObject({ state: 'active_unacked', shelvedUntil: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
