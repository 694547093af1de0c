/**
 * `pnpm bench storage [--engine pg|sqlite] [--days 30] [--series 6] [--every 1000] [--queries 30] [--data ../shared/data] [--sweep-only]`
 *
 * Cold storage (issue #19): fills `days` of `series` points at one reading per
 * `every` ms through Store.commitTelemetry, measures what the rows take, compresses
 * every day (Store.telemetry.compact), measures what the blocks take, times the
 * 30-day 1,000-bucket query on the first series hot and cold, and reads every
 * reading back through Store.telemetry.readings, comparing it bit for bit.
 *
 * The figure is 30 days × 500 series at 1 s (1.3 billion readings); the
 * default here is 30 days × 6 series at 1 s (15.6 million, 83× fewer series),
 * which this shared 2-core machine fills in minutes. Bytes per reading and the
 * query do not depend on the number of series (blocks are per series and day).
 *
 * Signals, round robin over three sources (series k: k mod 3):
 *   0  the demo site's simulated points: every point of devices/profiles, its
 *      `sim` signal (devices/src/simulator/signal.ts) quantized the way its
 *      register type gives it to the edge (float32 → nearest float32, integer
 *      registers → raw × scale + offset);
 *   1  SKAB (pipe test bed, 1 s): one sensor column, its files concatenated;
 *   2  NAB: one file's values (5-min data replayed at `every`).
 * Timestamps are jittered 0–15 ms like a poller's (it stamps the reply's time).
 * A codec sweep (no database) also encodes one day of every source of each
 * group (all demo points, all SKAB columns, all NAB files): sweep_bytes_per_reading_*
 * (deflating with node:zlib, as the store does), every block decoded again and
 * compared bit for bit (sweep_mismatches), and what decoding them costs
 * (sweep_decode_us_per_frame: µs per 600-reading frame, node:zlib's inflate).
 * `--sweep-only` stops there (no database) and prints those figures alone.
 * The data are read from --data at run time (never copied into the repo).
 *
 * Final line: {"engine":..,"readings":..,"bytes_per_reading_hot":..,"bytes_per_reading_cold":..,
 *   "ingest_readings_per_s":..,"compress_readings_per_s":..,"query_30d_p95_ms_hot":..,
 *   "query_30d_p95_ms_cold":..,"query_30d_first_ms_cold":..,"roundtrip_mismatches":0}
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { PgStore, SqliteStore, type Store } from '@lifeline/cloud';
import { listProfiles, loadProfile, signalValue, type AnyPoint } from '@lifeline/devices';
import { decodeBlock, encodeBlock, prng, type Reading } from '@lifeline/shared';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
if (args.includes('--help')) {
  console.error('usage: pnpm bench storage [--engine pg|sqlite] [--days 30] [--series 6] [--every 1000] [--queries 30] [--data ../shared/data] [--sweep-only]');
  process.exit(0);
}
const engine = opt('engine', 'pg');
if (engine !== 'pg' && engine !== 'sqlite') throw new Error(`--engine: must be pg or sqlite, got ${JSON.stringify(engine)}`);
const days = Number(opt('days', '30'));
const nSeries = Number(opt('series', '6'));
const every = Number(opt('every', '1000'));
const queries = Number(opt('queries', '30'));
const dataDir = resolve(opt('data', join(import.meta.dirname, '../../shared/data')));
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DAY = 86_400_000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10;
}

// ----------------------------------------------------------------------------------------------
// Signals

type Source = { name: string; group: 'city' | 'skab' | 'nab'; value: (i: number, ts: number) => number };

function files(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...files(p, ext));
    else if (f.endsWith(ext)) out.push(p);
  }
  return out;
}

/** Every point of the demo profiles, quantized as its register type delivers it. */
function citySources(): Source[] {
  const out: Source[] = [];
  for (const name of listProfiles()) {
    const profile = loadProfile(name);
    for (const point of profile.points as readonly AnyPoint[]) {
      const p = point as AnyPoint & { type?: string; scale?: number; offset?: number };
      if (p.type === 'bool' || p.type === 'coil' || !p.sim) continue;
      const rand = prng(out.length + 1);
      const scale = p.scale ?? 1;
      const offset = p.offset ?? 0;
      const quantize =
        p.type === 'float32' ? Math.fround : p.type === 'float64' ? (v: number) => v : (v: number) => Math.round((v - offset) / scale) * scale + offset;
      out.push({ name: `${profile.id}.${p.name}`, group: 'city', value: (_i, ts) => quantize(signalValue(p, ts, 0, rand)) });
    }
  }
  return out;
}

