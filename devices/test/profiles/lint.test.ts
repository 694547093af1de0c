/**
 * Profile lint in CI: every shipped profile is schema-valid, passes the
 * load-time checks and the house rules (vocabulary, units, ranges, signals).
 * The second half feeds the lint broken profiles, so it is known to fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { refuse } from './refuse.js';
import {
  formatLint,
  lintProfile,
  lintProfiles,
  listProfiles,
  loadProfile,
  parseProfileText,
  profilesDir,
  quantities,
  quantityOf,
  validateProfile,
  type Profile,
} from '@lifeline/devices';

const shipped = listProfiles().map((name) => ({ name, profile: loadProfile(name) }));

describe('shipped profiles', () => {
  it('cover every lifeline device family of the brief', () => {
    const ids = shipped.map((s) => s.name);
    for (const id of [
      'lamp-post-controller',
      'lamp-post-meter',
      'bridge-structural-monitor',
      'gas-detector',
      'water-pressure-station',
      'water-meter',
      'heat-station',
      'heat-meter',
      'drainage-manhole',
      'utility-tunnel-environment',
      'flood-gauge',
    ])
      expect(ids).toContain(id);
    expect(new Set(shipped.map((s) => s.profile.protocol))).toEqual(new Set(['modbus', 'dlt645', 'cjt188', 'sl651']));
  });

  it.each(shipped)('$name: id matches the file name and the file points at the JSON Schema', ({ name, profile }) => {
    expect(profile.id).toBe(name);
    const text = readFileSync(join(profilesDir, `${name}.yaml`), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/profile.schema.json');
  });

  it('pass the lint', () => {
    const issues = lintProfiles(shipped.map((s) => s.profile));
    expect(formatLint(issues)).toBe('');
  });

  it('spell each quantity one way with one unit across all profiles', () => {
    const units = new Map<string, Set<string>>();
    for (const { profile } of shipped) {
      for (const p of profile.points as Profile['points']) {
        const q = quantityOf(p.name);
        expect(q, `${profile.id}.${p.name}`).toBeDefined();
        if (!units.has(q!)) units.set(q!, new Set());
        units.get(q!)!.add(p.unit);
      }
    }
    for (const [q, set] of units) expect([...set], q).toEqual([quantities[q].unit]);
    // The decision docs/profiles.md records: pressure is MPa everywhere.
    expect([...units.get('pressure')!]).toEqual(['MPa']);
  });

  it('give every point a Chinese label operators read, unique within its profile', () => {
    for (const { profile } of shipped) {
      const labels = (profile.points as Profile['points']).map((p) => p.label);
      for (const [i, label] of labels.entries()) expect(label, `${profile.id}.${profile.points[i].name}`).toMatch(/[\u4e00-\u9fff]|^PM2\.5$/);
      expect(new Set(labels).size, profile.id).toBe(labels.length);
    }
  });

  it('only the YAML files the loader lists are in the folder', () => {
    const files = readdirSync(profilesDir).filter((f) => !f.startsWith('.'));
    expect(files.map((f) => f.replace(/\.yaml$/, '')).sort()).toEqual(shipped.map((s) => s.name));
  });
});

/** A valid Modbus profile to break one field at a time. */
function base(points: unknown[], extra: Record<string, unknown> = {}): Profile {
  return validateProfile(
    { id: 'test-device', vendor: 'T', model: 'M', kind: 'gas', description: 'd', protocol: 'modbus', defaultPollMs: 1000, points, ...extra },
    'test',
  );
}
const good = { name: 'pressure', table: 'input', address: 0, type: 'uint16', scale: 0.001, unit: 'MPa', range: [0, 1.6], sim: { base: 0.3 } };
const messages = (p: Profile) => lintProfile(p).map((i) => `${i.path}: ${i.message}`);

