import { AlarmLevel, Quality, gaussianSource, type Reading } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { MultivariateDetector, type MultivariateOptions } from './multivariate.js';

const points = ['flow', 'pressure', 'temp'];

/** Feeds one frame (one reading per point, same ts); returns the events. */
function frame(d: MultivariateDetector, ts: number, values: number[]) {
  const out = [];
  for (let j = 0; j < values.length; j++) {
    const e = d.update({ device: 'pump-1', point: points[j], ts, value: values[j] });
    if (e) out.push(e);
  }
  return out;
}

/** Noisy flow and pressure, a temperature drifting smoothly (0.01 per second). */
function normal(noise: () => number, t: number): number[] {
  return [50 + noise(), 3 + 0.1 * noise(), 20 + 0.01 * t + 0.001 * noise()];
}

function make(opts: Partial<MultivariateOptions> = {}) {
  return new MultivariateDetector('pump-1/multivariate', 'pump-1', { points, warmup: 200, ...opts });
}

describe('MultivariateDetector', () => {
  it('learns during warm-up and never fires before it is ready', () => {
    const d = make();
    const noise = gaussianSource(1);
    for (let t = 0; t < 200; t++) {
      // Wild values during warm-up are learned, not alarmed on.
      expect(frame(d, t * 1000, normal(noise, t))).toEqual([]);
      expect(d.ready).toBe(t === 199);
    }
    expect(d.score).toBe(0);
  });

  it('raises on a step in one point after the on-delay, names it, and clears after it ends', () => {
    const d = make({ onDelayMs: 2000, offDelayMs: 5000 });
    const noise = gaussianSource(2);
    const events: { t: number; level: AlarmLevel; point: string; cause: string }[] = [];
    for (let t = 0; t < 600; t++) {
      const v = normal(noise, t);
      if (t >= 300 && t < 400) v[0] -= 6; // flow drops by 6 sd: a valve closing
      for (const e of frame(d, t * 1000, v)) events.push({ t, level: e.level, point: e.point, cause: e.cause });
    }
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ level: AlarmLevel.Orange, point: 'flow' });
    expect(events[0].t).toBeGreaterThanOrEqual(302);
    expect(events[0].t).toBeLessThan(310);
    expect(events[0].cause).toMatch(/flow .* outside its learned band/);
    expect(events[1]).toMatchObject({ level: AlarmLevel.Normal });
    expect(events[1].t).toBeGreaterThanOrEqual(405);
    expect(events[1].t).toBeLessThan(420);
  });

  it('a smoothly drifting point counts little: its drift does not raise, a jump in a noisy point does', () => {
    const quiet = make();
    const noise = gaussianSource(3);
    // Temperature keeps drifting far past anything seen in warm-up (0.01/s for 20 min).
    for (let t = 0; t < 1400; t++) expect(frame(quiet, t * 1000, normal(noise, t))).toEqual([]);
    expect(quiet.level).toBe(AlarmLevel.Normal);
    // The drift of temp is now 14 °C against a warm-up spread of 0.6 °C; a 5 sd jump of flow still raises.
    const events = [];
    for (let t = 1400; t < 1420; t++) events.push(...frame(quiet, t * 1000, normal(noise, t).map((v, j) => (j === 0 ? v + 5 : v))));
    expect(events.map((e) => [e.point, e.level])).toEqual([['flow', AlarmLevel.Orange]]);
  });

  it('the score rises with the size of the excursion and stays in [0, 1]', () => {
    const d = make();
    const noise = gaussianSource(4);
    for (let t = 0; t < 200; t++) frame(d, t * 1000, normal(noise, t));
    const scores: number[] = [];
    for (const jump of [0, 3, 10, 1000]) {
      for (let t = 0; t < 30; t++) frame(d, (1000 + t) * 1000, [50 + jump, 3, 22]);
      scores.push(d.score);
    }
    expect(scores[0]).toBeLessThan(0.5);
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThan(scores[i - 1]);
    expect(scores[3]).toBeLessThanOrEqual(1);
  });

  it('assembles frames: a point that misses a frame carries its last value; Bad readings too; unknown points are ignored', () => {
    const d = make({ warmup: 10 });
    for (let t = 0; t < 10; t++) frame(d, t, [50 + (t % 2), 3 + 0.1 * (t % 3), 20]);
    expect(d.ready).toBe(true);
    expect(d.update({ device: 'pump-1', point: 'nonsense', ts: 11, value: 1e9 })).toBeNull();
    // Frame at ts 11 lacks temp; it is evaluated when ts 12 starts, with temp carried.
    d.update({ device: 'pump-1', point: 'flow', ts: 11, value: 50 });
    d.update({ device: 'pump-1', point: 'pressure', ts: 11, value: 3 });
    expect(d.score).toBe(0);
    d.update({ device: 'pump-1', point: 'flow', ts: 12, value: 50 });
    expect(d.score).toBeGreaterThan(0);
    // A Bad reading is not a value of 0: the last good pressure is used.
    const before = d.score;
    d.update({ device: 'pump-1', point: 'pressure', ts: 12, value: Number.NaN, quality: Quality.Bad });
    d.update({ device: 'pump-1', point: 'temp', ts: 12, value: 20 });
    expect(d.score).toBeLessThan(Math.max(before, 0.9));
  });

  it('relative clear and re-learn: after a huge episode it settles at a slightly new level without re-raising', () => {
    const run = (relearnMs: number) => {
      const d = make({ relearnMs, offDelayMs: 5000 });
      const noise = gaussianSource(5);
      const levels: AlarmLevel[] = [];
      for (let t = 0; t < 900; t++) {
        const v = normal(noise, t);
        if (t >= 300 && t < 500) v[0] += 200; // a huge excursion
        if (t >= 500) v[0] += 4; // then a small lasting offset
        for (const e of frame(d, t * 1000, v)) levels.push(e.level);
      }
      return { levels, final: d.level };
    };
    const without = run(0);
    const withRelearn = run(30_000);
    // The default watch raises yellow at once, the alarm follows 2 s later.
    expect(withRelearn.levels).toEqual([AlarmLevel.Yellow, AlarmLevel.Orange, AlarmLevel.Normal]);
    expect(withRelearn.final).toBe(AlarmLevel.Normal);
    // Without re-learning, the small offset keeps (or brings back) the alarm.
    expect(without.final).toBe(AlarmLevel.Orange);
  });

  it('re-learn keeps averaging after it: a process still settling after an episode does not re-raise', () => {
    const d = make({ relearnMs: 20_000, offDelayMs: 5000 });
    const noise = gaussianSource(6);
    const levels: [number, AlarmLevel][] = [];
    for (let t = 0; t < 1000; t++) {
      const v = normal(noise, t);
      if (t >= 300 && t < 500) v[0] += 200; // a huge excursion
      // Then the flow settles from +8 toward a lasting +3 over a couple of minutes.
      if (t >= 500) v[0] += 3 + 5 * Math.exp(-(t - 500) / 60);
      for (const e of frame(d, t * 1000, v)) levels.push([t, e.level]);
    }
    // The default watch raises yellow at once, the alarm follows 2 s later.
    expect(levels.map(([, l]) => l)).toEqual([AlarmLevel.Yellow, AlarmLevel.Orange, AlarmLevel.Normal]);
    expect(d.level).toBe(AlarmLevel.Normal);
  });

  it('recover: a slow point cooling back after the fault does not hold the alarm, a fast one does', () => {
    const pts = ['flow', 'temp'];
    const run = (recover: number, slowTemp: boolean) => {
      const d = new MultivariateDetector('pump-1/multivariate', 'pump-1', { points: pts, warmup: 200, recover, offDelayMs: 5000 });
      const noise = gaussianSource(7);
      const events: [number, AlarmLevel][] = [];
      for (let t = 0; t < 800; t++) {
        // temp: a slow wave (drift weight ≈ 0.3) or white noise (weight 1).
        let temp = slowTemp ? 20 + 0.3 * Math.sin((2 * Math.PI * t) / 200) + 0.1 * noise() : 20 + 0.1 * noise();
        let flow = 50 + noise();
        if (t >= 300 && t < 400) flow -= 8; // the fault
        // Heats during the fault, cools back over minutes after it.
        if (t >= 300) temp += (slowTemp ? 4 : 0.5) * (t < 400 ? (t - 300) / 100 : Math.exp(-(t - 400) / 80));
        for (const pt of [0, 1]) {
          const e = d.update({ device: 'pump-1', point: pts[pt], ts: t * 1000, value: pt === 0 ? flow : temp });
          if (e) events.push([t, e.level]);
        }
      }
      return events;
    };
    const held = run(0, true);
    const released = run(0.8, true);
    expect(held[0]).toEqual([expect.any(Number), AlarmLevel.Orange]);
    expect(released[0]).toEqual(held[0]);
    // Without the rule the cooling temp holds the alarm long after the flow is back.
    expect(held[1][1]).toBe(AlarmLevel.Normal);
    expect(held[1][0]).toBeGreaterThan(470);
    expect(released[1][1]).toBe(AlarmLevel.Normal);
    expect(released[1][0]).toBeLessThan(445);
    expect(released).toHaveLength(2);
    // A noisy point (weight 1) is not "slow": it holds the alarm as before.
    expect(run(0.8, false)).toEqual(run(0, false));
  });

  it('vote: two points each moderately off raise together, one alone does not', () => {
    const run = (vote: number, both: boolean, voteDelayMs?: number) => {
      const d = make({ vote, voteDelayMs, offDelayMs: 5000 });
      const noise = gaussianSource(11);
      const events: { t: number; level: AlarmLevel; cause: string }[] = [];
      for (let t = 0; t < 600; t++) {
        const v = normal(noise, t);
        // A small shift (1.2 sd) of flow, and of pressure too when `both`: below k for either alone.
        if (t >= 300 && t < 400) {
          v[0] += 1.2;
          if (both) v[1] += 0.12;
        }
        for (const e of frame(d, t * 1000, v)) events.push({ t, level: e.level, cause: e.cause });
      }
      return events;
    };
    expect(run(0, true)).toEqual([]);
    expect(run(0.5, false)).toEqual([]);
    const pair = run(0.5, true);
    expect(pair.length).toBeGreaterThanOrEqual(2);
    expect(pair[0].level).toBe(AlarmLevel.Orange);
    expect(pair[0].t).toBeGreaterThanOrEqual(300);
    expect(pair[0].t).toBeLessThan(400); // during the shift
    expect(pair[0].cause).toMatch(/(flow .* and pressure|pressure .* and flow) .* both off their learned bands/);
    expect(pair.at(-1)!.level).toBe(AlarmLevel.Normal);
    expect(pair.at(-1)!.t).toBeLessThan(430);
    // Weaker evidence must last longer: with voteDelayMs 2 s instead of 5 s the pair raises 3 s sooner.
    expect(run(0.5, true, 2000)[0].t).toBe(pair[0].t - 3);
  });
});

