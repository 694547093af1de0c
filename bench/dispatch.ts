/**
 * `pnpm bench dispatch [--transitions 10000] [--kills 5] [--kill-every-s 8] [--down-s 60] [--pg]`
 *
 * Alarm dispatch that survives a killed cloud: a cloud process (bench/_dispatch-cloud.ts,
 * SQLite file, or PostgreSQL with --pg) commits `transitions` alarm transitions routed by
 * two rules and one unruled receiver to three generic webhook receivers on 127.0.0.1, while
 * this process kills it with SIGKILL `kills` times (each time restarting it) and receiver B
 * answers 503 for `down-s` seconds. Receivers count an effect once per outbox key
 * (X-Lifeline-Delivery); a transition reaching one receiver under two keys is a duplicate effect.
 *
 *   bench ──spawn / kill -9 / respawn──▶ cloud (commit ─▶ hub ─▶ outbox ─▶ delivery; catch-up at start)
 *     ▲                                                                        │
 *     └──── receivers A, B (503 for down-s), C ◀── HTTP POST (signed) ─────────┘
 *
 * Prints one JSON line: {"transitions","expected","delivered_unique","lost","duplicate_effects",
 * "duplicate_deliveries","misrouted","kills","down_s","p50_delivery_ms","p99_delivery_ms","elapsed_s","store"}.
 * p99 counts from the transition's commit to its first arrival, so the minute receiver B is down is in it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { benchRoutes } from './_dispatch-plan.js';

const { values: a } = parseArgs({
  options: {
    transitions: { type: 'string', default: '10000' },
    kills: { type: 'string', default: '5' },
    'kill-every-s': { type: 'string', default: '8' },
    'down-s': { type: 'string', default: '60' },
    'timeout-s': { type: 'string', default: '600' },
    pg: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.error('usage: pnpm bench dispatch [--transitions 10000] [--kills 5] [--kill-every-s 8] [--down-s 60] [--timeout-s 600] [--pg]');
  process.exit(0);
}
const total = Number(a.transitions);
const kills = Number(a.kills);
const killEveryMs = Number(a['kill-every-s']) * 1000;
const downMs = Number(a['down-s']) * 1000;
const here = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'lifeline-bench-dispatch-'));

/** key → first arrival; (receiver, seq) → keys seen. */
type Name = 'A' | 'B' | 'C';
const firstAt = new Map<string, number>();
const keysOf = new Map<string, Set<string>>();
const latency: number[] = [];
let deliveries = 0;
let misrouted = 0;
let bDownUntil = 0;
const started = Date.now();

async function receiver(name: Name): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (name === 'B' && Date.now() < bDownUntil) return void res.writeHead(503).end('down for the bench');
      const key = String(req.headers['x-lifeline-delivery']);
      const t = (JSON.parse(body) as { transition: { seq: number; ts: number } }).transition;
      deliveries++;
      if (!firstAt.has(key)) {
        firstAt.set(key, Date.now());
        latency.push(Date.now() - t.ts);
        if (!benchRoutes(t.seq).includes(name)) misrouted++;
        else {
          const k = `${name}:${t.seq}`;
          keysOf.set(k, (keysOf.get(k) ?? new Set()).add(key));
        }
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/${name}`, server };
}

const receivers = { A: await receiver('A'), B: await receiver('B'), C: await receiver('C') };
const env = { ...process.env };
if (a.pg) {
  env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
  env.LIFELINE_DB_SCHEMA = `bench_dispatch_${process.pid}`;
}

let child: ChildProcess | undefined;
let generated = false;
function startChild(): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', join(here, '_dispatch-cloud.ts'), join(tmp, 'cloud.db'), String(total), receivers.A.url, receivers.B.url, receivers.C.url], {
      stdio: ['ignore', 'pipe', 'inherit'], env,
    });
    child = c;
    let buf = '';
    c.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.includes('"ready"')) resolve();
        if (line.includes('"generated"')) generated = true;
      }
    });
    c.once('exit', (code, signal) => signal === null && code !== 0 && reject(new Error(`cloud exited with ${code}`)));
  });
}

const expected = Array.from({ length: total }, (_, i) => benchRoutes(i + 1).length).reduce((s, n) => s + n, 0);
await startChild();
bDownUntil = Date.now() + downMs;
let killed = 0;
const deadline = Date.now() + Number(a['timeout-s']) * 1000;
let nextKill = Date.now() + killEveryMs;
while (Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 100));
  if (killed < kills && Date.now() >= nextKill) {
    const c = child!;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
    killed++;
    await startChild();
    nextKill = Date.now() + killEveryMs;
  }
  if (killed >= kills && generated && keysOf.size >= expected) break;
}
const c = child!;
const gone = new Promise((r) => c.once('exit', r));
c.kill('SIGTERM');
await gone;
for (const r of Object.values(receivers)) r.server.close();

if (a.pg) {
  // pg is the cloud package's dependency, not the workspace root's.
  const pg = createRequire(join(here, '../cloud/package.json'))('pg') as { Client: new (o: { connectionString?: string }) => { connect(): Promise<void>; query(q: string): Promise<unknown>; end(): Promise<void> } };
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${env.LIFELINE_DB_SCHEMA} CASCADE`);
  await client.end();
}
rmSync(tmp, { recursive: true, force: true });

latency.sort((x, y) => x - y);
const pct = (p: number) => (latency.length ? latency[Math.min(latency.length - 1, Math.floor((p / 100) * latency.length))] : null);
const delivered = [...keysOf.keys()].length;
console.log(
  JSON.stringify({
    transitions: total, expected, delivered_unique: delivered, lost: expected - delivered,
    duplicate_effects: [...keysOf.values()].filter((k) => k.size > 1).length, duplicate_deliveries: deliveries - firstAt.size, misrouted,
    kills: killed, down_s: downMs / 1000, p50_delivery_ms: pct(50), p99_delivery_ms: pct(99), elapsed_s: Math.round((Date.now() - started) / 1000), store: a.pg ? 'postgres' : 'sqlite',
  }),
);
