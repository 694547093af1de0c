/**
 * Profile lint: the house rules a schema cannot say, run over every shipped
 * profile in CI (devices/test/profiles/lint.test.ts) and shown by
 * `lifeline simulate` for a technician's own profile.
 *
 *   - names are snake_case and end with a vocabulary quantity (vocabulary.ts);
 *     no foreign spellings (temp, ch4, o2 ...)
 *   - the unit is the vocabulary's unit for that quantity
 *   - every measured point has a range, inside what its encoding can carry
 *   - every point has a simulated signal, and the signal stays inside the range
 *   - meter points: the codec's unit times `scale` gives the point's unit
 *   - `detect:` defaults pass the gateway's detector checks (detect-defaults.ts)
 *   - every `detect:` block cites its basis: a standard and clause, or "no standard: why"
 *
 * Load-time checks (duplicate names, overlapping registers, unknown data
 * identifiers) live in profiles.ts: a profile failing those cannot be used at
 * all, one failing lint can but should not ship.
 */
import { DLT645_DATA_IDS, SL651_ELEMENTS, type DataType } from '@lifeline/shared/protocols';
import type { AnyPoint, Cjt188Field, Profile } from './profile.js';
import { quantities, splitName, synonyms } from './vocabulary.js';
import { basisIssue, detectBlockIssues } from './detect-defaults.js';

/** One lint finding: where and what. */
export interface LintIssue {
  /** Profile id. */
  profile: string;
  /** `points[3].unit`, or '' for the profile as a whole. */
  path: string;
  /** What is wrong, naming the bad value and what it should be. */
  message: string;
}

/** Raw range each Modbus data type can carry. */
const RAW_RANGE: Record<DataType, [number, number]> = {
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
  float32: [-3.4e38, 3.4e38],
  float64: [-1.7e308, 1.7e308],
  bcd: [0, 9999],
  bit: [0, 1],
};

/** Unit of each CJ/T 188 field as the codec reports it (default unit codes of buildCjt188ReadReply). */
export const CJT188_FIELD_UNITS: Readonly<Record<Cjt188Field, string>> = {
  currentFlow: 'm3',
  settlementFlow: 'm3',
  cumulativeFlow: 'm3',
  currentHeat: 'kWh',
  settlementHeat: 'kWh',
  heatPower: 'kW',
  flowRate: 'm3/h',
  supplyTemperature: '°C',
  returnTemperature: '°C',
  workingHours: 'h',
  valveClosed: '',
  batteryLow: '',
};

/** Largest value each CJ/T 188 field can carry (BCD digits and decimals of the 901F layout). */
const CJT188_FIELD_MAX: Readonly<Record<Cjt188Field, number>> = {
  currentFlow: 999999.99,
  settlementFlow: 999999.99,
  cumulativeFlow: 999999.99,
  currentHeat: 999999.99,
  settlementHeat: 999999.99,
  heatPower: 999999.99,
  flowRate: 9999.9999,
  supplyTemperature: 9999.99,
  returnTemperature: 9999.99,
  workingHours: 999999,
  valveClosed: 1,
  batteryLow: 1,
};

