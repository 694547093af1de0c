import { describe, expect, it } from 'vitest';
import { AlarmLevel } from '../reading.js';
import { MessageType, frameBatch } from './envelope.js';
import { decodeEventBatch, encodeEventBatch, type EventBatch, type LaneEvent } from './events.js';

const T0 = 1_764_000_000_000;
const alarm = (seq: number, value: number | null): LaneEvent => ({
  kind: 'alarm',
  seq,
  alarmId: 'flood-1/water_level/threshold',
  device: 'flood-1',
  point: 'water_level',
  ts: T0 + seq,
  from: 'normal',
  to: 'active_unacked',
  level: AlarmLevel.Red,
  detector: 'threshold',
  cause: 'water_level 3.214 m above red 3.2 m for 5 s',
  value,
});

describe('event lane', () => {
  it('round-trips alarm transitions and events, including NaN, ±Infinity, −0 and null values', () => {
    const batch: EventBatch = {
      gateway: 'gw-东',
      firstSeq: 10,
      lastSeq: 20,
      events: [
        alarm(10, 3.214),
        alarm(11, NaN),
        alarm(12, -0),
        alarm(13, Infinity),
        alarm(14, -Infinity),
        { ...alarm(15, null), from: 'active_unacked', to: 'active_acked', user: 'operator-7' } as LaneEvent,
        { kind: 'event', seq: 20, ts: T0, type: 'device_offline', device: 'lamp-1', message: 'no reply for 30 s', details: { retries: 3, port: '/dev/ttyS1', fatal: false } },
      ],
    };
    for (const compress of ['never', 'always'] as const) {
      const back = decodeEventBatch(encodeEventBatch(batch, { compress }));
      expect(back.gateway).toBe('gw-东');
      expect([back.firstSeq, back.lastSeq]).toEqual([10, 20]);
      expect(back.events.length).toBe(7);
      back.events.forEach((e, i) => {
        const sent = batch.events[i];
        if (e.kind === 'alarm' && sent.kind === 'alarm') {
          expect(Object.is(e.value, sent.value)).toBe(true);
          expect({ ...e, value: 0 }).toEqual({ ...sent, value: 0 });
        } else expect(e).toEqual(sent);
      });
    }
  });

  it('refuses events with an unknown state, a seq out of range or out of order, naming the field', () => {
    const bad = (events: unknown[], msg: RegExp) =>
      expect(() => encodeEventBatch({ gateway: 'g', firstSeq: 1, lastSeq: 5, events: events as LaneEvent[] })).toThrow(msg);
    bad([{ ...alarm(1, 1), to: 'exploded' }], /events\[0\]\.to/);
    bad([alarm(6, 1)], /events\[0\]\.seq: 6 must be above 0 and at most lastSeq 5/);
    bad([alarm(3, 1), alarm(2, 1)], /events\[1\]\.seq: 2 must be above 3/);
    bad([{ ...alarm(1, 1), level: 9 }], /events\[0\]\.level/);
    bad([{ kind: 'event', seq: 1, ts: 1, type: 'Bad Type', message: '' }], /events\[0\]\.type/);
  });

  it('rejects a forged body: not JSON, not UTF-8, extra fields, wrong shapes', () => {
    const frame = (body: string | Uint8Array) =>
      frameBatch(MessageType.Events, 'g', 1, 5, typeof body === 'string' ? new TextEncoder().encode(body) : body, { compress: 'never' });
    expect(() => decodeEventBatch(frame('{"events":[}'))).toThrow(/PAYLOAD_INVALID: event body: body: invalid JSON/);
    expect(() => decodeEventBatch(frame(Uint8Array.from([0xff, 0xfe])))).toThrow(/invalid UTF-8/);
    expect(() => decodeEventBatch(frame('[]'))).toThrow(/PAYLOAD_INVALID: event body/);
    expect(() => decodeEventBatch(frame(JSON.stringify({ events: [{ ...alarm(1, 1), extra: 1 }] })))).toThrow(/events\[0\]/);
    expect(() => decodeEventBatch(frame(JSON.stringify({ events: [{ ...alarm(1, 1), ts: 2 ** 60 }] })))).toThrow(/events\[0\]\.ts/);
    expect(() => decodeEventBatch(frame(JSON.stringify({ events: [{ ...alarm(1, 1), value: 'lots' }] })))).toThrow(/events\[0\]\.value/);
    expect(() => decodeEventBatch(frame('['.repeat(100000)))).toThrow(/PAYLOAD_INVALID/);
  });

  it('will not decode a telemetry batch as events', () => {
    const wire = frameBatch(MessageType.Telemetry, 'g', 1, 0, new Uint8Array([0, 0, 0, 0, 0]), { compress: 'never' });
    expect(() => decodeEventBatch(wire)).toThrow(/type: expected Events \(2\), got Telemetry \(1\)/);
  });
});
