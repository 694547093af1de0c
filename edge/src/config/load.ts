/**
 * Load a gateway config: parse, validate against the schema, then check what
 * a schema cannot say (duplicate ids, missing profiles, unknown points, paths
 * outside the data directory) on every part that is well-formed, and report
 * every problem in one error. The result is frozen.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { ErrorCodes, LifelineError, isLifelineError, treeIssue, schemaIssues, formatIssues, parseErrorMessage, isProfilePath, type ValidationIssue } from '@lifeline/shared';
import { loadProfile, profileDefaultIssues, type Profile } from '@lifeline/devices';
import { GatewayConfigSchema, busLinkIssues, isMeterBus, isSl651Bus, type Bus, type DeviceInstance, type GatewayConfig } from './schema.js';
import { detectorsConfigIssues, unknownPointIssues } from '@lifeline/shared/config';
import { alarmsConfigIssues } from '../alarms/config.js';
import { actionsConfigIssues } from '../actions/config.js';
import { lightingConfigIssues, timeZoneIssues } from '../lighting/config.js';
import { Value } from '@sinclair/typebox/value';
import { dataDirIssues } from './paths.js';
import { deviceBurstPoints } from '../poller/burst.js';

/** A validated config with each device's profile resolved. */
export interface LoadedConfig {
  readonly config: Readonly<GatewayConfig>;
  /** Profile of each device instance, by device id. */
  readonly profiles: ReadonlyMap<string, Readonly<Profile>>;
  /** Absolute path of the file it came from, if any. */
  readonly file?: string;
  /** The directory every path of the config lies in (`--data-dir`), when it was checked against one. */
  readonly dataDir?: string;
  /** The config as written (paths unresolved, no defaults): what is reported to the cloud and pushed back. */
  readonly written?: unknown;
}

/** Options of validateConfig. */
export interface ValidateOptions {
  /** Refuse paths outside this directory (loadConfig: `--data-dir`, default the config file's directory). */
  dataDir?: string;
}

/** The device named at a detectors issue path (`points[3].point`, `multivariate[0].device`, `modal[1].frequency`). */
function deviceOf(d: NonNullable<GatewayConfig['detectors']>, path: string): string {
  const m = /^(points|multivariate|modal)\[(\d+)\]/.exec(path);
  if (!m) return '';
  return d[m[1] as 'points' | 'multivariate' | 'modal']?.[Number(m[2])]?.device ?? '';
}

/**
 * How a device instance is addressed on its bus: Modbus devices by `unit` on a
 * Modbus bus, meters by `address` on a meter bus. A real RS-485 bus carries
 * one or the other, so a mix is refused here rather than polled badly.
 */
