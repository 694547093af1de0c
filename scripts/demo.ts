/**
 * `pnpm start`: the single-box demo. One process runs
 *   - the cloud: embedded MQTT broker (aedes), SQLite store, ingest, API + operator console;
 *   - Modbus TCP simulators serving the example site's devices (a slice of Jining,
 *     docs/demo-site.md) in one city scene: China time, street lights on at dusk
 *     and dimmed after midnight, demand peaks, a heating curve, and a rainstorm
 *     every 10 minutes (the first a minute in) that floods the underpass;
 *   - the edge agent, configured by edge/examples/gateway.yaml, enrolled like any
 *     gateway: the broker admits no anonymous client, the demo's included.
 * Ports: PORT (HTTP, default 8080); LIFELINE_BROKER_PORT (default: a free one);
 * the simulators always take free ports. LIFELINE_DEMO_DAY_SPEED (default 1)
 * runs the city's day that many times faster (48: a day in 30 minutes). Ctrl-C stops everything.
 * Files: LIFELINE_VAR_DIR (default var/): cloud.db, the agent's buffer and its
 * MQTT login (gw-demo-1.login.json), all readable by the owner only.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Logger } from 'pino';
import { startCloud, type Cloud } from '@lifeline/cloud';
import { createLogger, runAgent, validateConfig, writeSecretFile } from '@lifeline/edge';
import { isLifelineError } from '@lifeline/shared';
import { startDemoSite } from './demo-site.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const exampleFile = join(root, 'edge/examples/gateway.yaml');
const varDir = resolve(process.env.LIFELINE_VAR_DIR ?? join(root, 'var'));

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name} must be a port number 0..65535, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

/** var/ holds secrets (the store's webhook secrets, the gateway's password): the owner's alone, files left wider by an older run included. */
function ownerOnlyVar(dir: string, log: Logger): void {
  mkdirSync(dir, { recursive: true });
  const narrow = (path: string, to: number) => {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) === 0) return;
    chmodSync(path, to);
    log.warn({ path, was: mode.toString(8), now: to.toString(8) }, 'demo file was readable by other users; narrowed to the owner');
  };
  narrow(dir, 0o700);
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isFile()) narrow(join(dir, e.name), 0o600);
}

type Login = { username: string; password: string };

/**
 * The demo gateway's MQTT login, through the real enrolment path: the saved one while
 * the cloud still accepts it (a restart on the same cloud.db), else a fresh enrolment.
 */
async function demoLogin(cloud: Cloud, gateway: string, name: string | undefined, file: string, log: Logger): Promise<Login> {
  if (existsSync(file)) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Login;
      const who = await cloud.authority.authenticate(saved.username, saved.password);
      if (who?.kind === 'gateway' && who.gateway === gateway) return { username: saved.username, password: saved.password };
      log.info({ file }, 'the saved demo gateway login is no longer accepted; enrolling again');
    } catch (err) {
      log.warn({ file, err: (err as Error).message }, 'the saved demo gateway login is unreadable; enrolling again');
    }
  }
  // A cloud.db that already knows the gateway (its login file lost) needs a token issued to replace it, as a swapped box would.
  const known = await cloud.store.registry.getGateway(gateway);
  const { token } = await cloud.enrolment.createToken('pnpm start', 60_000, `demo gateway ${gateway}`, known ? gateway : undefined);
  const { mqtt } = await cloud.enrolment.enroll(token, { gateway, ...(name ? { name } : {}) }).catch((err: unknown) => {
    log.error({ gateway, file }, `could not enrol the demo gateway${known?.revokedAt ? ` (${gateway} was revoked: reinstate it with POST /api/v1/gateways/${gateway}/reinstate)` : ''}`);
    throw err;
  });
  // Atomic and 0600 even over an older file (writeFileSync's mode applies only to a new one).
  writeSecretFile(file, `${JSON.stringify({ gateway, username: mqtt.username, password: mqtt.password }, null, 2)}\n`);
  log.info({ gateway, file }, 'demo gateway enrolled');
  return { username: mqtt.username, password: mqtt.password };
}

