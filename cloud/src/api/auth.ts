/**
 * Bearer-token auth with roles. Tokens are compared in constant time; the
 * admin token comes from LIFELINE_ADMIN_TOKEN or is generated at start.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

/** What a token may do; each role includes the ones before it. */
export const roles = ['viewer', 'operator', 'technician', 'admin'] as const;
export type Role = (typeof roles)[number];

export class TokenAuth {
  private readonly tokens = new Map<string, { role: Role; name: string }>();

  /** Register a token; returns it. */
  add(token: string, role: Role, name = role): string {
    this.tokens.set(hash(token), { role, name });
    return token;
  }

  /** The identity behind a bearer token, or undefined. */
  check(token: string | undefined): { role: Role; name: string } | undefined {
    if (!token) return undefined;
    return this.tokens.get(hash(token));
  }

  static generate(): string {
    return randomBytes(24).toString('base64url');
  }
}

/** True if `have` is at least `need`. */
export function roleAllows(have: Role, need: Role): boolean {
  return roles.indexOf(have) >= roles.indexOf(need);
}

// Looking tokens up by their SHA-256 keeps the comparison independent of the token's bytes.
function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