/** Unit conversions a meter point's `scale` may perform: from the codec unit to the vocabulary unit. */
const CONVERSIONS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  kW: { W: 1000 },
  kvar: { var: 1000 },
  kVA: { VA: 1000 },
  kWh: { Wh: 1000 },
};

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** Range of values (in the point's unit) the point's encoding can carry. */
export function encodableRange(profile: Readonly<Profile>, point: AnyPoint): [number, number] {
  let raw: [number, number];
  let scale = 1;
  let offset = 0;
  if (profile.protocol === 'modbus') {
    const p = point as Extract<AnyPoint, { table: string }>;
    raw = RAW_RANGE[p.type];
    scale = p.scale ?? 1;
    offset = p.offset ?? 0;
  } else if (profile.protocol === 'dlt645') {
    const p = point as Extract<AnyPoint, { di: string }>;
    const d = DLT645_DATA_IDS.get(parseInt(p.di, 16));
    if (!d) return [-Infinity, Infinity];
    const digits = d.bytes * 2;
    const max = (d.signed ? 8 * 10 ** (digits - 1) - 1 : 10 ** digits - 1) / 10 ** d.decimals;
    raw = [d.signed ? -max : 0, max];
    scale = p.scale ?? 1;
  } else if (profile.protocol === 'sl651') {
    // N(digits, decimals) of table C.1; a leading FF byte carries a negative sign.
    const p = point as Extract<AnyPoint, { element: string }>;
    const e = SL651_ELEMENTS.get(parseInt(p.element, 16));
    if (!e) return [-Infinity, Infinity];
    const max = (10 ** e.digits - 1) / 10 ** e.decimals;
    raw = [-max, max];
    scale = p.scale ?? 1;
  } else {
    const p = point as Extract<AnyPoint, { field: string }>;
    raw = [0, CJT188_FIELD_MAX[p.field]];
    scale = p.scale ?? 1;
  }
  const a = raw[0] * scale + offset;
  const b = raw[1] * scale + offset;
  return a <= b ? [a, b] : [b, a];
}

/** The unit a meter point's codec reports, before `scale`. */
function codecUnit(profile: Readonly<Profile>, point: AnyPoint): string | undefined {
  if (profile.protocol === 'dlt645') return DLT645_DATA_IDS.get(parseInt((point as { di: string }).di, 16))?.unit;
  if (profile.protocol === 'cjt188') return CJT188_FIELD_UNITS[(point as { field: Cjt188Field }).field];
  if (profile.protocol === 'sl651') return SL651_ELEMENTS.get(parseInt((point as { element: string }).element, 16))?.unit || undefined;
  return undefined;
}

/** Every lint finding for one profile ([] when it is clean). */
export function lintProfile(profile: Readonly<Profile>): LintIssue[] {
  const issues: LintIssue[] = [];
  const add = (path: string, message: string) => issues.push({ profile: profile.id, path, message });
  profile.points.forEach((point: AnyPoint, i) => {
    const at = `points[${i}]`;
    const name = point.name;
    if (!/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(name)) add(`${at}.name`, `must be snake_case (a-z, 0-9, single _), got ${JSON.stringify(name)}`);
    const parts = splitName(name);
    for (const w of parts.qualifiers) {
      if (synonyms[w]) add(`${at}.name`, `${JSON.stringify(name)}: spell ${JSON.stringify(w)} as ${JSON.stringify(synonyms[w])} (one spelling per quantity)`);
    }
    const q = parts.quantity ? quantities[parts.quantity] : undefined;
    if (!q) {
      add(
        `${at}.name`,
        `${JSON.stringify(name)} does not end with a quantity of the vocabulary (e.g. ${['temperature', 'pressure', 'flow_rate', 'level', 'voltage'].join(', ')}); add the quantity to devices/src/vocabulary.ts and docs/profiles.md if it is new`,
      );
    } else if (point.unit !== q.unit) {
      add(`${at}.unit`, `${parts.quantity} is measured in ${JSON.stringify(q.unit)} in every profile, got ${JSON.stringify(point.unit)}`);
    }
    const state = q?.state ?? false;

    // Meter points: the codec's unit, times scale, must be the point's unit.
    const fromCodec = codecUnit(profile, point);
    if (fromCodec !== undefined) {
      const scale = (point as { scale?: number }).scale ?? 1;
      const want = fromCodec === point.unit ? 1 : CONVERSIONS[fromCodec]?.[point.unit];
      if (want === undefined) add(`${at}.unit`, `the meter reports ${JSON.stringify(fromCodec)}, which no scale turns into ${JSON.stringify(point.unit)}`);
      else if (!close(scale, want)) add(`${at}.scale`, `must be ${want} to turn the meter's ${JSON.stringify(fromCodec)} into ${JSON.stringify(point.unit)}, got ${scale}`);
    }

    // Ranges: required for measurements, inside the encoding.
    const enc = encodableRange(profile, point);
    if (!state && !point.range) add(`${at}.range`, `a measured point needs its sensor range [min, max] in ${JSON.stringify(point.unit)}`);
    if (point.range) {
      const [lo, hi] = point.range;
      if (!(lo < hi)) add(`${at}.range`, `min must be below max, got ${JSON.stringify(point.range)}`);
      const slack = 1e-9 * Math.max(1, Math.abs(enc[0]), Math.abs(enc[1]));
      if (lo < enc[0] - slack || hi > enc[1] + slack)
        add(`${at}.range`, `${JSON.stringify(point.range)} does not fit the encoding, which carries ${fmt(enc[0])}..${fmt(enc[1])}; change the type or scale`);
    }

    // Simulated signal: present and inside the range.
    const sim = point.sim;
    if (!sim) add(`${at}.sim`, 'every point needs a simulated signal (sim: { base: ... }) so the simulator serves realistic values');
    else if (state) {
      for (const key of ['base', 'night'] as const) {
        const v = sim[key];
        if (v !== undefined && v !== 0 && v !== 1) add(`${at}.sim.${key}`, `a state is 0 or 1, got ${v}`);
      }
    } else {
      const [lo, hi] = point.range ?? enc;
      const amp = Math.abs(sim.amplitude ?? 0);
      const yearDrift = (sim.drift ?? 0) * 24 * 365;
      const checks: [string, number][] = [
        ['base', sim.base],
        ['base - amplitude', sim.base - amp],
        ['base + amplitude', sim.base + amp],
        ['base + one year of drift', sim.base + yearDrift],
      ];
      if (sim.night !== undefined) checks.push(['night', sim.night]);
      for (const [what, v] of checks) {
        if (v < lo || v > hi) add(`${at}.sim`, `${what} = ${fmt(v)} is outside the range ${fmt(lo)}..${fmt(hi)}`);
      }
      if (sim.noise !== undefined && sim.noise > (hi - lo) / 10) add(`${at}.sim.noise`, `${sim.noise} is over a tenth of the range: not a realistic sensor`);
    }

    // Detector defaults: what the gateway would refuse at config load.
    for (const d of detectBlockIssues(point)) add(`${at}.detect${d.path}`, d.message);
    const basis = basisIssue(point);
    if (basis) add(`${at}.detect.basis`, basis);
  });
  if (profile.protocol === 'modbus' && profile.burst) {
    // A logger records for samples / rate seconds before the block holds a whole burst.
    const { samples, sampleRateHz, periodMs } = profile.burst;
    const recordMs = (samples / sampleRateHz) * 1000;
    if (periodMs < recordMs) add('burst.periodMs', `${periodMs} ms is shorter than one burst takes to record (${samples} samples at ${sampleRateHz} Hz = ${fmt(recordMs)} ms)`);
    if (!profile.burst.sim) add('burst.sim', 'a burst needs simulated modes (sim: { modes: [{ frequencyHz: ... }] }) so the simulator serves realistic bursts');
  }
  return issues;
}

/** Lint many profiles, plus what only shows across them (duplicate ids). */
export function lintProfiles(profiles: readonly Readonly<Profile>[]): LintIssue[] {
  const issues = profiles.flatMap(lintProfile);
  const seen = new Set<string>();
  for (const p of profiles) {
    if (seen.has(p.id)) issues.push({ profile: p.id, path: 'id', message: `duplicate profile id ${JSON.stringify(p.id)}` });
    seen.add(p.id);
  }
  return issues;
}

/** `flood-gauge points[2].range: ...` lines. */
export function formatLint(issues: readonly LintIssue[]): string {
  return issues.map((i) => `${i.profile} ${i.path || '(profile)'}: ${i.message}`).join('\n');
}

function fmt(n: number): string {
  return Math.abs(n) >= 1e9 ? n.toExponential(3) : String(Number(n.toPrecision(10)));
}