describe('MultivariateDetector onset dating (issue 17)', () => {
  /** A slow ramp in flow from t = 300: the alarm is confirmed well after the change began. */
  function run(onset: MultivariateOptions['onset']) {
    const d = make({ onDelayMs: 2000, offDelayMs: 5000, onset });
    const noise = gaussianSource(11);
    const events = [];
    for (let t = 0; t < 700; t++) {
      const v = normal(noise, t);
      if (t >= 300 && t < 500) v[0] -= Math.min(6, (t - 300) * 0.3);
      events.push(...frame(d, t * 1000, v));
    }
    return events;
  }

  it('off: a raise carries its own ts; a clear dates the return to normal to when its hold condition began', () => {
    const [raise, clear] = run('off');
    expect(raise.onsetTs).toBe(raise.ts);
    expect(clear.level).toBe(AlarmLevel.Normal);
    expect(clear.onsetTs).toBe(clear.ts - 5000);
    expect(clear.cause).toMatch(/back for 5 s/);
  });

  it('band: the raise is dated to the start of the excursion, after the change began and before the raise', () => {
    const [raise] = run('band');
    expect(raise.ts).toBeGreaterThan(305_000);
    expect(raise.onsetTs!).toBeGreaterThanOrEqual(300_000);
    expect(raise.onsetTs!).toBeLessThan(raise.ts);
    expect(raise.cause).toMatch(/the change began about \d+ s earlier/);
  });

  it('bocpd: never earlier than the band estimate, never later than the raise', () => {
    const [band] = run('band');
    const [raise] = run('bocpd');
    expect(raise.ts).toBe(band.ts);
    expect(raise.onsetTs!).toBeGreaterThanOrEqual(band.onsetTs!);
    expect(raise.onsetTs!).toBeLessThanOrEqual(raise.ts);
  });
});

