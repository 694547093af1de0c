/** The read-only inspect API: what a tool sees of a buffer file while the agent still writes it. */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { EdgeBuffer } from './buffer.js';
import { inspectBuffer } from './inspect.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const T0 = 1_764_000_000_000;

describe('inspectBuffer', () => {
  it('shows lanes, outbox, chunks, readings and events of a file open for writing', () => {
    const path = join(tmp.dir, 'edge.db');
    const b = new EdgeBuffer(path);
    for (let i = 0; i < 5; i++) b.append([{ device: 'd', point: 'p', ts: T0 + i, value: i }, { device: 'd', point: 'q', ts: T0 + i, value: -i, quality: 1 }]);
    b.appendEvent(T0, 'alarm', { id: 'a1' });
    b.cutBacklog('telemetry', 4);
    b.ack('telemetry', 2);
    const file = inspectBuffer(path);
    try {
      expect(file.epoch).toBe(b.epoch);
      expect(file.lanes()).toEqual({ telemetry: { acked: 2, lastSeq: 10 }, events: { acked: 0, lastSeq: 1 } });
      expect(file.outbox('telemetry')).toEqual([{ lane: 'telemetry', firstSeq: 1, lastSeq: 4, done: false }]);
      expect(file.chunks().map((c) => [c.firstSeq, c.lastSeq, c.n, c.thinned])).toEqual([
        [3, 4, 2, false],
        [5, 6, 2, false],
        [7, 8, 2, false],
        [9, 10, 2, false],
      ]);
      expect(file.telemetryRange(3, 10)).toEqual(b.telemetryRange(3, 10));
      expect(file.telemetryRange(4, 4).readings).toEqual([{ device: 'd', point: 'q', ts: T0 + 1, value: -1, quality: 1 }]);
      expect(file.events(1, 1)).toEqual([{ seq: 1, ts: T0, kind: 'alarm', body: { id: 'a1' } }]);
    } finally {
      file.close();
      b.close();
    }
  });

  it('refuses a file that does not exist rather than making one', () => {
    expect(() => inspectBuffer(join(tmp.dir, 'none.db'))).toThrow();
  });
});
