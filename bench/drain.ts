/**
 * `pnpm bench drain [--readings N] [--store pg|sqlite] [--batch N] [--window N]` —
 * backlog drain: a gateway that was offline holds N buffered readings
 * (default 10 million), comes back, and syncs them all through Mosquitto into
 * the cloud's store (PostgreSQL by default: DATABASE_URL or
 * postgres://postgres@127.0.0.1:5432/test, in a schema of its own, dropped
 * after).
 *
 *   child process: EdgeBuffer (filled first) ─ Sync (mqtt.js) ─▶ Mosquitto (own config, free port) ─▶ IngestWorker ─▶ store (this process)
 *
 * The gateway runs in its own process so the two sides use both cores, as a
 * gateway and a cloud would. Timing starts when the gateway connects and ends
 * when its buffer is empty (every reading acknowledged end to end). Then the
 * store is checked: every reading exactly once (readings are unique by series
 * and timestamp). Ends with one JSON line:
 * {"readings_per_s","lost","duplicated","readings","seconds","store","fill_per_s"}.
 * Profiling: `node --cpu-prof --import tsx bench/drain.ts …` profiles the gateway process too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { startMosquitto } from '../test/helpers.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const N = Number(opt('readings', '10000000'));
const BATCH = Number(opt('batch', '20000'));
const WINDOW = Number(opt('window', '16'));
const STORE = opt('store', 'pg');
const SERIES = 1000;
const T0 = 1_764_000_000_000;
const say = (m: string) => console.error(`[drain ${new Date().toISOString().slice(11, 19)}] ${m}`);

/** The gateway side: fill the buffer, report, then sync until it is empty. */
async function gateway(dbPath: string, url: string): Promise<void> {
  const { EdgeBuffer } = await import('../edge/src/buffer/buffer.js');
  const { Sync } = await import('../edge/src/sync/sync.js');
  const { MqttTransport } = await import('../edge/src/sync/transport.js');
  const buffer = new EdgeBuffer(dbPath);
  const t0 = performance.now();
  // One poll round of 1,000 points per append; values like a register times 0.01.
  let written = 0;
  for (let round = 0; written < N; round++) {
    const n = Math.min(SERIES, N - written);
    const batch = new Array(n);
    for (let s = 0; s < n; s++) batch[s] = { device: `dev-${(s / 10) | 0}`, point: `p${s % 10}`, ts: T0 + round * 1000, value: Math.round(1000 + 100 * Math.sin(round / 60 + s)) / 100 };
    buffer.append(batch);
    written += n;
  }
  const fillS = (performance.now() - t0) / 1000;
  process.send!({ filled: written, fillS });
  const loaded = {
    config: { gateway: { id: 'gw-drain' }, buses: [], buffer: { path: dbPath }, sync: { transport: 'mqtt', url, batchMaxReadings: BATCH, intervalMs: 100, ackTimeoutMs: 30_000 } },
    profiles: new Map(),
  } as never;
  const log = pino({ level: 'warn' });
  const sync = new Sync(loaded, buffer, new MqttTransport({ url, clientId: 'gw-drain' }), log, { window: WINDOW, statusIntervalMs: 3_600_000 });
  let started = 0;
  const timer = setInterval(() => {
    if (!started && sync['transport'].connected) started = performance.now();
    if (started && buffer.ackedUpTo('telemetry') >= written) {
      clearInterval(timer);
      const s = (performance.now() - started) / 1000;
      process.send!({ drained: buffer.ackedUpTo('telemetry'), seconds: s, counters: sync.counters });
      void sync.stop().then(() => {
        buffer.close();
        process.exit(0);
      });
    }
  }, 20);
  sync.start();
}

async function main(): Promise<void> {
  const { IngestWorker, PgStore, SqliteStore } = await import('../cloud/src/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-drain-'));
  const broker = await startMosquitto('log_dest none\n');
  const url = broker.url;
  const schema = `drain_${process.pid}`;
  const store =
    STORE === 'pg'
      ? new PgStore({ url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', schema, retentionDays: 4000 })
      : new SqliteStore(join(dir, 'cloud.db'));
  await store.migrate();
  const ingest = new IngestWorker({ url, store, log: pino({ level: 'warn' }) });
  await ingest.start();
  let child: ChildProcess | undefined;
  try {
    say(`filling the gateway buffer with ${N} readings`);
    child = spawn(process.execPath, [...process.execArgv.filter((a) => a.startsWith('--cpu-prof')), '--import', 'tsx', fileURLToPath(import.meta.url), '--role', 'gateway', '--db', join(dir, 'edge.db'), '--url', url, ...argv], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const result = await new Promise<{ drained: number; seconds: number; fillS: number; filled: number; counters: unknown }>((resolve, reject) => {
      const r: Record<string, unknown> = {};
      child!.on('message', (m: Record<string, unknown>) => {
        Object.assign(r, m);
        if ('filled' in m) say(`filled ${m.filled} readings in ${(m.fillS as number).toFixed(1)} s; draining through Mosquitto into ${STORE}`);
        if ('drained' in m) resolve(r as never);
      });
      child!.once('exit', (code, signal) => reject(new Error(`gateway process exited early (code ${code}, signal ${signal})`)));
    });
    await ingest.stop();
    // Every reading exactly once: (series, ts) is unique at the source.
    const q = 'SELECT COUNT(*) AS n, COUNT(DISTINCT (series, ts)) AS u FROM readings';
    const row =
      store instanceof PgStore
        ? ((await store.pool.query(q)).rows[0] as { n: string; u: string })
        : (store.db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT series || ':' || ts) AS u FROM readings").get() as { n: number; u: number });
    const n = Number(row.n);
    const u = Number(row.u);
    say(`sync counters ${JSON.stringify(result.counters)}; ingest ${JSON.stringify(ingest.counters)}`);
    console.log(
      JSON.stringify({
        readings_per_s: Math.round(result.drained / result.seconds),
        lost: N - u,
        duplicated: n - u,
        readings: N,
        seconds: Math.round(result.seconds * 10) / 10,
        store: STORE === 'pg' ? 'postgresql' : 'sqlite',
        fill_per_s: Math.round(result.filled / result.fillS),
      }),
    );
  } finally {
    child?.kill('SIGKILL');
    if (store instanceof PgStore) await store.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await store.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (argv.includes('--role')) {
  void gateway(opt('db', ''), opt('url', '')).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
