import { Quality, type Reading } from '@lifeline/shared';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeBuffer } from '../buffer/buffer.js';
import { EventBus } from '../events/event-bus.js';
import { Recorder } from './recorder.js';

describe('Recorder', () => {
  let buffer: EdgeBuffer | undefined;
  afterEach(() => buffer?.close());

  it("keeps each point's latest reading as its own copy, not the poller's object (issue #18), and buffers every reading", () => {
    const events = new EventBus(pino({ level: 'silent' }));
    buffer = new EdgeBuffer(':memory:');
    const rec = new Recorder(events, buffer);
    rec.start();
    const first: Reading[] = [
      { device: 'd1', point: 'level', ts: 1000, value: 1.5 },
      { device: 'd1', point: 'flow', ts: 1000, value: 7 },
    ];
    events.emit('readings', first);
    const kept = rec.latest.get('d1')!.get('level')!;
    expect(kept).toEqual(first[0]);
    expect(kept).not.toBe(first[0]);
    events.emit('readings', [{ device: 'd1', point: 'level', ts: 2000, value: Number.NaN, quality: Quality.Bad }]);
    expect(rec.latest.get('d1')!.get('level')).toEqual({ device: 'd1', point: 'level', ts: 2000, value: Number.NaN, quality: Quality.Bad });
    expect(rec.latest.get('d1')!.get('flow')).toEqual({ device: 'd1', point: 'flow', ts: 1000, value: 7 });
    // The poller's object is not touched by the next reading of its point.
    expect(first[0]).toEqual({ device: 'd1', point: 'level', ts: 1000, value: 1.5 });
    expect(rec.devices.get('d1')).toEqual({ lastGoodTs: 1000, online: null });
    expect(buffer.backlog('telemetry').depth).toBe(3);
    rec.stop();
  });
});