describe('the lint fails on', () => {
  it('nothing wrong (the baseline for the cases below)', () => {
    expect(messages(base([good]))).toEqual([]);
  });

  it('a foreign spelling of a quantity', () => {
    expect(messages(base([{ ...good, name: 'pipe_press_pressure' }]))).toEqual([
      'points[0].name: "pipe_press_pressure": spell "press" as "pressure" (one spelling per quantity)',
    ]);
    const ch4 = messages(base([{ ...good, name: 'ch4', unit: '%LEL', range: [0, 65] }]));
    expect(ch4[0]).toBe('points[0].name: "ch4": spell "ch4" as "methane" (one spelling per quantity)');
    expect(ch4[1]).toMatch(/^points\[0\]\.name: "ch4" does not end with a quantity of the vocabulary/);
  });

  it('a unit that is not the vocabulary’s', () => {
    expect(messages(base([{ ...good, unit: 'kPa', range: [0, 60], sim: { base: 30 } }]))).toEqual([
      'points[0].unit: pressure is measured in "MPa" in every profile, got "kPa"',
    ]);
  });

  it('a measured point without a range, or a range its encoding cannot carry', () => {
    const { range: _range, ...noRange } = good;
    expect(messages(base([noRange]))).toEqual(['points[0].range: a measured point needs its sensor range [min, max] in "MPa"']);
    // uint16 × 0.001 carries 0..65.535 MPa.
    expect(messages(base([{ ...good, range: [0, 100] }]))).toEqual([
      'points[0].range: [0,100] does not fit the encoding, which carries 0..65.535; change the type or scale',
    ]);
    expect(messages(base([{ ...good, range: [-1, 1] }]))[0]).toMatch(/does not fit the encoding, which carries 0\.\.65\.535/);
  });

  it('a simulated signal outside the range, missing, or unrealistically noisy', () => {
    expect(messages(base([{ ...good, sim: { base: 1.5, amplitude: 0.2 } }]))).toEqual([
      'points[0].sim: base + amplitude = 1.7 is outside the range 0..1.6',
    ]);
    expect(messages(base([{ ...good, sim: { base: 1, drift: 0.001 } }]))).toEqual([
      'points[0].sim: base + one year of drift = 9.76 is outside the range 0..1.6',
    ]);
    expect(messages(base([{ ...good, sim: { base: 0.3, noise: 0.5 } }]))).toEqual([
      'points[0].sim.noise: 0.5 is over a tenth of the range: not a realistic sensor',
    ]);
    const { sim: _sim, ...noSim } = good;
    expect(messages(base([noSim]))[0]).toMatch(/^points\[0\]\.sim: every point needs a simulated signal/);
    expect(messages(base([{ name: 'door_open', table: 'discrete', address: 0, type: 'bit', unit: '', sim: { base: 2 } }]))).toEqual([
      'points[0].sim.base: a state is 0 or 1, got 2',
    ]);
  });

  it('a meter point whose scale does not turn the meter unit into ours', () => {
    const meter = (point: Record<string, unknown>) =>
      validateProfile(
        { id: 'm', vendor: 'T', model: 'M', kind: 'lamp_post', description: 'd', protocol: 'dlt645', defaultPollMs: 1000, points: [point] },
        'test',
      );
    const power = { name: 'power', di: '02030000', unit: 'W', range: [0, 5000], sim: { base: 100 } };
    // Without the scale the meter's ±79.9999 kW cannot carry 5000 W either: both are reported.
    expect(messages(meter(power))).toEqual([
      'points[0].scale: must be 1000 to turn the meter\'s "kW" into "W", got 1',
      'points[0].range: [0,5000] does not fit the encoding, which carries -79.9999..79.9999; change the type or scale',
    ]);
    expect(messages(meter({ ...power, scale: 1000 }))).toEqual([]);
    expect(messages(meter({ name: 'voltage', di: '02010100', unit: 'kV', range: [0, 1], sim: { base: 0.2 } }))).toEqual([
      'points[0].unit: voltage is measured in "V" in every profile, got "kV"',
      'points[0].unit: the meter reports "V", which no scale turns into "kV"',
    ]);
  });

  it('a default limit without a basis, or with one that cites no standard and clause', () => {
    const threshold = { high: { red: 1.2 } };
    expect(messages(base([{ ...good, detect: { threshold } }]))).toEqual([
      'points[0].detect.basis: every default limit needs a basis: the standard and clause it comes from (e.g. "GB/T 50493-2019 §5.1.4"), or "no standard: <why>"',
    ]);
    expect(messages(base([{ ...good, detect: { threshold, basis: 'typical practice' } }]))[0]).toMatch(
      /^points\[0\]\.detect\.basis: must cite a standard number and clause .* got "typical practice"$/,
    );
    expect(messages(base([{ ...good, detect: { threshold, basis: 'GB 50013-2018' } }]))).toHaveLength(1); // no clause
    expect(messages(base([{ ...good, detect: { threshold, basis: 'no standard' } }]))).toHaveLength(1); // no reason
    expect(messages(base([{ ...good, detect: { threshold, basis: 'GB 50013-2018 §3.0.10: service head' } }]))).toEqual([]);
    expect(messages(base([{ ...good, detect: { threshold, basis: 'no standard: the site sets the design pressure' } }]))).toEqual([]);
  });
});

