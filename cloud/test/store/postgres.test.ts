/**
 * The store contract against PostgreSQL (127.0.0.1:5432, database `test`,
 * one schema per test), plus what only PostgreSQL has: daily partitions,
 * retention by partition, the Grafana query of docs/operations.md, and the
 * compaction of a whole day partition (pg-cold-day.ts).
 */
import { describe, expect, it } from 'vitest';
import { PgStore, partitionName } from '../../src/store/pg-store.js';
import { storeContract } from './contract/index.js';
import { TEST_DATABASE_URL, freshPgStore } from './pg.js';

storeContract('postgres', async () => {
  const { store, schema, cleanup } = await freshPgStore();
  const reopen = async () => {
    const again = new PgStore({ url: TEST_DATABASE_URL, schema, poolSize: 4 });
    await again.migrate();
    return again;
  };
  return { store, cleanup, reopen };
});

const DAY = 86_400_000;

describe('postgres partitions, retention and Grafana', () => {
  it('puts each day in its own partition, far-off days in the default one, and drops expired days', async () => {
    const { store, schema, cleanup } = await freshPgStore({ retentionDays: 30 });
    try {
      const today = Math.floor(Date.now() / DAY);
      const ts = [(today - 2) * DAY + 5, (today - 1) * DAY + 5, today * DAY + 5, (today - 100) * DAY, (today + 30) * DAY];
      await store.telemetry.commitTelemetry({ gateway: 'g', firstSeq: 1, lastSeq: ts.length, readings: ts.map((t, i) => ({ device: 'd', point: 'p', ts: t, value: i })) });
      expect(store.partitionDays()).toEqual([today - 2, today - 1, today]);
      const count = async (table: string) => Number((await store.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
      expect(await count(partitionName(today - 1))).toBe(1);
      expect(await count('readings_default')).toBe(2); // 100 days ago (past retention) and 30 days ahead (a wrong clock)
      // When a day from the default partition gets its own partition, its rows move along.
      await store.createPartition(today + 30);
      expect(await count('readings_default')).toBe(1);
      expect(await count(partitionName(today + 30))).toBe(1);
      // Retention drops whole partitions and trims the default one.
      await store.telemetry.applyRetention((today - 1) * DAY);
      expect(store.partitionDays()).toEqual([today - 1, today, today + 30]);
      expect((await store.pool.query('SELECT to_regclass($1) AS r', [partitionName(today - 2)])).rows[0].r).toBeNull();
      expect(await count('readings_default')).toBe(0);
      const left = await store.telemetry.readings({ gateway: 'g', device: 'd', point: 'p', from: 0, to: (today + 31) * DAY, limit: 10 });
      expect(left.map((r) => r.value)).toEqual([1, 2, 4]);
      // A second store on the same schema (another worker) finds the partitions that exist.
      const again = new PgStore({ url: TEST_DATABASE_URL, schema, poolSize: 1 });
      await again.migrate();
      expect(again.partitionDays()).toEqual(store.partitionDays());
      await again.close();
    } finally {
      await cleanup();
    }
  });

  it('answers the Grafana example query of docs/operations.md', async () => {
    const { store, cleanup } = await freshPgStore();
    try {
      const t0 = Math.floor(Date.now() / 3600_000) * 3600_000 - 3600_000;
      const readings = Array.from({ length: 600 }, (_, i) => ({ device: 'flood-1', point: 'water_level', ts: t0 + i * 1000, value: i < 300 ? 1 : 3 }));
      await store.telemetry.commitTelemetry({ gateway: 'gw', firstSeq: 1, lastSeq: 600, readings });
      // The query as documented, with Grafana's macros expanded the way Grafana does:
      // $__from / $__to → epoch ms of the dashboard range, $__interval_ms → the interval in ms.
      const documented = `SELECT to_timestamp((r.ts / $__interval_ms) * $__interval_ms / 1000.0) AS "time",
       avg(r.value) AS "water_level", min(r.value) AS "min", max(r.value) AS "max"
FROM readings r JOIN series s ON s.id = r.series
WHERE s.gateway = 'gw' AND s.device = 'flood-1' AND s.point = 'water_level'
  AND r.ts BETWEEN $__from AND $__to
GROUP BY 1
ORDER BY 1`;
      const sql = documented.replaceAll('$__interval_ms', '300000').replaceAll('$__from', String(t0)).replaceAll('$__to', String(t0 + 3600_000));
      const rows = (await store.pool.query(sql)).rows as { time: Date; water_level: number; min: number; max: number }[];
      expect(rows.map((r) => [r.time.getTime() - t0, r.water_level])).toEqual([[0, 1], [300_000, 3]]);
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8')).toContain(documented);
    } finally {
      await cleanup();
    }
  });

  it('compacts a day partition by TRUNCATE, and keeps hot the rows a commit adds while the day is read', async () => {
    const { store, cleanup } = await freshPgStore();
    const late = await store.pool.connect();
    try {
      const d0 = (Math.floor(Date.now() / DAY) - 10) * DAY;
      const table = partitionName(d0 / DAY);
      const P = { gateway: 'gw', device: 'd', point: 'p' };
      const readings = [
        ...Array.from({ length: 1000 }, (_, i) => ({ device: 'd', point: 'p', ts: d0 + i * 1000 + 3, value: i / 4 })),
        ...Array.from({ length: 500 }, (_, i) => ({ device: 'e', point: 'p', ts: d0 + i * 2000, value: i % 2 ? NaN : i })),
      ];
      await store.telemetry.commitTelemetry({ gateway: 'gw', firstSeq: 1, lastSeq: readings.length, readings });
      const id = Number((await store.pool.query("SELECT id FROM series WHERE device = 'd'")).rows[0].id);
      const count = async () => Number((await store.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
      const all = () => store.telemetry.readings({ ...P, from: 0, to: d0 + DAY, limit: 10_000 });
      // A commit into the day that is open when compaction starts (its snapshot cannot see it) and inserts only once
      // compaction has written its blocks (so its transaction id is above compaction's own): a new reading and a
      // corrected one at a stored timestamp.
      await late.query('BEGIN');
      await late.query(`LOCK TABLE ${table} IN ROW EXCLUSIVE MODE`);
      const compaction = store.telemetry.compact(d0 + 3 * DAY);
      // Compaction waits for the open commit at its final lock; then the commit inserts and lands.
      for (let i = 0; ; i++) {
        const waiting = await store.pool.query('SELECT 1 FROM pg_locks WHERE relation = to_regclass($1) AND NOT granted', [table]);
        if (waiting.rowCount) break;
        if (i > 600) throw new Error('compaction never waited for the open commit');
        await new Promise((r) => setTimeout(r, 50));
      }
      await late.query(`INSERT INTO ${table}(series, ts, value, quality) VALUES ($1, $2, 42, 0), ($1, $3, 99, 1)`, [id, d0 + 1, d0 + 10_003]);
      await late.query('COMMIT');
      expect(await compaction).toEqual({ seriesDays: 2, readings: 1500, bytes: expect.any(Number), failed: [] });
      // Only the late rows stay hot, and reads merge them over the block: the correction replaces its twin.
      expect(await count()).toBe(2);
      const want = [{ ts: d0 + 1, value: 42 }, ...readings.slice(0, 1000).map((r) => ({ ts: r.ts, value: r.ts === d0 + 10_003 ? 99 : r.value }))];
      expect(await all()).toEqual(want);
      const e = await store.telemetry.readings({ ...P, device: 'e', from: 0, to: d0 + DAY, limit: 10_000 });
      expect(e).toEqual(readings.slice(1000).map((r) => ({ ts: r.ts, value: r.value })));
      // The next compaction merges them in; with nothing left the partition is truncated (its heap has no pages: no dead rows).
      expect(await store.telemetry.compact(d0 + 3 * DAY)).toMatchObject({ seriesDays: 1, readings: 2, failed: [] });
      expect(await count()).toBe(0);
      expect(Number((await store.pool.query('SELECT pg_relation_size(to_regclass($1)) AS b', [table])).rows[0].b)).toBe(0);
      expect(await all()).toEqual(want);
    } finally {
      late.release();
      await cleanup();
    }
  });
});