describe('MultivariateDetector CUSUM raise (issue 17)', () => {
  /** Flow shifted by `shift` sd from t = 300 to 500 (0: normal running throughout). */
  function run(cusum: number, shift: number, seed = 21) {
    const d = make({ onDelayMs: 2000, offDelayMs: 5000, cusum });
    const noise = gaussianSource(seed);
    const events = [];
    for (let t = 0; t < 1200; t++) {
      const v = normal(noise, t);
      if (t >= 300 && t < 500) v[0] -= shift;
      for (const e of frame(d, t * 1000, v)) events.push({ t, ...e });
    }
    return events;
  }

  it('a shift that hovers about k: raised sooner once its excess beyond the band has piled up, and says so', () => {
    const plain = run(0, 2);
    const fast = run(4, 2);
    expect(plain[0].t).toBeGreaterThanOrEqual(300);
    expect(fast[0].level).toBe(AlarmLevel.Orange);
    expect(fast[0].t).toBeGreaterThanOrEqual(300);
    expect(fast[0].t).toBeLessThan(plain[0].t);
    expect(fast[0].cause).toMatch(/flow .* outside its learned band and its excess beyond the band has piled up to [\d.]+ \(CUSUM; alarm at [\d.]+, 4× the most it reached while learning\)/);
    expect(fast.at(-1)!.level).toBe(AlarmLevel.Normal);
  });

  it('normal running does not raise it, with several seeds', () => {
    for (const seed of [31, 32, 33, 34]) expect(run(4, 0, seed)).toEqual([]);
  });
});

