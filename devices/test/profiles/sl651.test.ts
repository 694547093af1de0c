/** SL 651 profiles: the two shipped stations load and lint clean; the checks refuse what the codec cannot read. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SL651_ELEMENTS } from '@lifeline/shared/protocols';
import { lintProfile, loadProfile, profilesDir, validateProfile, type Sl651Profile } from '@lifeline/devices';
import { refuse } from './refuse.js';


describe('SL 651 profiles', () => {
  it.each(['sl651-rain-station', 'sl651-water-level-station'])('%s: loads, lints clean, every point names an element of table C.1 in its unit', (name) => {
    const p = loadProfile(name) as Sl651Profile;
    expect(p.protocol).toBe('sl651');
    expect(lintProfile(p)).toEqual([]);
    for (const pt of p.points) expect(SL651_ELEMENTS.get(parseInt(pt.element, 16))?.unit).toBe(pt.unit);
  });

  it('the rain station reads rainfall elements in mm, the level station the river level in m', () => {
    const rain = loadProfile('sl651-rain-station') as Sl651Profile;
    const level = loadProfile('sl651-water-level-station') as Sl651Profile;
    expect(rain.points.map((p) => [p.element, p.name, p.unit])).toContainEqual(['20', 'rainfall', 'mm']);
    expect(rain.points.map((p) => [p.element, p.name, p.unit])).toContainEqual(['26', 'cumulative_rainfall', 'mm']);
    expect(level.points.map((p) => [p.element, p.name, p.unit])).toContainEqual(['39', 'water_level', 'm']);
  });

  const ok = parse(readFileSync(join(profilesDir, 'sl651-water-level-station.yaml'), 'utf8')) as Record<string, unknown> & { points: Record<string, unknown>[] };

  it('refuses an element the codec does not name, a repeated element, a malformed identifier', () => {
    expect(refuse({ ...ok, points: [{ ...ok.points[0], element: '99' }] })).toMatch(/points\[0\]\.element: 99 is not an element the SL 651 codec names/);
    expect(refuse({ ...ok, points: [ok.points[0], { ...ok.points[1], element: '39' }] })).toMatch(/points\[1\]\.element: 39 is already read by point "water_level"/);
    expect(refuse({ ...ok, points: [{ ...ok.points[0], element: '0x39' }] })).toMatch(/points\[0\]\.element/);
  });

  it('the lint catches a unit that is not the element\'s', () => {
    const p = validateProfile({ ...ok, points: [{ ...ok.points[0], unit: 'cm' }] }, 'x.yaml');
    expect(lintProfile(p).map((i) => `${i.path}: ${i.message}`).join('\n')).toMatch(/points\[0\]\.unit/);
  });
});
