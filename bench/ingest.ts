/**
 * `pnpm bench ingest --store postgres|sqlite --workers N [--seconds 10] [--warmup 3] [--concurrency 4]
 *   [--gateways 24] [--window 4] [--publishers 2] [--max-rate 500000] [--path mqtt|store]`
 *
 * Ingest throughput on the real path (default, `--path mqtt`): readings committed
 * and acknowledged end to end per second.
 *
 *   publisher 1..P (processes; each plays gateways: pre-encoded 5,000-reading wire batches,
 *                   window of unacked batches per gateway, resend after 10 s unacked)
 *        ─MQTT QoS 1─▶ Mosquitto (started here: free port, generated config)
 *        ─$share/ingest/…─▶ IngestWorker 1..N (processes: decode, commit with `--concurrency`
 *                           gateways at once, ack) ─▶ PostgreSQL (fresh schema) | SQLite (temp file)
 *
 * Each gateway has 100 points (20 devices × 5 points) at 1 Hz, so a batch is 50 s of it,
 * with values like the sensors' (levels, pressures, temperatures, flows, lamp currents).
 * Batches are encoded before the clock starts (as a gateway's buffer holds them), for
 * up to `--max-rate` readings/s over warm-up and measurement; a gateway that runs out
 * fails the bench rather than lowering the figure. Figure: acknowledged readings per
 * second over `--seconds` after `--warmup`. Then the publishers stop, wait for every
 * batch sent to be acknowledged, and the store is checked: every reading sent exactly
 * once. SQLite is the single box: one worker, a plain subscription (no $share).
 *
 * `--path store` is the older measurement: each worker process calls
 * Store.commitTelemetry itself with `--concurrency` commits in flight (no MQTT, no
 * decoding, no acks), which isolates the database.
 *
 * Final line: {"readings_per_s":..,"store":..,"workers":..,"path":..,"lost":..,"duplicated":..,"unacked":..,…}
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { startMosquitto } from '../test/helpers.js';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { IngestWorker, PgStore, SqliteStore, type Store } from '@lifeline/cloud';
import { MessageType, decodeDownlink, encodeTelemetryBatch, topics, type Reading } from '@lifeline/shared';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BATCH = 5000;
const POINTS = 100;
const ACK_TIMEOUT_MS = 10_000;
const say = (m: string) => console.error(`[ingest ${new Date().toISOString().slice(11, 19)}] ${m}`);

function usage(problem: string): never {
  console.error(`bench ingest: ${problem}
usage: pnpm bench ingest --store postgres|sqlite --workers N [--seconds 10] [--warmup 3] [--concurrency 4]
         [--gateways 24] [--window 4] [--publishers 2] [--max-rate 500000] [--path mqtt|store]`);
  process.exit(2);
}
function intOpt(name: string, dflt: string, min: number): number {
  const raw = opt(name, dflt);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) usage(`--${name}: expected an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}
const storeKind = opt('store', 'postgres');
const path = opt('path', 'mqtt');
const workers = intOpt('workers', '1', 1);
const seconds = intOpt('seconds', '10', 1);
const warmup = intOpt('warmup', '3', 0);
const concurrency = intOpt('concurrency', '4', 1);
const gatewayCount = intOpt('gateways', '24', 1);
const windowSize = intOpt('window', '4', 1);
const publishers = intOpt('publishers', '2', 1);
const maxRate = intOpt('max-rate', '500000', 1000);
if (!['postgres', 'sqlite'].includes(storeKind)) usage(`--store: expected postgres or sqlite, got ${JSON.stringify(storeKind)}`);
if (!['mqtt', 'store'].includes(path)) usage(`--path: expected mqtt or store, got ${JSON.stringify(path)}`);
if (storeKind === 'sqlite' && path === 'mqtt' && workers > 1) usage(`--workers: SQLite is the single box, one ingest worker; got ${workers}`);

function open(where: string, poolSize: number): Store {
  return storeKind === 'postgres' ? new PgStore({ url, schema: where, poolSize }) : new SqliteStore(where);
}

/** Sensor-like readings: each point has a base and an amplitude, drifts slowly and carries a little noise. */
function readingsOf(gateway: string, fromTs: number): Reading[] {
  const rs: Reading[] = new Array(BATCH);
  let ts = fromTs;
  for (let i = 0; i < BATCH; i++) {
    const p = i % POINTS;
    if (p === 0 && i) ts += 1000;
    const kind = p % 5; // level m, pressure MPa, temperature °C, flow m³/h, lamp current A
    const base = [2.4, 0.32, 18, 140, 0.85][kind];
    const amp = [0.6, 0.04, 3, 35, 0.1][kind];
    const digits = [1000, 1000, 10, 10, 100][kind];
    const v = base + amp * Math.sin(ts / 900_000 + p) + amp * 0.02 * (Math.random() - 0.5);
    rs[i] = { device: `${gateway}-dev${Math.floor(p / 5)}`, point: ['level', 'pressure', 'temperature', 'flow', 'current'][kind], ts, value: Math.round(v * digits) / digits };
  }
  return rs;
}

