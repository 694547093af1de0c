/**
 * `pnpm bench query [--days 30] [--queries 50] [--keep]`
 *
 * Downsampled query latency on PostgreSQL: fills `days` of one point at 1 s
 * (30 days = 2,592,000 readings) through Store.commitTelemetry (so the
 * per-minute rollup is built the way ingest builds it), then asks for the
 * whole range in 1,000 buckets `queries` times, each window shifted by a
 * random number of seconds so bucket edges cut minutes (the exact path:
 * whole minutes from readings_1m, cut minutes from raw readings).
 * Also times raw aggregation of the same range, for comparison.
 *
 * Final line: {"rows":..,"buckets":1000,"p50_ms":..,"p95_ms":..,"raw_agg_p50_ms":..}
 */
import { PgStore } from '@lifeline/cloud';
import type { Reading } from '@lifeline/shared';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const days = Number(opt('days', '30'));
const queries = Number(opt('queries', '50'));
const keep = args.includes('--keep');
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = keep ? 'bench_query' : `bench_query_${process.pid}`;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10;
}

async function main(): Promise<void> {
  const store = new PgStore({ url, schema, poolSize: 4 });
  await store.migrate();
  const n = days * 86_400;
  const end = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  const start = end - n * 1000;
  const have = Number((await store.pool.query('SELECT count(*) AS c FROM readings')).rows[0].c);
  if (have !== n) {
    if (have) throw new Error(`schema ${schema} holds ${have} readings, not ${n}; drop it or run without --keep`);
    const t0 = performance.now();
    const batch = 20_000;
    const inflight: Promise<unknown>[] = [];
    const seqs = [0, 0, 0, 0];
    for (let i = 0; i < n; i += batch) {
      const rs: Reading[] = [];
      for (let k = i; k < Math.min(n, i + batch); k++) rs.push({ device: 'flood-1', point: 'water_level', ts: start + k * 1000, value: 2 + Math.sin(k / 3600) + (k % 17) / 100 });
      // Four buffer epochs' worth of commits side by side (each its own seq space), each epoch's in order.
      const lane = (i / batch) % 4;
      inflight.push(store.telemetry.commitTelemetry({ gateway: 'bench-q', epoch: lane + 1, firstSeq: seqs[lane] + 1, lastSeq: seqs[lane] + rs.length, readings: rs }));
      seqs[lane] += rs.length;
      if (inflight.length === 4) {
        await Promise.all(inflight);
        inflight.length = 0;
      }
    }
    await Promise.all(inflight);
    await store.pool.query('ANALYZE readings; ANALYZE readings_1m');
    console.error(`filled ${n} readings in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const step = Math.ceil((n * 1000) / 1000);
  const times: number[] = [];
  let buckets = 0;
  for (let q = 0; q < queries + 3; q++) {
    const shift = Math.floor(Math.random() * 3600) * 1000 + 137;
    const t0 = performance.now();
    const r = await store.telemetry.downsample({ gateway: 'bench-q', device: 'flood-1', point: 'water_level', from: start + shift - step, to: start + shift - step + 1000 * step - 1, step });
    const ms = performance.now() - t0;
    if (q >= 3) times.push(ms); // the first few warm the caches
    buckets = r.length;
  }
  // Raw aggregation of the whole range, for comparison (what the rollup saves).
  const raw: number[] = [];
  for (let q = 0; q < 5; q++) {
    const t0 = performance.now();
    await store.pool.query(
      `SELECT (r.ts - $1) / $2 AS b, min(value), max(value), avg(value), count(value) FROM readings r JOIN series s ON s.id = r.series
       WHERE s.device = 'flood-1' AND s.point = 'water_level' AND r.ts >= $1 AND r.ts < $3 GROUP BY b`,
      [start, step, start + 1000 * step],
    );
    raw.push(performance.now() - t0);
  }
  if (!keep) await store.pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await store.close();
  console.error(`${queries} queries of ${buckets} buckets over ${days} days (${n} rows)`);
  console.log(JSON.stringify({ rows: n, buckets, p50_ms: pct(times, 50), p95_ms: pct(times, 95), raw_agg_p50_ms: pct(raw, 50) }));
}

main().catch((err) => (console.error(err), process.exit(1)));
