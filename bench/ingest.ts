/**
 * `pnpm bench ingest --store postgres|sqlite --workers N [--seconds S] [--concurrency C]`
 *
 * Store commit throughput with realistic batches: each worker process plays
 * 12 gateways of 100 points (20 devices × 5 points) and commits 5,000-reading
 * batches (the edge's default batchMaxReadings: 50 s of one gateway at 1 Hz)
 * through Store.commitTelemetry, with the same idempotency checks as ingest;
 * C commits (of different gateways) in flight per worker, default 4.
 * Decoding and MQTT are not measured here (see `pnpm bench wire` / `drain`).
 *
 *   parent ─ fork ─▶ worker 1..N ─▶ store.commitTelemetry (own gateways) ─▶ PostgreSQL (fresh schema) | SQLite (temp file)
 *
 * Final line: {"readings_per_s":..,"store":..,"workers":..}
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgStore, SqliteStore, type Store } from '@lifeline/cloud';
import type { Reading } from '@lifeline/shared';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const storeKind = opt('store', 'postgres');
const workers = Number(opt('workers', '1'));
const seconds = Number(opt('seconds', '10'));
const concurrency = Number(opt('concurrency', '4'));
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BATCH = 5000;
const GATEWAYS = 12;
const POINTS = 100;

if (!['postgres', 'sqlite'].includes(storeKind) || !Number.isInteger(workers) || workers < 1 || !(seconds > 0)) {
  console.error('usage: pnpm bench ingest --store postgres|sqlite --workers N [--seconds S]');
  process.exit(2);
}

function open(where: string): Store {
  return storeKind === 'postgres' ? new PgStore({ url, schema: where, poolSize: concurrency + 1 }) : new SqliteStore(where);
}

async function worker(id: number, where: string): Promise<void> {
  const store = open(where);
  await store.migrate();
  const gateways = Array.from({ length: GATEWAYS }, (_, g) => ({ id: `bench-w${id}-g${g}`, seq: 0, ts: Date.now() - 86_400_000 }));
  let readings = 0;
  // Warm up (series ids, partitions), then wait for the start signal.
  const batch = (g: (typeof gateways)[number]): { gateway: string; firstSeq: number; lastSeq: number; readings: Reading[] } => {
    const rs: Reading[] = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) {
      const p = i % POINTS;
      if (p === 0) g.ts += 1000;
      rs[i] = { device: `${g.id}-dev${Math.floor(p / 5)}`, point: `p${p % 5}`, ts: g.ts, value: Math.sin(g.ts / 60_000 + p) * 10 + p };
    }
    const first = g.seq + 1;
    g.seq += BATCH;
    return { gateway: g.id, firstSeq: first, lastSeq: g.seq, readings: rs };
  };
  for (const g of gateways) await store.commitTelemetry(batch(g));
  process.send!({ ready: true });
  await new Promise<void>((r) => process.once('message', () => r()));
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  // `concurrency` gateways commit at once (each gateway's batches stay in order), as an
  // ingest worker does when it serialises per gateway rather than per process.
  const lanes = Array.from({ length: concurrency }, async (_, lane) => {
    for (let k = lane; performance.now() < deadline; k += concurrency) {
      const b = batch(gateways[k % GATEWAYS]);
      await store.commitTelemetry(b);
      readings += b.readings.length;
    }
  });
  await Promise.all(lanes);
  const elapsed = (performance.now() - t0) / 1000;
  await store.close();
  process.send!({ readings, elapsed });
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
  const where = storeKind === 'postgres' ? `bench_ingest_${process.pid}` : join(tmp, 'cloud.db');
  // Migrate once before the workers start.
  const setup = open(where);
  await setup.migrate();
  await setup.close();
  const children = Array.from({ length: workers }, (_, i) =>
    fork(fileURLToPath(import.meta.url), ['--child', String(i), '--where', where, ...args], { execArgv: ['--import', 'tsx'] }),
  );
  const ready = children.map((c) => new Promise<void>((r, j) => (c.once('message', () => r()), c.once('exit', (code) => code && j(new Error(`worker exited ${code}`))))));
  await Promise.all(ready);
  const done = children.map((c) => new Promise<{ readings: number; elapsed: number }>((r) => c.once('message', (m) => r(m as { readings: number; elapsed: number }))));
  for (const c of children) c.send('go');
  const results = await Promise.all(done);
  const total = results.reduce((s, r) => s + r.readings, 0);
  const elapsed = Math.max(...results.map((r) => r.elapsed));
  if (storeKind === 'postgres') {
    const admin = new PgStore({ url, poolSize: 1 });
    await admin.pool.query(`DROP SCHEMA IF EXISTS ${where} CASCADE`);
    await admin.close();
  }
  rmSync(tmp, { recursive: true, force: true });
  console.error(`${total} readings in ${elapsed.toFixed(1)} s by ${workers} worker(s) into ${storeKind}`);
  console.log(JSON.stringify({ readings_per_s: Math.round(total / elapsed), store: storeKind, workers }));
}

if (args[0] === '--child') {
  worker(Number(args[1]), args[3]).then(
    () => process.exit(0),
    (err) => (console.error(err), process.exit(1)),
  );
} else {
  main().catch((err) => (console.error(err), process.exit(1)));
}