// ---------------------------------------------------------------- --path store

async function storeWorker(id: number, where: string): Promise<void> {
  const store = open(where, concurrency + 1);
  await store.migrate();
  const gateways = Array.from({ length: 12 }, (_, g) => ({ id: `bench-w${id}-g${g}`, seq: 0, ts: Date.now() - 86_400_000 }));
  let readings = 0;
  const batch = (g: (typeof gateways)[number]) => {
    const rs = readingsOf(g.id, g.ts);
    g.ts += (BATCH / POINTS) * 1000;
    const first = g.seq + 1;
    g.seq += BATCH;
    return { gateway: g.id, firstSeq: first, lastSeq: g.seq, readings: rs };
  };
  // Warm up (series ids, partitions), then wait for the start signal.
  for (const g of gateways) await store.telemetry.commitTelemetry(batch(g));
  process.send!({ ready: true });
  await new Promise<void>((r) => process.once('message', () => r()));
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  // `concurrency` gateways commit at once, each gateway's batches in order, as the ingest worker does.
  const lanes = Array.from({ length: concurrency }, async (_, lane) => {
    for (let k = lane; performance.now() < deadline; k += concurrency) {
      const b = batch(gateways[k % gateways.length]);
      await store.telemetry.commitTelemetry(b);
      readings += b.readings.length;
    }
  });
  await Promise.all(lanes);
  const elapsed = (performance.now() - t0) / 1000;
  await store.close();
  await tell({ readings, elapsed });
}

async function storePath(where: string): Promise<void> {
  const load = loadavg()[0];
  const children = Array.from({ length: workers }, (_, i) =>
    fork(fileURLToPath(import.meta.url), ['--role', 'store-worker', '--id', String(i), '--where', where, ...args], { execArgv: ['--import', 'tsx'] }),
  );
  await Promise.all(children.map((c) => reply(c, 'ready')));
  const done = children.map((c) => reply<{ readings: number; elapsed: number }>(c, 'readings'));
  for (const c of children) c.send('go');
  const results = await Promise.all(done);
  const total = results.reduce((s, r) => s + r.readings, 0);
  const elapsed = Math.max(...results.map((r) => r.elapsed));
  say(`${total} readings in ${elapsed.toFixed(1)} s by ${workers} worker(s) into ${storeKind}, store only; load average ${load.toFixed(1)} → ${loadavg()[0].toFixed(1)}`);
  console.log(JSON.stringify({ readings_per_s: Math.round(total / elapsed), store: storeKind, workers, path, concurrency, load: round1(loadavg()[0]) }));
}

// ---------------------------------------------------------------- --path mqtt

/** An ingest worker process: the real IngestWorker on the bench's broker. */
async function ingestWorker(id: number, where: string, brokerUrl: string): Promise<void> {
  // Each commit in flight holds a connection; one more for series creation and partitions.
  const store = open(where, concurrency + 2);
  const ingest = new IngestWorker({
    url: brokerUrl,
    store,
    log: pino({ level: 'warn' }),
    shared: storeKind === 'postgres',
    concurrency,
    clientId: `bench-ingest-${id}`,
  });
  await ingest.start();
  process.send!({ ready: true });
  await new Promise<void>((r) => process.once('message', () => r()));
  await ingest.stop();
  await store.close();
  await tell({ counters: ingest.counters, rejects: ingest.rejectsByReason });
}

interface GatewayState {
  id: string;
  client: MqttClient;
  batches: { firstSeq: number; lastSeq: number; bytes: Buffer }[];
  /** Index of the next batch never sent. */
  next: number;
  sentAt: Map<number, number>;
  /** Every seq ≤ this is acknowledged. */
  upTo: number;
}