function addressingIssues(bus: Bus, dev: DeviceInstance, profile: Readonly<Profile> | undefined, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (isSl651Bus(bus)) {
    for (const f of ['unit', 'address'] as const) {
      if (dev[f] !== undefined) issues.push({ path: `${path}.${f}`, message: `does not apply to an SL 651 station (it is known by station), got ${JSON.stringify(dev[f])}` });
    }
    if (profile && profile.protocol !== 'sl651') {
      issues.push({ path: `${path}.profile`, message: `${profile.id} speaks ${profile.protocol}; an sl651-listen bus carries SL 651 stations only` });
    }
    return issues;
  }
  if (profile?.protocol === 'sl651') {
    issues.push({ path: `${path}.profile`, message: `${profile.id} is an SL 651 station: it reports to a bus with link sl651-listen (a port the gateway listens on), not a polled ${bus.link} bus` });
    return issues;
  }
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

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Checks beyond the schema, on whatever is well-formed: `bad(path)` says the
 * schema already reported something at or below `path`, so checks that need
 * that part skip it (the technician sees every mistake in one pass, without
 * follow-on noise from a part that is already wrong).
 */
function semanticIssues(cfg: GatewayConfig, profiles: Map<string, Readonly<Profile>>, baseDir: string, bad: (path: string) => boolean): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const ids = new Map<string, string>();
  const serialPaths = new Map<string, number>();
  (Array.isArray(cfg.buses) ? cfg.buses : []).forEach((bus, b) => {
    if (!isObj(bus)) return;
    const at = `buses[${b}]`;
    if (!bad(at)) issues.push(...busLinkIssues(bus, at));
    if (typeof bus.path === 'string' && !bad(`${at}.path`)) {
      const other = serialPaths.get(bus.path);
      if (other !== undefined) issues.push({ path: `${at}.path`, message: `${JSON.stringify(bus.path)} is already used by buses[${other}]: one bus per port` });
      else serialPaths.set(bus.path, b);
    }
    const units = new Map<number | string, string>();
    const linkOk = !bad(`${at}.link`);
    const meterBus = isMeterBus(bus);
    let busProtocol: { protocol: string; at: string } | undefined;
    (Array.isArray(bus.devices) ? bus.devices : []).forEach((dev, d) => {
      const path = `${at}.devices[${d}]`;
      if (!isObj(dev)) return;
      // A Modbus device is known by its unit id, a meter by its address, an SL 651 station by its station address.
      const field = isSl651Bus(bus) ? 'station' : meterBus ? 'address' : 'unit';
      const key = linkOk && !bad(`${path}.${field}`) ? dev[field] : undefined;
      const sameKey = key === undefined ? undefined : units.get(key);
      if (sameKey !== undefined) {
        issues.push({ path: `${path}.${field}`, message: `${field} ${typeof key === 'string' ? JSON.stringify(key) : key} is already used by ${JSON.stringify(sameKey)} on this bus` });
      } else if (key !== undefined) units.set(key, dev.id);
      const idOk = typeof dev.id === 'string' && !bad(`${path}.id`);
      const other = idOk ? ids.get(dev.id) : undefined;
      if (other) issues.push({ path: `${path}.id`, message: `duplicate device id ${JSON.stringify(dev.id)}, also at ${other}` });
      else if (idOk) ids.set(dev.id, path);
      if (typeof dev.profile !== 'string' || bad(`${path}.profile`)) return;
      let profile: Readonly<Profile> | undefined;
      try {
        const file = isProfilePath(dev.profile) ? resolve(baseDir, dev.profile) : dev.profile;
        profile = loadProfile(file);
        // A duplicate keeps the first device's profile: checks against this one would be noise.
        if (idOk && !other) profiles.set(dev.id, profile);
      } catch (e) {
        if (!isLifelineError(e)) throw e;
        issues.push({ path: `${path}.profile`, message: e.message.replace(/^[A-Z_]+: /, '') });
      }
      if (other || !linkOk || bad(path)) return;
      issues.push(...addressingIssues(bus, dev, profile, path));
      if (profile && isObj(dev.burst) && !bad(`${path}.burst`) && !(profile.protocol === 'modbus' && profile.burst))
        issues.push({ path: `${path}.burst`, message: `profile ${profile.id} records no accelerometer burst (it has no burst: block), got ${JSON.stringify(dev.burst)}` });
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
  if (isObj(cfg.detectors)) {
    const known = new Map<string, ReadonlySet<string>>();
    const instances = new Map<string, DeviceInstance>();
    for (const bus of Array.isArray(cfg.buses) ? cfg.buses : []) for (const dev of isObj(bus) && Array.isArray(bus.devices) ? bus.devices : []) if (isObj(dev) && typeof dev.id === 'string') instances.set(dev.id, dev);
    // A device that reads bursts has their readings as points too (a modal detector names natural_frequency_1).
    for (const [id, p] of profiles) known.set(id, new Set([...p.points.map((pt) => pt.name), ...(instances.has(id) ? deviceBurstPoints(instances.get(id)!, p) : [])]));
    const at = (i: ValidationIssue) => ({ path: i.path ? `detectors.${i.path}` : 'detectors', message: i.message });
    // The schema part is reported by the config schema already; keep the semantic part.
    const own = detectorsConfigIssues(cfg.detectors).filter((i) => !bad(`detectors.${i.path}`));
    issues.push(...own.map(at));
    // Malformed entries are left out (holes keep the indexes); devices whose profile failed to load are already reported.
    const wellFormed = holes(cfg.detectors, 'detectors', bad);
    issues.push(...unknownPointIssues(wellFormed, known).filter((i) => !/unknown device/.test(i.message) || !ids.has(deviceOf(cfg.detectors!, i.path))).map(at));
  }
  issues.push(...profileDefaultIssues(profiles));
  if (cfg.sync?.transport === 'aws-iot' && !cfg.sync.tls && !bad('sync')) issues.push({ path: 'sync.tls', message: 'is required for transport aws-iot (AWS IoT Core authenticates a device by its certificate)' });
  if (!bad('alarms')) issues.push(...alarmsConfigIssues(cfg.alarms));
  const outputs = Array.isArray(cfg.outputs) ? (sparse(cfg.outputs, 'outputs', bad) as GatewayConfig['outputs']) : undefined;
  const actions = Array.isArray(cfg.actions) ? (sparse(cfg.actions, 'actions', bad) as GatewayConfig['actions']) : undefined;
  // An action naming an output the schema already faulted is not a second mistake.
  const faulted = new Set((Array.isArray(cfg.outputs) ? cfg.outputs : []).filter((o, i) => bad(`outputs[${i}]`) && isObj(o) && typeof o.name === 'string').map((o) => JSON.stringify(o.name)));
  issues.push(...actionsConfigIssues(outputs, actions, profiles).filter((i) => !/^no output named (".*?")/.test(i.message) || !faulted.has(/^no output named (".*?")/.exec(i.message)![1])));
  if (isObj(cfg.gateway) && !bad('gateway.timeZone')) issues.push(...timeZoneIssues(cfg.gateway.timeZone));
  // A schedule naming a device whose entry is already faulted would only repeat that fault.
  if (isObj(cfg.lighting) && Array.isArray(cfg.lighting.schedules)) {
    const schedules = sparse(cfg.lighting.schedules, 'lighting.schedules', bad);
    const location = isObj(cfg.gateway) && !bad('gateway.location') ? cfg.gateway.location : undefined;
    issues.push(
      ...lightingConfigIssues({ schedules }, { location, profiles, outputs })
        .filter((i) => !/^no device (".*?")/.test(i.message) || !ids.has(JSON.parse(/^no device (".*?")/.exec(i.message)![1])))
        .filter((i) => i.path !== 'gateway.location' || !bad('gateway.location')),
    );
  }
  return issues;
}

/** A copy of `list` with the malformed entries deleted (forEach skips the holes, indexes stay). */
function sparse<T>(list: readonly T[], at: string, bad: (path: string) => boolean): T[] {
  const out = [...list];
  list.forEach((_, i) => {
    if (bad(`${at}[${i}]`)) delete out[i];
  });
  return out;
}

/** The detectors section with malformed point, multivariate and modal entries left out. */
function holes(d: NonNullable<GatewayConfig['detectors']>, at: string, bad: (path: string) => boolean): NonNullable<GatewayConfig['detectors']> {
  return {
    ...d,
    points: Array.isArray(d.points) ? sparse(d.points, `${at}.points`, bad) : undefined,
    multivariate: Array.isArray(d.multivariate) ? sparse(d.multivariate, `${at}.multivariate`, bad) : undefined,
    modal: Array.isArray(d.modal) ? sparse(d.modal, `${at}.modal`, bad) : undefined,
  };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Validate a config object. `baseDir` resolves relative paths. Throws CONFIG_INVALID listing every issue. */
export function validateConfig(raw: unknown, source: string, baseDir = process.cwd(), opts: ValidateOptions = {}): LoadedConfig {
  // YAML can make a value contain itself (`buses: &b [*b]`) or hold bytes, sets, maps, dates (`!!binary`...): refused before any walk.
  const odd = treeIssue(raw);
  if (odd) throw new LifelineError(ErrorCodes.ConfigInvalid, `${source} has 1 error(s):\n${formatIssues([odd])}`, { details: [odd] });
  const withDefaults = Value.Default(GatewayConfigSchema, structuredClone(raw));
  const issues = schemaIssues(GatewayConfigSchema, withDefaults);
  const profiles = new Map<string, Readonly<Profile>>();
  const reported = issues.map((i) => i.path);
  const bad = (path: string) => reported.some((p) => p === path || p.startsWith(`${path}.`) || p.startsWith(`${path}[`) || p === '');
  // Semantic checks run on every well-formed part, schema errors elsewhere or not.
  if (isObj(withDefaults)) {
    issues.push(...semanticIssues(withDefaults as GatewayConfig, profiles, baseDir, bad));
    if (opts.dataDir !== undefined) issues.push(...dataDirIssues(withDefaults, baseDir, opts.dataDir, bad));
  }
  if (issues.length) {
    throw new LifelineError(ErrorCodes.ConfigInvalid, `${source} has ${issues.length} error(s):\n${formatIssues(issues)}`, {
      details: issues,
    });
  }
  const config = withDefaults as GatewayConfig;
  if (!isAbsolute(config.buffer.path) && config.buffer.path !== ':memory:') config.buffer.path = resolve(baseDir, config.buffer.path);
  // Relative to the config file, like every other path (not to wherever the agent was started).
  if (config.alarms?.controlSocket !== undefined) config.alarms.controlSocket = resolve(baseDir, config.alarms.controlSocket);
  const tls = config.sync.tls;
  if (tls) for (const k of ['ca', 'cert', 'key'] as const) if (tls[k] !== undefined && !isAbsolute(tls[k]!)) tls[k] = resolve(baseDir, tls[k]!);
  return { config: deepFreeze(config), profiles, written: deepFreeze(structuredClone(raw)), ...(opts.dataDir !== undefined ? { dataDir: resolve(opts.dataDir) } : {}) };
}

/** Read and validate a YAML or JSON gateway config file; every path in it must lie in `dataDir` (default: the file's directory). */
export function loadConfig(file: string, opts: ValidateOptions = {}): LoadedConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new LifelineError(ErrorCodes.ConfigInvalid, `cannot read config ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  return parseConfigText(text, abs, opts);
}

/** The text half of loadConfig: `text` as if read from the file `abs` (paths relative to its directory). */
export function parseConfigText(text: string, abs: string, opts: ValidateOptions = {}): LoadedConfig {
  let raw: unknown;
  try {
    raw = parse(text, { prettyErrors: true });
  } catch (e) {
    // Line, column and what is wrong; never the text of the line (it may hold the password).
    throw new LifelineError(ErrorCodes.ConfigInvalid, `${abs} is not valid YAML (${parseErrorMessage(e)})`);
  }
  return { ...validateConfig(raw, abs, dirname(abs), { dataDir: opts.dataDir ?? dirname(abs) }), file: abs };
}
