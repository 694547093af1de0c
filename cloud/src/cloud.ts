/**
 * The cloud for one box (or one node of the city): store, embedded broker
 * (unless told to use another), ingest worker, live hub, webhooks, commands,
 * enrolment and the HTTP API, started and stopped together.
 *
 *   store (SQLite file | PostgreSQL DATABASE_URL) ◀── withLive ◀── ingest ◀── broker (aedes + ACL | external)
 *        │                                               │
 *        └──▶ API (fastify) ◀── LiveHub ──▶ webhooks      └──▶ SSE
 *             CommandCenter.onCommand ──▶ (downlink, wired by sync)
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { gatewayConfigJsonSchema } from '@lifeline/shared/config';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded.js';
import { SqliteStore } from './store/sqlite-store.js';
import { PgStore } from './store/pg-store.js';
import type { Store } from './store/store.js';
import { IngestWorker } from './ingest/worker.js';
import { buildApi } from './api/server.js';
import type { ConsoleSettings } from './api/routes/console.js';
import { TokenAuth } from './api/auth.js';
import { LiveHub, withLive } from './live.js';
import { CommandCenter } from './command-center.js';
import { CommandChannel } from './ingest/command-channel.js';
import { BrokerAuthority, Enrolment, type CertificateIssuer } from './enrol.js';
import { WebhookDispatcher, type WebhookOptions } from './webhooks.js';
import { CloudAlarms } from './cloud-alarms.js';
import { CloudWatch } from './watch/cloud-watch.js';
import { Maintenance } from './maintenance.js';
import { Escalator, type EscalationOptions } from './notify/escalation.js';
import { Digester, type DigestOptions } from './notify/digest.js';
import { cloudAlarmSettings, type CloudAlarmOptions } from './watch/options.js';


export interface CloudOptions {
  log: Logger;
  /** HTTP port (0 = any free port). */
  port: number;
  host?: string;
  /** SQLite file of the store (used when no databaseUrl). */
  dbPath: string;
  /** PostgreSQL instead of SQLite (DATABASE_URL). */
  databaseUrl?: string;
  /** PostgreSQL schema (default: the server's search_path). */
  databaseSchema?: string;
  /** Days of readings kept (default 400); older ones are dropped hourly. */
  retentionDays?: number;
  /** Days a day's readings stay rows after it ends before they are compressed (default 1; sql-cold.ts). Checked hourly. */
  compressAfterDays?: number;
  /** Use this broker instead of starting the embedded one. */
  brokerUrl?: string;
  /** Login of the ingest client on an external broker. */
  brokerUsername?: string;
  brokerPassword?: string;
  /**
   * Longest an API request's database query may wait for its answer, ms (default 30000): past it the request is
   * a 503 and the connection is dropped, so a PostgreSQL gone silent does not hold requests for TCP's 15 minutes.
   */
  apiQueryTimeoutMs?: number;
  /** Embedded broker port (0 = any free port). */
  brokerPort?: number;
  /** Embedded broker listen address (default 127.0.0.1; 0.0.0.0 to take gateways from the network). */
  brokerHost?: string;
  /**
   * Embedded broker: let clients without a username in, with no ACL (default false).
   * Only for tests of that path: the product and the demo never set it (docs/operations.md).
   */
  brokerAllowAnonymous?: boolean;
  /**
   * Largest uplink message ingest takes, bytes (default 1 MiB; a larger batch is answered
   * TooLarge). The embedded broker drops a client whose message passes twice this.
   */
  maxMessageBytes?: number;
  /** Broker URL handed to enrolled gateways (default: the embedded broker's). */
  publicBrokerUrl?: string;
  /** Admin token; generated when absent. */
  adminToken?: string;
  /** Use a shared subscription for ingest (external brokers). */
  sharedIngest?: boolean;
  /** Batches of different gateways the ingest worker commits at once (default 4). */
  ingestConcurrency?: number;
  /** JSON Schema of the gateway config; default the one shared publishes (@lifeline/shared/config). */
  gatewayConfigSchema?: object;
  /** The operator console's map settings (the city's own tile service); default: the offline district outlines only. */
  console?: ConsoleSettings;
  webhooks?: WebhookOptions;
  /** Escalation of unacknowledged alarms by the routing rules (check interval; a clock for tests). */
  escalation?: EscalationOptions;
  /** Daily digests (check interval; a clock for tests). */
  digest?: DigestOptions;
  /** Signs gateways' CSRs at enrolment (client certificates for Mosquitto mutual TLS); none by default. */
  certificateIssuer?: CertificateIssuer;
  /** API rate limits (see ApiOptions). */
  rateLimit?: { authFailuresPerMinute?: number; enrollPerMinute?: number };
  /** Thresholds of the alarms the cloud raises (gateway silent, device stale, backlog, clock); defaults in watch/options.ts. */
  alarms?: CloudAlarmOptions;
  /** How long a point write may take to reach its gateway before the gateway refuses it as expired (default 5 min). */
  pointWriteTtlMs?: number;
}

