/**
 * How long a database query may wait for its answer, per async context: the API
 * sets it for each request (api/server.ts), PgSql passes it to pg as
 * `query_timeout`. A PostgreSQL gone silent (a host powered off, a partition)
 * leaves the pool's open connections waiting for an answer that never comes,
 * for as long as TCP retransmits (about 15 minutes); with the budget the request
 * fails instead (503 STORE_UNAVAILABLE) and pg drops that connection. Ingest,
 * compaction and retention run outside any request and keep no limit: a long
 * commit or a day's compaction is not cut.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const budget = new AsyncLocalStorage<number>();

/** Run `fn` (and everything it starts) with each query limited to `ms`. */
export function withQueryTimeout<T>(ms: number, fn: () => T): T {
  return budget.run(ms, fn);
}

/** The current context's limit, ms, or undefined (none). */
export function queryTimeout(): number | undefined {
  return budget.getStore();
}
