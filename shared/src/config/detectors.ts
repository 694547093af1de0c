/**
 * Detector configuration: the TypeBox schema (embedded in the gateway config,
 * and the shape of a profile point's `detect:` defaults) and a validator that
 * reports every problem at once. It lives in shared so the profile lint
 * (devices) and the gateway (edge) check the same rules.
 *
 *     raw object ─▶ schema issues (types, ranges: negative window...) ─┐
 *                ─▶ semantic issues (red below yellow, min ≥ max...) ──┴─▶ all listed, or a typed config
 *     later, against the device profiles: unknownPointIssues(config, known)
 *
 * Each detector kind's schema and its own checks live in detectors/<kind>.ts; this
 * file assembles the section and checks what spans entries (duplicates, ids).
 *
 * Example (YAML):
 *
 *     detectors:
 *       points:
 *         - device: flood-1
 *           point: water_level
 *           unit: m
 *           threshold: { high: { yellow: 2.5, red: 3.4 }, deadband: 0.05, onDelayMs: 2000, offDelayMs: 30000 }
 *           rate: { windowMs: 60000, rise: 0.5 }
 *           stuck: { epsilon: 0.001, durationMs: 3600000 }
 *           range: { min: 0, max: 10 }
 *       multivariate:
 *         - device: pump-3
 *           points: [flow, pressure, current, vibration]
 *           warmup: 600
 */
import { type Static, Type } from '@sinclair/typebox';
import { ErrorCodes, LifelineError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { formatIssues, schemaIssues, show, type ValidationIssue } from '../validate.js';
import { AnomalySchema, ArtimeSchema, anomalyDefaultBins } from './detectors/anomaly.js';
import { isNum, isObj } from './detectors/common.js';
import { ModalDriftSchema } from './detectors/modal.js';
import { MultivariateSchema } from './detectors/multivariate.js';
import { RainstormSchema, rainstormIssues } from './detectors/rainstorm.js';
import { RangeSchema, RateSchema, StuckSchema } from './detectors/rate-stuck-range.js';
import { ThresholdSchema, thresholdIssues } from './detectors/threshold.js';

// One file per detector kind (its schema, and its checks the schema cannot say), under detectors/.
export { levelNames, type LevelName } from './detectors/common.js';
export { LimitsSchema, ThresholdSchema, type LimitsConfig, type ThresholdConfig } from './detectors/threshold.js';
export { RateSchema, StuckSchema, RangeSchema, type RateConfig, type StuckConfig, type RangeConfig } from './detectors/rate-stuck-range.js';
export { anomalyDefaultBins, AnomalySchema, ArtimeSchema, type AnomalyConfig, type ArtimeConfig } from './detectors/anomaly.js';
export { RainLevelSchema, cmaRainstormLevels, RainstormSchema, type RainstormConfig } from './detectors/rainstorm.js';
export { MultivariateSchema, type MultivariateConfig } from './detectors/multivariate.js';
export { ModalDriftSchema, type ModalDriftConfig } from './detectors/modal.js';

/** All per-point detectors of one point. */
export const PointDetectorsSchema = Type.Object(
  {
    device: Type.String({ minLength: 1 }),
    point: Type.String({ minLength: 1 }),
    unit: Type.Optional(Type.String({ description: 'Unit shown in causes' })),
    threshold: Type.Optional(ThresholdSchema),
    rate: Type.Optional(RateSchema),
    stuck: Type.Optional(StuckSchema),
    range: Type.Optional(RangeSchema),
    anomaly: Type.Optional(AnomalySchema),
    artime: Type.Optional(ArtimeSchema),
    rainstorm: Type.Optional(RainstormSchema),
  },
  { additionalProperties: false },
);

/** The `detectors` section of the gateway config. */
export const DetectorsConfigSchema = Type.Object(
  {
    points: Type.Optional(Type.Array(PointDetectorsSchema)),
    multivariate: Type.Optional(Type.Array(MultivariateSchema)),
    modal: Type.Optional(Type.Array(ModalDriftSchema)),
  },
  { additionalProperties: false, $id: 'LifelineDetectors' },
);

export type PointDetectorsConfig = Static<typeof PointDetectorsSchema>;
/** The validated `detectors` section. */
export type DetectorsConfig = Static<typeof DetectorsConfigSchema>;

/** What the schema cannot say: limit order, min < max, at least one check, duplicates. */
function semanticIssues(raw: unknown): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  if (!isObj(raw)) return out;
  const seen = new Map<string, number>();
  if (Array.isArray(raw.points)) {
    raw.points.forEach((p: unknown, i: number) => {
      const at = `points[${i}]`;
      if (!isObj(p)) return;
      if (typeof p.device === 'string' && typeof p.point === 'string') {
        const key = `${p.device}/${p.point}`;
        const first = seen.get(key);
        if (first !== undefined) out.push({ path: at, message: `duplicate of points[${first}] (${key}): put all its detectors in one entry` });
        else seen.set(key, i);
      }
      if (!['threshold', 'rate', 'stuck', 'range', 'anomaly', 'artime', 'rainstorm'].some((k) => p[k] !== undefined)) {
        out.push({ path: at, message: 'configures no detector (threshold, rate, stuck, range, anomaly, artime or rainstorm)' });
      }
      if (isObj(p.rainstorm)) rainstormIssues(p.rainstorm, `${at}.rainstorm`, out);
      if (isObj(p.threshold)) thresholdIssues(p.threshold, `${at}.threshold`, out);
      if (isObj(p.rate) && p.rate.rise === undefined && p.rate.fall === undefined) {
        out.push({ path: `${at}.rate`, message: 'needs rise or fall (or both)' });
      }
      if (isObj(p.anomaly) && isNum(p.anomaly.neighbours) && isNum(p.anomaly.memory) && p.anomaly.memory < p.anomaly.neighbours) {
        out.push({ path: `${at}.anomaly.memory`, message: `must hold at least neighbours (${p.anomaly.neighbours}) shapes, got ${p.anomaly.memory}` });
      }
      if (isObj(p.anomaly) && isNum(p.anomaly.entropy) && p.anomaly.entropy > 0) {
        // A histogram of fewer readings than bins cannot tell one spread of values from another.
        const bins = isNum(p.anomaly.bins) ? p.anomaly.bins : anomalyDefaultBins;
        if (p.anomaly.entropy < 2 * bins) out.push({ path: `${at}.anomaly.entropy`, message: `must be 0 (off) or at least 2 × bins (${2 * bins}) readings, got ${p.anomaly.entropy}` });
      }
      if (isObj(p.artime) && (p.artime.min !== undefined || p.artime.max !== undefined)) {
        const { min, max } = p.artime;
        if (min === undefined) out.push({ path: `${at}.artime.min`, message: `needed with max (${show(max)}): the declared range takes both ends` });
        else if (max === undefined) out.push({ path: `${at}.artime.max`, message: `needed with min (${show(min)}): the declared range takes both ends` });
        else if (isNum(min) && isNum(max) && !(min < max)) out.push({ path: `${at}.artime.max`, message: `must be above min (${min}), got ${max}` });
      }
      if (isObj(p.range)) {
        const { min, max } = p.range;
        if (isNum(min) && isNum(max) && !(min < max)) out.push({ path: `${at}.range.max`, message: `must be above min (${min}), got ${max}` });
      }
    });
  }
  if (Array.isArray(raw.multivariate)) {
    const names = new Map<string, number>();
    raw.multivariate.forEach((m: unknown, i: number) => {
      const at = `multivariate[${i}]`;
      if (!isObj(m)) return;
      if (Array.isArray(m.points)) {
        const dup = m.points.filter((p, k) => m.points instanceof Array && m.points.indexOf(p) !== k);
        if (dup.length) out.push({ path: `${at}.points`, message: `lists ${show(dup[0])} twice` });
      }
      // The watch is yellow, so it needs an alarm above yellow (with level blue or yellow the default watch is off).
      if (isNum(m.watch) && m.watch > 0 && (m.level === 'blue' || m.level === 'yellow'))
        out.push({ path: `${at}.watch`, message: `a yellow watch needs the alarm's level above yellow (level is ${show(m.level)}): set watch: 0 or level orange or red, got ${show(m.watch)}` });
      const name = typeof m.name === 'string' ? m.name : typeof m.device === 'string' ? `${m.device}/multivariate` : undefined;
      if (name !== undefined) {
        const first = names.get(name);
        if (first !== undefined) out.push({ path: at, message: `same id ${show(name)} as multivariate[${first}]: give one a name` });
        else names.set(name, i);
      }
    });
  }
  return out;
}