describe('profile loading refuses', () => {
  const ok = parse(readFileSync(join(profilesDir, 'flood-gauge.yaml'), 'utf8')) as Record<string, unknown> & { points: Record<string, unknown>[] };

  it('a value that contains itself (a YAML alias inside its anchor), naming where', () => {
    // yaml turns an alias inside its own anchor into a circular value; the schema message quoting it (JSON.stringify) threw a TypeError.
    const points: unknown[] = [ok.points[0]];
    points.push(points);
    expect(refuse({ ...ok, points })).toMatch(/points\[1\]: contains itself/);
    expect(() => parseProfileText('protocol: modbus\npoints: &p [{name: x, extra: *p}]\n', 'loop.yaml')).toThrow('points[0].extra: contains itself');
  });

  it('a sparse list (V8 values can have holes; found by the profile_values fuzz target), naming the field', () => {
    // treeIssue walked lists with map, which leaves the holes in its result; iterating them threw a TypeError.
    const id: unknown[] = [];
    id[1] = 2;
    expect(refuse({ ...ok, id })).toMatch(/^ *id: /m);
  });

  it('an unknown protocol, naming it', () => {
    expect(refuse({ ...ok, protocol: 'bacnet' })).toMatch(/protocol: must be one of modbus, dlt645, cjt188, sl651, got "bacnet"/);
  });

  it('a field of another protocol (the error speaks of the shape protocol names)', () => {
    expect(refuse({ ...ok, points: [{ ...ok.points[0], di: '00010000' }] })).toMatch(/points\[0\]\.di/);
  });

  it('overlapping registers and misplaced bits', () => {
    expect(refuse({ ...ok, points: [ok.points[0], { ...ok.points[1], address: 0 }] })).toMatch(/input 0 overlaps point "water_level"/);
    expect(refuse({ ...ok, points: [{ ...ok.points[0], table: 'coil' }] })).toMatch(/a coil holds one bit, got "uint16"/);
    expect(refuse({ ...ok, points: [{ ...ok.points[0], access: 'rw' }] })).toMatch(/input registers are read-only in Modbus/);
  });

  it('a DL/T 645 data identifier the codec does not know, and a CJ/T 188 field the meter type lacks', () => {
    const meter = { id: 'm', vendor: 'T', model: 'M', kind: 'lamp_post', description: 'd', defaultPollMs: 1000 };
    expect(refuse({ ...meter, protocol: 'dlt645', points: [{ name: 'voltage', di: '04000401', unit: 'V' }] })).toMatch(
      /di: 04000401 is not a data identifier the DL\/T 645 codec knows/,
    );
    expect(refuse({ ...meter, protocol: 'cjt188', meterType: 0x10, points: [{ name: 'heat_energy', field: 'currentHeat', unit: 'kWh' }] })).toMatch(
      /a water meter's reply has no currentHeat/,
    );
  });
});
