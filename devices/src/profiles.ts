/** Finding, reading and checking profile files. */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ErrorCodes, LifelineError, assertValid, didYouMean, treeIssue, parseErrorMessage } from '@lifeline/shared';
import { DLT645_DATA_IDS, SL651_ELEMENTS, cjt188MeterKind, describeMeterType, formatDataId, registerCount } from '@lifeline/shared/protocols';
import {
  burstPointNames,
  profileProtocols,
  profileSchemas,
  type AnyPoint,
  type Cjt188Field,
  type Cjt188Profile,
  type Dlt645Profile,
  type ModbusProfile,
  type Profile,
  type ProfileProtocol,
  type Sl651Profile,
} from './profile.js';

/** The profiles shipped with Lifeline. */
export const profilesDir = resolve(dirname(fileURLToPath(import.meta.url)), '../profiles');

/** Names of the shipped profiles. */
export function listProfiles(dir = profilesDir): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => basename(f, extname(f)))
    .sort();
}

/** Checks a schema cannot say: unique names, no overlapping registers, codec knows each point. */
export function profileProblems(p: Readonly<Profile>): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  p.points.forEach((pt: AnyPoint, i) => {
    if (names.has(pt.name)) problems.push(`points[${i}].name: duplicate point name ${JSON.stringify(pt.name)}`);
    names.add(pt.name);
    if (pt.range && !(pt.range[0] < pt.range[1])) problems.push(`points[${i}].range: min must be below max, got ${JSON.stringify(pt.range)}`);
  });
  if (p.protocol === 'modbus') problems.push(...modbusProblems(p));
  else if (p.protocol === 'dlt645') problems.push(...dlt645Problems(p));
  else if (p.protocol === 'sl651') problems.push(...sl651Problems(p));
  else problems.push(...cjt188Problems(p));
  return problems;
}

function modbusProblems(p: Readonly<ModbusProfile>): string[] {
  const problems: string[] = [];
  const used = new Map<string, string>();
  const maxRegs = p.maxRegistersPerRequest ?? 125;
  p.points.forEach((pt, i) => {
    const bits = pt.table === 'coil' || pt.table === 'discrete';
    const words = bits ? 1 : registerCount(pt.type);
    if (pt.address + words > 65536) problems.push(`points[${i}].address: ${pt.address} + ${words} register(s) runs past 65535`);
    if (words > maxRegs) problems.push(`points[${i}].type: ${pt.type} needs ${words} registers but maxRegistersPerRequest is ${maxRegs}`);
    for (let a = pt.address; a < pt.address + words; a++) {
      const key = `${pt.table}:${a}`;
      const other = used.get(key);
      if (other) problems.push(`points[${i}].address: ${pt.table} ${a} overlaps point ${JSON.stringify(other)}`);
      used.set(key, pt.name);
    }
    if (bits && pt.type !== 'bit') problems.push(`points[${i}].type: a ${pt.table} holds one bit, got ${JSON.stringify(pt.type)}`);
    if (!bits && pt.type === 'bit') problems.push(`points[${i}].type: bit belongs in a coil or discrete table, got table ${pt.table}`);
    if (pt.access === 'rw' && (pt.table === 'input' || pt.table === 'discrete'))
      problems.push(`points[${i}].access: ${pt.table} ${pt.table === 'input' ? 'registers' : 'inputs'} are read-only in Modbus, got "rw"`);
    if (pt.scale === 0) problems.push(`points[${i}].scale: must not be 0`);
  });
  if (p.burst) problems.push(...burstProblems(p, p.burst, used));
  return problems;
}