describe('MultivariateDetector watch: a yellow watch before the alarm (issue 17)', () => {
  /** Flow shifted by `shift` sd from t = 300 to `end` (0: normal running throughout). */
  function run(opts: Partial<MultivariateOptions>, shift: number, seed = 21, end = 500) {
    const d = make({ onDelayMs: 2000, offDelayMs: 5000, ...opts });
    const noise = gaussianSource(seed);
    const events = [];
    for (let t = 0; t < 1200; t++) {
      const v = normal(noise, t);
      if (t >= 300 && t < end) v[0] -= shift;
      for (const e of frame(d, t * 1000, v)) events.push({ t, ...e });
    }
    return events;
  }

  /** Flow sagging `slope` sd per second from t = 300 down to `depth` sd, until t = 700. */
  function ramp(opts: Partial<MultivariateOptions>, slope: number, depth: number) {
    const d = make({ onDelayMs: 2000, offDelayMs: 5000, ...opts });
    const noise = gaussianSource(21);
    const events = [];
    for (let t = 0; t < 1200; t++) {
      const v = normal(noise, t);
      if (t >= 300 && t < 700) v[0] -= Math.min(depth, slope * (t - 300));
      for (const e of frame(d, t * 1000, v)) events.push({ t, ...e });
    }
    return events;
  }

  it('raises yellow before the orange alarm, which then follows from yellow at the same moment as without the watch', () => {
    const plain = run({ watch: 0 }, 2);
    const watched = run({ watch: 2, watchGate: 0 }, 2);
    expect(plain[0].level).toBe(AlarmLevel.Orange);
    expect(watched[0]).toMatchObject({ level: AlarmLevel.Yellow, previous: AlarmLevel.Normal, point: 'flow' });
    expect(watched[0].t).toBeGreaterThanOrEqual(300);
    expect(watched[0].t).toBeLessThan(plain[0].t);
    expect(watched[0].cause).toMatch(/^flow \S+ has been beyond its learned band and its excess has piled up to [\d.]+ \(CUSUM; watch at [\d.]+, 2× the most it reached while learning\): yellow \(III\)/);
    expect(watched[1]).toMatchObject({ level: AlarmLevel.Orange, previous: AlarmLevel.Yellow, t: plain[0].t });
    // The alarm itself is unchanged: the same raises and clears at the same rows.
    expect(watched.slice(1).map((e) => [e.t, e.level])).toEqual(plain.map((e) => [e.t, e.level]));
  });

  it('a watch the alarm does not confirm is withdrawn after watchMs, and says so', () => {
    // A shift too small to hold the score above k: the CUSUM piles up, the alarm never comes.
    const events = run({ watch: 2, watchGate: 0, watchMs: 30_000 }, 1.2);
    const yellow = events.find((e) => e.level === AlarmLevel.Yellow)!;
    expect(yellow).toBeDefined();
    const next = events[events.indexOf(yellow) + 1];
    if (next.level === AlarmLevel.Normal) {
      expect(next.t - yellow.t).toBe(30);
      expect(next.previous).toBe(AlarmLevel.Yellow);
      expect(next.cause).toMatch(/^flow watch withdrawn: not confirmed within 30 s \(score [\d.]+×\)$/);
      // Marked, so the alarm manager returns it to normal without asking for an acknowledgement.
      expect(next.withdrawn).toBe(true);
    } else expect(next.level).toBe(AlarmLevel.Orange);
    expect(events.some((e) => e.previous === AlarmLevel.Yellow && e.level === AlarmLevel.Normal)).toBe(true);
    expect(events.at(-1)!.level).toBe(AlarmLevel.Normal);
  });

  it('normal running does not raise it, with several seeds; on by default (watch 8, gate 1), off with watch: 0', () => {
    for (const seed of [31, 32, 33, 34]) expect(run({ watch: 4 }, 0, seed)).toEqual([]);
    for (const seed of [31, 32, 33, 34]) expect(run({}, 0, seed)).toEqual([]);
    expect(run({ watch: 0 }, 2).some((e) => e.level === AlarmLevel.Yellow)).toBe(false);
    // The default is the staged setting of session 8 (the same events as asking for it): on a flow
    // sagging 0.02 sd/s to 2 sd, a yellow watch 2 s before the alarm, which the alarm then confirms.
    const byDefault = ramp({}, 0.02, 2);
    expect(byDefault.slice(0, 2).map((e) => [e.t, e.level, e.previous])).toEqual([[396, AlarmLevel.Yellow, AlarmLevel.Normal], [398, AlarmLevel.Orange, AlarmLevel.Yellow]]);
    expect(byDefault[0].cause).toMatch(/\(CUSUM; watch at [\d.]+, 8× the most it reached while learning\): yellow \(III\)/);
    expect(byDefault).toEqual(ramp({ watch: 8, watchGate: 1 }, 0.02, 2));
    // Only the raise's timing changes: the alarm's raises and clears are those of the alarm alone.
    const alarm = byDefault.filter((e) => e.level !== AlarmLevel.Yellow && !e.withdrawn);
    expect(alarm.map((e) => [e.t, e.level])).toEqual(ramp({ watch: 0 }, 0.02, 2).map((e) => [e.t, e.level]));
    // Sagging slower, to 1.5 sd: watches the alarm never confirms, each withdrawn after 30 s.
    const slow = ramp({}, 0.005, 1.5).filter((e) => e.t >= 600);
    expect(slow.map((e) => [e.t, e.level, e.withdrawn ?? false])).toEqual([[604, AlarmLevel.Yellow, false], [634, AlarmLevel.Normal, true], [694, AlarmLevel.Yellow, false], [724, AlarmLevel.Normal, true]]);
  });

  it('refuses a watch when the alarm itself is yellow; with a yellow or blue alarm the default watch is off', () => {
    expect(() => make({ watch: 4, level: AlarmLevel.Yellow })).toThrow(/watch needs an alarm level above yellow, got level yellow/);
    for (const level of [AlarmLevel.Yellow, AlarmLevel.Blue]) {
      const d = make({ level, onDelayMs: 2000 });
      expect(d.watches).toBe(false);
      const noise = gaussianSource(21);
      const levels: AlarmLevel[] = [];
      for (let t = 0; t < 400; t++) {
        const v = normal(noise, t);
        if (t >= 300) v[0] -= 4;
        for (const e of frame(d, t * 1000, v)) levels.push(e.level);
      }
      expect(levels).toEqual([level]);
    }
  });
});