/** Every problem of a raw `detectors` section: schema first, then semantics. Empty when valid. */
export function detectorsConfigIssues(raw: unknown): ValidationIssue[] {
  return [...schemaIssues(DetectorsConfigSchema, raw), ...semanticIssues(raw)];
}

/** Validates and freezes a `detectors` section; throws CONFIG_INVALID listing every problem. */
export function parseDetectorsConfig(raw: unknown, what = 'detectors'): DetectorsConfig {
  const issues = detectorsConfigIssues(raw);
  if (issues.length) {
    throw new LifelineError(ErrorCodes.ConfigInvalid, `${what} has ${issues.length} error(s):\n${formatIssues(issues.map((i) => ({ ...i, path: i.path ? `${what}.${i.path}` : what })))}`, {
      details: issues,
    });
  }
  return deepFreeze(structuredClone(raw) as DetectorsConfig);
}

/**
 * Points the config names that the device profiles do not have, checked by the agent
 * once profiles are loaded. `known` maps a device id to its point names; a device
 * absent from it is reported as unknown.
 */
export function unknownPointIssues(config: DetectorsConfig, known: ReadonlyMap<string, ReadonlySet<string>>): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const check = (device: string, point: string, path: string) => {
    const points = known.get(device);
    if (!points) out.push({ path, message: `unknown device ${show(device)}${didYouMean(device, known.keys())}` });
    else if (!points.has(point)) out.push({ path, message: `device ${show(device)} has no point ${show(point)}${didYouMean(point, points)}` });
  };
  config.points?.forEach((p, i) => check(p.device, p.point, `points[${i}].point`));
  config.modal?.forEach((m, i) => {
    check(m.device, m.frequency, `modal[${i}].frequency`);
    check(m.device, m.temperature, `modal[${i}].temperature`);
  });
  config.multivariate?.forEach((m, i) => {
    if (!known.has(m.device)) out.push({ path: `multivariate[${i}].device`, message: `unknown device ${show(m.device)}${didYouMean(m.device, known.keys())}` });
    else m.points.forEach((p, k) => check(m.device, p, `multivariate[${i}].points[${k}]`));
  });
  return out;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
