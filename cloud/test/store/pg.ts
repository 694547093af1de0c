/** PostgreSQL test helpers: the machine's server, one schema per test. */
import pg from 'pg';
import { PgStore, type PgStoreOptions } from '../../src/store/pg-store.js';
import { requireService } from '../../../test/helpers.js';

/** The machine's test database (trust auth). */
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let n = 0;
/** A migrated PgStore in a fresh schema; cleanup drops the schema. */
export async function freshPgStore(opts: Partial<PgStoreOptions> = {}): Promise<{ store: PgStore; schema: string; cleanup: () => Promise<void> }> {
  await requireService('PostgreSQL', '127.0.0.1', 5432);
  const schema = `t_${process.pid}_${++n}_${Math.random().toString(36).slice(2, 8)}`;
  const store = new PgStore({ url: TEST_DATABASE_URL, schema, poolSize: 4, ...opts });
  await store.migrate();
  return {
    store,
    schema,
    cleanup: async () => {
      await store.close();
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}
