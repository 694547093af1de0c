/**
 * Secrets never leave the box that holds them: every config, command body or
 * answer the API returns, and the running config a gateway reports, goes
 * through `redactSecrets` first. A secret is known by its key's name, so a
 * field added later (`sync.tls.passphrase`, a webhook `secret`) is covered
 * without a list to keep in step.
 */

/** Keys whose values are secrets (case-insensitive, whole key). */
export const SECRET_KEY = /^(password|passphrase|secret|token|apikey|api_key|privatekey|private_key|credentials?)$/i;

/** What a redacted value reads as. */
export const REDACTED = '[redacted]';

/**
 * A deep copy of `value` with every secret-named key's value replaced by
 * `[redacted]` (absent and null values stay as they are, so a reader can tell
 * "set" from "not set"). Non-plain values (Date, Buffer) are copied as JSON would.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (depth > 64) return REDACTED as T; // deeper than any config: not ours to echo
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null ? REDACTED : redactSecrets(v, depth + 1);
  }
  return out as T;
}
