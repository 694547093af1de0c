/**
 * What a config pushed from the cloud may change on a gateway: the contract
 * the cloud checks before sending and the edge checks again before applying.
 *
 *   PUT …/config ─▶ pushedConfigIssues(pushed, running) ─▶ refused with reasons (cloud)
 *                                      │ ok
 *   gateway ─▶ pushedConfigIssues again ─▶ mergePushedConfig ─▶ full validation (data dir) ─▶ apply, watch, roll back
 *
 * A pushed config is data, never a path into the box: it may not move the
 * buffer, name a file outside the gateway's data directory (so no absolute
 * path and no `..`: the cloud cannot know where that directory is) or change
 * the gateway's own credentials. Credentials left out, or sent back as the
 * `[redacted]` the cloud shows, mean "keep mine": an operator can push the
 * running config, as reported, back unchanged.
 */
import { REDACTED } from './redact.js';
import type { ValidationIssue } from './validate.js';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const at = (o: unknown, path: readonly (string | number)[]): unknown => path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Obj)[k as string] : undefined), o);

/** Whether a device's `profile` names a file rather than a shipped profile (the rule loadProfile uses). */
export function isProfilePath(profile: string): boolean {
  return /[/\\]|\.ya?ml$|\.json$/.test(profile);
}

/** A path that leaves the directory it is relative to: absolute, a drive letter, or a `..` segment. */
export function escapesDirectory(p: string): boolean {
  return /^([/\\]|[A-Za-z]:)/.test(p) || p.split(/[/\\]/).includes('..');
}

/** Every file path a gateway config names, with where it sits (`buffer.path`, `buses[0].devices[1].profile`). */
export function configPaths(config: unknown): { path: (string | number)[]; value: string }[] {
  const out: { path: (string | number)[]; value: string }[] = [];
  const add = (path: (string | number)[]) => {
    const v = at(config, path);
    if (typeof v === 'string') out.push({ path, value: v });
  };
  add(['buffer', 'path']);
  add(['alarms', 'controlSocket']);
  for (const k of ['ca', 'cert', 'key']) add(['sync', 'tls', k]);
  const buses = at(config, ['buses']);
  if (Array.isArray(buses)) {
    buses.forEach((b, i) => {
      const devices = isObj(b) ? b.devices : undefined;
      if (!Array.isArray(devices)) return;
      devices.forEach((d, j) => {
        if (isObj(d) && typeof d.profile === 'string' && isProfilePath(d.profile)) out.push({ path: ['buses', i, 'devices', j, 'profile'], value: d.profile });
      });
    });
  }
  return out;
}

const dotted = (path: readonly (string | number)[]) => path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');

/** The gateway's own login: kept by the gateway, changed only on the box or by enrolling again. */
const CREDENTIALS: readonly { path: string[]; refusal: string }[] = [
  { path: ['sync', 'username'], refusal: "a pushed config may not change the gateway's MQTT login; re-enrol instead" },
  { path: ['sync', 'password'], refusal: "a pushed config may not change the gateway's MQTT login; re-enrol instead" },
  { path: ['sync', 'tls', 'cert'], refusal: "a pushed config may not change the gateway's client certificate; re-enrol instead" },
  { path: ['sync', 'tls', 'key'], refusal: "a pushed config may not change the gateway's private key; re-enrol instead" },
];

/**
 * What is wrong with `pushed` as a config sent to a gateway running `running`
 * (its config as written, possibly redacted; null when it has not reported
 * one). Only the push rules: the gateway config schema is checked apart.
 */
export function pushedConfigIssues(pushed: unknown, running: unknown | null): ValidationIssue[] {
  if (!isObj(pushed)) return [{ path: '', message: 'must be a whole gateway config (a mapping)' }];
  const issues: ValidationIssue[] = [];
  const kept = (path: readonly (string | number)[], v: unknown) => v === undefined || v === REDACTED || (running !== null && v === at(running, path));

  const buffer = at(pushed, ['buffer', 'path']);
  if (!kept(['buffer', 'path'], buffer)) {
    const now = running === null ? '' : ` (it runs ${JSON.stringify(at(running, ['buffer', 'path']) ?? null)})`;
    issues.push({ path: 'buffer.path', message: `a pushed config may not move the buffer; change it on the box, got ${JSON.stringify(buffer)}${now}` });
  }
  for (const c of CREDENTIALS) {
    const v = at(pushed, c.path);
    if (kept(c.path, v)) continue;
    const why = running === null ? ' (the gateway has not reported its config yet: leave it out and the gateway keeps its own)' : '';
    // Never echo a credential, even a wrong one.
    issues.push({ path: dotted(c.path), message: `${c.refusal}${why}` });
  }
  for (const { path, value } of configPaths(pushed)) {
    const where = dotted(path);
    if (where === 'buffer.path' || CREDENTIALS.some((c) => dotted(c.path) === where)) continue;
    if (value === REDACTED || (running !== null && value === at(running, path))) continue;
    if (escapesDirectory(value)) {
      issues.push({ path: where, message: `must be a path relative to the gateway's data directory, without "..": a pushed config cannot name files elsewhere, got ${JSON.stringify(value)}` });
    }
  }
  const id = at(pushed, ['gateway', 'id']);
  const runningId = running === null ? undefined : at(running, ['gateway', 'id']);
  if (runningId !== undefined && id !== undefined && id !== runningId) {
    issues.push({ path: 'gateway.id', message: `a gateway cannot rename itself: it is ${JSON.stringify(runningId)}, got ${JSON.stringify(id)}` });
  }
  return issues;
}

/**
 * `pushed` with what the gateway keeps filled in from `running` (its config as
 * written, unredacted): the buffer path, the sync login and TLS identity when
 * left out, and every `[redacted]` value. Does not modify its arguments.
 */
export function mergePushedConfig(pushed: unknown, running: unknown): unknown {
  if (!isObj(pushed) || !isObj(running)) return pushed;
  const out = structuredClone(pushed);
  const set = (path: readonly string[], v: unknown) => {
    let o: Obj = out;
    for (const k of path.slice(0, -1)) {
      if (!isObj(o[k])) o[k] = {};
      o = o[k] as Obj;
    }
    o[path[path.length - 1]] = structuredClone(v);
  };
  for (const path of [['buffer', 'path'], ['sync', 'username'], ['sync', 'password']]) {
    const mine = at(running, path);
    if (mine !== undefined && at(out, path) === undefined) set(path, mine);
  }
  // The TLS identity travels whole: a pushed config without tls keeps the gateway's.
  const tls = at(running, ['sync', 'tls']);
  if (isObj(tls) && at(out, ['sync', 'tls']) === undefined && isObj(out.sync)) set(['sync', 'tls'], tls);
  else if (isObj(tls)) for (const k of ['cert', 'key']) if (tls[k] !== undefined && at(out, ['sync', 'tls', k]) === undefined) set(['sync', 'tls', k], tls[k]);
  // `[redacted]` anywhere: the running value at the same place.
  const fill = (o: unknown, path: (string | number)[]): unknown => {
    if (o === REDACTED) return structuredClone(at(running, path));
    if (Array.isArray(o)) return o.map((v, i) => fill(v, [...path, i]));
    if (isObj(o)) return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fill(v, [...path, k])]));
    return o;
  };
  return fill(out, []);
}
