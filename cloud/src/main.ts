/**
 * The cloud on its own (no demo agent): `pnpm --dir cloud start`, configured by
 * the environment. One box: SQLite and the embedded broker. The city:
 * DATABASE_URL, LIFELINE_BROKER_URL and LIFELINE_SHARED_INGEST=1 on every node.
 *
 *   PORT (8080)  HOST (127.0.0.1)  LIFELINE_VAR_DIR (var/)  LIFELINE_ADMIN_TOKEN (generated, printed)
 *   DATABASE_URL  LIFELINE_DB_SCHEMA  LIFELINE_RETENTION_DAYS (400)  LIFELINE_COMPRESS_AFTER_DAYS (1)
 *   LIFELINE_BROKER_URL  LIFELINE_BROKER_USERNAME  LIFELINE_BROKER_PASSWORD  LIFELINE_SHARED_INGEST (0)  LIFELINE_INGEST_CONCURRENCY (4)
 *   LIFELINE_BROKER_PORT (1883)  LIFELINE_BROKER_HOST (127.0.0.1)  LIFELINE_PUBLIC_BROKER_URL  LIFELINE_MAX_MESSAGE_BYTES (1048576)  LIFELINE_API_QUERY_TIMEOUT_MS (30000)
 *   LIFELINE_ALARM_WATCH (1)  LIFELINE_HEARTBEAT_MS (30000)  LIFELINE_SILENT_AFTER_HEARTBEATS (3)  LIFELINE_STALE_AFTER_MS (300000)  LIFELINE_STALE_AFTER_POLLS (5)
 *   LIFELINE_BACKLOG_DEPTH (100000)  LIFELINE_BACKLOG_AGE_MS (900000)  LIFELINE_CLOCK_OFFSET_MS (60000)
 *   LIFELINE_TILE_URL (none: the console shows district outlines only)  LIFELINE_TILE_COORDS (gcj02 | wgs84)  LIFELINE_TILE_ATTRIBUTION
 * The embedded broker admits no anonymous client: gateways enrol (docs/operations.md).
 */
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { isLifelineError } from '@lifeline/shared';
import { startCloud } from './cloud.js';

const env = process.env;

function int(name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`${name} must be an integer ${min}..${max}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}
/** LIFELINE_TILE_COORDS: the coordinates the city's tiles are drawn in. */
function tileCoords(raw: string | undefined): 'gcj02' | 'wgs84' | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'gcj02' || raw === 'wgs84') return raw;
  console.error(`LIFELINE_TILE_COORDS must be gcj02 or wgs84, got ${JSON.stringify(raw)}`);
  process.exit(2);
}
const flag = (name: string) => env[name] === '1' || env[name] === 'true';

async function main(): Promise<void> {
  const log = pino({ level: env.LOG_LEVEL ?? 'info' });
  const varDir = resolve(env.LIFELINE_VAR_DIR ?? 'var');
  const cloud = await startCloud({
    log,
    port: int('PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    dbPath: join(varDir, 'cloud.db'),
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: env.LIFELINE_DB_SCHEMA || undefined,
    retentionDays: int('LIFELINE_RETENTION_DAYS', 400, 1, 36_500),
    compressAfterDays: int('LIFELINE_COMPRESS_AFTER_DAYS', 1, 0, 36_500),
    brokerUrl: env.LIFELINE_BROKER_URL || undefined,
    brokerUsername: env.LIFELINE_BROKER_USERNAME || undefined,
    brokerPassword: env.LIFELINE_BROKER_PASSWORD || undefined,
    sharedIngest: flag('LIFELINE_SHARED_INGEST'),
    ingestConcurrency: int('LIFELINE_INGEST_CONCURRENCY', 4, 1, 64),
    brokerPort: int('LIFELINE_BROKER_PORT', 1883, 0, 65535),
    brokerHost: env.LIFELINE_BROKER_HOST || undefined,
    maxMessageBytes: int('LIFELINE_MAX_MESSAGE_BYTES', 1_048_576, 1024, 16_777_216),
    apiQueryTimeoutMs: int('LIFELINE_API_QUERY_TIMEOUT_MS', 30_000, 1000, 3_600_000),
    publicBrokerUrl: env.LIFELINE_PUBLIC_BROKER_URL || undefined,
    adminToken: env.LIFELINE_ADMIN_TOKEN || undefined,
    console: {
      tileUrl: env.LIFELINE_TILE_URL || undefined,
      tileAttribution: env.LIFELINE_TILE_ATTRIBUTION || undefined,
      tileCoords: tileCoords(env.LIFELINE_TILE_COORDS),
    },
    alarms: {
      // Off on all but one node of a multi-node cloud: one watch raises each alarm once.
      watch: env.LIFELINE_ALARM_WATCH === undefined || env.LIFELINE_ALARM_WATCH === '' || flag('LIFELINE_ALARM_WATCH'),
      heartbeatMs: int('LIFELINE_HEARTBEAT_MS', 30_000, 100, 86_400_000),
      silentAfterHeartbeats: int('LIFELINE_SILENT_AFTER_HEARTBEATS', 3, 1, 1000),
      staleAfterMs: int('LIFELINE_STALE_AFTER_MS', 300_000, 100, 30 * 86_400_000),
      staleAfterPolls: int('LIFELINE_STALE_AFTER_POLLS', 5, 1, 1000),
      backlogDepth: int('LIFELINE_BACKLOG_DEPTH', 100_000, 1, 1_000_000_000),
      backlogAgeMs: int('LIFELINE_BACKLOG_AGE_MS', 900_000, 1000, 30 * 86_400_000),
      clockOffsetMs: int('LIFELINE_CLOCK_OFFSET_MS', 60_000, 1000, 86_400_000),
    },
  });
  log.info({ api: cloud.apiUrl, broker: cloud.brokerUrl, store: env.DATABASE_URL ? 'postgres' : 'sqlite' }, 'cloud running');
  if (!env.LIFELINE_ADMIN_TOKEN) console.log(`admin token (generated; set LIFELINE_ADMIN_TOKEN to choose it): ${cloud.adminToken}`);
  const stop = (signal: string) => {
    log.info({ signal }, 'stopping');
    cloud.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(isLifelineError(err) ? err.message : err);
  process.exit(1);
});
