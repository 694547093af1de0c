import { isLifelineError } from '../errors.js';
import { describe, expect, it } from 'vitest';
import { detectorsConfigIssues, parseDetectorsConfig, unknownPointIssues, type DetectorsConfig } from './detectors.js';

const good = {
  points: [
    {
      device: 'flood-1',
      point: 'water_level',
      unit: 'm',
      threshold: { high: { blue: 2, yellow: 2.5, orange: 3, red: 3.4 }, low: { yellow: 0.2 }, deadband: 0.05, onDelayMs: 2000, offDelayMs: 30000 },
      rate: { windowMs: 60000, rise: 0.5 },
      stuck: { epsilon: 0.001, durationMs: 3_600_000 },
      range: { min: 0, max: 10 },
      anomaly: { warmup: 500 },
    },
  ],
  multivariate: [{ device: 'pump-3', points: ['flow', 'pressure', 'current'], warmup: 600 }],
};

describe('detector config', () => {
  it('accepts a good config and freezes it', () => {
    expect(detectorsConfigIssues(good)).toEqual([]);
    const cfg = parseDetectorsConfig(good);
    expect(Object.isFrozen(cfg.points![0].threshold!.high)).toBe(true);
    expect(cfg).not.toBe(good);
  });

  it('rejects red below yellow on a rising threshold, and a misordered falling one', () => {
    const issues = detectorsConfigIssues({
      points: [{ device: 'd', point: 'p', threshold: { high: { yellow: 3, red: 2 }, low: { yellow: 1, red: 1.5 } } }],
    });
    expect(issues).toContainEqual({ path: 'points[0].threshold.high.red', message: 'must be above yellow (3) on a rising threshold, got 2' });
    expect(issues).toContainEqual({ path: 'points[0].threshold.low.red', message: 'must be below yellow (1) on a falling threshold, got 1.5' });
  });

  it('rejects high and low limits that overlap once the deadband is counted', () => {
    const issues = detectorsConfigIssues({ points: [{ device: 'd', point: 'p', threshold: { high: { red: 10 }, low: { red: 9 }, deadband: 0.6 } }] });
    expect(issues.map((i) => i.path)).toEqual(['points[0].threshold.low']);
    expect(issues[0].message).toContain('twice the deadband');
  });

  it('rejects a distribution-change histogram too short for its bins, and accepts 0 (off)', () => {
    const at = (anomaly: object) => detectorsConfigIssues({ points: [{ device: 'd', point: 'p', anomaly: { warmup: 100, ...anomaly } }] });
    expect(at({ entropy: 12, bins: 8 })).toEqual([{ path: 'points[0].anomaly.entropy', message: 'must be 0 (off) or at least 2 × bins (16) readings, got 12' }]);
    expect(at({ entropy: 7 })).toHaveLength(1); // default bins 4
    expect(at({ entropy: 8 })).toEqual([]);
    expect(at({ entropy: 0 })).toEqual([]);
    expect(at({ entropy: 16, bins: 8 })).toEqual([]);
  });

  it('lists every error at once: negative window, negative delay, bad level, unknown key, min ≥ max, nothing configured, duplicates', () => {
    const raw = {
      points: [
        { device: 'd', point: 'a', rate: { windowMs: -5, fall: 1 } },
        { device: 'd', point: 'b', threshold: { high: { red: 1 }, onDelayMs: -1 } },
        { device: 'd', point: 'c', stuck: { epsilon: 0, durationMs: 10, level: 'purple' } },
        { device: 'd', point: 'e', range: { min: 5, max: 5 }, colour: 'red' },
        { device: 'd', point: 'f' },
        { device: 'd', point: 'a', rate: { windowMs: 1000 } },
      ],
      multivariate: [{ device: 'd', points: ['a', 'a'], warmup: 5 }],
    };
    const issues = detectorsConfigIssues(raw);
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'points[0].rate.windowMs',
        'points[1].threshold.onDelayMs',
        'points[2].stuck.level',
        'points[3].colour',
        'points[3].range.max',
        'points[4]',
        'points[5]',
        'points[5].rate',
        'multivariate[0].points',
        'multivariate[0].warmup',
      ]),
    );
    expect(issues.find((i) => i.path === 'points[0].rate.windowMs')!.message).toContain('-5');
    expect(issues.find((i) => i.path === 'points[5]')!.message).toContain('duplicate of points[0]');
    try {
      parseDetectorsConfig(raw);
      expect.unreachable();
    } catch (e) {
      expect(isLifelineError(e, 'CONFIG_INVALID')).toBe(true);
      expect((e as Error).message).toContain(`${issues.length} error(s)`);
      expect((e as Error).message).toContain('detectors.points[0].rate.windowMs');
    }
  });

  it('refuses a yellow watch under a yellow or blue multivariate alarm, naming the field and value; accepts it off or under orange', () => {
    const at = (m: object) => detectorsConfigIssues({ multivariate: [{ device: 'd', points: ['a', 'b'], warmup: 100, ...m }] });
    expect(at({ level: 'yellow', watch: 8 })).toEqual([
      { path: 'multivariate[0].watch', message: 'a yellow watch needs the alarm\'s level above yellow (level is "yellow"): set watch: 0 or level orange or red, got 8' },
    ]);
    expect(at({ level: 'blue', watch: 2 }).map((i) => i.path)).toEqual(['multivariate[0].watch']);
    for (const ok of [{ level: 'yellow' }, { level: 'yellow', watch: 0 }, { level: 'orange', watch: 8 }, { watch: 4, watchGate: 0 }]) expect(at(ok)).toEqual([]);
  });

  it('unknown devices and points are found against the profiles', () => {
    const cfg = parseDetectorsConfig(good) as DetectorsConfig;
    const known = new Map([['flood-1', new Set(['water_level'])], ['pump-3', new Set(['flow', 'pressure'])]]);
    expect(unknownPointIssues(cfg, known)).toEqual([{ path: 'multivariate[0].points[2]', message: 'device "pump-3" has no point "current"' }]);
    expect(unknownPointIssues(cfg, new Map())).toEqual([
      { path: 'points[0].point', message: 'unknown device "flood-1"' },
      { path: 'multivariate[0].device', message: 'unknown device "pump-3"' },
    ]);
  });

  it('checks a modal drift entry’s frequency and temperature points against the device', () => {
    const cfg = parseDetectorsConfig({ modal: [{ device: 'bridge-1', frequency: 'natural_frequency_1', temperature: 'deck_temperature' }] });
    const known = new Map([['bridge-1', new Set(['natural_frequency_1', 'temperature'])]]);
    expect(unknownPointIssues(cfg, known)).toEqual([{ path: 'modal[0].temperature', message: 'device "bridge-1" has no point "deck_temperature" (did you mean "temperature"?)' }]);
    expect(detectorsConfigIssues({ modal: [{ device: 'bridge-1', frequency: 'f', temperature: 't', share: 0 }] }).map((i) => i.path)).toEqual(['modal[0].share']);
  });
});
