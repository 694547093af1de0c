import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgeBuffer } from './buffer.js';
import type { Reading } from '@lifeline/shared';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'lifeline-buffer-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = 1_764_000_000_000;
const poll = (i: number, points = 4): Reading[] =>
  Array.from({ length: points }, (_, p) => ({ device: `d${p % 2}`, point: `p${p}`, ts: T0 + i * 1000, value: i + p / 10, ...(p === 3 && i % 7 === 0 ? { quality: 1 } : {}) }));

describe('EdgeBuffer', () => {
  it('gives every reading a seq and back exactly what was written, across a reopen', () => {
    const path = join(tmp(), 'b.db');
    let b = new EdgeBuffer(path);
    const epoch = b.epoch;
    expect(Number.isSafeInteger(epoch) && epoch >= 1).toBe(true);
    const all: Reading[] = [];
    for (let i = 0; i < 50; i++) {
      all.push(...poll(i));
      b.append(poll(i));
    }
    b.close();
    b = new EdgeBuffer(path);
    expect(b.epoch).toBe(epoch);
    expect(b.lastWritten('telemetry')).toBe(200);
    const r = b.telemetryRange(1, 200);
    expect(r.seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(r.readings).toEqual(all);
    expect(b.telemetryRange(5, 9).seqs).toEqual([5, 6, 7, 8, 9]);
    b.close();
  });

  it('makes a new epoch with a new database file', () => {
    const d = tmp();
    const a = new EdgeBuffer(join(d, 'a.db'));
    const b = new EdgeBuffer(join(d, 'b.db'));
    expect(a.epoch).not.toBe(b.epoch);
    a.close();
    b.close();
  });

  it('cuts stable ranges: backlog from the oldest, live from the newest, never overlapping', () => {
    const b = new EdgeBuffer(join(tmp(), 'b.db'));
    for (let i = 0; i < 100; i++) b.append(poll(i)); // 400 readings in chunks of 4
    const live = b.cutLive(20)!;
    expect(live).toMatchObject({ firstSeq: 381, lastSeq: 400 });
    const first = b.cutBacklog('telemetry', 50)!;
    expect(first).toMatchObject({ firstSeq: 1, lastSeq: 50 }); // a plain chunk is split to fit
    const second = b.cutBacklog('telemetry', 50)!;
    expect(second.firstSeq).toBe(51);
    // Backlog stops where the live range starts.
    let last = second;
    for (let r = b.cutBacklog('telemetry', 50); r; r = b.cutBacklog('telemetry', 50)) last = r;
    expect(last.lastSeq).toBe(380);
    expect(b.cutLive(20)).toBeUndefined();
    // The live range committed ahead of the prefix: reclaimed, and its seqs are never reused.
    expect(b.committed('telemetry', 381, 400)).toBe(true);
    b.close();
    const again = new EdgeBuffer(b['path' as never] as string);
    expect(again.lastWritten('telemetry')).toBe(400);
    expect(again.outbox('telemetry').find((o) => o.firstSeq === 381)?.done).toBe(true);
    expect(again.append(poll(100))).toBe(404);
    again.close();
  });

  it('reclaims what the cloud acknowledged, and reports the backlog', () => {
    const b = new EdgeBuffer(join(tmp(), 'b.db'));
    for (let i = 0; i < 10; i++) b.append(poll(i));
    b.appendEvent(T0, 'event', { kind: 'event', type: 'x', message: 'm' });
    expect(b.backlog('telemetry')).toEqual({ depth: 40, oldestTs: T0 });
    expect(b.backlog('events')).toEqual({ depth: 1, oldestTs: T0 });
    b.cutBacklog('telemetry', 100);
    expect(b.ack('telemetry', 20)).toBe(true);
    expect(b.ack('telemetry', 20)).toBe(false);
    expect(b.backlog('telemetry')).toEqual({ depth: 20, oldestTs: T0 + 5000 });
    expect(b.telemetryRange(1, 40).seqs[0]).toBe(21);
    b.close();
  });

  it('keeps a 48-hour outage within the disk budget: thins the oldest telemetry to per-minute aggregates, never events', () => {
    const path = join(tmp(), 'b.db');
    const budget = 4 * 1024 * 1024;
    const b = new EdgeBuffer(path, { diskBudgetBytes: budget });
    const POINTS = 24; // one poll of a 24-point station every 5 s: 829,440 readings in 48 h (17 MB raw)
    const period = 5000;
    const steps = (48 * 3600 * 1000) / period;
    let maxDisk = 0;
    let events = 0;
    const expected = new Map<string, number>(); // readings per point
    for (let i = 0; i < steps; i++) {
      const ts = T0 + i * period;
      const batch: Reading[] = [];
      for (let p = 0; p < POINTS; p++) batch.push({ device: 'station', point: `p${p}`, ts, value: Math.round(1000 * (10 + Math.sin(i / 300 + p))) / 1000 });
      b.append(batch);
      for (const r of batch) expected.set(r.point, (expected.get(r.point) ?? 0) + 1);
      if (i % 720 === 0) {
        b.appendEvent(ts, 'alarm', { kind: 'event', type: 'hourly', message: `hour ${i / 720}` });
        events++;
      }
      if (i % 360 === 0) maxDisk = Math.max(maxDisk, b.diskBytes());
    }
    b.enforceBudget();
    maxDisk = Math.max(maxDisk, b.diskBytes());
    expect(maxDisk).toBeLessThanOrEqual(budget * 1.05);
    expect(b.thinning.thinnedReadings).toBeGreaterThan(0);
    // Every seq is accounted for: a raw reading, or counted in a kept minute of a gap record.
    const last = b.lastWritten('telemetry');
    expect(last).toBe(steps * POINTS);
    const { readings, seqs, gaps } = b.telemetryRange(1, last);
    const counted = new Map<string, number>();
    for (const r of readings) counted.set(r.point, (counted.get(r.point) ?? 0) + 1);
    for (const g of gaps) for (const m of g.minutes) counted.set(g.point, (counted.get(g.point) ?? 0) + m.count);
    expect(b.thinning.droppedMinutes).toBe(0); // this budget holds the aggregates of 48 h
    expect(counted).toEqual(expected);
    // Oldest data is thinned first; the newest stays raw.
    expect(seqs[seqs.length - 1]).toBe(last);
    expect(Math.min(...gaps.map((g) => g.from))).toBe(T0);
    const mins = gaps.flatMap((g) => g.minutes);
    expect(mins.every((m) => m.min <= m.mean && m.mean <= m.max)).toBe(true);
    // Events are never thinned.
    expect(b.events(1, b.lastWritten('events'))).toHaveLength(events);
    b.close();
  }, 120_000);

  it('drops the oldest aggregates, keeping the gap record, when even they do not fit', () => {
    const b = new EdgeBuffer(join(tmp(), 'b.db'), { diskBudgetBytes: 1024 * 1024 });
    // One reading per point per minute: thinning cannot shrink it, so the aggregates must go.
    for (let i = 0; i < 4000; i++) b.append(Array.from({ length: 40 }, (_, p) => ({ device: 'd', point: `p${p}`, ts: T0 + i * 60_000, value: i })));
    b.enforceBudget();
    expect(b.diskBytes()).toBeLessThanOrEqual(1024 * 1024 * 1.05);
    expect(b.thinning.droppedMinutes).toBeGreaterThan(0);
    const { readings, gaps } = b.telemetryRange(1, b.lastWritten('telemetry'));
    expect(gaps.some((g) => g.minutes.length === 0)).toBe(true);
    expect(readings.length).toBeGreaterThan(0);
    b.close();
  }, 60_000);

  it('stores a command answer once (idempotent by id)', () => {
    const b = new EdgeBuffer(join(tmp(), 'b.db'));
    expect(b.commandAnswer('c1')).toBeUndefined();
    b.recordCommand({ id: 'c1', ts: T0, type: 'alarm_ack', by: 'ops', body: { x: 1 }, answer: { ok: true } });
    expect(b.commandAnswer('c1')).toEqual({ ok: true });
    expect(b.commandLog()).toHaveLength(1);
    b.close();
  });
});
