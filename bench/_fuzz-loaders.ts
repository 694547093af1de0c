/**
 * The gateway config and device profile loaders, fuzzed in two halves with small seeds
 * (one device, one detector point, one output, one profile point... each a valid config or
 * profile on its own) rather than whole example files, whose YAML parse alone cost ~35 ms
 * under load:
 *
 *   config_loader, profile_loader   text → parseConfigText / parseProfileText (yaml's parse
 *                                   with the loader's options, then the validation below),
 *                                   byte mutation of the seeds as YAML text
 *   config_values, profile_values   value → validateConfig / validateProfile (what those
 *                                   call after the parse), structured mutation of the parsed
 *                                   seeds and of the whole examples and profiles
 *                                   (bench/_fuzz-values.ts), no YAML per input
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { parse, stringify } from 'yaml';
import { listProfiles, parseProfileText, profileSchemas, profilesDir, validateProfile } from '../devices/src/index.js';
import { parseConfigText, validateConfig } from '../edge/src/config/load.js';
import { GatewayConfigSchema } from '../edge/src/config/schema.js';
import type { FuzzTarget } from './_fuzz-engine.js';
import { schemaWords, valueMutator, valueWords } from './_fuzz-values.js';

type Obj = Record<string, unknown>;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const utf8 = new TextEncoder();
/** Bytes as readFileSync(file, 'utf8') gives them (a BOM kept, unlike TextDecoder's default). */
const fileText = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
const accepted = (f: () => unknown) => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};

/** One-entry pieces of a config section: each list entry alone, in the section's shape. */
function pieces(section: unknown): unknown[] {
  if (Array.isArray(section)) return section.map((e) => [e]);
  if (typeof section !== 'object' || section === null) return [section];
  const o = section as Obj;
  const lists = Object.keys(o).filter((k) => Array.isArray(o[k]) && (o[k] as unknown[]).length);
  if (!lists.length) return [o];
  const rest = Object.fromEntries(Object.entries(o).filter(([k]) => !lists.includes(k)));
  return lists.flatMap((k) => (o[k] as unknown[]).map((e) => ({ ...rest, [k]: [e] })));
}

/**
 * Small valid configs from the shipped examples: the gateway, buffer and sync blocks with one
 * bus of one device, and with each piece of every other section plus the devices (and outputs)
 * it names. Only those validateConfig accepts are kept.
 */
function configSeeds(dir: string): { small: Obj[]; whole: Obj[] } {
  const seeds: Obj[] = [];
  const whole: Obj[] = [];
  for (const f of ['gateway.yaml', 'hydrology.yaml', 'meters.yaml']) {
    const raw = parse(readFileSync(join(root, 'edge/examples', f), 'utf8')) as Obj;
    // The examples keep their buffer outside the directory the fuzzed copy is in; put it inside.
    raw.buffer = { ...(raw.buffer as Obj), path: 'edge.db' };
    whole.push(raw);
    const buses = (raw.buses ?? []) as (Obj & { devices: Obj[] })[];
    const sections = Object.keys(raw).filter((k) => !['gateway', 'buffer', 'sync', 'buses'].includes(k));
    const base = Object.fromEntries(Object.entries(raw).filter(([k]) => !sections.includes(k) && k !== 'buses'));
    const busesFor = (names: string) => buses.map((b) => ({ ...b, devices: b.devices.filter((d) => names.includes(JSON.stringify(d.id))) })).filter((b) => b.devices.length);
    for (const b of buses) for (const d of b.devices) seeds.push({ ...base, buses: [{ ...b, devices: [d] }] });
    for (const s of sections) {
      for (const p of pieces(raw[s])) {
        const text = JSON.stringify(p);
        const outputs = s === 'actions' ? ((raw.outputs ?? []) as Obj[]).filter((o) => text.includes(JSON.stringify(o.name))) : [];
        const names = text + JSON.stringify(outputs);
        seeds.push({ ...base, buses: busesFor(names), [s]: p, ...(outputs.length ? { outputs } : {}) });
      }
    }
  }
  const valid = (s: Obj) => accepted(() => validateConfig(s, 'seed', dir, { dataDir: dir }));
  return { small: seeds.filter(valid), whole: whole.filter(valid) };
}

/** Every shipped profile, and each with one of its points alone (where that is a valid profile). */
function profileSeeds(): Obj[] {
  const whole = listProfiles().map((n) => parse(readFileSync(join(profilesDir, `${n}.yaml`), 'utf8')) as Obj & { points: unknown[] });
  const one = whole.flatMap((p) => p.points.map((pt) => ({ ...p, points: [pt] })));
  return [...whole, ...one].filter((p) => accepted(() => validateProfile(p, 'seed.yaml')));
}

/** The four loader targets; the config ones check paths against a fresh directory, as if the config were gateway.yaml in it. */
export function loaderTargets(): FuzzTarget[] {
  let dir = '';
  const open = async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-fuzz-config-'));
  };
  const close = async () => rmSync(dir, { recursive: true, force: true });
  const scratch = mkdtempSync(join(tmpdir(), 'lifeline-fuzz-seeds-'));
  const { small: configs, whole: examples } = configSeeds(scratch);
  rmSync(scratch, { recursive: true, force: true });
  const profiles = profileSeeds();
  const configWords = schemaWords(GatewayConfigSchema);
  for (const c of configs) valueWords(c, configWords);
  const profileWords = schemaWords(profileSchemas);
  for (const p of profiles) valueWords(p, profileWords);
  return [
    {
      name: 'profile_loader',
      seeds: profiles.filter((p) => (p.points as unknown[]).length === 1).map((p) => utf8.encode(stringify(p))),
      run: (b) => parseProfileText(fileText(b), 'fuzz.yaml'),
    },
    {
      name: 'config_loader',
      seeds: configs.map((c) => utf8.encode(stringify(c))),
      open,
      close,
      run: (b) => parseConfigText(fileText(b), join(dir, 'gateway.yaml')),
    },
    {
      name: 'profile_values',
      seeds: profiles.map((p) => serialize(p)),
      mutate: valueMutator(profileWords),
      run: (b) => validateProfile(deserialize(b), 'fuzz.yaml'),
    },
    {
      name: 'config_values',
      // The whole examples too (cheap without YAML): what only several devices and sections together reach (duplicate units, cross-references).
      seeds: [...configs, ...examples].map((c) => serialize(c)),
      mutate: valueMutator(configWords),
      open,
      close,
      run: (b) => validateConfig(deserialize(b), join(dir, 'gateway.yaml'), dir, { dataDir: dir }),
    },
  ];
}
