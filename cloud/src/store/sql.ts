/**
 * A small async SQL surface over better-sqlite3 and pg, so the stores share
 * every statement that both dialects understand. Statements use `?`
 * placeholders (rewritten to `$n` for PostgreSQL); values are always bound as
 * parameters, never spliced into SQL text.
 *
 *   concern stores (sql-*.ts) ─▶ Sql ─┬─▶ SqliteSql (better-sqlite3, one connection, async lock for transactions)
 *                                     └─▶ PgSql     (pg.Pool; a transaction holds one client)
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { queryTimeout } from './query-budget.js';

/** The two dialects the stores speak. */
export type Dialect = 'sqlite' | 'postgres';

/** Async statement runner; `tx` gives a runner bound to one transaction. */
export interface Sql {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: unknown[]): Promise<T | undefined>;
  /** Number of rows changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * better-sqlite3 is synchronous; a transaction spanning awaits must keep other
 * callers out until it ends, so every call waits for the open transaction.
 */
export class SqliteSql implements Sql {
  readonly dialect = 'sqlite' as const;
  private lock: Promise<void> = Promise.resolve();
  private stmts = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  /** A cached prepared statement. */
  prepare(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private direct: Sql = {
    dialect: 'sqlite',
    all: async <T>(sql: string, params: unknown[] = []) => this.prepare(sql).all(...params) as T[],
    get: async <T>(sql: string, params: unknown[] = []) => this.prepare(sql).get(...params) as T | undefined,
    run: async (sql: string, params: unknown[] = []) => this.prepare(sql).run(...params).changes,
    tx: (fn) => fn(this.direct),
    exec: async (sql: string) => void this.db.exec(sql),
  };

  async exec(sql: string): Promise<void> {
    await this.lock;
    this.db.exec(sql);
  }

  // Reads do not wait for an open transaction: a statement runs whole between the
  // transaction's awaits, so the API stays responsive while ingest writes in chunks.
  // (It may see that transaction's uncommitted rows; they are committed a moment later
  // unless the disk fails.)
  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.prepare(sql).all(...params) as T[];
  }
  async get<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return this.prepare(sql).get(...params) as T | undefined;
  }
  async run(sql: string, params: unknown[] = []): Promise<number> {
    await this.lock;
    return this.prepare(sql).run(...params).changes;
  }

  async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    // Queue behind the open transaction, then hold the lock until this one ends.
    let release!: () => void;
    const prev = this.lock;
    this.lock = prev.then(() => new Promise<void>((r) => (release = r)));
    await prev;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.direct);
        this.db.exec('COMMIT');
        return out;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      release();
    }
  }
}

/** `a = ? AND b = ?` → `a = $1 AND b = $2` (our SQL never holds `?` inside a literal). */
const converted = new Map<string, string>();
export function toPgPlaceholders(sql: string): string {
  let out = converted.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    converted.set(sql, out);
  }
  return out;
}

/** A statement with the context's query budget as pg's per-query `query_timeout` (pg reads it; its types do not list it). */
function budgeted(text: string, values?: unknown[]): pg.QueryConfig {
  const config: pg.QueryConfig & { query_timeout?: number } = { text, values, query_timeout: queryTimeout() };
  return config;
}

/** pg over a pool; `tx` runs on one client of the pool. */
export class PgSql implements Sql {
  readonly dialect = 'postgres' as const;
  constructor(private readonly q: pg.Pool | pg.PoolClient, private readonly inTx = false) {}

  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }
  async get<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }
  async run(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
  }
  /** One statement, limited by the context's query budget (an API request's; query-budget.ts). */
  private query(sql: string, values: unknown[]): Promise<pg.QueryResult> {
    return this.q.query(budgeted(toPgPlaceholders(sql), values));
  }
  async exec(sql: string): Promise<void> {
    await this.q.query(sql);
  }
  /** COPY … FROM STDIN with `data` as the stream (text, or binary with `FORMAT binary`); on the transaction's client when in one. */
  async copy(sql: string, data: string | Buffer): Promise<void> {
    const out = this.inTx ? undefined : await checkout(this.q as pg.Pool);
    const client = out?.client ?? (this.q as pg.PoolClient);
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = client.query(copyFrom(sql));
        stream.on('error', reject);
        stream.on('finish', () => resolve());
        stream.end(data);
      });
    } finally {
      out?.release();
    }
  }
  async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.inTx) return fn(this);
    const { client, release } = await checkout(this.q as pg.Pool);
    let dead: unknown;
    try {
      await client.query(budgeted('BEGIN'));
      const out = await fn(new PgSql(client, true));
      await client.query(budgeted('COMMIT'));
      return out;
    } catch (err) {
      await client.query(budgeted('ROLLBACK')).catch((e: unknown) => (dead = e));
      throw err;
    } finally {
      release(dead);
    }
  }
}

/**
 * A client out of the pool, listened to while out: the server going away (a restart)
 * between two queries is an 'error' event on the client, which would end the process
 * with no listener (the pool listens only to idle clients). A broken client is
 * destroyed on release, not handed out again.
 */
export async function checkout(pool: pg.Pool): Promise<{ client: pg.PoolClient; release: (err?: unknown) => void }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => (broken = err);
  client.on('error', onError);
  return {
    client,
    release: (err?: unknown) => {
      client.off('error', onError);
      client.release(broken ?? (err === undefined ? undefined : err instanceof Error ? err : new Error(String(err))));
    },
  };
}