/** What the schema cannot say about a burst block: where it sits, what its simulated modes can be, names it takes. */
function burstProblems(p: Readonly<ModbusProfile>, b: NonNullable<ModbusProfile['burst']>, used: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const table = b.table ?? 'holding';
  if (b.address + b.samples > 65536) problems.push(`burst.samples: registers ${b.address}..${b.address + b.samples - 1} run past 65535 (samples ${b.samples} from address ${b.address})`);
  const end = Math.min(65536, b.address + b.samples);
  for (let a = b.address; a < end; a++) {
    const other = used.get(`${table}:${a}`);
    if (other) {
      problems.push(`burst.address: the sample block (${table} ${b.address}..${end - 1}) overlaps point ${JSON.stringify(other)} at ${a}`);
      break;
    }
  }
  const names = new Set(p.points.map((pt) => pt.name));
  const taken = burstPointNames(b.modes ?? 3).filter((n) => names.has(n));
  if (taken.length) problems.push(`burst: its readings ${taken.map((n) => JSON.stringify(n)).join(', ')} would have the same name as a point; rename the point`);
  // The analyser looks for modes between 0.3 Hz and 0.4 × the sampling rate (edge/src/detect/modal.ts).
  const band = 0.4 * b.sampleRateHz;
  b.sim?.modes.forEach((m, i) => {
    if (m.frequencyHz < 0.3 || m.frequencyHz > band)
      problems.push(`burst.sim.modes[${i}].frequencyHz: ${m.frequencyHz} Hz is outside the band 0.3..${band} Hz a burst sampled at ${b.sampleRateHz} Hz resolves`);
  });
  if (b.sim?.temperature !== undefined && !names.has(b.sim.temperature))
    problems.push(`burst.sim.temperature: no point ${JSON.stringify(b.sim.temperature)} in the profile${didYouMean(b.sim.temperature, [...names])}`);
  return problems;
}

function dlt645Problems(p: Readonly<Dlt645Profile>): string[] {
  const problems: string[] = [];
  const seen = new Map<number, string>();
  p.points.forEach((pt, i) => {
    const id = parseInt(pt.di, 16);
    if (!DLT645_DATA_IDS.has(id)) {
      problems.push(
        `points[${i}].di: ${pt.di.toUpperCase()} is not a data identifier the DL/T 645 codec knows (known: ${[...DLT645_DATA_IDS.keys()].map(formatDataId).join(', ')})`,
      );
    }
    const other = seen.get(id);
    if (other) problems.push(`points[${i}].di: ${pt.di} is already read by point ${JSON.stringify(other)}`);
    seen.set(id, pt.name);
    if (pt.scale === 0) problems.push(`points[${i}].scale: must not be 0`);
  });
  return problems;
}

function sl651Problems(p: Readonly<Sl651Profile>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  p.points.forEach((pt, i) => {
    const id = parseInt(pt.element, 16);
    if (id <= 0xff && !SL651_ELEMENTS.has(id)) {
      problems.push(`points[${i}].element: ${pt.element} is not an element the SL 651 codec names (known: ${[...SL651_ELEMENTS.values()].map((e) => `${e.id.toString(16).toUpperCase().padStart(2, '0')} ${e.code}`).join(', ')}); use FFxx for a user-defined one`);
    }
    const other = seen.get(pt.element);
    if (other) problems.push(`points[${i}].element: ${pt.element} is already read by point ${JSON.stringify(other)}`);
    seen.set(pt.element, pt.name);
    if (pt.scale === 0) problems.push(`points[${i}].scale: must not be 0`);
  });
  return problems;
}

/** Fields of the 901F reply each meter family carries. */
const CJT188_FAMILY_FIELDS: Record<'water' | 'heat', readonly Cjt188Field[]> = {
  water: ['currentFlow', 'settlementFlow', 'valveClosed', 'batteryLow'],
  heat: [
    'settlementHeat',
    'currentHeat',
    'heatPower',
    'flowRate',
    'cumulativeFlow',
    'supplyTemperature',
    'returnTemperature',
    'workingHours',
    'valveClosed',
    'batteryLow',
  ],
};

