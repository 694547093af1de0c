/**
 * The cloud for one box: embedded broker (unless told to use another),
 * store, ingest worker and the HTTP API, started and stopped together.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';
import { IngestWorker } from './ingest/worker.js';
import { buildApi } from './api/server.js';
import { TokenAuth } from './api/auth.js';

export interface CloudOptions {
  log: Logger;
  /** HTTP port (0 = any free port). */
  port: number;
  host?: string;
  /** SQLite file of the store. */
  dbPath: string;
  /** Use this broker instead of starting the embedded one. */
  brokerUrl?: string;
  /** Embedded broker port (0 = any free port). */
  brokerPort?: number;
  /** Admin token; generated when absent. */
  adminToken?: string;
  /** Use a shared subscription for ingest (external brokers). */
  sharedIngest?: boolean;
}

export interface Cloud {
  readonly apiUrl: string;
  readonly brokerUrl: string;
  readonly adminToken: string;
  readonly store: Store;
  readonly ingest: IngestWorker;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export async function startCloud(opts: CloudOptions): Promise<Cloud> {
  const { log } = opts;
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch((err) => log.error({ err }, 'cloud shutdown step failed'));
    closers.length = 0;
  };
  try {
    const store = new SqliteStore(opts.dbPath);
    await store.migrate();
    closers.push(() => store.close());

    const auth = new TokenAuth();
    const adminToken = auth.add(opts.adminToken ?? TokenAuth.generate(), 'admin', 'admin');

    let broker: EmbeddedBroker | undefined;
    if (!opts.brokerUrl) {
      broker = await startEmbeddedBroker({ port: opts.brokerPort ?? 0, log: log.child({ part: 'broker' }) });
      closers.push(() => broker!.close());
    }
    const brokerUrl = opts.brokerUrl ?? broker!.url;

    const ingest = new IngestWorker({ url: brokerUrl, store, log: log.child({ part: 'ingest' }), shared: opts.sharedIngest });
    await ingest.start();
    closers.push(() => ingest.stop());

    const app = await buildApi({ store, auth, log: log.child({ part: 'api' }), health: () => ({ ingest: ingest.counters }) });
    await app.listen({ port: opts.port, host: opts.host ?? '127.0.0.1' });
    closers.push(() => app.close());
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : opts.port;
    return { apiUrl: `http://${opts.host ?? 'localhost'}:${port}`, brokerUrl, adminToken, store, ingest, app, close };
  } catch (err) {
    await close();
    throw err;
  }
}
