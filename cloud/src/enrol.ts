/**
 * Enrolment and broker credentials.
 *
 *   admin/technician ─ POST /api/v1/enrolments ─▶ one-time token (stored hashed, expires)
 *   gateway (`lifeline enroll`) ─ POST /api/v1/enroll {token} ─▶ gateway id + MQTT username/password
 *   broker (aedes) ─ authenticate ─▶ BrokerAuthority ─▶ store.findMqttCredential (scrypt check, not revoked)
 *                  ─ authorizePublish / authorizeSubscribe ─▶ per-gateway topic ACL
 *
 * A gateway may publish only `lifeline/<id>/up/…` and `lifeline/<id>/status`,
 * and subscribe only under `lifeline/<id>/down/`. The cloud's own clients
 * (ingest) log in with a service credential that exists only in memory.
 * Client certificates signed by a cloud CA (Mosquitto mutual TLS) are the
 * other way in: a broker that checks certificates maps the certificate's CN
 * to the gateway id and applies the same ACL (docs/operations.md); this
 * module then only issues the enrolment and the gateway id.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ErrorCodes, LifelineError, TOPIC_ROOT } from '@lifeline/shared';
import type { Store } from './store/store.js';
import { hashToken } from './api/auth.js';

const scrypt = promisify(scryptCb) as (password: string, salt: string, keylen: number) => Promise<Buffer>;

/** Gateway ids: also MQTT topic levels, so no `/`, `+` or `#`. */
export const GATEWAY_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';

/** Salted scrypt hash of a password. */
export async function hashPassword(password: string): Promise<{ salt: string; hash: string }> {
  const salt = randomBytes(16).toString('hex');
  return { salt, hash: (await scrypt(password, salt, 32)).toString('hex') };
}

export async function verifyPassword(password: string, salt: string, hash: string): Promise<boolean> {
  const got = await scrypt(password, salt, 32);
  const want = Buffer.from(hash, 'hex');
  return want.length === got.length && timingSafeEqual(got, want);
}

/** Who is connected to the broker. */
export type BrokerIdentity = { kind: 'service' } | { kind: 'gateway'; gateway: string } | { kind: 'anonymous' };

/** May this identity publish to `topic`? */
export function mayPublish(who: BrokerIdentity, topic: string): boolean {
  if (who.kind !== 'gateway') return who.kind === 'service' || who.kind === 'anonymous';
  const base = `${TOPIC_ROOT}/${who.gateway}/`;
  return topic === `${base}status` || (topic.startsWith(`${base}up/`) && topic.length > base.length + 3);
}

/** May this identity subscribe to the topic filter `filter`? */
export function maySubscribe(who: BrokerIdentity, filter: string): boolean {
  if (who.kind !== 'gateway') return who.kind === 'service' || who.kind === 'anonymous';
  const base = `${TOPIC_ROOT}/${who.gateway}/down/`;
  return filter.startsWith(base) && filter.length > base.length;
}

/** Decides broker logins: the in-memory service credential, or an enrolled gateway's. */
export class BrokerAuthority {
  /** The cloud's own MQTT login (ingest, downlink). */
  readonly service = { username: `lifeline-cloud-${randomBytes(4).toString('hex')}`, password: randomBytes(24).toString('base64url') };

  constructor(private readonly store: Store, private readonly allowAnonymous: boolean) {}

  /** The identity for a login, or undefined to refuse it. */
  async authenticate(username: string | undefined, password: string | undefined): Promise<BrokerIdentity | undefined> {
    if (username === undefined || username === '') return this.allowAnonymous && !password ? { kind: 'anonymous' } : undefined;
    if (password === undefined) return undefined;
    if (username === this.service.username) return password === this.service.password ? { kind: 'service' } : undefined;
    const c = await this.store.findMqttCredential(username);
    if (!c || c.revokedAt !== null) return undefined;
    return (await verifyPassword(password, c.salt, c.hash)) ? { kind: 'gateway', gateway: c.gateway } : undefined;
  }
}

/**
 * Signs a gateway's certificate signing request with the cloud's CA (for
 * brokers that authenticate by client certificate, e.g. Mosquitto with
 * `require_certificate true` and `use_identity_as_username true`). The
 * certificate's CN must be the gateway id, so the broker's ACL pattern
 * `lifeline/%u/...` pins the gateway to its own topics.
 */
export interface CertificateIssuer {
  issue(gateway: string, csrPem: string): Promise<{ certificatePem: string; caPem: string }>;
}

/** What an enrolled gateway receives. */
export interface EnrolmentResult {
  gateway: string;
  mqtt: { url: string | null; username: string; password: string };
  /** Present when the gateway sent a CSR and the cloud has a CA. */
  certificate?: { certificatePem: string; caPem: string };
}

/** Issues one-time enrolment tokens and turns them into gateway credentials. */
export class Enrolment {
  constructor(
    private readonly store: Store,
    private readonly brokerUrl: string | null,
    private readonly issuer?: CertificateIssuer,
  ) {}

  /** A one-time token valid for `ttlMs`. */
  async createToken(by: string, ttlMs: number, note: string | null): Promise<{ token: string; expiresAt: number }> {
    const token = `enr_${randomBytes(18).toString('base64url')}`;
    const now = Date.now();
    await this.store.addEnrolment({ hash: hashToken(token), note, createdBy: by, createdAt: now, expiresAt: now + ttlMs });
    return { token, expiresAt: now + ttlMs };
  }

  /** Spend a token: the gateway gets its id and a fresh MQTT password (a re-enrolled gateway is un-revoked). */
  async enroll(token: string, requested?: { gateway?: string; name?: string; csr?: string }): Promise<EnrolmentResult> {
    const gateway = requested?.gateway ?? `gw-${randomBytes(4).toString('hex')}`;
    if (!new RegExp(GATEWAY_ID_PATTERN).test(gateway))
      throw new LifelineError(ErrorCodes.RequestInvalid, `gateway: must match ${GATEWAY_ID_PATTERN}, got ${JSON.stringify(gateway)}`);
    if (requested?.csr && !this.issuer) throw new LifelineError(ErrorCodes.RequestInvalid, 'csr: this cloud has no certificate authority; enrol without a CSR');
    if (!(await this.store.consumeEnrolment(hashToken(token), gateway, Date.now())))
      throw new LifelineError(ErrorCodes.Unauthorized, 'token: unknown, expired or already used enrolment token');
    const password = randomBytes(24).toString('base64url');
    await this.store.putMqttCredential({ username: gateway, gateway, ...(await hashPassword(password)) }, Date.now());
    await this.store.updateGateway(gateway, { revokedAt: null, ...(requested?.name ? { name: requested.name } : {}) });
    const certificate = requested?.csr && this.issuer ? await this.issuer.issue(gateway, requested.csr) : undefined;
    return { gateway, mqtt: { url: this.brokerUrl, username: gateway, password }, ...(certificate ? { certificate } : {}) };
  }
}