export interface Cloud {
  readonly apiUrl: string;
  readonly brokerUrl: string;
  readonly adminToken: string;
  /** The store as the ingest sees it (commits also publish to `live`). */
  readonly store: Store;
  readonly ingest: IngestWorker;
  readonly app: FastifyInstance;
  /** Committed readings and events, for SSE and webhooks; ingest may publish here directly. */
  readonly live: LiveHub;
  /** Commands to gateways; the downlink registers with `commands.onCommand`. */
  readonly commands: CommandCenter;
  readonly enrolment: Enrolment;
  /** Broker logins; `authority.service` is the cloud's own MQTT credential. */
  readonly authority: BrokerAuthority;
  readonly webhooks: WebhookDispatcher;
  /** Escalation of unacknowledged alarms (routing rules). */
  readonly escalator: Escalator;
  /** Daily digests to the receivers that ask for one. */
  readonly digester: Digester;
  /** The periodic watch raising gateway-silent, device-stale, backlog and clock alarms (undefined when alarms.watch is false). */
  readonly watch?: CloudWatch;
  close(): Promise<void>;
}

export async function startCloud(opts: CloudOptions): Promise<Cloud> {
  const { log } = opts;
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch((err: unknown) => log.error({ err }, 'cloud shutdown step failed'));
    closers.length = 0;
  };
  try {
    // Checked before anything starts: a bad threshold is an answer, not a half-started cloud.
    const alarmSettings = cloudAlarmSettings(opts.alarms);
    const cold = { compressAfterDays: opts.compressAfterDays ?? 1 };
    const raw: Store = opts.databaseUrl
      ? // Each concurrent ingest commit holds a connection; the API needs some too.
        new PgStore({ url: opts.databaseUrl, schema: opts.databaseSchema, retentionDays: opts.retentionDays, poolSize: Math.max(10, (opts.ingestConcurrency ?? 4) + 6), cold })
      : new SqliteStore(opts.dbPath, { log: log.child({ part: 'store' }), cold });
    closers.push(() => raw.close());
    await raw.migrate();
    const retentionMs = (opts.retentionDays ?? 400) * 86_400_000;
    // Retention, then compression of the days old enough (in the background, a series-day at a time, each committed on its own).
    const stopCompaction = new AbortController();
    let retaining: Promise<unknown> = Promise.resolve();
    const retain = () =>
      (retaining = raw.telemetry
        .applyRetention(Date.now() - retentionMs)
        .catch((err: unknown) => log.error({ err }, 'retention failed'))
        .then(() => raw.telemetry.compact(Date.now(), stopCompaction.signal))
        .then((r) => {
          if (r.seriesDays) log.info({ seriesDays: r.seriesDays, readings: r.readings, bytes: r.bytes }, 'compressed old days');
          if (r.failed.length) log.error({ failed: r.failed.slice(0, 10), count: r.failed.length }, 'some series-days could not be compressed; their readings stay in rows');
        })
        .catch((err: unknown) => log.error({ err }, 'compression failed')));
    void retain();
    const retention = setInterval(retain, 3_600_000);
    retention.unref();
    closers.push(async () => {
      clearInterval(retention);
      stopCompaction.abort();
      await retaining; // the series-days under way finish (one per day in flight); the store closes after
    });

    const live = new LiveHub(log.child({ part: 'live' }));
    const store = withLive(raw, live);

    const auth = new TokenAuth(raw);
    const adminToken = await auth.bootstrap(opts.adminToken ?? TokenAuth.generate());

    const allowAnonymous = opts.brokerAllowAnonymous ?? false;
    const authority = new BrokerAuthority(raw, allowAnonymous);
    const maxMessageBytes = opts.maxMessageBytes ?? 1_048_576;
    if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1024)
      throw new LifelineError(ErrorCodes.ConfigInvalid, `maxMessageBytes: expected an integer ≥ 1024, got ${JSON.stringify(opts.maxMessageBytes)}`);
    let broker: EmbeddedBroker | undefined;
    if (!opts.brokerUrl) {
      if (allowAnonymous) log.warn('embedded broker admits anonymous clients, with no topic ACL: for tests only');
      broker = await startEmbeddedBroker({
        port: opts.brokerPort ?? 0,
        host: opts.brokerHost,
        log: log.child({ part: 'broker' }),
        authority,
        maxMessageBytes: 2 * maxMessageBytes,
      });
      closers.push(() => broker!.close());
    }
    const brokerUrl = opts.brokerUrl ?? broker!.url;

    const ingest = new IngestWorker({
      url: brokerUrl,
      store,
      log: log.child({ part: 'ingest' }),
      shared: opts.sharedIngest,
      concurrency: opts.ingestConcurrency,
      maxMessageBytes,
      username: opts.brokerUrl ? opts.brokerUsername : authority.service.username,
      password: opts.brokerUrl ? opts.brokerPassword : authority.service.password,
    });
    await ingest.start();
    closers.push(() => ingest.stop());

    // Maintenance windows, applied in the cloud to every gateway's alarms and its own: webhooks, the watch and the API ask it.
    const maintenance = new Maintenance(raw);
    const webhooks = new WebhookDispatcher(raw, live, log.child({ part: 'webhooks' }), opts.webhooks, async (gw, t) => !!(await maintenance.covering(gw, t.device, t.point)));
    await webhooks.start();
    closers.push(() => webhooks.stop());
    // Derived from stored alarm state and keyed in the outbox: every node may run them, each step is queued once.
    const escalator = new Escalator(raw, webhooks, log.child({ part: 'escalation' }), opts.escalation, async (gw, device, point) => !!(await maintenance.covering(gw, device, point)));
    escalator.start();
    closers.push(() => escalator.stop());
    const digester = new Digester(raw, webhooks, log.child({ part: 'digest' }), opts.digest);
    digester.start(true);
    closers.push(() => digester.stop());

    const commands = new CommandCenter(raw, log.child({ part: 'commands' }), { pointWriteTtlMs: opts.pointWriteTtlMs });
    // The downlink: commands recorded by the API go to the gateway over MQTT, answers come back.
    const downlink = new CommandChannel({
      url: brokerUrl,
      username: opts.brokerUrl ? opts.brokerUsername : authority.service.username,
      password: opts.brokerUrl ? opts.brokerPassword : authority.service.password,
      store: raw,
      center: commands,
      log: log.child({ part: 'downlink' }),
      pointWriteTtlMs: commands.pointWriteTtlMs,
    });
    await downlink.start();
    closers.push(() => downlink.stop());
    const enrolment = new Enrolment(raw, opts.publicBrokerUrl ?? brokerUrl, opts.certificateIssuer);
    // The gateway config schema is a shared contract (generated from edge's TypeBox schema, checked fresh in CI).
    const gatewayConfigSchema = opts.gatewayConfigSchema ?? gatewayConfigJsonSchema;

    // On the live-wrapped store: the cloud's transitions reach SSE and webhooks like any gateway's.
    const cloudAlarms = new CloudAlarms(store);
    let watch: CloudWatch | undefined;
    if (alarmSettings.watch) {
      watch = new CloudWatch({ store: raw, alarms: cloudAlarms, settings: alarmSettings, log: log.child({ part: 'watch' }), maintenance });
      watch.start();
      closers.push(() => watch!.stop());
    }

    const app = await buildApi({
      store: raw,
      auth,
      log: log.child({ part: 'api' }),
      live,
      commands,
      enrolment,
      webhooks,
      gatewayConfigSchema,
      rateLimit: opts.rateLimit,
      console: opts.console,
      cloudAlarms,
      maintenance,
      queryTimeoutMs: opts.apiQueryTimeoutMs,
      onRevoke: (gw) => broker?.disconnectGateway(gw),
      health: () => ({ ingest: ingest.counters, live: { ...live.counters, subscribers: live.subscribers }, ...(broker ? { broker: broker.counters } : {}) }),
    });
    await app.listen({ port: opts.port, host: opts.host ?? '127.0.0.1' });
    closers.push(() => app.close());
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : opts.port;
    return { apiUrl: `http://${opts.host ?? 'localhost'}:${port}`, brokerUrl, adminToken, store, ingest, app, live, commands, enrolment, authority, webhooks, escalator, digester, watch, close };
  } catch (err) {
    await close();
    throw err;
  }
}
