/**
 * `pnpm bench registry [--store sqlite|postgres] [--devices 10000] [--minutes 30] [--runs 5]`
 *
 * The registry-with-status routes the console's overview loads, against a real
 * cloud: `devices` devices (one point each) on 100 gateways, 300 of them in alarm,
 * every device with a reading a minute for the last `minutes` minutes (the 24 h
 * completeness then counts devices × minutes rollup rows). Each route and the
 * store calls behind it are timed `runs` times, one after another (no other load).
 *
 *   devices_ms / gateways_ms / summary_ms   GET /api/v1/devices, /gateways, /summary (the whole answer read)
 *   list_devices_ms / active_minutes_ms     registry.listDevices() and telemetry.activeMinutes(a day ago), the two big store calls
 *
 * Each figure is the median of `runs`. Final line:
 * {"store":…,"devices":…,"minutes":…,"devices_ms":…,"gateways_ms":…,"summary_ms":…,"list_devices_ms":…,"active_minutes_ms":…}
 */
import { join } from 'node:path';
import { PgStore, startCloud } from '@lifeline/cloud';
import type { AlarmTransition, Reading } from '@lifeline/shared';
import { pino } from 'pino';
import { seqLanes, tempDir } from '../test/helpers.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const count = (name: string, dflt: number) => {
  const v = Number(opt(name, String(dflt)));
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`--${name}: must be a positive integer, got ${JSON.stringify(opt(name, ''))}`);
    process.exit(2);
  }
  return v;
};
const storeKind = opt('store', 'sqlite');
if (storeKind !== 'sqlite' && storeKind !== 'postgres') {
  console.error(`--store: sqlite or postgres, got ${JSON.stringify(storeKind)}`);
  process.exit(2);
}
const DEVICES = count('devices', 10_000);
const MINUTES = count('minutes', 30);
const RUNS = count('runs', 5);
const GATEWAYS = 100;
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const DAY = 86_400_000;

async function main(): Promise<void> {
  const tmp = tempDir('lifeline-bench-registry-');
  const schema = `bench_registry_${process.pid}`;
  const cloud = await startCloud({
    log: pino({ level: 'error' }), port: 0, dbPath: join(tmp.dir, 'cloud.db'), adminToken: 'bench-admin', alarms: { watch: false },
    ...(storeKind === 'postgres' ? { databaseUrl: url, databaseSchema: schema } : {}),
  });
  const store = cloud.store;
  const now = Date.now();
  const next = seqLanes();
  const all: { gw: string; id: string }[] = [];
  const perGw = Math.ceil(DEVICES / GATEWAYS);
  for (let g = 0; g < GATEWAYS && all.length < DEVICES; g++) {
    const gw = `gw-${String(g).padStart(3, '0')}`;
    const devices = [];
    for (let k = 0; k < perGw && all.length < DEVICES; k++) {
      const id = `gas-${g}-${k}`;
      all.push({ gw, id });
      devices.push({ id, profile: 'bench-gas', kind: 'gas', name: `燃气${g}-${k}`, location: { lon: 116.3 + k / 2000, lat: 35.2 + g / 500, district: '任城区' }, points: [{ name: 'pressure', unit: 'kPa' }] });
    }
    await store.registry.saveGatewayStatus({ gateway: gw, online: true, ts: now, name: `网关${g}`, devices, backlog: { depth: 0, oldestTs: null }, clockOffsetMs: 10 });
  }
  const step = Math.max(1, Math.floor(all.length / 300));
  for (let i = 0; i < Math.min(300, all.length); i++) {
    const d = all[i * step];
    const s = next(`${d.gw}/events`, 1);
    const e: AlarmTransition = { kind: 'alarm', seq: s, alarmId: `${d.id}/pressure/threshold`, device: d.id, point: 'pressure', ts: now - i * 1000, from: 'normal', to: 'active_unacked', level: 1 + (i % 4), detector: 'threshold', cause: 'pressure above limit', value: 1 };
    await store.telemetry.commitEvents({ gateway: d.gw, firstSeq: s, lastSeq: s, events: [e] });
  }
  for (let m = 0; m < MINUTES; m++) {
    const byGw = new Map<string, Reading[]>();
    for (const d of all) {
      let rs = byGw.get(d.gw);
      if (!rs) byGw.set(d.gw, (rs = []));
      rs.push({ device: d.id, point: 'pressure', ts: now - m * 60_000, value: m });
    }
    for (const [gw, rs] of byGw) {
      const s = next(gw, rs.length);
      await store.telemetry.commitTelemetry({ gateway: gw, epoch: 1, firstSeq: s, lastSeq: s + rs.length - 1, readings: rs });
    }
  }
  const timed = async (f: () => Promise<unknown>) => {
    const xs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await f();
      xs.push(performance.now() - t);
    }
    return xs;
  };
  const route = (path: string) => async () => {
    const r = await fetch(`${cloud.apiUrl}${path}`, { headers: { authorization: 'Bearer bench-admin' } });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    await r.arrayBuffer();
  };
  const figures: Record<string, number[]> = {
    devices: await timed(route('/api/v1/devices')),
    gateways: await timed(route('/api/v1/gateways')),
    summary: await timed(route('/api/v1/summary')),
    list_devices: await timed(() => store.registry.listDevices()),
    active_minutes: await timed(() => store.telemetry.activeMinutes(Date.now() - DAY)),
  };
  await cloud.close();
  if (storeKind === 'postgres') {
    const admin = new PgStore({ url, poolSize: 1 });
    await admin.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  }
  tmp.cleanup();
  console.error(`runs: ${Object.entries(figures).map(([k, xs]) => `${k} ${xs.map(Math.round).join(', ')} ms`).join('; ')}`);
  console.log(JSON.stringify({ store: storeKind, devices: DEVICES, minutes: MINUTES, ...Object.fromEntries(Object.entries(figures).map(([k, xs]) => [`${k}_ms`, Math.round(median(xs))])) }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
