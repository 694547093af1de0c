import { AlarmLevel, Quality, gaussianSource, type Reading } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { AnomalyDetector, tail, type AnomalyOptions } from './anomaly.js';

const r = (ts: number, value: number, quality?: Quality): Reading => ({ device: 'main-7', point: 'pressure', ts, value, quality });

/** A daily-like sine with noise; `at` gets `shock` added. */
function run(opts: Partial<AnomalyOptions>, n: number, shock?: { at: number; add: number }) {
  const d = new AnomalyDetector('a', 'main-7', 'pressure', { warmup: 300, ...opts });
  const noise = gaussianSource(11);
  const scores: number[] = [];
  const events: { i: number; level: AlarmLevel }[] = [];
  for (let i = 0; i < n; i++) {
    let v = 10 + 2 * Math.sin((2 * Math.PI * i) / 50) + 0.1 * noise();
    if (shock && i >= shock.at && i < shock.at + 5) v += shock.add;
    const e = d.update(r(i * 60_000, v));
    if (e) events.push({ i, level: e.level });
    scores.push(d.score);
  }
  return { d, scores, events };
}

describe('AnomalyDetector', () => {
  it('Q(z) matches the normal tail', () => {
    expect(tail(0)).toBeCloseTo(0.5, 6);
    expect(tail(1.959964)).toBeCloseTo(0.025, 5);
    expect(tail(-1)).toBeCloseTo(0.841345, 5);
  });

  it('scores 0 during warm-up and stays low on a stream that repeats itself', () => {
    const { d, scores, events } = run({}, 2000);
    expect(scores.slice(0, 300).every((s) => s === 0)).toBe(true);
    expect(d.ready).toBe(true);
    // Noise alone may cross now and then, but rarely: at most one episode per ~400 readings.
    expect(events.filter((e) => e.level !== AlarmLevel.Normal).length).toBeLessThanOrEqual(4);
    expect(scores.filter((s) => s >= 0.5).length).toBeLessThan(0.01 * scores.length);
    for (const s of scores) expect(s).toBeGreaterThanOrEqual(0), expect(s).toBeLessThanOrEqual(1);
  });

  it('a burst never seen before scores high at once and raises one alarm for the whole episode', () => {
    const quiet = run({}, 1500);
    const { scores, events } = run({ suppress: 100 }, 1500, { at: 1200, add: 8 });
    const peak = Math.max(...scores.slice(1200, 1210));
    expect(peak).toBeGreaterThanOrEqual(0.5); // the default threshold
    expect(peak).toBeGreaterThan(Math.max(...quiet.scores.slice(1200, 1210)));
    const raised = events.filter((e) => e.level !== AlarmLevel.Normal && e.i >= 1200);
    expect(raised).toHaveLength(1);
    expect(raised[0].i).toBeLessThan(1203);
    // The episode lasts `suppress` readings: scores are 0 meanwhile, then it clears.
    const at = raised[0].i;
    expect(scores.slice(at + 1, at + 100).every((s) => s === 0)).toBe(true);
    expect(events.find((e) => e.i > at)).toEqual({ i: at + 100, level: AlarmLevel.Normal });
  });

  it('a change of distribution that no single shape shows raises, named as such; off with entropy 0', () => {
    // Uniform noise over [0, 10], then the same noise squeezed into [7, 10]: every value and
    // every 10-reading shape stays within what was seen, only the spread of values changes.
    const feed = (opts: Partial<AnomalyOptions>) => {
      const d = new AnomalyDetector('a', 'd', 'p', { warmup: 300, suppress: 100, ...opts });
      const noise = gaussianSource(5);
      const u = () => 0.5 + 0.5 * Math.tanh(noise()); // in (0, 1)
      const events: { i: number; cause: string }[] = [];
      for (let i = 0; i < 3000; i++) {
        const v = i < 2000 ? 10 * u() : 7 + 3 * u();
        const e = d.update(r(i, v));
        if (e && e.level !== AlarmLevel.Normal) events.push({ i, cause: e.cause });
      }
      return events;
    };
    const on = feed({});
    const change = on.filter((e) => e.i >= 2000 && e.i < 2100);
    expect(change.length).toBe(1);
    expect(change[0].cause).toContain('spread of values');
    // Before the change the histogram part stays nearly quiet (new histograms are not rare there):
    // at most two alarms in 1,700 readings.
    expect(on.filter((e) => e.i < 2000 && e.cause.includes('spread of values')).length).toBeLessThanOrEqual(2);
    expect(feed({ entropy: 0 }).some((e) => e.cause.includes('spread of values'))).toBe(false);
  });

  it('inside an episode a far bigger event (beyond the range by more than the range) is scored again; a small one is not', () => {
    const feed = (second: number) => {
      const d = new AnomalyDetector('a', 'd', 'p', { warmup: 300, suppress: 200, entropy: 0 });
      const noise = gaussianSource(3);
      const scores: number[] = [];
      for (let i = 0; i < 1200; i++) {
        let v = 10 + 2 * Math.sin((2 * Math.PI * i) / 50) + 0.1 * noise();
        if (i === 1000) v = 13; // just past the top of the range: opens an episode
        if (i === 1050) v = second;
        d.update(r(i, v));
        scores.push(d.score);
      }
      return scores;
    };
    // The range is about 8 … 12.3: 30 lies beyond it by far more than its width.
    const big = feed(30);
    expect(big[1000]).toBe(1);
    expect(big[1050]).toBe(1);
    expect(big.slice(1051, 1100).every((s) => s === 0)).toBe(true); // a new episode from there
    const small = feed(14);
    expect(small[1000]).toBe(1);
    expect(small[1050]).toBe(0); // a new extreme, but only a little past: the same episode
  });

  it('a new extreme by a hair (a fraction of one typical step) is not news; one by a few steps is', () => {
    // White noise (sd 1, typical step E|Δx| ≈ 1.13, range about 7): at reading 1000 a value
    // just past the highest so far, by 0.05 — past 0.1 % of the range, within 0.1 step.
    const feed = (by: number, opts: Partial<AnomalyOptions>) => {
      const d = new AnomalyDetector('a', 'd', 'p', { warmup: 300, entropy: 0, season: 0, ...opts });
      const noise = gaussianSource(7);
      let hi = -Infinity;
      for (let i = 0; i < 1000; i++) {
        const v = noise();
        hi = Math.max(hi, v);
        d.update(r(i, v));
      }
      d.update(r(1000, hi + by));
      return { beyond: d.beyond, score: d.score };
    };
    expect(feed(0.05, { extremeStep: 0 })).toEqual({ beyond: true, score: 1 }); // the range rule alone
    expect(feed(0.05, {}).beyond).toBe(false);
    expect(feed(0.05, {}).score).toBeLessThan(0.5);
    expect(feed(0.5, {})).toEqual({ beyond: true, score: 1 });
  });

  it('finds a daily period online and flags a cycle whose rise does not come; off with season 0', () => {
    // 288 readings a "day": low, then a rise to 80 for a fifth of the day. Day 10 has no rise:
    // every value and every shape of it was seen before, only not at that point of the day.
    const P = 288;
    const feed = (opts: Partial<AnomalyOptions>) => {
      const d = new AnomalyDetector('a', 'd', 'p', { warmup: 600, suppress: 200, ...opts });
      const noise = gaussianSource(8);
      const events: { i: number; cause: string }[] = [];
      for (let i = 0; i < 14 * P; i++) {
        const phase = i % P;
        const day = Math.floor(i / P);
        const rise = phase >= 150 && phase < 210 && day !== 10;
        const e = d.update(r(i, (rise ? 80 : 20) + noise()));
        if (e && e.level !== AlarmLevel.Normal) events.push({ i, cause: e.cause });
      }
      return { d, events };
    };
    const on = feed({ season: 0.5 });
    expect(on.d.period).toBe(P);
    const missing = on.events.filter((e) => e.i >= 10 * P + 150 && e.i < 10 * P + 210);
    expect(missing).toHaveLength(1);
    expect(missing[0].cause).toContain('288-reading cycle');
    // Elsewhere the days repeat: no alarm from the seasonal part.
    expect(on.events.filter((e) => e.cause.includes('cycle') && (e.i < 10 * P || e.i >= 11 * P)).length).toBe(0);
    const off = feed({ season: 0 });
    expect(off.d.period).toBe(0);
    expect(off.events.some((e) => e.i >= 10 * P + 150 && e.i < 10 * P + 210)).toBe(false);
  });

  it('a stream that runs higher than usual for a while raises, named as such; off with drift 0', () => {
    // Noise with rare spikes (so the range is wide), then the same noise 1.5 higher for 400
    // readings: every value lies inside the range and every shape looks like noise; only the
    // level of the last `drift` readings is unlike anything before.
    const feed = (opts: Partial<AnomalyOptions>) => {
      const d = new AnomalyDetector('a', 'd', 'p', { warmup: 600, suppress: 200, entropy: 0, season: 0, ...opts });
      const noise = gaussianSource(4);
      const events: { i: number; cause: string }[] = [];
      for (let i = 0; i < 4000; i++) {
        let v = 10 + noise() + (i >= 3000 && i < 3400 ? 1.5 : 0);
        if (i % 97 === 0 && i < 2500) v += i % 2 ? 8 : -8;
        const e = d.update(r(i, v));
        if (e && e.level !== AlarmLevel.Normal) events.push({ i, cause: e.cause });
      }
      return events;
    };
    const on = feed({ drift: 150, driftLong: 5000 });
    const shift = on.filter((e) => e.i >= 3000 && e.i < 3400);
    expect(shift.length).toBeGreaterThanOrEqual(1);
    expect(shift[0].i).toBeLessThan(3150);
    expect(shift[0].cause).toContain('mean over the last 150 readings higher than usual');
    // Before the shift the level part stays quiet.
    expect(on.filter((e) => e.i < 3000 && e.cause.includes('higher than usual'))).toHaveLength(0);
    expect(feed({ drift: 0 }).some((e) => e.i >= 3000 && e.i < 3400)).toBe(false);
    // A young stream needs a larger shift: with a strong prior the same shift stays quiet.
    expect(feed({ drift: 150, driftLong: 5000, driftPrior: 5000 }).some((e) => e.i >= 3000 && e.i < 3400)).toBe(false);
  });

  it('a level that stays shifted is one episode: no re-raise and no "back to usual" while it stands; hold 0 re-raises', () => {
    // The stream of the test above, shifted 1.5 up for 1000 readings (five `suppress` spans).
    const feed = (opts: Partial<AnomalyOptions>) => {
      const d = new AnomalyDetector('a', 'd', 'p', { warmup: 600, suppress: 200, entropy: 0, season: 0, ...opts });
      const noise = gaussianSource(4);
      const events: { i: number; level: AlarmLevel; cause: string }[] = [];
      for (let i = 0; i < 5000; i++) {
        let v = 10 + noise() + (i >= 3000 && i < 4000 ? 1.5 : 0);
        if (i % 97 === 0 && i < 2500) v += i % 2 ? 8 : -8;
        const e = d.update(r(i, v));
        if (e) events.push({ i, level: e.level, cause: e.cause });
      }
      return events;
    };
    const held = feed({ hold: 0.5 }).filter((e) => e.i >= 3000);
    // One raise, and the alarm stays while the level part still sees the shift ...
    expect(held.filter((e) => e.level !== AlarmLevel.Normal)).toHaveLength(1);
    expect(held[0].i).toBeLessThan(3150);
    const back = held.find((e) => e.level === AlarmLevel.Normal);
    expect(back).toBeDefined();
    // ... for well over two `suppress` spans (it ends once the level part has learnt the new level).
    expect(back!.i).toBeGreaterThan(held[0].i + 400);
    expect(back!.cause).toMatch(/back to usual after \d+ readings/);
    expect(Number(/after (\d+)/.exec(back!.cause)![1])).toBe(back!.i - held[0].i);
    // Without it the standing shift raises again once every episode.
    const off = feed({ hold: 0 }).filter((e) => e.i >= 3000 && e.i < 4000 && e.level !== AlarmLevel.Normal);
    expect(off.length).toBeGreaterThan(1);
  });

  it('a stream with no cycle gets no period', () => {
    const d = new AnomalyDetector('a', 'd', 'p', { warmup: 300, season: 0.5 });
    const noise = gaussianSource(9);
    let v = 0;
    for (let i = 0; i < 5000; i++) d.update(r(i, (v += noise())));
    expect(d.period).toBe(0);
  });

  it('ignores NaN and Bad readings (they neither score nor enter the memory)', () => {
    const d = new AnomalyDetector('a', 'd', 'p', { warmup: 20 });
    for (let i = 0; i < 40; i++) d.update(r(i, i % 5));
    const before = d.score;
    expect(d.update(r(40, Number.NaN))).toBeNull();
    expect(d.update(r(41, 1e12, Quality.Bad))).toBeNull();
    expect(d.score).toBe(before);
  });

  it('memory is bounded: the buffers are sized by the options, not by the stream', () => {
    const d = new AnomalyDetector('a', 'd', 'p', { warmup: 10, memory: 16, window: 4 });
    for (let i = 0; i < 5000; i++) d.update(r(i, Math.sin(i)));
    expect((d as unknown as { mem: Float64Array }).mem.length).toBe(64);
  });
});
