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
import { GatewayConfigSchema, busLinkIssues, isMeterBus, type Bus, type DeviceInstance, type GatewayConfig } from './schema.js';
import { detectorsConfigIssues, unknownPointIssues } from '../detect/config.js';
import { profileDefaultIssues } from '../detect/profile-defaults.js';
import { alarmsConfigIssues } from '../alarms/config.js';
import { actionsConfigIssues } from '../actions/config.js';
import { Value } from '@sinclair/typebox/value';

/** A validated config with each device's profile resolved. */
export interface LoadedConfig {
  readonly config: Readonly<GatewayConfig>;
  /** Profile of each device instance, by device id. */
  readonly profiles: ReadonlyMap<string, Readonly<Profile>>;
  /** Absolute path of the file it came from, if any. */
  readonly file?: string;
}

/** The device named at a detectors issue path (`points[3].point`, `multivariate[0].device`). */
function deviceOf(d: NonNullable<GatewayConfig['detectors']>, path: string): string {
  const m = /^(points|multivariate)\[(\d+)\]/.exec(path);
  if (!m) return '';
  return (m[1] === 'points' ? d.points?.[Number(m[2])]?.device : d.multivariate?.[Number(m[2])]?.device) ?? '';
}

/**
 * How a device instance is addressed on its bus: Modbus devices by `unit` on a
 * Modbus bus, meters by `address` on a meter bus. A real RS-485 bus carries
 * one or the other, so a mix is refused here rather than polled badly.
 */
function addressingIssues(bus: Bus, dev: DeviceInstance, profile: Readonly<Profile> | undefined, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (isMeterBus(bus)) {
    if (dev.unit !== undefined) issues.push({ path: `${path}.unit`, message: `applies to Modbus devices; a meter is addressed by address, got ${dev.unit}` });
    if (profile?.protocol === 'modbus') {
      issues.push({ path: `${path}.profile`, message: `${profile.id} speaks modbus; a ${bus.link} bus carries DL/T 645 or CJ/T 188 meters only (put it on a rtu, rtu-over-tcp or tcp bus)` });
      return issues;
    }
    const digits = profile?.protocol === 'cjt188' ? 14 : 12;
    if (dev.address === undefined) issues.push({ path: `${path}.address`, message: `is required for a meter: the ${digits}-digit address printed on it, in quotes` });
    else if (profile && dev.address.length !== digits) {
      issues.push({ path: `${path}.address`, message: `a ${profile.protocol} meter has a ${digits}-digit address, got ${JSON.stringify(dev.address)} (${dev.address.length} digits)` });
    }
    return issues;
  }
  if (dev.address !== undefined) issues.push({ path: `${path}.address`, message: `applies to meters (link meter or meter-over-tcp), got ${JSON.stringify(dev.address)}` });
  if (profile && profile.protocol !== 'modbus') {
    issues.push({
      path: `${path}.profile`,
      message: `${profile.id} is a ${profile.protocol} meter; meters go on a bus with link meter or meter-over-tcp (one RS-485 bus carries Modbus devices or meters, not both)`,
    });
  } else if (dev.unit === undefined) issues.push({ path: `${path}.unit`, message: 'is required for a Modbus device: its unit id' });
  return issues;
}

/** Checks beyond the schema; returns every issue found. */
function semanticIssues(cfg: GatewayConfig, profiles: Map<string, Readonly<Profile>>, baseDir: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const ids = new Map<string, string>();
  const serialPaths = new Map<string, number>();
  cfg.buses.forEach((bus, b) => {
    issues.push(...busLinkIssues(bus, `buses[${b}]`));
    if (bus.path !== undefined) {
      const other = serialPaths.get(bus.path);
      if (other !== undefined) issues.push({ path: `buses[${b}].path`, message: `${JSON.stringify(bus.path)} is already used by buses[${other}]: one bus per port` });
      else serialPaths.set(bus.path, b);
    }
    const units = new Map<number | string, string>();
    const meterBus = isMeterBus(bus);
    let busProtocol: { protocol: string; at: string } | undefined;
    bus.devices.forEach((dev, d) => {
      const path = `buses[${b}].devices[${d}]`;
      // A Modbus device is known by its unit id, a meter by its address.
      const key = meterBus ? dev.address : dev.unit;
      const sameKey = key === undefined ? undefined : units.get(key);
      if (sameKey !== undefined) {
        const field = meterBus ? 'address' : 'unit';
        issues.push({ path: `${path}.${field}`, message: `${field} ${meterBus ? JSON.stringify(key) : key} is already used by ${JSON.stringify(sameKey)} on this bus` });
      } else if (key !== undefined) units.set(key, dev.id);
      const other = ids.get(dev.id);
      if (other) issues.push({ path: `${path}.id`, message: `duplicate device id ${JSON.stringify(dev.id)}, also at ${other}` });
      else ids.set(dev.id, path);
      let profile: Readonly<Profile> | undefined;
      try {
        const file = /[/\\]/.test(dev.profile) && !isAbsolute(dev.profile) ? resolve(baseDir, dev.profile) : dev.profile;
        profile = loadProfile(file);
        profiles.set(dev.id, profile);
      } catch (e) {
        if (!isLifelineError(e)) throw e;
        issues.push({ path: `${path}.profile`, message: e.message.replace(/^[A-Z_]+: /, '') });
      }
      issues.push(...addressingIssues(bus, dev, profile, path));
      if (profile && meterBus && profile.protocol !== 'modbus') {
        if (!busProtocol) busProtocol = { protocol: profile.protocol, at: path };
        else if (busProtocol.protocol !== profile.protocol) {
          issues.push({
            path: `${path}.profile`,
            message: `${profile.id} is a ${profile.protocol} meter but this bus carries ${busProtocol.protocol} meters (${busProtocol.at}): one protocol per bus, put them on separate ports`,
          });
        }
      }
    });
  });
  // Detectors: what their own schema cannot say (limit order, duplicates), then points the profiles lack.
  if (cfg.detectors) {
    const known = new Map<string, ReadonlySet<string>>();
    for (const [id, p] of profiles) known.set(id, new Set(p.points.map((pt) => pt.name)));
    const at = (i: ValidationIssue) => ({ path: i.path ? `detectors.${i.path}` : 'detectors', message: i.message });
    const own = detectorsConfigIssues(cfg.detectors);
    issues.push(...own.map(at));
    // Devices whose profile failed to load are already reported; do not report their points again.
    issues.push(...unknownPointIssues(cfg.detectors, known).filter((i) => !/unknown device/.test(i.message) || !ids.has(deviceOf(cfg.detectors!, i.path))).map(at));
  }
  issues.push(...profileDefaultIssues(profiles));
  if (cfg.sync.transport === 'aws-iot' && !cfg.sync.tls) issues.push({ path: 'sync.tls', message: 'is required for transport aws-iot (AWS IoT Core authenticates a device by its certificate)' });
  issues.push(...alarmsConfigIssues(cfg.alarms));
  issues.push(...actionsConfigIssues(cfg.outputs, cfg.actions, profiles));
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
  const tls = config.sync.tls;
  if (tls) for (const k of ['ca', 'cert', 'key'] as const) if (tls[k] !== undefined && !isAbsolute(tls[k]!)) tls[k] = resolve(baseDir, tls[k]!);
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