/** A publisher process: plays gateways as the edge's sync does (window, resend on ack timeout). */
async function publisher(ids: string[], brokerUrl: string, perGateway: number): Promise<void> {
  const t0 = performance.now();
  const start = Math.floor((Date.now() - 2 * 3_600_000) / 1000) * 1000;
  const states: GatewayState[] = [];
  for (const id of ids) {
    const batches = Array.from({ length: perGateway }, (_, k) => {
      const firstSeq = k * BATCH + 1;
      const bytes = encodeTelemetryBatch({ gateway: id, epoch: 1, firstSeq, lastSeq: firstSeq + BATCH - 1, readings: readingsOf(id, start + k * (BATCH / POINTS) * 1000) });
      return { firstSeq, lastSeq: firstSeq + BATCH - 1, bytes: Buffer.from(bytes) };
    });
    const client = await mqtt.connectAsync(brokerUrl, { clientId: id, clean: true, reconnectPeriod: 1000 });
    states.push({ id, client, batches, next: 0, sentAt: new Map(), upTo: 0 });
  }
  let resends = 0;
  let sending = true;
  let ranOut = false;
  const send = (g: GatewayState, b: GatewayState['batches'][number]) => {
    g.sentAt.set(b.firstSeq, Date.now());
    g.client.publishAsync(topics.telemetry(g.id), b.bytes, { qos: 1 }).catch(() => undefined); // resent on ack timeout
  };
  const fill = (g: GatewayState) => {
    if (!sending) return;
    while (g.next < g.batches.length && g.batches[g.next].firstSeq - 1 - g.upTo < windowSize * BATCH) send(g, g.batches[g.next++]);
    if (g.next === g.batches.length && !ranOut) {
      ranOut = true;
      console.error(`[publisher] ${g.id} ran out of pre-encoded batches (${perGateway}); raise --max-rate`);
    }
  };
  for (const g of states) {
    g.client.on('message', (_t, payload) => {
      const m = decodeDownlink(payload);
      if (m.type === MessageType.Reject) console.error(`[publisher] ${g.id} got a reject: ${m.reject.detail}`);
      if (m.type !== MessageType.Ack || m.ack.telemetry === undefined || m.ack.telemetry <= g.upTo) return;
      g.upTo = m.ack.telemetry;
      fill(g);
    });
    await g.client.subscribeAsync(topics.ack(g.id), { qos: 1 });
  }
  const resender = setInterval(() => {
    const now = Date.now();
    for (const g of states)
      for (let k = 0; k < g.next; k++) {
        const b = g.batches[k];
        if (b.lastSeq > g.upTo && now - g.sentAt.get(b.firstSeq)! > ACK_TIMEOUT_MS) (resends++, send(g, b));
      }
  }, 500);
  const acked = () => states.reduce((s, g) => s + g.upTo, 0);
  process.send!({ ready: true, encodeS: (performance.now() - t0) / 1000 });
  process.on('message', async (m: string) => {
    if (m === 'go') for (const g of states) fill(g);
    else if (m === 'count') process.send!({ acked: acked() });
    else if (m === 'drain') {
      sending = false;
      const sent = () => states.reduce((s, g) => s + (g.next ? g.batches[g.next - 1].lastSeq : 0), 0);
      const deadline = Date.now() + 120_000;
      while (acked() < sent() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      clearInterval(resender);
      const unacked = states.reduce((s, g) => s + g.batches.slice(0, g.next).filter((b) => b.lastSeq > g.upTo).length, 0);
      await Promise.all(states.map((g) => g.client.endAsync(true)));
      await tell({ sent: sent(), ackedTotal: acked(), unacked, resends, ranOut });
      process.exit(0);
    }
  });
}

/** The next IPC message of a child that has `key`; rejects if the child exits first. */
function reply<T = Record<string, unknown>>(c: ChildProcess, key: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMsg = (m: unknown) => {
      if (m && typeof m === 'object' && key in m) {
        c.off('message', onMsg);
        c.off('exit', onExit);
        resolve(m as T);
      }
    };
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`a bench process exited early (code ${code}, signal ${signal})`));
    c.on('message', onMsg);
    c.once('exit', onExit);
  });
}

