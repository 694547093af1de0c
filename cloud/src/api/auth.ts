/**
 * Bearer-token auth with roles. Tokens are random strings shown once; the
 * store keeps only their SHA-256, so a leaked database leaks no token.
 * Lookups are cached for a few seconds (revocation takes effect at once in
 * this process, within `cacheMs` in others).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store, TokenRecord } from '../store/store.js';

/** What a token may do; each role includes the ones before it. */
export const roles = ['viewer', 'operator', 'technician', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Who is calling. */
export interface Identity {
  /** Token id in the store. */
  id: number;
  name: string;
  role: Role;
}

export class TokenAuth {
  private cache = new Map<string, { who: Identity | undefined; until: number }>();

  constructor(private readonly store: Pick<Store, 'access'>, private readonly cacheMs = 5000) {}

  /** Make `token` the admin token named `name` (replacing the previous bootstrap token of that name). */
  async bootstrap(token: string, name = 'admin'): Promise<string> {
    await this.store.access.putToken({ name, role: 'admin', hash: hashToken(token), createdBy: 'bootstrap', createdAt: Date.now() });
    this.cache.clear();
    return token;
  }

  /** Create a token; returns the secret (shown once) and its record. */
  async create(name: string, role: Role, createdBy: string): Promise<{ token: string; record: TokenRecord }> {
    const token = TokenAuth.generate();
    const record = await this.store.access.addToken({ name, role, hash: hashToken(token), createdBy, createdAt: Date.now() });
    return { token, record };
  }

  async revoke(id: number): Promise<boolean> {
    const ok = await this.store.access.revokeToken(id, Date.now());
    this.cache.clear();
    return ok;
  }

  /** The identity behind a bearer token, or undefined. */
  async check(token: string | undefined): Promise<Identity | undefined> {
    if (!token || token.length > 256) return undefined;
    const h = hashToken(token);
    const now = Date.now();
    const hit = this.cache.get(h);
    if (hit && hit.until > now) return hit.who;
    const r = await this.store.access.findToken(h);
    const who = r && (roles as readonly string[]).includes(r.role) ? { id: r.id, name: r.name, role: r.role as Role } : undefined;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(h, { who, until: now + this.cacheMs });
    return who;
  }

  static generate(): string {
    return randomBytes(24).toString('base64url');
  }
}

/** True if `have` is at least `need`. */
export function roleAllows(have: Role, need: Role): boolean {
  return roles.indexOf(have) >= roles.indexOf(need);
}

/** SHA-256 hex of a token: tokens are random, so no salt or slow hash is needed. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
