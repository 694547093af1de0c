import { AlarmLevel, Quality, gaussianSource, type Reading } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { ArtOutcome, DualVigilanceArt } from './art.js';
import { ArtimeDetector, type ArtimeOptions } from './artime.js';
import { createDetectors } from './engine.js';

const r = (ts: number, value: number, quality?: Quality): Reading => ({ device: 'main-7', point: 'pressure', ts, value, quality });

/** A daily-like sine with noise; readings `at`..`at+len` get `add` added. */
function run(opts: Partial<ArtimeOptions>, n: number, shock?: { at: number; add: number; len?: number }) {
  const d = new ArtimeDetector('a', 'main-7', 'pressure', { warmup: 600, ...opts });
  const noise = gaussianSource(11);
  const scores: number[] = [];
  const events: { i: number; level: AlarmLevel; cause: string }[] = [];
  for (let i = 0; i < n; i++) {
    let v = 10 + 2 * Math.sin((2 * Math.PI * i) / 100) + 0.1 * noise();
    if (shock && i >= shock.at && i < shock.at + (shock.len ?? 5)) v += shock.add;
    const e = d.update(r(i * 60_000, v));
    if (e) events.push({ i, level: e.level, cause: e.cause });
    scores.push(d.score);
  }
  return { d, scores, events };
}

describe('DualVigilanceArt', () => {
  it('resonates with a pattern it holds, calls a far one novel, and a middling one a variant of its cluster', () => {
    const art = new DualVigilanceArt(3, 1);
    art.rhoLb = 0.5;
    art.rhoUb = 0.9;
    expect(art.train([0.2, 0.5, 0.8, 0.5])).toBe(ArtOutcome.Novel); // empty memory
    expect(art.train([0.2, 0.5, 0.8, 0.5])).toBe(ArtOutcome.Resonance);
    expect(art.match).toBeCloseTo(1, 12);
    expect(art.train([0.9, 0.1, 0.0, 0.5])).toBe(ArtOutcome.Novel);
    expect(art.size).toBe(2);
    // Close to the first, but not close enough to refine it: stored as a new category of its cluster.
    expect(art.train([0.2, 0.5, 0.55, 0.5])).toBe(ArtOutcome.Variant);
    expect(art.size).toBe(3);
    expect(art.match).toBeGreaterThanOrEqual(0.5);
    expect(art.match).toBeLessThan(0.9);
  });

  it('published: the energy is the last component and its complement, and the best match decides', () => {
    const art = new DualVigilanceArt(3, 0);
    art.energyLast = art.bestDecides = true;
    art.rhoLb = 0.005;
    art.rhoUb = 0.9;
    art.train([0.2, 0.5, 0.8]);
    art.train([0.2, 0.5, 0.8]);
    expect(art.match).toBeCloseTo(1, 12);
    // Same first components, last one moved: energy (min(0.4,0.8) + min(0.6,0.2)) / (0.8 + 0.2) = 0.6;
    // feature match (0.2 + 0.5 + 0.4 + 0.8 + 0.5 + 0.2) / 3 = 0.8667.
    expect(art.train([0.2, 0.5, 0.4], false)).toBe(ArtOutcome.Variant);
    expect(art.energy).toBeCloseTo(0.6, 12);
    expect(art.match).toBeCloseTo((2.6 / 3) ** 3 * 0.6 ** 2, 12);
    // Both categories pass ρ_lb (0.0065 and 0.95): the one that matches best decides and resonates.
    art.train([0.9, 0.9, 0.1]);
    expect(art.size).toBe(2);
    expect(art.train([0.85, 0.9, 0.1], false)).toBe(ArtOutcome.Resonance);
  });

  it('learn = false scores without storing; memory is bounded by capacity', () => {
    const art = new DualVigilanceArt(2, 0, 4);
    art.rhoLb = art.rhoUb = 0.99;
    art.train([0.1, 0.1], false);
    expect(art.size).toBe(0);
    for (let k = 0; k < 20; k++) art.train([k / 20, 1 - k / 20]);
    expect(art.size).toBe(4);
    // NaN and out-of-range components are clamped, not propagated.
    art.train([Number.NaN, 7]);
    expect(Number.isFinite(art.match)).toBe(true);
  });
});

