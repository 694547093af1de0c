/**
 * The device-activity migration on both engines: a database written before it
 * (rollup minutes only) gets each device's minutes per hour from its rollup, so
 * the 24 h completeness answers as the counting query did, and commits then keep it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Reading } from '@lifeline/shared';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { freshPgStore } from './pg.js';
import { tempDir } from '../../../test/helpers.js';

const M = 60_000;
const H = 60 * M;
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

/** Readings over 5 hours on two devices (one with two points) of two gateways, every 7 minutes give or take. */
function readings(device: string, point: string, offset: number): Reading[] {
  return Array.from({ length: 45 }, (_, i) => ({ device, point, ts: T0 - H + offset + i * 7 * M, value: i % 9 === 0 ? NaN : i }));
}

async function write(store: Store): Promise<void> {
  await store.telemetry.commitTelemetry({ gateway: 'gw-1', firstSeq: 1, lastSeq: 90, readings: [...readings('d-1', 'p', 0), ...readings('d-1', 'q', 3 * M + 5)] });
  await store.telemetry.commitTelemetry({ gateway: 'gw-2', firstSeq: 1, lastSeq: 45, readings: readings('d-1', 'p', 31 * M) });
}

const SINCES = [0, T0 - H + 10 * M, T0 + 29 * M + 1, T0 + 2 * H + 45 * M];

/** The counting query's answers, the table dropped and the migration run again, the same answers; a later commit adds to them. */
async function checkBackfill(store: Store, rerun: () => Promise<void>): Promise<void> {
  await write(store);
  const want = await Promise.all(SINCES.map((s) => store.telemetry.activeMinutesBetween(s, Number.MAX_SAFE_INTEGER)));
  expect(want[0].size).toBe(2);
  await rerun();
  for (let i = 0; i < SINCES.length; i++) expect(await store.telemetry.activeMinutes(SINCES[i])).toEqual(want[i]);
  await store.telemetry.commitTelemetry({ gateway: 'gw-1', firstSeq: 91, lastSeq: 92, readings: [{ device: 'd-1', point: 'p', ts: T0 + 10 * H, value: 1 }, { device: 'd-1', point: 'q', ts: T0 + 10 * H + 1, value: 1 }] });
  expect((await store.telemetry.activeMinutes(T0 + 9 * H)).get('gw-1\u0000d-1')).toBe(1);
}

/**
 * Undo the activity migration and the three after it (the registry's `pinned` columns, alarms' `raised_cause`,
 * notifications' `thread`): tables, columns and version rows.
 */
const UNDO =
  'DROP TABLE device_activity; ALTER TABLE gateways DROP COLUMN pinned; ALTER TABLE devices DROP COLUMN pinned; ALTER TABLE alarms DROP COLUMN raised_cause;' +
  ' DROP INDEX notifications_thread; ALTER TABLE notifications DROP COLUMN thread;' +
  ' DELETE FROM schema_version WHERE version >= (SELECT v FROM (SELECT MAX(version) - 3 AS v FROM schema_version) x);';

describe('device-activity migration', () => {
  it('fills the table from the rollup on SQLite', async () => {
    const tmp = tempDir('lifeline-activity-');
    const store = new SqliteStore(join(tmp.dir, 'cloud.db'));
    try {
      await store.migrate();
      await checkBackfill(store, async () => {
        store.db.exec(UNDO);
        await store.migrate();
      });
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });

  it('fills the table from the rollup on PostgreSQL', async () => {
    const { store, cleanup } = await freshPgStore();
    try {
      await checkBackfill(store, async () => {
        await store.pool.query(UNDO);
        await store.migrate();
      });
    } finally {
      await cleanup();
    }
  });
});
