/**
 * What a caller may read of commands and configs: every answer that carries a
 * command, a config or a gateway's answer goes through here on its way out.
 *
 *   store record ─▶ redactSecrets (every role: no password, token or key ever leaves)
 *               ─▶ below technician: a config command's body.config and answer.errors withheld
 *
 * The store keeps the real values (the downlink sends them to the gateway), so
 * a config read back carries `[redacted]` where a secret was; `restoreSecrets`
 * lets a technician push that config back unchanged without losing the secret.
 */
import { REDACTED, SECRET_KEY, redactSecrets } from '@lifeline/shared';
import type { CommandRecord, GatewayConfigState } from '../store/store.js';
import { roleAllows, type Role } from './auth.js';

/** A command as the API answers it: `withheld` lists what the caller's role may not read. */
export type CommandView = CommandRecord & { withheld?: string[] };

/** A command for a caller of `role`: secrets redacted; a config's body and its answer's errors only for technician and above. */
export function commandView(c: CommandRecord, role: Role): CommandView {
  const out = redactSecrets(c);
  if (c.type !== 'config' || roleAllows(role, 'technician')) return out;
  const withheld: string[] = [];
  if ('config' in out.body) {
    const { config: _config, ...rest } = out.body;
    out.body = rest;
    withheld.push('body.config');
  }
  if (out.answer && 'errors' in out.answer) {
    const { errors: _errors, ...rest } = out.answer;
    out.answer = rest;
    withheld.push('answer.errors');
  }
  return withheld.length ? { ...out, withheld } : out;
}

/** A gateway's configs (running, desired, last answer) with secrets redacted. */
export function configView<T extends GatewayConfigState>(state: T): T {
  return redactSecrets(state);
}

/**
 * `incoming` with each secret-named field that reads `[redacted]` given the
 * value at the same path in `stored` (the desired config on record); the
 * paths with no stored value to keep are returned as problems.
 */
export function restoreSecrets(incoming: unknown, stored: unknown): { value: unknown; missing: string[] } {
  const missing: string[] = [];
  const walk = (v: unknown, s: unknown, path: string): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => walk(x, Array.isArray(s) ? s[i] : undefined, `${path}[${i}]`));
    if (v === null || typeof v !== 'object') return v;
    const from = s !== null && typeof s === 'object' && !Array.isArray(s) ? (s as Record<string, unknown>) : {};
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const p = path ? `${path}.${k}` : k;
      if (SECRET_KEY.test(k) && x === REDACTED) {
        const keep = from[k];
        if (keep === undefined || keep === null || keep === REDACTED) missing.push(p);
        out[k] = keep;
      } else out[k] = walk(x, from[k], p);
    }
    return out;
  };
  return { value: walk(incoming, stored, ''), missing };
}
