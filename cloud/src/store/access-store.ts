/**
 * The access concern of the cloud store: who may call the API (token hashes),
 * who may enrol a gateway (one-time enrolment tokens) and which MQTT logins
 * the broker lets in (salted scrypt hashes). No secret is ever stored as given.
 */

/** An API token as stored: only its hash. */
export interface TokenRecord {
  id: number;
  name: string;
  role: string;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

/** A token to store: its SHA-256, never the token. */
export interface NewToken {
  name: string;
  role: string;
  hash: string;
  createdBy: string;
  createdAt: number;
}

/** A one-time enrolment token to store (its hash). */
export interface NewEnrolment {
  hash: string;
  note: string | null;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  /** The existing gateway the token replaces; absent or null: it enrols a new gateway only. */
  forGateway?: string | null;
}

/** An MQTT login of an enrolled gateway (password kept as a salted scrypt hash). */
export interface MqttCredential {
  username: string;
  gateway: string;
  salt: string;
  hash: string;
  revokedAt: number | null;
}

/** API tokens, enrolment tokens and MQTT credentials. */
export interface AccessStore {
  addToken(t: NewToken): Promise<TokenRecord>;
  /** Replace the hash of the token with this name (the bootstrap admin token), creating it if needed. */
  putToken(t: NewToken): Promise<void>;
  findToken(hash: string): Promise<TokenRecord | undefined>;
  listTokens(): Promise<TokenRecord[]>;
  revokeToken(id: number, at: number): Promise<boolean>;
  addEnrolment(e: NewEnrolment): Promise<{ id: number }>;
  /** An unused, unexpired enrolment token's target (null: a new gateway), without spending it; undefined if it cannot be used. */
  findEnrolment(hash: string, at: number): Promise<{ forGateway: string | null } | undefined>;
  /**
   * Spend an unused, unexpired enrolment token on `gateway`, in one transaction
   * with the gateway's state: a token without a target only if `gateway` is not
   * in the registry (it is then created), a token for a gateway only for that
   * gateway while it exists and is not revoked. False, and the token unspent,
   * otherwise.
   */
  consumeEnrolment(hash: string, gateway: string, at: number): Promise<boolean>;
  putMqttCredential(c: Omit<MqttCredential, 'revokedAt'>, at: number): Promise<void>;
  findMqttCredential(username: string): Promise<MqttCredential | undefined>;
}