const round1 = (x: number) => Math.round(x * 10) / 10;
/** Send to the parent and wait until it is handed over (an exit right after a bare send may drop it). */
const tell = (m: object) => new Promise<void>((r) => process.send!(m, () => r()));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function mqttPath(where: string): Promise<void> {
  // Queues deep enough that the broker never drops to a busy worker (the default is 1,000 messages).
  const broker = await startMosquitto('max_inflight_messages 100\nlog_dest none\n', 1_000_000);
  const children: ChildProcess[] = [];
  try {
    const brokerUrl = broker.url;
    const self = fileURLToPath(import.meta.url);
    const child = (role: string, extra: string[]) => {
      const c = fork(self, ['--role', role, '--where', where, '--broker', brokerUrl, ...extra, ...args], { execArgv: ['--import', 'tsx'] });
      children.push(c);
      return c;
    };
    const ingest = Array.from({ length: workers }, (_, i) => child('ingest-worker', ['--id', String(i)]));
    await Promise.all(ingest.map((c) => reply(c, 'ready')));
    const perGateway = Math.ceil((maxRate * (warmup + seconds)) / BATCH / gatewayCount) + windowSize;
    const ids = Array.from({ length: gatewayCount }, (_, g) => `gw-${String(g).padStart(3, '0')}`);
    const pubs = Array.from({ length: Math.min(publishers, gatewayCount) }, (_, p) =>
      child('publisher', ['--ids', ids.filter((_, g) => g % publishers === p).join(','), '--per-gateway', String(perGateway)]),
    );
    say(`${workers} worker(s) subscribed; ${pubs.length} publisher(s) encoding ${perGateway} batches for each of ${gatewayCount} gateways`);
    const ready = await Promise.all(pubs.map((c) => reply<{ encodeS: number }>(c, 'ready')));
    say(`encoded in ${Math.max(...ready.map((r) => r.encodeS)).toFixed(1)} s; publishing (window ${windowSize} per gateway), warm-up ${warmup} s, measuring ${seconds} s`);
    const count = async () => (await Promise.all(pubs.map((c) => (c.send('count'), reply<{ acked: number }>(c, 'acked'))))).reduce((s, r) => s + r.acked, 0);
    const load0 = loadavg()[0];
    for (const c of pubs) c.send('go');
    await sleep(warmup * 1000);
    const a1 = await count();
    const t1 = performance.now();
    await sleep(seconds * 1000);
    const a2 = await count();
    const t2 = performance.now();
    const load1 = loadavg()[0];
    const rate = (a2 - a1) / ((t2 - t1) / 1000);
    say(`${a2 - a1} readings acknowledged in ${((t2 - t1) / 1000).toFixed(1)} s; load average ${load0.toFixed(1)} → ${load1.toFixed(1)}; draining`);
    const drained = await Promise.all(pubs.map((c) => (c.send('drain'), reply<{ sent: number; ackedTotal: number; unacked: number; resends: number; ranOut: boolean }>(c, 'sent'))));
    const counters = await Promise.all(ingest.map((c) => (c.send('stop'), reply<{ counters: Record<string, number>; rejects: Record<string, number> }>(c, 'counters'))));
    const sent = drained.reduce((s, d) => s + d.sent, 0);
    const unacked = drained.reduce((s, d) => s + d.unacked, 0);
    const resends = drained.reduce((s, d) => s + d.resends, 0);
    const ranOut = drained.some((d) => d.ranOut);
    // Every reading sent exactly once: (series, ts) is unique at the source.
    const store = open(where, 1);
    const row =
      store instanceof PgStore
        ? ((await store.pool.query('SELECT COUNT(*) AS n, COUNT(DISTINCT (series, ts)) AS u FROM readings')).rows[0] as { n: number; u: number })
        : ((store as SqliteStore).db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT series || ':' || ts) AS u FROM readings").get() as { n: number; u: number });
    await store.close();
    const n = Number(row.n);
    const u = Number(row.u);
    say(`worker counters ${JSON.stringify(counters.map((c) => c.counters))}; ${sent} readings sent, ${u} stored once, ${resends} resends`);
    if (ranOut) throw new Error(`publishers ran out of pre-encoded batches: the rate exceeded --max-rate ${maxRate}; raise it`);
    console.log(
      JSON.stringify({
        readings_per_s: Math.round(rate),
        store: storeKind,
        workers,
        path,
        lost: sent - u,
        duplicated: n - u,
        unacked,
        resends,
        concurrency,
        gateways: gatewayCount,
        window: windowSize,
        seconds,
        load: round1(load1),
      }),
    );
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await broker.stop();
  }
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
  const where = storeKind === 'postgres' ? `bench_ingest_${process.pid}` : join(tmp, 'cloud.db');
  try {
    // Migrate once before the workers start.
    const setup = open(where, 1);
    await setup.migrate();
    await setup.close();
    if (path === 'store') await storePath(where);
    else await mqttPath(where);
  } finally {
    if (storeKind === 'postgres') {
      const admin = new PgStore({ url, poolSize: 1 });
      await admin.pool.query(`DROP SCHEMA IF EXISTS ${where} CASCADE`);
      await admin.close();
    }
    rmSync(tmp, { recursive: true, force: true });
  }
}

const role = opt('role', '');
const exit = (p: Promise<void>) =>
  p.then(
    () => process.exit(0),
    (err) => (console.error(err), process.exit(1)),
  );
if (role === 'store-worker') exit(storeWorker(Number(opt('id', '0')), opt('where', '')));
else if (role === 'ingest-worker') exit(ingestWorker(Number(opt('id', '0')), opt('where', ''), opt('broker', '')));
else if (role === 'publisher') void publisher(opt('ids', '').split(','), opt('broker', ''), Number(opt('per-gateway', '1'))).catch((err) => (console.error(err), process.exit(1)));
else exit(main());
