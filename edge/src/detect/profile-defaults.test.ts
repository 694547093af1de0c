import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlarmLevel } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/load.js';
import { createDetectors } from './engine.js';
import { listProfiles, loadProfile, profileDefaultIssues } from '@lifeline/devices';
import { effectiveDetectors } from './profile-defaults.js';
import { tempDir } from '../../../test/helpers.js';

const devices = (extra: Record<string, unknown> = {}) => [
  { id: 'gas-1', profile: 'gas-detector', unit: 1, ...extra },
  { id: 'water-1', profile: 'water-pressure-station', unit: 2 },
];
const config = (devs: unknown[], detectors?: unknown) => ({
  gateway: { id: 'gw' },
  buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: 5020, devices: devs }],
  buffer: { path: ':memory:' },
  sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1' },
  ...(detectors ? { detectors } : {}),
});
const points = (raw: unknown) => {
  const { config: c, profiles } = validateConfig(raw, 'test');
  return effectiveDetectors(c, profiles).points ?? [];
};

describe('detector defaults from device profiles', () => {
  it('gives every instance its profile’s detectors, with the unit, when the config names none', () => {
    const ps = points(config(devices()));
    const methane = ps.find((p) => p.device === 'gas-1' && p.point === 'methane');
    expect(methane).toMatchObject({ unit: '%LEL', threshold: { high: { yellow: 10, orange: 25, red: 50 } } });
    expect(ps.find((p) => p.device === 'water-1' && p.point === 'pressure')).toMatchObject({ unit: 'MPa', rate: { windowMs: 60000, fall: 0.05 } });
    // They run: 30 %LEL for longer than the on-delay raises orange.
    const set = createDetectors({ points: ps });
    const t = 1_764_000_000_000;
    set.onReading({ device: 'gas-1', point: 'methane', ts: t, value: 30 });
    const ev = set.onReading({ device: 'gas-1', point: 'methane', ts: t + 2500, value: 30 });
    expect(ev).toEqual([expect.objectContaining({ detector: 'gas-1/methane/threshold', level: AlarmLevel.Orange })]);
  });

  it('ships only defaults the detectors accept', () => {
    const all = new Map(listProfiles().map((id) => [id, loadProfile(id)]));
    expect(profileDefaultIssues(all)).toEqual([]);
    expect([...all.values()].filter((p) => p.points.some((pt) => pt.detect)).length).toBeGreaterThanOrEqual(7);
  });

  it('reports a bad default on every call, once worked out per frozen profile; an unfrozen one is checked afresh', () => {
    const gas = loadProfile('gas-detector');
    const bad = (p: typeof gas) => ({ ...p, points: p.points.map((pt, i) => (i === 0 ? { ...pt, detect: { ...pt.detect, threshold: { high: { red: 1, orange: 2 } } } } : pt)) });
    const frozen = Object.freeze(bad(gas)) as typeof gas;
    const first = profileDefaultIssues(new Map([['g', frozen]]));
    expect(first).toEqual([expect.objectContaining({ path: expect.stringMatching(/^profile gas-detector: points\.\w+\.detect\.threshold/) })]);
    expect(profileDefaultIssues(new Map([['g', frozen]]))).toEqual(first);
    const open = bad(gas) as { points: unknown[] };
    expect(profileDefaultIssues(new Map([['g', open as typeof gas]]))).toHaveLength(1);
    open.points = gas.points.slice();
    expect(profileDefaultIssues(new Map([['g', open as typeof gas]]))).toEqual([]);
  });

  it('lets the config replace a default detector of the same kind and keep the others', () => {
    const ps = points(
      config(devices(), {
        points: [{ device: 'water-1', point: 'pressure', threshold: { low: { red: 0.2 } } }, { device: 'gas-1', point: 'methane', threshold: { high: { red: 40 } } }],
      }),
    );
    const pressure = ps.filter((p) => p.device === 'water-1' && p.point === 'pressure');
    expect(pressure).toHaveLength(1);
    expect(pressure[0]).toMatchObject({ threshold: { low: { red: 0.2 } }, rate: { fall: 0.05 } });
    expect(ps.find((p) => p.point === 'methane')!.threshold).toEqual({ high: { red: 40 } });
  });

  it('drops a device’s defaults with detectorDefaults: false', () => {
    const ps = points(config(devices({ detectorDefaults: false })));
    expect(ps.some((p) => p.device === 'gas-1')).toBe(false);
    expect(ps.some((p) => p.device === 'water-1')).toBe(true);
  });

  it('refuses a profile whose defaults cannot work, naming profile, point and field', () => {
    const t = tempDir('lifeline-defaults-');
    try {
      const src = readFileSync(join(import.meta.dirname, '../../../devices/profiles/gas-detector.yaml'), 'utf8');
      const bad = src
        .replace('id: gas-detector', 'id: bad-gas')
        .replace('threshold: { high: { yellow: 10, orange: 25, red: 50 }', 'threshold: { high: { yellow: 60, orange: 25, red: 50 }')
        .replace('threshold: { low: { yellow: 19.5, red: 18 }', 'threshold: { low: { yellow: 19.5, red: 18 }, bogus: 1');
      const file = join(t.dir, 'bad-gas.yaml');
      writeFileSync(file, bad);
      expect(() => validateConfig(config([{ id: 'gas-1', profile: file, unit: 1 }]), 'test')).toThrow(
        /profile bad-gas: points\.methane\.detect\.threshold[^\n]*yellow[\s\S]*profile bad-gas: points\.oxygen\.detect\.threshold/,
      );
    } finally {
      t.cleanup();
    }
  });
});
