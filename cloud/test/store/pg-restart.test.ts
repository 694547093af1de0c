/**
 * A PostgreSQL restart under ingest (pnpm chaos --netem) ends each server
 * connection with FATAL 57P01 "terminating connection due to administrator
 * command". On a client out of the pool between two queries of a transaction
 * that arrives as an 'error' event, which ended the whole process when nothing
 * listened. pg_terminate_backend sends the same to one connection.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgSql } from '../../src/store/sql.js';
import { TEST_DATABASE_URL, freshPgStore } from './pg.js';

async function terminate(pid: number): Promise<void> {
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  try {
    await c.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await c.end();
  }
}

describe('postgres connection cut inside a transaction', () => {
  it('fails the transaction, not the process, and the next one runs on a new connection', async () => {
    const { store, cleanup } = await freshPgStore();
    try {
      const sql = new PgSql(store.pool);
      let pid = 0;
      const tx = sql.tx(async (db) => {
        pid = (await db.get<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;
        await terminate(pid);
        // The client is idle in the transaction when the server's FATAL arrives.
        await new Promise((r) => setTimeout(r, 300));
        return db.get<{ one: number }>('SELECT 1 AS one');
      });
      await expect(tx).rejects.toThrow();
      const again = await sql.tx((db) => db.get<{ pid: number }>('SELECT pg_backend_pid() AS pid'));
      expect(again!.pid).not.toBe(pid);
      // The store goes on too.
      await store.telemetry.commitTelemetry({ gateway: 'g', firstSeq: 1, lastSeq: 1, readings: [{ device: 'd', point: 'p', ts: Date.now(), value: 1 }] });
      expect(Number((await store.pool.query('SELECT count(*) AS n FROM readings')).rows[0].n)).toBe(1);
    } finally {
      await cleanup();
    }
  });
});
