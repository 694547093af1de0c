/**
 * The access store in SQL both engines speak: API token hashes, one-time
 * enrolment tokens (spent in one transaction with the gateway they enrol),
 * MQTT credentials.
 */
import type { Sql } from './sql.js';
import type { AccessStore, MqttCredential, NewEnrolment, NewToken, TokenRecord } from './access-store.js';
import { ENSURE_GATEWAY } from './sql-common.js';

type TokenRow = { id: number; name: string; role: string; created_at: number; created_by: string; revoked_at: number | null };

const tokenCols = 'id, name, role, created_at, created_by, revoked_at';

function tokenRecord(r: TokenRow): TokenRecord {
  return { id: r.id, name: r.name, role: r.role, createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at };
}

export class SqlAccess implements AccessStore {
  constructor(private readonly sql: Sql) {}

  async addToken(t: NewToken): Promise<TokenRecord> {
    const r = await this.sql.get<{ id: number }>('INSERT INTO api_tokens(name, role, hash, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id', [
      t.name, t.role, t.hash, t.createdBy, t.createdAt,
    ]);
    return { id: r!.id, name: t.name, role: t.role, createdAt: t.createdAt, createdBy: t.createdBy, revokedAt: null };
  }

  async putToken(t: NewToken): Promise<void> {
    await this.sql.tx(async (db) => {
      await db.run('DELETE FROM api_tokens WHERE name = ? AND created_by = ?', [t.name, t.createdBy]);
      await db.run('DELETE FROM api_tokens WHERE hash = ?', [t.hash]);
      await db.run('INSERT INTO api_tokens(name, role, hash, created_by, created_at) VALUES (?, ?, ?, ?, ?)', [t.name, t.role, t.hash, t.createdBy, t.createdAt]);
    });
  }

  async findToken(hash: string): Promise<TokenRecord | undefined> {
    const r = await this.sql.get<TokenRow>(`SELECT ${tokenCols} FROM api_tokens WHERE hash = ? AND revoked_at IS NULL`, [hash]);
    return r && tokenRecord(r);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.sql.all<TokenRow>(`SELECT ${tokenCols} FROM api_tokens ORDER BY id`)).map(tokenRecord);
  }

  async revokeToken(id: number, at: number): Promise<boolean> {
    return (await this.sql.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id])) > 0;
  }

  async addEnrolment(e: NewEnrolment): Promise<{ id: number }> {
    const r = await this.sql.get<{ id: number }>('INSERT INTO enrolments(hash, note, created_by, created_at, expires_at, for_gateway) VALUES (?, ?, ?, ?, ?, ?) RETURNING id', [
      e.hash, e.note, e.createdBy, e.createdAt, e.expiresAt, e.forGateway ?? null,
    ]);
    return { id: r!.id };
  }

  async findEnrolment(hash: string, at: number): Promise<{ forGateway: string | null } | undefined> {
    const r = await this.sql.get<{ for_gateway: string | null }>('SELECT for_gateway FROM enrolments WHERE hash = ? AND used_at IS NULL AND expires_at > ?', [hash, at]);
    return r && { forGateway: r.for_gateway };
  }

  async consumeEnrolment(hash: string, gateway: string, at: number): Promise<boolean> {
    const refused = new Error('enrolment refused'); // thrown to roll the spend back: a refused attempt keeps its token
    try {
      return await this.sql.tx(async (db) => {
        // Spend first: in PostgreSQL the row lock makes a second spender wait, then find it used.
        const e = await db.get<{ for_gateway: string | null }>(
          'UPDATE enrolments SET used_at = ?, gateway = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING for_gateway',
          [at, gateway, hash, at],
        );
        if (!e) return false;
        const ok =
          e.for_gateway === null
            ? // A new gateway: the insert is the claim, so two tokens cannot both take one id.
              (await db.run(ENSURE_GATEWAY, [gateway, at])) === 1
            : e.for_gateway === gateway && !!(await db.get('SELECT 1 AS x FROM gateways WHERE id = ? AND revoked_at IS NULL', [gateway]));
        if (!ok) throw refused;
        return true;
      });
    } catch (err) {
      if (err === refused) return false;
      throw err;
    }
  }

  async putMqttCredential(c: Omit<MqttCredential, 'revokedAt'>, at: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO mqtt_credentials(username, gateway, salt, hash, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(username) DO UPDATE SET gateway = excluded.gateway, salt = excluded.salt, hash = excluded.hash, created_at = excluded.created_at, revoked_at = NULL`,
      [c.username, c.gateway, c.salt, c.hash, at],
    );
  }

  async findMqttCredential(username: string): Promise<MqttCredential | undefined> {
    const r = await this.sql.get<{ username: string; gateway: string; salt: string; hash: string; revoked_at: number | null }>(
      'SELECT username, gateway, salt, hash, revoked_at FROM mqtt_credentials WHERE username = ?',
      [username],
    );
    return r && { username: r.username, gateway: r.gateway, salt: r.salt, hash: r.hash, revokedAt: r.revoked_at };
  }
}