async function main(): Promise<void> {
  // Readable on a terminal, JSON lines when piped (edge/src/log.ts).
  const log = createLogger('demo');
  const port = portFromEnv('PORT', 8080);
  const brokerPort = portFromEnv('LIFELINE_BROKER_PORT', 0);
  // Whatever the demo creates (databases, their -wal/-shm, the gateway's login) is the owner's alone.
  process.umask(0o077);
  ownerOnlyVar(varDir, log);

  let cloud;
  try {
    cloud = await startCloud({
      log: log.child({ side: 'cloud' }),
      port,
      brokerPort,
      dbPath: join(varDir, 'cloud.db'),
      adminToken: process.env.LIFELINE_ADMIN_TOKEN || undefined,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code === 'EADDRINUSE') {
      const which = (e.port ?? (e.message.match(/:(\d+)$/)?.[1] ? Number(e.message.match(/:(\d+)$/)![1]) : port)) === port ? 'PORT' : 'LIFELINE_BROKER_PORT';
      console.error(`port ${which === 'PORT' ? port : brokerPort} is already in use; choose another, e.g. ${which}=${(which === 'PORT' ? port : brokerPort) + 1} pnpm start`);
      process.exit(1);
    }
    throw err;
  }

  // The example site, with its simulator and broker moved to the ports in use here.
  const raw = parse(readFileSync(exampleFile, 'utf8')) as {
    gateway: { id: string; name?: string };
    buses: { name: string; port: number; devices: { id: string; profile: string; unit: number }[] }[];
    sync: { url: string; username?: string; password?: string };
    buffer: { path: string };
  };
  const daySpeed = Number(process.env.LIFELINE_DEMO_DAY_SPEED || 1);
  if (!(daySpeed > 0)) {
    console.error(`LIFELINE_DEMO_DAY_SPEED must be a positive number, got ${JSON.stringify(process.env.LIFELINE_DEMO_DAY_SPEED)}`);
    process.exit(2);
  }
  const site = await startDemoSite(raw.buses, { daySpeed });
  const sims = site.sims;
  raw.sync.url = cloud.brokerUrl;
  const loginFile = join(varDir, `${raw.gateway.id}.login.json`);
  Object.assign(raw.sync, await demoLogin(cloud, raw.gateway.id, raw.gateway.name, loginFile, log.child({ side: 'demo' })));
  raw.buffer.path = join(varDir, `edge-${raw.gateway.id}.db`);
  const loaded = validateConfig(raw, exampleFile, dirname(exampleFile));
  // A config pushed from the dashboard or API restarts the agent on it, as `lifeline run` does.
  const agent = await runAgent(loaded, log.child({ side: 'edge' }));

  const url = `http://localhost:${new URL(cloud.apiUrl).port}`;
  const token = cloud.adminToken;
  console.log(`
  Lifeline demo is running.
    console     ${url}/#token=${token}
    API         curl -H 'Authorization: Bearer ${token}' ${url}/api/v1/devices
    readings    curl -H 'Authorization: Bearer ${token}' '${url}/api/v1/readings?device=flood-1&point=water_level'
    health      ${url}/api/v1/health
    MQTT broker ${cloud.brokerUrl} (embedded; no anonymous clients)
    gateway     ${raw.gateway.id}, enrolled; its MQTT login is in ${loginFile} (mode 0600)
    Modbus sims ${raw.buses.map((b) => `${b.name} 127.0.0.1:${b.port} (units ${b.devices.map((d) => d.unit).join(', ')})`).join('; ')}
    city scene  Jining (济宁), ${raw.buses.reduce((n, b) => n + b.devices.length, 0)} devices; China time${daySpeed === 1 ? '' : ` ×${daySpeed}`}: lamps on at dusk, dimmed after midnight
    rainstorm   every 10 min, the first 1 min from now: each 3-min burst stands for 1.5 h of rain (time-compressed)
                and floods the underpass:   curl -H 'Authorization: Bearer ${token}' '${url}/api/v1/readings?device=flood-1&point=ponding_depth'
    admin token ${token}${process.env.LIFELINE_ADMIN_TOKEN ? ' (from LIFELINE_ADMIN_TOKEN)' : ' (generated; set LIFELINE_ADMIN_TOKEN to choose it)'}
  Press Ctrl-C to stop.
`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping the demo');
    await agent.stop();
    for (const s of sims) await s.close();
    await cloud.close();
    log.info('demo stopped; databases closed');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error(isLifelineError(err) ? err.message : err);
  process.exit(1);
});
