/**
 * `pnpm bench pipeline [--readings N] [--batch N] [--runs N]` — the gateway's
 * hot path: decoded readings → detectors (edge/src/detect engine) → SQLite
 * buffer (EdgeBuffer.append, WAL, one transaction per poll batch).
 *
 * The site: 200 devices × 10 points, each point with a threshold and a range
 * detector, values a noisy wave that now and then crosses a threshold (so
 * detectors do fire). Readings are made up front (decoding is measured by
 * `pnpm bench codec`), grouped in poll batches of one device's 10 points, and
 * `--batch` readings per append (default 1,000: a 100-device gateway's poll
 * round).
 *
 * The ceiling is raw better-sqlite3 on the same machine in the same run: a
 * prepared `INSERT` of one row per reading (seq, series, ts, value, quality),
 * `--batch` rows per transaction, same WAL and synchronous settings. Runs
 * alternate pipeline / ceiling; medians are reported. Ends with one JSON line:
 * {"readings_per_s","sqlite_ceiling_per_s","ratio","rss_mb"}.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reading } from '../shared/src/index.js';
import { createDetectors } from '../edge/src/detect/index.js';
import { EdgeBuffer } from '../edge/src/buffer/buffer.js';

// better-sqlite3 is the edge package's dependency: load the same copy the buffer uses. Only the ceiling's own
// table is touched here; a buffer file is read through edge/src/buffer/inspect.ts, never with SQL.
const Database = createRequire(new URL('../edge/package.json', import.meta.url))('better-sqlite3') as new (path: string, opts?: { readonly?: boolean; fileMustExist?: boolean }) => SqliteDb;
/** The part of better-sqlite3's Database used here (its types belong to the edge package). */
interface SqliteDb {
  prepare(sql: string): { get(...a: unknown[]): unknown; all(...a: unknown[]): unknown[]; run(...a: unknown[]): unknown };
  pragma(s: string): unknown;
  exec(s: string): void;
  transaction<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void;
  close(): void;
}

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('readings', 2_000_000);
const BATCH = arg('batch', 1000);
const RUNS = arg('runs', 3);
const DEVICES = 200;
const POINTS = 10;

// Seeded noise so every run sees the same stream.
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

const T0 = 1_764_000_000_000;
const batches: Reading[][] = [];
{
  let made = 0;
  let round = 0;
  while (made < N) {
    const b: Reading[] = [];
    while (b.length < BATCH && made < N) {
      const d = (made / POINTS) % DEVICES | 0;
      for (let p = 0; p < POINTS && b.length < BATCH && made < N; p++, made++) {
        const wave = 10 + 3 * Math.sin((round + d) / 50) + 0.05 * rnd();
        b.push({ device: `dev-${d}`, point: `p${p}`, ts: T0 + round * 1000, value: Math.round(wave * 1000) / 1000 });
      }
      if (d === DEVICES - 1) round++;
    }
    batches.push(b);
  }
}
const detectorsConfig = {
  points: Array.from({ length: DEVICES * POINTS }, (_, i) => ({
    device: `dev-${(i / POINTS) | 0}`,
    point: `p${i % POINTS}`,
    threshold: { high: { yellow: 12.5, red: 13.5 }, deadband: 0.1 },
    range: { min: -100, max: 100 },
  })),
};

const dir = mkdtempSync(join(tmpdir(), 'lifeline-pipeline-'));

function pipeline(run: number): number {
  const buffer = new EdgeBuffer(join(dir, `pipe-${run}.db`));
  const detectors = createDetectors(detectorsConfig);
  let events = 0;
  const t0 = process.hrtime.bigint();
  for (const b of batches) {
    for (let i = 0; i < b.length; i++) events += detectors.onReading(b[i]).length;
    buffer.append(b);
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (buffer.lastWritten('telemetry') !== N) throw new Error(`pipeline stored ${buffer.lastWritten('telemetry')} of ${N}`);
  buffer.close();
  console.error(`pipeline run ${run}: ${Math.round(N / s)} readings/s (${events} detector events)`);
  return N / s;
}

function ceiling(run: number): number {
  const db = new Database(join(dir, `raw-${run}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE readings(seq INTEGER PRIMARY KEY, series INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO readings(seq, series, ts, value, quality) VALUES (?, ?, ?, ?, ?)');
  // The series id is what the buffer resolves per reading; here a precomputed number (the ceiling does less work).
  let seq = 0;
  const tx = db.transaction((b: Reading[]) => {
    for (let i = 0; i < b.length; i++) insert.run(++seq, seq % (DEVICES * POINTS), b[i].ts, b[i].value, 0);
  });
  const t0 = process.hrtime.bigint();
  for (const b of batches) tx(b);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  db.close();
  console.error(`ceiling run ${run}: ${Math.round(N / s)} rows/s`);
  return N / s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
try {
  pipeline(-1); // warm-up (JIT)
  const p: number[] = [];
  const c: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    p.push(pipeline(r));
    c.push(ceiling(r));
  }
  const readings = median(p);
  const sqliteCeiling = median(c);
  console.log(
    JSON.stringify({
      readings_per_s: Math.round(readings),
      sqlite_ceiling_per_s: Math.round(sqliteCeiling),
      ratio: Math.round((readings / sqliteCeiling) * 100) / 100,
      rss_mb: Math.round(process.memoryUsage().rss / 1048576),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
