/**
 * What a caller may read of commands and configs: every answer that carries a
 * command, a config or a gateway's answer goes through here on its way out.
 *
 *   store record ─▶ redactSecrets (every role: no password, token or key ever leaves)
 *               ─▶ below technician: a config command's body.config and answer.errors withheld
 *
 * A config read back carries `[redacted]` where a secret was; pushed back as
 * it is, the gateway keeps its own (shared/src/config-push.ts).
 */
import { redactSecrets } from '@lifeline/shared';
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