function skabSources(): Source[] {
  const cols = new Map<string, number[]>();
  for (const f of files(join(dataDir, 'skab'), '.csv')) {
    const [head, ...rows] = readFileSync(f, 'utf8').trim().split('\n');
    const names = head.split(';');
    for (const row of rows) {
      const cells = row.split(';');
      names.forEach((n, c) => {
        if (c === 0 || n === 'anomaly' || n === 'changepoint') return;
        const v = Number(cells[c]);
        if (Number.isFinite(v)) (cols.get(n) ?? cols.set(n, []).get(n)!).push(v);
      });
    }
  }
  return [...cols].map(([n, vs]) => ({ name: `skab.${n}`, group: 'skab' as const, value: (i: number) => vs[i % vs.length] }));
}

function nabSources(): Source[] {
  return files(join(dataDir, 'nab', 'data'), '.csv').map((f) => {
    const vs = readFileSync(f, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
    return { name: `nab.${f.split('/').slice(-2).join('/')}`, group: 'nab' as const, value: (i: number) => vs[i % vs.length] };
  });
}

// ----------------------------------------------------------------------------------------------

async function bytesOf(store: Store, what: 'hot' | 'cold'): Promise<number> {
  if (store instanceof PgStore) {
    const q =
      what === 'hot'
        ? `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS b FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('readings')`
        : `SELECT pg_total_relation_size(to_regclass('readings_cold')) AS b`;
    return Number((await store.pool.query(q)).rows[0].b);
  }
  const db = (store as SqliteStore).db;
  const names = what === 'hot' ? ['readings', 'readings_series_ts'] : ['readings_cold', 'sqlite_autoindex_readings_cold_1', 'readings_cold_day'];
  return (db.prepare(`SELECT COALESCE(SUM(pgsize), 0) AS b FROM dbstat WHERE name IN (${names.map(() => '?').join(', ')})`).get(...names) as { b: number }).b;
}

async function main(): Promise<void> {
  const city = citySources();
  const skab = skabSources();
  const nab = nabSources();
  if (!skab.length || !nab.length) throw new Error(`--data: no SKAB or NAB CSVs under ${dataDir}`);
  const sources: Source[] = Array.from({ length: nSeries }, (_, k) => {
    const group = [city, skab, nab][k % 3];
    return group[(Math.floor(k / 3) * 7 + (k % 3 === 0 ? 3 : 0)) % group.length];
  });
  const n = Math.floor((days * DAY) / every);
  const end = Math.floor(Date.now() / DAY) * DAY - DAY; // the last filled day ends at yesterday's midnight
  const start = end - days * DAY;
  const jitter = prng(42);
  // One timestamp column per series (jittered like a poller's), generated once.
  const ts = sources.map(() => Float64Array.from({ length: n }, (_, i) => start + i * every + Math.floor(jitter() * 16)));
  const sweepOnly = args.includes('--sweep-only');
  const gen = sources.map(() => new Float64Array(sweepOnly ? 0 : n));
  if (!sweepOnly)
    sources.forEach((s, k) => {
      for (let i = 0; i < n; i++) gen[k][i] = s.value(i, ts[k][i]);
    });
  // Codec sweep (no database): one day of every source of each group, encoded as the store would.
  const sweep: Record<string, number> = {};
  let sweepMismatches = 0;
  let decodeMs = 0;
  let decodedFrames = 0;
  const inflate = (b: Uint8Array) => inflateRawSync(b);
  for (const [group, list] of [['city', city], ['skab', skab], ['nab', nab]] as const) {
    let bytes = 0;
    let count = 0;
    const m = Math.floor(DAY / every);
    for (const s of list) {
      const t = Float64Array.from({ length: m }, (_, i) => start + i * every + Math.floor(jitter() * 16));
      const v = Float64Array.from({ length: m }, (_, i) => s.value(i, t[i]));
      const block = encodeBlock({ ts: t, values: v, quality: new Uint16Array(m) }, (b) => deflateRawSync(b, { level: 6 }));
      bytes += block.length;
      count += m;
      decodeBlock(block, -Infinity, Infinity, inflate); // warm-up
      const t0 = performance.now();
      const back = decodeBlock(block, -Infinity, Infinity, inflate);
      decodeMs += performance.now() - t0;
      decodedFrames += m / 600;
      for (let i = 0; i < m; i++) if (back.ts[i] !== t[i] || !Object.is(back.values[i], v[i])) sweepMismatches++;
    }
    sweep[`sweep_bytes_per_reading_${group}`] = Math.round((bytes / count) * 1000) / 1000;
    console.error(`codec sweep: ${group}: ${list.length} sources × 1 day: ${(bytes / count).toFixed(3)} bytes/reading`);
  }
  sweep.sweep_decode_us_per_frame = Math.round((decodeMs * 1000) / decodedFrames);
  sweep.sweep_mismatches = sweepMismatches;
  if (sweepOnly) {
    console.log(JSON.stringify(sweep));
    return;
  }
  console.error(`${engine}: ${days} days × ${nSeries} series at ${every} ms = ${n * nSeries} readings; series: ${sources.map((s) => s.name).join(', ')}`);

  let tmp: string | undefined;
  const schema = `bench_storage_${process.pid}`;
  const open = async (): Promise<Store> => {
    const s = engine === 'pg' ? new PgStore({ url, schema, poolSize: 6, retentionDays: days + 30 }) : new SqliteStore(join((tmp ??= mkdtempSync(join(tmpdir(), 'lifeline-bench-storage-'))), 'cloud.db'));
    await s.migrate();
    return s;
  };
  let store = await open();
  try {
    // Fill: time-major batches of ~20,000 readings (a gateway's batches), two in flight on two epochs.
    const t0 = performance.now();
    const per = Math.max(1, Math.floor(20_000 / nSeries));
    const seqs = [0, 0];
    let inflight: Promise<unknown>[] = [];
    for (let i = 0, b = 0; i < n; i += per, b++) {
      const rs: Reading[] = [];
      for (let k = 0; k < nSeries; k++) for (let j = i; j < Math.min(n, i + per); j++) rs.push({ device: `dev-${k}`, point: 'p', ts: ts[k][j], value: gen[k][j] });
      const lane = b % 2;
      inflight.push(store.telemetry.commitTelemetry({ gateway: 'bench-s', epoch: lane + 1, firstSeq: seqs[lane] + 1, lastSeq: seqs[lane] + rs.length, readings: rs }));
      seqs[lane] += rs.length;
      if (inflight.length === 2) {
        await Promise.all(inflight);
        inflight = [];
      }
    }
    await Promise.all(inflight);
    const fillS = (performance.now() - t0) / 1000;
    const total = n * nSeries;
    if (store instanceof PgStore) await store.pool.query('ANALYZE readings; ANALYZE readings_1m');
    const hotBytes = await bytesOf(store, 'hot');
    // The per-minute rollup stays as it is: what one series-minute row takes, for planning.
    const rollup =
      store instanceof PgStore
        ? (await store.pool.query(`SELECT pg_total_relation_size(to_regclass('readings_1m')) AS b, (SELECT count(*) FROM readings_1m) AS n`)).rows[0]
        : ((store as SqliteStore).db.prepare("SELECT (SELECT SUM(pgsize) FROM dbstat WHERE name IN ('readings_1m', 'sqlite_autoindex_readings_1m_1')) AS b, (SELECT count(*) FROM readings_1m) AS n").get() as { b: number; n: number });
    const rollupBytes = Number(rollup.b) / Number(rollup.n);
    console.error(`filled ${total} readings in ${fillS.toFixed(1)} s (${Math.round(total / fillS)} /s); rows take ${hotBytes} bytes; rollup ${rollupBytes.toFixed(1)} bytes per series-minute`);

    // The 30-day 1,000-bucket query on series 0, windows shifted so bucket edges cut minutes.
    const step = Math.ceil((days * DAY) / 1000);
    const rand = prng(7);
    const query = async (s: Store) => {
      const shift = Math.floor(rand() * 3600) * 1000 + 137;
      const from = start + shift - step;
      const t = performance.now();
      const r = await s.telemetry.downsample({ gateway: 'bench-s', device: 'dev-0', point: 'p', from, to: from + 1000 * step - 1, step });
      return { ms: performance.now() - t, buckets: r };
    };
    const timed = async (s: Store) => {
      const times: number[] = [];
      for (let q = 0; q < queries + 3; q++) {
        const { ms } = await query(s);
        if (q >= 3) times.push(ms);
      }
      return times;
    };
    const hotTimes = await timed(store);
    const fixed = { gateway: 'bench-s', device: 'dev-0', point: 'p', from: start + 137, to: start + 137 + 1000 * step - 1, step };
    const hotBuckets = JSON.stringify(await store.telemetry.downsample(fixed));

    // Compress everything up to today.
    const t1 = performance.now();
    const done = await store.telemetry.compact(end + DAY);
    const compressS = (performance.now() - t1) / 1000;
    if (done.readings !== total) throw new Error(`compaction moved ${done.readings} readings, not ${total}`);
    const coldBytes = await bytesOf(store, 'cold');
    const hotLeft = await bytesOf(store, 'hot');
    console.error(`compressed ${done.seriesDays} series-days in ${compressS.toFixed(1)} s (${Math.round(total / compressS)} /s); blocks ${done.bytes} bytes, table ${coldBytes} bytes; rows left ${hotLeft} bytes`);

    // The first query of a fresh process (nothing cached), then the timed ones.
    await store.close();
    store = await open();
    const first = (await query(store)).ms;
    const coldTimes = await timed(store);
    const coldBuckets = JSON.stringify(await store.telemetry.downsample(fixed));
    // Means may differ in the last bits on PostgreSQL (summation order); counts, min and max must not.
    const shape = (j: string) => (JSON.parse(j) as { ts: number; min: number; max: number; count: number }[]).map((b) => [b.ts, b.min, b.max, b.count]);
    let mismatches = JSON.stringify(shape(hotBuckets)) === JSON.stringify(shape(coldBuckets)) ? 0 : 1;

    // Every reading back, bit for bit.
    const t2 = performance.now();
    for (let k = 0; k < nSeries; k++) {
      let i = 0;
      for (let from = start; ; ) {
        const page = await store.telemetry.readings({ gateway: 'bench-s', device: `dev-${k}`, point: 'p', from, to: end + DAY, limit: 200_000 });
        for (const r of page) {
          if (i >= n || r.ts !== ts[k][i] || !Object.is(r.value, gen[k][i])) mismatches++;
          i++;
        }
        if (page.length < 200_000) break;
        from = page[page.length - 1].ts + 1;
      }
      if (i !== n) mismatches += Math.abs(n - i);
    }
    console.error(`read back ${total} readings in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
    // Per source group: the blocks' bytes per reading.
    const report = await store.telemetry.storage(start, end + DAY);
    const groups = new Map<string, { b: number; n: number }>();
    if (store instanceof PgStore || store instanceof SqliteStore) {
      for (let k = 0; k < nSeries; k++) {
        const sql = store instanceof PgStore ? 'SELECT SUM(bytes) AS b, SUM(readings) AS n FROM readings_cold c JOIN series s ON s.id = c.series WHERE s.device = $1' : 'SELECT SUM(bytes) AS b, SUM(readings) AS n FROM readings_cold c JOIN series s ON s.id = c.series WHERE s.device = ?';
        const row = store instanceof PgStore ? (await store.pool.query(sql, [`dev-${k}`])).rows[0] : (store.db.prepare(sql).get(`dev-${k}`) as { b: number; n: number });
        const g = groups.get(sources[k].group) ?? { b: 0, n: 0 };
        g.b += Number(row.b);
        g.n += Number(row.n);
        groups.set(sources[k].group, g);
        console.error(`  ${sources[k].name}: ${(Number(row.b) / Number(row.n)).toFixed(3)} bytes/reading`);
      }
    }
    console.error(`storage route: ${report.days.length} day rows, ratio ${report.days[0]?.ratio}; queries: hot p50 ${pct(hotTimes, 50)} ms, cold p50 ${pct(coldTimes, 50)} ms`);
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    console.log(
      JSON.stringify({
        engine,
        readings: total,
        scale_down: Math.round((30 * 500 * 86_400_000) / every / total),
        bytes_per_reading_hot: r3(hotBytes / total),
        bytes_per_reading_cold: r3(coldBytes / total),
        bytes_per_reading_blocks: r3(done.bytes / total),
        ...Object.fromEntries([...groups].map(([g, v]) => [`bytes_per_reading_${g}`, r3(v.b / v.n)])),
        rollup_bytes_per_series_minute: Math.round(rollupBytes * 10) / 10,
        ingest_readings_per_s: Math.round(total / fillS),
        compress_readings_per_s: Math.round(total / compressS),
        query_30d_p95_ms_hot: pct(hotTimes, 95),
        query_30d_p95_ms_cold: pct(coldTimes, 95),
        query_30d_first_ms_cold: Math.round(first * 10) / 10,
        ...sweep,
        roundtrip_mismatches: mismatches,
      }),
    );
  } finally {
    if (store instanceof PgStore) await store.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await store.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => (console.error(err), process.exit(1)));
