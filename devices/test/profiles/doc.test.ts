/**
 * docs/profiles.md cannot rot: its worked example is a valid, lint-clean
 * profile, and its vocabulary table is the one the lint uses.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatLint, lintProfile, quantities, validateProfile } from '@lifeline/devices';

const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/profiles.md'), 'utf8');

describe('docs/profiles.md', () => {
  it('worked example loads and passes the lint', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(yaml).toBeDefined();
    const profile = validateProfile(parse(yaml!), 'docs/profiles.md example');
    expect(profile.id).toBe('hx-level-transmitter');
    expect(formatLint(lintProfile(profile))).toBe('');
  });

  it('vocabulary table matches devices/src/vocabulary.ts', () => {
    const section = doc.slice(doc.indexOf('## 4. Vocabulary'), doc.indexOf('## 5.'));
    const table = new Map<string, string>();
    for (const m of section.matchAll(/\| `([a-z0-9_]+)` \| ([^|]+?) \|/g)) table.set(m[1], m[2].trim() === '(none)' ? '' : m[2].trim());
    const states = /States, unit `""`, value 0 or 1: ([\s\S]*?)\n\n/.exec(section)?.[1] ?? '';
    for (const m of states.matchAll(/`([a-z_]+)`/g)) table.set(m[1], '');
    const expected = Object.fromEntries(Object.entries(quantities).map(([q, v]) => [q, v.unit]));
    expect(Object.fromEntries(table)).toEqual(expected);
  });
});
