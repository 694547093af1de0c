/** Finding, reading and checking profile files. */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ErrorCodes, LifelineError, assertValid } from '@lifeline/shared';
import { ProfileSchema, type Profile } from './profile.js';
import { registerCount } from './datatypes.js';

/** The profiles shipped with Lifeline. */
export const profilesDir = resolve(dirname(fileURLToPath(import.meta.url)), '../profiles');

/** Names of the shipped profiles. */
export function listProfiles(dir = profilesDir): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => basename(f, extname(f)))
    .sort();
}

/** Checks a schema cannot say: unique names, no overlapping registers, id matches file. */
export function profileProblems(p: Profile): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const used = new Map<string, string>();
  p.points.forEach((pt, i) => {
    if (names.has(pt.name)) problems.push(`points[${i}].name: duplicate point name ${JSON.stringify(pt.name)}`);
    names.add(pt.name);
    const words = pt.table === 'coil' || pt.table === 'discrete' ? 1 : registerCount(pt.type);
    for (let a = pt.address; a < pt.address + words; a++) {
      const key = `${pt.table}:${a}`;
      const other = used.get(key);
      if (other) problems.push(`points[${i}].address: ${pt.table} ${a} overlaps point ${JSON.stringify(other)}`);
      used.set(key, pt.name);
    }
    if ((pt.table === 'coil' || pt.table === 'discrete') && pt.type !== 'bit')
      problems.push(`points[${i}].type: a ${pt.table} holds one bit, got ${JSON.stringify(pt.type)}`);
    if (pt.range && pt.range[0] >= pt.range[1]) problems.push(`points[${i}].range: min must be below max, got ${JSON.stringify(pt.range)}`);
  });
  return problems;
}

/** Validates a parsed profile object; throws listing every problem. */
export function validateProfile(raw: unknown, source: string): Readonly<Profile> {
  const p = assertValid(ProfileSchema, raw, `profile ${source}`, ErrorCodes.ProfileInvalid);
  const problems = profileProblems(p);
  if (problems.length)
    throw new LifelineError(ErrorCodes.ProfileInvalid, `profile ${source} has ${problems.length} error(s):\n  ${problems.join('\n  ')}`);
  return Object.freeze(p);
}

const cache = new Map<string, Readonly<Profile>>();

/** Loads a profile by shipped name (`flood-gauge`) or by file path. */
export function loadProfile(nameOrFile: string, dir = profilesDir): Readonly<Profile> {
  const file = /[/\\]|\.ya?ml$|\.json$/.test(nameOrFile)
    ? resolve(nameOrFile)
    : [join(dir, `${nameOrFile}.yaml`), join(dir, `${nameOrFile}.yml`), join(dir, `${nameOrFile}.json`)].find(existsSync);
  if (!file || !existsSync(file)) {
    throw new LifelineError(
      ErrorCodes.ProfileNotFound,
      `no profile ${JSON.stringify(nameOrFile)} (shipped: ${listProfiles(dir).join(', ')})`,
    );
  }
  const hit = cache.get(file);
  if (hit) return hit;
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LifelineError(ErrorCodes.ProfileInvalid, `profile ${file}: ${(e as Error).message}`, { cause: e });
  }
  const profile = validateProfile(raw, file);
  cache.set(file, profile);
  return profile;
}
