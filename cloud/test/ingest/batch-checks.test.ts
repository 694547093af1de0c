/** checkNames tests each distinct name once: a bad name is still found wherever it first appears, and named by item and field. */
import { describe, expect, it } from 'vitest';
import { checkNames } from '../../src/ingest/batch-checks.js';

const r = (device: string, point: string) => ({ device, point, ts: 0, value: 1 });

describe('checkNames', () => {
  it('passes repeated good names, and names the first item and field holding a control character', () => {
    const good = Array.from({ length: 30 }, (_, i) => r(`dev-${i % 3}`, `p${i % 5}`));
    expect(() => checkNames(good, 'readings')).not.toThrow();
    const bad = [...good, r('dev-1', 'p\u00072'), r('dev-1', 'p\u00072')];
    expect(() => checkNames(bad, 'readings')).toThrow('readings[30].point: control characters are not allowed, got "p\\u00072"');
    expect(() => checkNames([{ alarmId: 'a' }, { device: 'd', alarmId: 'x\u0000' }], 'events')).toThrow('events[1].alarmId');
  });
});
