/**
 * Figures of `pnpm bench soak` from its samples (bench/soak.ts), kept apart so they are unit-tested.
 *
 * Two growth figures (issue #18: ≤ 5 % over 30 minutes):
 *   - the original one, kept: median of the first minute of samples against the last minute. Under a GC
 *     sawtooth it reads the phase the collections happen to be in (one quiet 30-minute run: 36.1 %
 *     while the post-collection floor stayed flat);
 *   - the floor: the lowest sample of the first window against the lowest of the last, a window being
 *     FLOOR_WINDOW_S (5 minutes, or a third of the run if shorter). The lowest sample in a window that
 *     holds at least one major collection is memory the process could not give back: what a leak raises.
 */

/** Seconds of one floor window: long enough to hold a major collection of the default heap (60–200 MB cycles). */
export const FLOOR_WINDOW_S = 300;

export interface StatSample {
  /** Seconds since the agent started. */
  t: number;
  rssMb: number;
  heapMb: number;
  /** CPU seconds (user + system) the agent has used so far; null where /proc has none. */
  cpuS: number | null;
  /** Polls answered so far, over every device. */
  polls: number;
}

export const round1 = (x: number) => Math.round(x * 10) / 10;

export const median = (xs: number[]): number => {
  if (!xs.length) throw new Error('median of no samples');
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const pct = (from: number, to: number) => round1(((to - from) / from) * 100);

/**
 * CPU seconds a process has used (utime + stime of /proc/PID/stat, in clock ticks of 1/100 s: Linux's USER_HZ
 * on every architecture node runs on). Null if there is no such file (not Linux, or the process is gone).
 */
export function parseProcStatCpuS(stat: string): number {
  // Field 2 (comm) is in parentheses and may hold spaces: count the fields after its closing one.
  const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(after[11]);
  const stime = Number(after[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`/proc/PID/stat: no utime/stime in ${JSON.stringify(stat.slice(0, 120))}`);
  return (utime + stime) / 100;
}

/** The growth figures and the CPU cost of the sampled window (samples in time order, at least 4). */
export function soakFigures(samples: StatSample[], sampleS: number, pointsPerPoll: number) {
  if (samples.length < 4) throw new Error(`soak figures need at least 4 samples, got ${samples.length}`);
  // Original: medians of the first and last minute (a sixth of the run if that is shorter).
  const span = Math.max(2, Math.min(Math.round(60 / sampleS), Math.floor(samples.length / 6)));
  const first = samples.slice(0, span);
  const last = samples.slice(-span);
  const rssStart = median(first.map((s) => s.rssMb));
  const rssEnd = median(last.map((s) => s.rssMb));
  const heapStart = median(first.map((s) => s.heapMb));
  const heapEnd = median(last.map((s) => s.heapMb));
  // Floor: lowest sample of the first and of the last window.
  const a = samples[0];
  const b = samples[samples.length - 1];
  const windowS = Math.min(FLOOR_WINDOW_S, (b.t - a.t) / 3);
  const firstW = samples.filter((s) => s.t <= a.t + windowS);
  const lastW = samples.filter((s) => s.t >= b.t - windowS);
  const floor = (xs: StatSample[], k: 'rssMb' | 'heapMb') => Math.min(...xs.map((s) => s[k]));
  const points = (b.polls - a.polls) * pointsPerPoll;
  const cpu = a.cpuS !== null && b.cpuS !== null ? b.cpuS - a.cpuS : null;
  return {
    points_per_s: Math.round(points / (b.t - a.t)),
    rss_start_mb: round1(rssStart),
    rss_end_mb: round1(rssEnd),
    rss_growth_pct: pct(rssStart, rssEnd),
    heap_growth_pct: pct(heapStart, heapEnd),
    heap_start_mb: round1(heapStart),
    heap_end_mb: round1(heapEnd),
    floor_window_s: Math.round(windowS),
    rss_floor_start_mb: floor(firstW, 'rssMb'),
    rss_floor_end_mb: floor(lastW, 'rssMb'),
    rss_floor_growth_pct: pct(floor(firstW, 'rssMb'), floor(lastW, 'rssMb')),
    heap_floor_growth_pct: pct(floor(firstW, 'heapMb'), floor(lastW, 'heapMb')),
    // CPU: share of one core over the window, and per 1,000 points (fair when a loaded agent polls fewer).
    cpu_pct: cpu === null ? null : round1((cpu / (b.t - a.t)) * 100),
    cpu_ms_per_1k_points: cpu === null || points <= 0 ? null : round1((cpu * 1000 * 1000) / points),
  };
}
