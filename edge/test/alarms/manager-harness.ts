/**
 * An AlarmManager on a fresh buffer with a hand-moved clock, and a condition
 * builder: shared by the alarm manager's unit tests (edge/src/alarms/*.test.ts).
 */
import { AlarmLevel, type AlarmTransition } from '@lifeline/shared';
import { onTestFinished } from 'vitest';
import { EdgeBuffer } from '../../src/buffer/buffer.js';
import { resolveAlarmsConfig, type AlarmsConfig } from '../../src/alarms/config.js';
import { bufferSink, type EventSink } from '../../src/alarms/journal.js';
import { AlarmManager } from '../../src/alarms/manager.js';
import { AlarmStore } from '../../src/alarms/store.js';
import type { ConditionInput } from '../../src/alarms/types.js';

export const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
export const ID = 'flood-1/ponding_depth/threshold';

/** A manager on a fresh buffer, with a hand-moved clock. */
export function setup(cfg: AlarmsConfig = {}, path = ':memory:', sink?: (b: EdgeBuffer) => EventSink) {
  const buffer = new EdgeBuffer(path);
  onTestFinished(() => buffer.close());
  const store = new AlarmStore(buffer.alarmTables());
  const clock = { now: T0 };
  const m = new AlarmManager({ gateway: 'gw-1', config: resolveAlarmsConfig(cfg), store, sink: sink ? sink(buffer) : bufferSink(buffer), clock: () => clock.now });
  m.start();
  const sent = () => buffer.events(1, buffer.lastWritten('events')).map((e) => ({ ...(e.body as AlarmTransition), seq: e.seq }));
  const moves = () => sent().map((e) => `${e.from}>${e.to}@${e.level}`);
  return { buffer, store, m, clock, sent, moves };
}

export const c = (level: AlarmLevel, ts: number, over: Partial<ConditionInput> = {}): ConditionInput => ({
  alarmId: ID,
  device: 'flood-1',
  point: 'ponding_depth',
  detector: 'threshold',
  ts,
  level,
  value: level ? 0.31 : 0.05,
  cause: level ? 'ponding_depth 0.31 m above red 0.3 m' : 'ponding_depth back below 0.28 m',
  ...over,
});

