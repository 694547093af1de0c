/**
 * Load a gateway config: parse, validate against the schema, then check what
 * a schema cannot say (duplicate ids, missing profiles, unknown points), and
 * report every problem in one error. The result is frozen.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { ErrorCodes, LifelineError, isLifelineError, schemaIssues, formatIssues, type ValidationIssue } from '@lifeline/shared';
import { loadProfile, type Profile } from '@lifeline/devices';
import { GatewayConfigSchema, type GatewayConfig } from './schema.js';
import { Value } from '@sinclair/typebox/value';

/** A validated config with each device's profile resolved. */
export interface LoadedConfig {
  readonly config: Readonly<GatewayConfig>;
  /** Profile of each device instance, by device id. */
  readonly profiles: ReadonlyMap<string, Readonly<Profile>>;
  /** Absolute path of the file it came from, if any. */
  readonly file?: string;
}

const levels = ['blue', 'yellow', 'orange', 'red'] as const;

/** Checks beyond the schema; returns every issue found. */
function semanticIssues(cfg: GatewayConfig, profiles: Map<string, Readonly<Profile>>, baseDir: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const ids = new Map<string, string>();
  cfg.buses.forEach((bus, b) => {
    bus.devices.forEach((dev, d) => {
      const path = `buses[${b}].devices[${d}]`;
      const other = ids.get(dev.id);
      if (other) issues.push({ path: `${path}.id`, message: `duplicate device id ${JSON.stringify(dev.id)}, also at ${other}` });
      else ids.set(dev.id, path);
      try {
        const file = /[/\\]/.test(dev.profile) && !isAbsolute(dev.profile) ? resolve(baseDir, dev.profile) : dev.profile;
        profiles.set(dev.id, loadProfile(file));
      } catch (e) {
        if (!isLifelineError(e)) throw e;
        issues.push({ path: `${path}.profile`, message: e.message.replace(/^[A-Z_]+: /, '') });
      }
    });
  });
  (cfg.thresholds ?? []).forEach((t, i) => {
    const path = `thresholds[${i}]`;
    const profile = profiles.get(t.device);
    if (!ids.has(t.device)) issues.push({ path: `${path}.device`, message: `no device ${JSON.stringify(t.device)} on this gateway` });
    else if (profile && !profile.points.some((p) => p.name === t.point))
      issues.push({ path: `${path}.point`, message: `profile ${profile.id} has no point ${JSON.stringify(t.point)}` });
    if (!t.high && !t.low) issues.push({ path, message: 'needs high or low limits' });
    for (const side of ['high', 'low'] as const) {
      const limits = t[side];
      if (!limits) continue;
      const set = levels.filter((l) => limits[l] !== undefined);
      if (!set.length) issues.push({ path: `${path}.${side}`, message: 'needs at least one of blue, yellow, orange, red' });
      for (let k = 1; k < set.length; k++) {
        const lo = limits[set[k - 1]]!;
        const hi = limits[set[k]]!;
        if (side === 'high' ? hi <= lo : hi >= lo)
          issues.push({
            path: `${path}.${side}.${set[k]}`,
            message: `must be ${side === 'high' ? 'above' : 'below'} ${set[k - 1]} (${lo}) on a ${side} threshold, got ${hi}`,
          });
      }
    }
  });
  return issues;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Validate a config object. `baseDir` resolves relative paths. Throws CONFIG_INVALID listing every issue. */
export function validateConfig(raw: unknown, source: string, baseDir = process.cwd()): LoadedConfig {
  const withDefaults = Value.Default(GatewayConfigSchema, structuredClone(raw));
  const issues = schemaIssues(GatewayConfigSchema, withDefaults);
  const profiles = new Map<string, Readonly<Profile>>();
  // Semantic checks need a well-formed shape; run them only when the schema passed.
  if (!issues.length) issues.push(...semanticIssues(withDefaults as GatewayConfig, profiles, baseDir));
  if (issues.length) {
    throw new LifelineError(ErrorCodes.ConfigInvalid, `${source} has ${issues.length} error(s):\n${formatIssues(issues)}`, {
      details: issues,
    });
  }
  const config = withDefaults as GatewayConfig;
  if (!isAbsolute(config.buffer.path) && config.buffer.path !== ':memory:') config.buffer.path = resolve(baseDir, config.buffer.path);
  return { config: deepFreeze(config), profiles };
}

/** Read and validate a YAML or JSON gateway config file. */
export function loadConfig(file: string): LoadedConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new LifelineError(ErrorCodes.ConfigInvalid, `cannot read config ${abs}: ${(e as Error).message}`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = parse(text, { prettyErrors: true });
  } catch (e) {
    throw new LifelineError(ErrorCodes.ConfigInvalid, `${abs} is not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  return { ...validateConfig(raw, abs, dirname(abs)), file: abs };
}
