/**
 * The cloud side of `pnpm bench dispatch`, run (and killed -9) by the bench:
 * a whole cloud (startCloud: store, outbox, routing, delivery) on a SQLite
 * file (or PostgreSQL with DATABASE_URL + LIFELINE_DB_SCHEMA) whose alarm
 * transitions are committed through the store's event commit (the path ingest
 * takes after decoding a batch: commit, then the live hub, then the outbox).
 * On the first start it registers the Jining test site, three receivers and
 * two rules; on every start it goes on generating from the lane's committed
 * prefix until `total` transitions exist, so a kill loses none of them.
 * stdout: one JSON line when ready ({"receivers":{…}}), one when generation is done.
 * argv: <db file> <total> <receiver url A> <receiver url B> <receiver url C>
 */
import { pino } from 'pino';
import type { AlarmTransition } from '../shared/src/index.js';
import { startCloud } from '../cloud/src/cloud.js';
import { benchTransition, BENCH_DEVICES, BENCH_EPOCH, BENCH_GATEWAY } from './_dispatch-plan.js';

const [dbPath, totalArg, urlA, urlB, urlC] = process.argv.slice(2);
const total = Number(totalArg);
const cloud = await startCloud({
  log: pino({ level: 'warn' }, pino.destination(2)),
  port: 0,
  dbPath,
  databaseUrl: process.env.DATABASE_URL || undefined,
  databaseSchema: process.env.LIFELINE_DB_SCHEMA || undefined,
  brokerPort: 0,
  adminToken: 'bench-admin-token-0123456789',
  alarms: { watch: false },
  // A receiver down for a minute must outlast its retries: 12 attempts at ≤ 10 s apart (the default, 6 at ≤ 60 s, gives up after about 31 s).
  webhooks: { pollMs: 250, baseDelayMs: 250, maxDelayMs: 10_000, maxAttempts: 12, timeoutMs: 2000, catchUpMs: 2000 },
});
const { store } = cloud;
let hooks = await store.webhooks.listWebhooks();
if (!hooks.length) {
  await store.registry.saveGatewayStatus({ gateway: BENCH_GATEWAY, online: true, ts: Date.now(), devices: BENCH_DEVICES.map((d) => ({ id: d.id, profile: 'bench', kind: d.kind, location: { lon: 116.6, lat: 35.4, district: d.district } })) });
  const add = (url: string, minLevel: number) => store.webhooks.addWebhook({ kind: 'webhook', url, secret: 'bench-secret-0123456789', minLevel, sms: null, createdBy: 'bench', createdAt: Date.now() });
  const a = await add(urlA, 0);
  const b = await add(urlB, 0);
  await add(urlC, 3);
  const rule = { enabled: true, quietHours: null, dedupMinutes: 0, escalation: null };
  await store.routing.addRule({ ...rule, name: 'lamp posts → lighting', match: { kinds: ['lamp_post'] }, receivers: [a.id] }, 'bench', Date.now());
  await store.routing.addRule({ ...rule, name: '任城区 → district duty', match: { districts: ['任城区'] }, receivers: [b.id] }, 'bench', Date.now());
  await cloud.webhooks.reload();
  hooks = await store.webhooks.listWebhooks();
}
console.log(JSON.stringify({ ready: true, receivers: { A: hooks[0].id, B: hooks[1].id, C: hooks[2].id } }));

let seq = (await store.telemetry.laneCommitted(BENCH_GATEWAY, 'events', BENCH_EPOCH)) + 1;
while (seq <= total) {
  const last = Math.min(total, seq + 9);
  const events: AlarmTransition[] = [];
  for (let s = seq; s <= last; s++) events.push(benchTransition(s, Date.now()));
  await store.telemetry.commitEvents({ gateway: BENCH_GATEWAY, epoch: BENCH_EPOCH, firstSeq: seq, lastSeq: last, events });
  seq = last + 1;
  await new Promise((r) => setImmediate(r));
}
console.log(JSON.stringify({ generated: total }));
