/**
 * Every file a gateway config names stays inside the agent's data directory.
 *
 *   path in config ─▶ resolve against the config file's directory ─▶ realpath of the deepest
 *   existing part (a symlink cannot lead out) ─▶ inside the data directory? ─▶ shaped right?
 *
 * The data directory is `lifeline run --data-dir` (default: the config file's
 * directory); a config cannot change it. A bad path is a CONFIG_INVALID at
 * validation, never a crash loop or a spin when the agent opens it.
 */
import { accessSync, constants, existsSync, lstatSync, realpathSync, statSync, statfsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { configPaths, type ValidationIssue } from '@lifeline/shared';

const dotted = (path: readonly (string | number)[]) => path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');

/** The deepest part of `p` that exists, and what is left below it. */
export function existingAncestor(p: string): { dir: string; rest: string[] } {
  const rest: string[] = [];
  let dir = p;
  while (!existsSync(dir)) {
    const up = dirname(dir);
    if (up === dir) break;
    rest.unshift(basename(dir));
    dir = up;
  }
  return { dir, rest };
}

/** `p` with symlinks of its existing part resolved. */
export function realPath(p: string): string {
  const { dir, rest } = existingAncestor(p);
  return join(realpathSync(dir), ...rest);
}

/** Whether `p` (absolute) lies in `dir` (absolute, real) once its symlinks are resolved. */
export function isInside(p: string, dir: string): boolean {
  const rel = relative(dir, realPath(p));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Kernel pseudo-file systems (proc, sysfs, devpts, cgroup, debugfs, securityfs): no buffer can live there. */
const PSEUDO_FS = new Set([0x9fa0, 0x62656572, 0x1cd1, 0x27e0eb, 0x63677270, 0x64626720, 0x73636673]);

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    // Even root "may write" /proc, where mkdir then fails (or, recursive, spins): refuse it here.
    return !PSEUDO_FS.has(Number(statfsSync(dir).type));
  } catch {
    return false;
  }
}

/** Issues with the data directory itself (absolute, real path returned when fine). */
export function checkDataDir(dataDir: string): { dir?: string; issue?: ValidationIssue } {
  const abs = resolve(dataDir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) return { issue: { path: '', message: `the data directory ${abs} is not a directory (--data-dir)` } };
  return { dir: realpathSync(abs) };
}

/**
 * Paths of `config` (well-formed ones: `skip` says which to leave to the
 * schema's report) outside `dataDir`, or of the wrong kind: a buffer under a
 * file, a control socket that is a file the agent would remove.
 */
export function dataDirIssues(config: unknown, baseDir: string, dataDir: string, skip: (path: string) => boolean = () => false): ValidationIssue[] {
  const { dir, issue } = checkDataDir(dataDir);
  if (!dir) return [issue!];
  const issues: ValidationIssue[] = [];
  for (const { path, value } of configPaths(config)) {
    const where = dotted(path);
    if (skip(where) || (where === 'buffer.path' && value === ':memory:')) continue;
    const abs = resolve(baseDir, value);
    if (!isInside(abs, dir)) {
      issues.push({ path: where, message: `must be inside the data directory ${dataDir}, got ${JSON.stringify(value)}` });
      continue;
    }
    const { dir: existing, rest } = existingAncestor(abs);
    const st = lstatSync(existing);
    if (rest.length && !statSync(existing).isDirectory()) {
      issues.push({ path: where, message: `${existing} is not a directory, got ${JSON.stringify(value)}` });
    } else if (rest.length && where === 'buffer.path' && !writable(existing)) {
      issues.push({ path: where, message: `cannot create ${join(existing, rest[0])}: ${existing} is not writable, got ${JSON.stringify(value)}` });
    } else if (!rest.length && where === 'alarms.controlSocket' && !st.isSocket()) {
      issues.push({ path: where, message: `${abs} exists and is not a socket (the agent replaces a stale socket there), got ${JSON.stringify(value)}` });
    } else if (!rest.length && where !== 'alarms.controlSocket' && !statSync(existing).isFile()) {
      issues.push({ path: where, message: `${abs} is not a file, got ${JSON.stringify(value)}` });
    }
  }
  return issues;
}
