/** The burst settings of a gateway config and a profile: refused with the field and the value. */
import { describe, expect, it } from 'vitest';
import { isLifelineError, type ValidationIssue } from '@lifeline/shared';
import { loadProfile, validateProfile, lintProfile, type ModbusProfile } from '@lifeline/devices';
import { validateConfig } from './load.js';

const config = (device: Record<string, unknown>, modal = true) => ({
  gateway: { id: 'g' },
  buses: [{ name: 'deck', link: 'tcp', host: 'h', port: 1, devices: [{ id: 'bridge-1', profile: 'bridge-structural-monitor', unit: 1, ...device }] }],
  ...(modal ? { detectors: { modal: [{ device: 'bridge-1', frequency: 'natural_frequency_1', temperature: 'temperature' }] } } : {}),
  buffer: { path: ':memory:' },
  sync: { transport: 'mqtt', url: 'mqtt://x' },
});

function issues(raw: unknown): string[] {
  try {
    validateConfig(raw, 'test');
    return [];
  } catch (e) {
    if (!isLifelineError(e)) throw e;
    return (e.details as ValidationIssue[]).map((i) => `${i.path}: ${i.message}`);
  }
}

describe('burst settings', () => {
  it('takes a device override and knows the burst readings as the device\'s points', () => {
    expect(issues(config({ burst: { periodMs: 60000, modes: 2 } }))).toEqual([]);
    expect(issues(config({}))).toEqual([]);
  });

  it('refuses a bad override, an override of a profile without a burst, and a modal detector of a device whose bursts are off', () => {
    expect(issues(config({ burst: { periodMs: 10 } })).join('\n')).toMatch(/buses\[0\]\.devices\[0\]\.burst\.periodMs.*1000.*10/);
    const two = issues(config({ burst: { modes: 9, every: 5 } })).join('\n');
    expect(two).toMatch(/burst\.modes: .*8, got 9/);
    expect(two).toMatch(/burst\.every: /);
    const flood = config({ profile: 'flood-gauge', burst: { periodMs: 60000 } }, false);
    expect(issues(flood)).toEqual(['buses[0].devices[0].burst: profile flood-gauge records no accelerometer burst (it has no burst: block), got {"periodMs":60000}']);
    expect(issues(config({ burst: { enabled: false } })).join('\n')).toMatch(/modal\[0\]\.frequency.*natural_frequency_1/);
  });

  it('refuses a burst block that overlaps a point, runs past 65535, takes a point\'s name or simulates a mode the sampling cannot resolve', () => {
    const bridge = loadProfile('bridge-structural-monitor') as ModbusProfile;
    const raw = structuredClone(bridge) as ModbusProfile & { burst: NonNullable<ModbusProfile['burst']> };
    raw.burst.address = 10;
    raw.burst.sim!.modes[1].frequencyHz = 45;
    raw.burst.sim!.temperature = 'temprature';
    raw.points[0].name = 'acceleration_peak';
    expect(() => validateProfile(raw, 'p.yaml')).toThrow(/burst\.address: the sample block \(holding 10\.\.6009\) overlaps point "strain_5" at 10/);
    expect(() => validateProfile(raw, 'p.yaml')).toThrow(/burst: its readings "acceleration_peak" would have the same name as a point/);
    expect(() => validateProfile(raw, 'p.yaml')).toThrow(/burst\.sim\.modes\[1\]\.frequencyHz: 45 Hz is outside the band 0\.3\.\.40 Hz/);
    expect(() => validateProfile(raw, 'p.yaml')).toThrow(/burst\.sim\.temperature: no point "temprature".*temperature/);
    raw.burst.address = 65000;
    expect(() => validateProfile(raw, 'p.yaml')).toThrow(/burst\.samples: registers 65000\.\.70999 run past 65535/);
    expect(() => validateProfile({ ...raw, burst: { ...raw.burst, scale: 0 } }, 'p.yaml')).toThrow(/burst\/scale|burst\.scale/);
  });

  it('lints a period shorter than the recording and a burst without simulated modes', () => {
    const bridge = loadProfile('bridge-structural-monitor') as ModbusProfile;
    expect(lintProfile(bridge)).toEqual([]);
    const { sim: _sim, ...noSim } = bridge.burst!;
    const short = { ...bridge, burst: { ...noSim, periodMs: 30000 } };
    expect(lintProfile(short).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'burst.periodMs: 30000 ms is shorter than one burst takes to record (6000 samples at 100 Hz = 60000 ms)',
      'burst.sim: a burst needs simulated modes (sim: { modes: [{ frequencyHz: ... }] }) so the simulator serves realistic bursts',
    ]);
  });
});