describe('ArtimeDetector', () => {
  it('scores 0 during warm-up, then rarely on a stream that repeats itself', () => {
    const { d, scores, events } = run({}, 4000);
    expect(scores.slice(0, 600).every((s) => s === 0)).toBe(true);
    expect(d.ready).toBe(true);
    expect(scores.filter((s) => s >= 0.5).length).toBeLessThanOrEqual(3);
    expect(events.filter((e) => e.level !== AlarmLevel.Normal).length).toBeLessThanOrEqual(3);
    for (const s of scores) expect(s).toBeGreaterThanOrEqual(0), expect(s).toBeLessThanOrEqual(1);
  });

  it('a burst never seen before raises within a few readings, and the alarm falls `hold` readings after', () => {
    const { events, scores } = run({ hold: 100 }, 4000, { at: 3000, add: 15, len: 10 });
    const raised = events.find((e) => e.level !== AlarmLevel.Normal && e.i >= 3000);
    expect(raised).toBeDefined();
    expect(raised!.i).toBeLessThan(3000 + 20);
    expect(raised!.cause).toMatch(/unlike every one learned/);
    expect(Math.max(...scores.slice(3000, 3030))).toBeGreaterThanOrEqual(0.5);
    const cleared = events.find((e) => e.level === AlarmLevel.Normal && e.i > raised!.i);
    expect(cleared).toBeDefined();
    expect(cleared!.cause).toMatch(/back to learned patterns/);
  });

  it('episode scores each event once: within hold of its last anomaly, only a higher confidence scores; the alarm is unchanged', () => {
    // A long hold chains the sine's rare low-confidence anomalies into events, then a burst.
    const hold = 1000;
    const shock = { at: 3000, add: 15, len: 10 };
    const raw = run({ hold }, 4000, shock);
    const ep = run({ hold, episode: true }, 4000, shock);
    expect(ep.events).toEqual(raw.events);
    const rawHits = raw.scores.map((s, i) => [i, s]).filter(([, s]) => s > 0);
    const epHits = ep.scores.map((s, i) => [i, s]).filter(([, s]) => s > 0);
    // Some anomalies are no higher than their event's first; the burst's is kept.
    expect(epHits.length).toBeGreaterThan(0);
    expect(Math.max(...ep.scores.slice(3000, 3030))).toBeGreaterThanOrEqual(0.5);
    expect(epHits.length).toBeLessThan(rawHits.length);
    let max = 0;
    let last = -Infinity;
    for (let i = 0; i < ep.scores.length; i++) {
      const s = raw.scores[i];
      if (s <= 0) continue;
      if (i - last > hold) max = 0;
      last = i;
      // Kept exactly when higher than the event's highest so far, and then unchanged.
      expect(ep.scores[i]).toBe(s > max ? s : 0);
      max = Math.max(max, s);
    }
  });

  it('published: silent on a repeating stream after warm-up, a burst never seen raises within a few readings', () => {
    const calm = run({ published: true }, 4000);
    expect(calm.scores.slice(0, 600).every((s) => s === 0)).toBe(true);
    expect(calm.d.ready).toBe(true);
    const { events } = run({ published: true, hold: 100 }, 4000, { at: 3000, add: 15, len: 10 });
    const raised = events.find((e) => e.level !== AlarmLevel.Normal && e.i >= 3000);
    expect(raised).toBeDefined();
    expect(raised!.i).toBeLessThan(3000 + 20);
    for (const s of calm.scores) expect(s).toBeGreaterThanOrEqual(0), expect(s).toBeLessThanOrEqual(1);
  });

  it('ignores unusable readings and runs from a config through the engine', () => {
    const set = createDetectors({ points: [{ device: 'main-7', point: 'pressure', artime: { warmup: 200, level: 'orange' } }] });
    expect(set.detectors[0].id).toBe('main-7/pressure/artime');
    expect(set.onReading(r(0, Number.NaN))).toEqual([]);
    expect(set.onReading(r(1, 5, Quality.Bad))).toEqual([]);
    const noise = gaussianSource(3);
    let raised: AlarmLevel | undefined;
    for (let i = 0; i < 1500; i++) {
      const v = i >= 1200 && i < 1210 ? 40 : 10 + Math.sin(i / 8) + 0.05 * noise();
      for (const e of set.onReading(r(i * 1000, v))) if (e.level !== AlarmLevel.Normal) raised ??= e.level;
    }
    expect(raised).toBe(AlarmLevel.Orange);
  });

  it('refuses a bad config with the field and value named', () => {
    expect(() => createDetectors({ points: [{ device: 'd', point: 'p', artime: { warmup: 200, rho: 1.5 } }] })).toThrow(/artime\.rho/);
    expect(() => createDetectors({ points: [{ device: 'd', point: 'p', artime: { warmup: 200, min: 5, max: 5 } }] })).toThrow(/artime\.max.*must be above min \(5\), got 5/);
    expect(() => createDetectors({ points: [{ device: 'd', point: 'p', artime: { warmup: 200, min: 0 } }] })).toThrow(/artime\.max.*needed with min/);
    expect(() => createDetectors({ points: [{ device: 'd', point: 'p', artime: { warmup: 200, match: 'input' } }] })).toThrow(/artime.*match/);
    expect(() => createDetectors({ points: [{ device: 'd', point: 'p', artime: { warmup: 200, episode: 'yes' } }] })).toThrow(/artime\.episode/);
  });

  it('with a declared range, scales by it from the first reading: a new extreme inside it does not rescale', () => {
    // The sine spans 8..12; a later excursion to 13 is new to a learned range but inside 0..20.
    const learned = run({}, 4000, { at: 3000, add: 1, len: 200 });
    const declared = run({ min: 0, max: 20 }, 4000, { at: 3000, add: 1, len: 200 });
    expect(declared.scores.slice(0, 600).every((s) => s === 0)).toBe(true);
    expect(declared.d.ready).toBe(true);
    // Identical streams, different scaling: the two must not score alike.
    expect(declared.scores.join()).not.toBe(learned.scores.join());
    // A burst still raises with the range declared (here past its top, which widens it).
    const burst = run({ min: 0, max: 20, hold: 100 }, 4000, { at: 3000, add: 15, len: 10 });
    const raised = burst.events.find((e) => e.level !== AlarmLevel.Normal && e.i >= 3000);
    expect(raised).toBeDefined();
    expect(raised!.i).toBeLessThan(3000 + 20);
    expect(() => new ArtimeDetector('a', 'd', 'p', { warmup: 600, min: 3, max: 1 })).toThrow(/min \(3\) must be below max \(1\)/);
  });
});
