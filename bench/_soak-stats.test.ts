import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProcStatCpuS, soakFigures, type StatSample } from './_soak-stats.js';

/** A sawtooth: every 60 s the heap climbs from `floor` to floor + 150 MB and is collected; `creep` MB/s under it. */
function sawtooth(seconds: number, floor: number, creep = 0): StatSample[] {
  const out: StatSample[] = [];
  for (let t = 0; t <= seconds; t += 10) {
    const base = floor + creep * t;
    const phase = (t % 60) / 60;
    out.push({ t, rssMb: base + 150 * phase, heapMb: base / 2 + 150 * phase, cpuS: t * 0.6, polls: t * 500 });
  }
  return out;
}

describe('soak figures', () => {
  it('reads /proc/PID/stat: utime + stime in 1/100 s, a process name with spaces and parentheses', () => {
    const stat = '4242 (node (a b)) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 566 0 0 20 0 11 0 56736 2998272 418';
    expect(parseProcStatCpuS(stat)).toBe(18);
    expect(parseProcStatCpuS(readFileSync('/proc/self/stat', 'utf8'))).toBeGreaterThan(0);
    expect(() => parseProcStatCpuS('garbage')).toThrow(/utime\/stime/);
  });

  it('a flat floor under a GC sawtooth: the floor does not grow even when the first and last minutes fall in different phases', () => {
    // 30 minutes + 30 s: the run ends high in its sawtooth, as the quiet run that read 36.1 % did.
    const s = sawtooth(1830, 140);
    const f = soakFigures(s, 10, 30);
    expect(f.rss_floor_start_mb).toBe(140);
    expect(f.rss_floor_end_mb).toBe(140);
    expect(f.rss_floor_growth_pct).toBe(0);
    expect(f.heap_floor_growth_pct).toBe(0);
    expect(f.floor_window_s).toBe(300);
    expect(f.points_per_s).toBe(15000);
    expect(f.cpu_pct).toBe(60);
    expect(f.cpu_ms_per_1k_points).toBe(40);
  });

  it('a leak raises the floor', () => {
    const f = soakFigures(sawtooth(1800, 100, 0.02), 10, 30); // +36 MB over 30 minutes
    expect(f.rss_floor_growth_pct).toBeGreaterThan(25);
    expect(f.rss_floor_growth_pct).toBeLessThan(36);
    expect(f.heap_floor_growth_pct).toBeGreaterThan(25);
  });

  it('short runs use a third of the run as the window; no CPU figure without /proc; too few samples is an error', () => {
    const s = sawtooth(180, 100).map((x) => ({ ...x, cpuS: null }));
    const f = soakFigures(s, 10, 30);
    expect(f.floor_window_s).toBe(60);
    expect(f.cpu_pct).toBeNull();
    expect(f.cpu_ms_per_1k_points).toBeNull();
    expect(() => soakFigures(s.slice(0, 3), 10, 30)).toThrow(/at least 4 samples, got 3/);
  });
});