function cjt188Problems(p: Readonly<Cjt188Profile>): string[] {
  const problems: string[] = [];
  const kind = cjt188MeterKind(p.meterType);
  if (kind === 'other') {
    problems.push(`meterType: 0x${p.meterType.toString(16).toUpperCase().padStart(2, '0')} (${describeMeterType(p.meterType)}) has no 901F reply layout; use 0x10..0x19 water, 0x20..0x29 heat or 0x30..0x39 gas`);
    return problems;
  }
  const fields = CJT188_FAMILY_FIELDS[kind === 'gas' ? 'water' : kind];
  const seen = new Map<string, string>();
  p.points.forEach((pt, i) => {
    if (!fields.includes(pt.field)) problems.push(`points[${i}].field: a ${kind} meter's reply has no ${pt.field} (it has ${fields.join(', ')})`);
    const other = seen.get(pt.field);
    if (other) problems.push(`points[${i}].field: ${pt.field} is already read by point ${JSON.stringify(other)}`);
    seen.set(pt.field, pt.name);
    if (pt.scale === 0) problems.push(`points[${i}].scale: must not be 0`);
  });
  return problems;
}

/**
 * Validates a parsed profile object against its protocol's schema, then the
 * checks a schema cannot say; throws PROFILE_INVALID listing every problem.
 */
export function validateProfile(raw: unknown, source: string): Readonly<Profile> {
  const protocol = (raw as { protocol?: unknown } | null)?.protocol;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    // The kind of value only: a file that is not a profile (a key, /etc/passwd) must not be echoed.
    const kind = raw === null ? 'null' : Array.isArray(raw) ? 'a list' : `a ${typeof raw}`;
    throw new LifelineError(ErrorCodes.ProfileInvalid, `profile ${source}: must be a mapping of fields (id, vendor, ..., points), got ${kind}`);
  }
  const odd = treeIssue(raw);
  if (odd) throw new LifelineError(ErrorCodes.ProfileInvalid, `profile ${source} has 1 error(s):\n  ${odd.path || '(root)'}: ${odd.message}`);
  if (!profileProtocols.includes(protocol as ProfileProtocol)) {
    throw new LifelineError(
      ErrorCodes.ProfileInvalid,
      `profile ${source} has 1 error(s):\n  protocol: must be one of ${profileProtocols.join(', ')}, got ${showWord(protocol)}${didYouMean(protocol, profileProtocols)}`,
    );
  }
  // Validate against the one shape `protocol` names: errors then speak of that shape's fields.
  // A copy: the result is frozen, the caller's object must not be.
  const p = assertValid(profileSchemas[protocol as ProfileProtocol], structuredClone(raw), `profile ${source}`, ErrorCodes.ProfileInvalid) as Profile;
  const problems = profileProblems(p);
  if (problems.length)
    throw new LifelineError(ErrorCodes.ProfileInvalid, `profile ${source} has ${problems.length} error(s):\n  ${problems.join('\n  ')}`);
  return deepFreeze(p);
}

/** A value shown only if it looks like a word a person typed, else its kind. */
function showWord(v: unknown): string {
  if (v === undefined) return 'nothing';
  return typeof v === 'string' && /^[\w.-]{1,32}$/.test(v) ? JSON.stringify(v) : `a ${typeof v}`;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
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
      file
        ? `no profile file ${file}`
        : `no profile ${JSON.stringify(nameOrFile)}${didYouMean(nameOrFile, listProfiles(dir))} (shipped: ${listProfiles(dir).join(', ')})`,
    );
  }
  const hit = cache.get(file);
  if (hit) return hit;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LifelineError(ErrorCodes.ProfileInvalid, `profile ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const profile = parseProfileText(text, file);
  cache.set(file, profile);
  return profile;
}

/** A profile from the text of a profile file (YAML or JSON); `source` names it in errors. */
export function parseProfileText(text: string, source: string): Readonly<Profile> {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    // Any error of the parser (a YAMLError, or a ReferenceError for an alias before its anchor).
    // Where and what, never the text (nor the parser's error, which quotes it): the file may be anything the config named.
    throw new LifelineError(ErrorCodes.ProfileInvalid, `profile ${source}: not valid YAML or JSON (${parseErrorMessage(e)})`);
  }
  return validateProfile(raw, source);
}
