/**
 * `pnpm bench api-load [--store sqlite|postgres] [--seconds 10] [--connections 10]`
 *
 * Load test of the readings and alarms routes while ingest runs at full rate.
 *
 *   this process: cloud (embedded broker, store, ingest, API)
 *   child 1: enrolled gateways (credentials in LIFELINE_BENCH_LOGINS) ─ MQTT telemetry batches (5,000 readings, ≤ 4 unacked each) ─▶ ingest
 *   child 2: autocannon ─ HTTP ─▶ GET /api/v1/readings?…&step=… (1 h in 60 buckets), then GET /api/v1/alarms?active=true
 *
 * Ingest is measured alone first, then during each HTTP run; at the end the
 * gateways stop and the unacknowledged batches are counted (ingest kept up
 * if none are left). Final line:
 * {"store":..,"readings_rps":..,"readings_p99_ms":..,"alarms_rps":..,"alarms_p99_ms":..,"ingest_alone_per_s":..,"ingest_under_load_per_s":..,"unacked_at_end":..}
 */
import { fork, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import mqtt from 'mqtt';
import { startCloud, type Cloud } from '@lifeline/cloud';
import { decodeDownlink, encodeTelemetryBatch, MessageType, topics, type Reading } from '@lifeline/shared';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const storeKind = opt('store', 'sqlite');
const seconds = Number(opt('seconds', '10'));
const connections = Number(opt('connections', '10'));
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const GATEWAYS = 4;
const BATCH = 5000;
const WINDOW = 4;

/** Child: gateways publishing as fast as acks allow; reports acked readings each second. */
async function generator(brokerUrl: string): Promise<void> {
  // The broker admits enrolled gateways only; the parent enrolled these (env, not argv: argv is public).
  const logins = JSON.parse(process.env.LIFELINE_BENCH_LOGINS ?? '{}') as Record<string, { username: string; password: string }>;
  let acked = 0;
  let stopping = false;
  let unacked = 0;
  process.on('message', (m) => {
    if (m === 'stop') stopping = true;
  });
  const runs = Array.from({ length: GATEWAYS }, async (_, g) => {
    const id = `load-gw-${g}`;
    if (!logins[id]) throw new Error(`LIFELINE_BENCH_LOGINS: no login for ${id}`);
    const client = await mqtt.connectAsync(brokerUrl, { clientId: `${id}-${process.pid}`, reconnectPeriod: 1000, ...logins[id] });
    let seq = 0;
    let ts = Date.now() - 3_600_000;
    let inflight = 0;
    let wake: (() => void) | undefined;
    client.on('message', (_t, payload) => {
      const d = decodeDownlink(payload);
      if (d.type === MessageType.Ack) {
        inflight--;
        acked += BATCH;
        wake?.();
      }
    });
    await client.subscribeAsync(topics.ack(id), { qos: 1 });
    while (!stopping) {
      if (inflight >= WINDOW) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      const readings: Reading[] = new Array(BATCH);
      for (let i = 0; i < BATCH; i++) {
        const p = i % 100;
        if (p === 0) ts += 1000;
        readings[i] = { device: `${id}-dev${Math.floor(p / 10)}`, point: `p${p % 10}`, ts, value: Math.round((Math.sin(ts / 60_000 + p) * 10 + p) * 1000) / 1000 };
      }
      const first = seq + 1;
      seq += BATCH;
      inflight++;
      client.publish(topics.telemetry(id), Buffer.from(encodeTelemetryBatch({ gateway: id, firstSeq: first, lastSeq: seq, readings })), { qos: 1 });
    }
    // Give the last acks a moment, then count what is still unacknowledged.
    const deadline = Date.now() + 5000;
    while (inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    unacked += inflight;
    await client.endAsync();
  });
  const tick = setInterval(() => process.send!({ acked }), 1000);
  await Promise.all(runs);
  clearInterval(tick);
  process.send!({ acked, unacked, done: true });
}

/** autocannon in its own process (its CPU is not the cloud's); answers its JSON result. */
function cannon(target: string, token: string): Promise<{ requests: { average: number }; latency: { p99: number }; non2xx: number; errors: number }> {
  const bin = join(dirname(createRequire(import.meta.url).resolve('autocannon/package.json')), 'autocannon.js');
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, '-j', '-c', String(connections), '-d', String(seconds), '-H', `authorization=Bearer ${token}`, target], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`autocannon exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'lifeline-load-'));
  const schema = `bench_load_${process.pid}`;
  const cloud: Cloud = await startCloud({
    log: pino({ level: 'error' }),
    port: 0,
    dbPath: join(tmp, 'cloud.db'),
    ...(storeKind === 'postgres' ? { databaseUrl: url, databaseSchema: schema } : {}),
    adminToken: 'load-admin-token',
  });
  // Something for the routes to find: an hour of one point, and a few hundred alarms.
  const now = Date.now();
  const rs: Reading[] = Array.from({ length: 3600 }, (_, i) => ({ device: 'load-flood', point: 'water_level', ts: now - 3_600_000 + i * 1000, value: 2 + Math.sin(i / 300) }));
  await cloud.store.telemetry.commitTelemetry({ gateway: 'load-static', firstSeq: 1, lastSeq: rs.length, readings: rs });
  await cloud.store.telemetry.commitEvents({
    gateway: 'load-static', firstSeq: 1, lastSeq: 300,
    events: Array.from({ length: 300 }, (_, i) => ({ kind: 'alarm' as const, seq: i + 1, alarmId: `dev-${i}/p/threshold`, device: `dev-${i}`, point: 'p', ts: now - i * 1000, from: 'normal' as const, to: 'active_unacked' as const, level: 1 + (i % 4), detector: 'threshold', cause: 'high', value: i })),
  });

  const logins: Record<string, { username: string; password: string }> = {};
  for (let g = 0; g < GATEWAYS; g++) {
    const { token } = await cloud.enrolment.createToken('bench', 60_000, 'api-load bench');
    const { mqtt: m } = await cloud.enrolment.enroll(token, { gateway: `load-gw-${g}` });
    logins[`load-gw-${g}`] = { username: m.username, password: m.password };
  }
  const gen = fork(fileURLToPath(import.meta.url), ['--generator', cloud.brokerUrl], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, LIFELINE_BENCH_LOGINS: JSON.stringify(logins) },
  });
  let acked = 0;
  let final: { acked: number; unacked: number } | undefined;
  gen.on('message', (m: { acked: number; unacked?: number; done?: boolean }) => {
    acked = m.acked;
    if (m.done) final = { acked: m.acked, unacked: m.unacked ?? 0 };
  });
  const rate = async (ms: number) => {
    const a0 = acked;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    return Math.round(((acked - a0) / (performance.now() - t0)) * 1000);
  };
  while (acked === 0) await new Promise((r) => setTimeout(r, 100)); // the gateways are up
  await new Promise((r) => setTimeout(r, 2000)); // warm up
  const alone = await rate(seconds * 1000);

  const base = cloud.apiUrl;
  const readingsUrl = `${base}/api/v1/readings?device=load-flood&point=water_level&from=${now - 3_600_000}&to=${now}&step=60000`;
  const [readings, ingestDuringReadings] = await Promise.all([cannon(readingsUrl, cloud.adminToken), rate(seconds * 1000)]);
  const [alarms, ingestDuringAlarms] = await Promise.all([cannon(`${base}/api/v1/alarms?active=true&limit=100`, cloud.adminToken), rate(seconds * 1000)]);

  gen.send('stop');
  while (!final) await new Promise((r) => setTimeout(r, 100));
  gen.kill();
  const counters = cloud.ingest.counters;
  await cloud.close();
  if (storeKind === 'postgres') {
    const { PgStore } = await import('@lifeline/cloud');
    const admin = new PgStore({ url, poolSize: 1 });
    await admin.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  }
  rmSync(tmp, { recursive: true, force: true });
  if (readings.non2xx || alarms.non2xx || readings.errors || alarms.errors) console.error(`non-2xx: ${readings.non2xx + alarms.non2xx}, errors: ${readings.errors + alarms.errors}`);
  console.error(`ingest committed ${counters.readings} readings in ${counters.batches} batches (${counters.rejected} rejected)`);
  console.log(
    JSON.stringify({
      store: storeKind,
      connections,
      readings_rps: Math.round(readings.requests.average),
      readings_p99_ms: readings.latency.p99,
      alarms_rps: Math.round(alarms.requests.average),
      alarms_p99_ms: alarms.latency.p99,
      ingest_alone_per_s: alone,
      ingest_under_load_per_s: Math.round((ingestDuringReadings + ingestDuringAlarms) / 2),
      unacked_at_end: final.unacked,
    }),
  );
}

if (args[0] === '--generator') {
  generator(args[1]).then(
    () => process.exit(0),
    (err) => (console.error(err), process.exit(1)),
  );
} else {
  main().then(
    () => process.exit(0),
    (err) => (console.error(err), process.exit(1)),
  );
}
