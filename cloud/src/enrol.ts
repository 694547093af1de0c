/**
 * Enrolment and broker credentials.
 *
 *   technician ─ POST /api/v1/enrolments {gateway?} ─▶ one-time token (stored hashed, expires; for a new
 *                gateway, or with `gateway` for replacing that one)
 *   gateway (`lifeline enroll`) ─ POST /api/v1/enroll {token} ─▶ gateway id + MQTT username/password
 *   admin ─ POST /api/v1/gateways/:id/revoke ─▶ no token enrols it ─ …/reinstate ─▶ a replace-token may again
 *   broker (aedes) ─ authenticate ─▶ BrokerAuthority ─▶ store.access.findMqttCredential (scrypt check, not revoked)
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

  constructor(private readonly store: Pick<Store, 'access'>, private readonly allowAnonymous: boolean) {}

  /** The identity for a login, or undefined to refuse it. */
  async authenticate(username: string | undefined, password: string | undefined): Promise<BrokerIdentity | undefined> {
    if (username === undefined || username === '') return this.allowAnonymous && !password ? { kind: 'anonymous' } : undefined;
    if (password === undefined) return undefined;
    if (username === this.service.username) return password === this.service.password ? { kind: 'service' } : undefined;
    const c = await this.store.access.findMqttCredential(username);
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
    private readonly store: Pick<Store, 'access' | 'registry'>,
    private readonly brokerUrl: string | null,
    private readonly issuer?: CertificateIssuer,
  ) {}

  /**
   * A one-time token valid for `ttlMs`. With `forGateway` it replaces that
   * existing, non-revoked gateway (a swapped box); without, it enrols a new
   * gateway only.
   */
  async createToken(by: string, ttlMs: number, note: string | null, forGateway?: string): Promise<{ token: string; expiresAt: number; gateway?: string }> {
    if (forGateway !== undefined) {
      const g = await this.store.registry.getGateway(forGateway);
      if (!g) throw new LifelineError(ErrorCodes.NotFound, `gateway: no gateway ${JSON.stringify(forGateway)} to replace; leave gateway out for a token that enrols a new box`);
      if (g.revokedAt !== null) throw new LifelineError(ErrorCodes.Conflict, revokedMessage(forGateway));
    }
    const token = `enr_${randomBytes(18).toString('base64url')}`;
    const now = Date.now();
    await this.store.access.addEnrolment({ hash: hashToken(token), note, createdBy: by, createdAt: now, expiresAt: now + ttlMs, forGateway: forGateway ?? null });
    return { token, expiresAt: now + ttlMs, ...(forGateway !== undefined ? { gateway: forGateway } : {}) };
  }

  /**
   * Spend a token: the gateway gets its id and a fresh MQTT password. A token
   * without a target enrols a new id only (its `name` is set); a token issued
   * for a gateway enrols that gateway only (its name stays). A revoked gateway
   * is enrolled by no token until an admin reinstates it. A refused attempt
   * leaves the token unspent.
   */
  async enroll(token: string, requested?: { gateway?: string; name?: string; csr?: string }): Promise<EnrolmentResult> {
    if (requested?.gateway !== undefined && !new RegExp(GATEWAY_ID_PATTERN).test(requested.gateway))
      throw new LifelineError(ErrorCodes.RequestInvalid, `gateway: must match ${GATEWAY_ID_PATTERN}, got ${JSON.stringify(requested.gateway)}`);
    if (requested?.csr && !this.issuer) throw new LifelineError(ErrorCodes.RequestInvalid, 'csr: this cloud has no certificate authority; enrol without a CSR');
    const hash = hashToken(token);
    const found = await this.store.access.findEnrolment(hash, Date.now());
    if (!found) throw badToken();
    const target = found.forGateway;
    if (target !== null && requested?.gateway !== undefined && requested.gateway !== target)
      throw new LifelineError(ErrorCodes.Forbidden, `gateway: this token was issued to replace ${target}; it cannot enrol ${requested.gateway} (leave gateway out, or ask for a token for ${requested.gateway})`);
    const gateway = target ?? requested?.gateway ?? `gw-${randomBytes(4).toString('hex')}`;
    await this.refuseIfTaken(gateway, target);
    const password = randomBytes(24).toString('base64url');
    const credential = { username: gateway, gateway, ...(await hashPassword(password)) };
    if (!(await this.store.access.consumeEnrolment(hash, gateway, Date.now()))) {
      // The gateway or the token changed since the checks above (a racing enrolment, a revocation): say which.
      if (!(await this.store.access.findEnrolment(hash, Date.now()))) throw badToken();
      await this.refuseIfTaken(gateway, target);
      throw new LifelineError(ErrorCodes.Conflict, `gateway ${gateway} changed while enrolling; try again`);
    }
    await this.store.access.putMqttCredential(credential, Date.now());
    if (target === null && requested?.name) await this.store.registry.updateGateway(gateway, { name: requested.name });
    const certificate = requested?.csr && this.issuer ? await this.issuer.issue(gateway, requested.csr) : undefined;
    return { gateway, mqtt: { url: this.brokerUrl, username: gateway, password }, ...(certificate ? { certificate } : {}) };
  }

  /** Throws the reason `gateway` cannot be enrolled by a token for `target` (null: a new gateway), if there is one. */
  private async refuseIfTaken(gateway: string, target: string | null): Promise<void> {
    const g = await this.store.registry.getGateway(gateway);
    if (g?.revokedAt != null) throw new LifelineError(ErrorCodes.Conflict, revokedMessage(gateway));
    if (target === null && g) throw new LifelineError(ErrorCodes.Conflict, `gateway ${gateway} already exists; ask for a token issued for ${gateway} to replace it`);
    if (target !== null && !g) throw new LifelineError(ErrorCodes.Conflict, `gateway ${gateway} is no longer in the registry; ask for a token for a new gateway`);
  }
}

function badToken(): Error {
  return new LifelineError(ErrorCodes.Unauthorized, 'token: unknown, expired or already used enrolment token');
}

function revokedMessage(gateway: string): string {
  return `gateway ${gateway} is revoked; an admin must reinstate it (POST /api/v1/gateways/${gateway}/reinstate), then enrol it with a token issued for ${gateway}`;
}
