import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClockEntry, TickClock } from './clock.js';

describe('TickClock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'] });
  });
  afterEach(() => vi.useRealTimers());

  /** Entries that record when (fake performance.now()) and in which timer callback they ran. */
  function recorder(clock: TickClock) {
    const runs: { id: string; at: number; batch: number }[] = [];
    let batch = 0;
    let bumpQueued = false;
    const entry = (id: string) =>
      new ClockEntry(() => {
        runs.push({ id, at: performance.now(), batch });
        // Microtasks run only after the clock's callback returns: entries of one callback share a batch number.
        if (!bumpQueued) {
          bumpQueued = true;
          queueMicrotask(() => {
            bumpQueued = false;
            batch++;
          });
        }
      });
    return { runs, entry, clock };
  }

  it('runs every entry due within one tick together at the tick boundary, never early', async () => {
    const { runs, entry, clock } = recorder(new TickClock(20));
    const t0 = performance.now();
    clock.schedule(entry('a'), t0 + 3);
    clock.schedule(entry('b'), t0 + 17);
    clock.schedule(entry('c'), t0 + 20);
    clock.schedule(entry('d'), t0 + 21);
    clock.schedule(entry('e'), t0 + 95);
    await vi.advanceTimersByTimeAsync(200);
    expect(runs.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    const at = Object.fromEntries(runs.map((r) => [r.id, r.at - t0]));
    expect(at).toEqual({ a: 20, b: 20, c: 20, d: 40, e: 100 });
    const batch = Object.fromEntries(runs.map((r) => [r.id, r.batch]));
    expect(batch.a).toBe(batch.b);
    expect(batch.b).toBe(batch.c);
    expect(batch.d).not.toBe(batch.c);
    expect(clock.size).toBe(0);
  });

  it('runs an exact entry at its due time, between ticks, without pulling grid entries forward', async () => {
    const { runs, entry, clock } = recorder(new TickClock(20));
    const t0 = performance.now();
    clock.schedule(entry('grid'), t0 + 3);
    clock.schedule(entry('exact'), t0 + 7, true);
    expect(clock.wantsExact(199)).toBe(true);
    expect(clock.wantsExact(200)).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    expect(runs.map((r) => [r.id, r.at - t0])).toEqual([
      ['exact', 7],
      ['grid', 20],
    ]);
  });

  it('runs what is due already on the next immediate, and an entry that reschedules itself at once runs once per turn', async () => {
    const clock = new TickClock(20);
    let n = 0;
    const e = new ClockEntry(() => {
      n++;
      if (n < 5) clock.schedule(e, performance.now());
    });
    clock.schedule(e, performance.now());
    expect(n).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(n).toBeGreaterThanOrEqual(1);
    await vi.advanceTimersByTimeAsync(5);
    expect(n).toBe(5);
    expect(clock.size).toBe(0);
  });

  it('keeps an exact cadence on average when the owner reschedules from the due time', async () => {
    const clock = new TickClock(20);
    const t0 = performance.now();
    const ran: number[] = [];
    let due = t0 + 33;
    const e = new ClockEntry(() => {
      ran.push(performance.now() - t0);
      due += 33;
      clock.schedule(e, due);
    });
    clock.schedule(e, due);
    await vi.advanceTimersByTimeAsync(33 * 30 + 20);
    expect(ran).toHaveLength(30);
    ran.forEach((at, i) => {
      const want = 33 * (i + 1);
      expect(at).toBeGreaterThanOrEqual(want);
      expect(at).toBeLessThan(want + 20);
    });
    clock.cancel(e);
  });

  it('moves a rescheduled entry, drops a cancelled one, and runs many in due order', async () => {
    const { runs, entry, clock } = recorder(new TickClock(10));
    const t0 = performance.now();
    const moved = entry('moved');
    const gone = entry('gone');
    clock.schedule(moved, t0 + 5);
    clock.schedule(gone, t0 + 5);
    clock.schedule(moved, t0 + 500);
    clock.cancel(gone);
    clock.cancel(gone);
    // 200 entries at pseudo-random times: run in order of due tick.
    let seed = 7;
    const dues = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const due = t0 + 1 + (seed % 400);
      dues.set(`r${i}`, due);
      clock.schedule(entry(`r${i}`), due);
    }
    await vi.advanceTimersByTimeAsync(600);
    expect(runs.some((r) => r.id === 'gone')).toBe(false);
    expect(runs.find((r) => r.id === 'moved')!.at - t0).toBe(500);
    const rs = runs.filter((r) => r.id.startsWith('r'));
    expect(rs).toHaveLength(200);
    for (const r of rs) {
      const due = dues.get(r.id)!;
      expect(r.at).toBeGreaterThanOrEqual(due);
      expect(r.at).toBe(Math.ceil(due / 10) * 10);
    }
    for (let i = 1; i < rs.length; i++) expect(rs[i].at).toBeGreaterThanOrEqual(rs[i - 1].at);
  });

  it('does not run an entry that an earlier entry of the same tick cancelled', async () => {
    const { runs, entry, clock } = recorder(new TickClock(20));
    const t0 = performance.now();
    const victim = entry('victim');
    const killer = new ClockEntry(() => clock.cancel(victim));
    clock.schedule(killer, t0 + 1);
    clock.schedule(victim, t0 + 2);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toEqual([]);
  });

  it('refuses a tick outside 1..1000 ms', () => {
    expect(() => new TickClock(0)).toThrow('clock tickMs must be 1..1000 ms, got 0');
    expect(() => new TickClock(Number.NaN)).toThrow('clock tickMs must be 1..1000 ms, got NaN');
  });
});
