/**
 * The identity-and-epochs migration on both engines: a database written under
 * the old shared seq space ("cloud seq = epoch base + gateway seq", older epochs
 * refused) keeps its data, each epoch gets its own committed prefix, and an
 * older epoch's batches are taken again instead of refused forever.
 */
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { AlarmTransition } from '@lifeline/shared';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { PgStore } from '../../src/store/pg-store.js';
import type { Store } from '../../src/store/store.js';
import { TEST_DATABASE_URL } from './pg.js';
import { requireService, tempDir } from '../../../test/helpers.js';

const T0 = 1_790_000_000_000;

/** Rows as the old schema held them: gw-1 moved from epoch 11 (base 0) to epoch 22 (base 100 telemetry, 5 events). */
const OLD_ROWS = `
  INSERT INTO sync_epochs(gateway, lane, epoch, base, opened_at) VALUES
    ('gw-1', 'telemetry', 11, 0, 1), ('gw-1', 'telemetry', 22, 100, 2), ('gw-1', 'events', 11, 0, 1), ('gw-1', 'events', 22, 5, 2);
  INSERT INTO committed(gateway, lane, up_to) VALUES ('gw-1', 'telemetry', 130), ('gw-1', 'events', 7), ('gw-0', 'telemetry', 9);
  INSERT INTO batches(gateway, lane, first_seq, last_seq, committed_at) VALUES ('gw-1', 'telemetry', 141, 150, 3);
  INSERT INTO devices(id, gateway, profile, kind, points, last_ts) VALUES ('flood-1', 'gw-1', 'flood-gauge', 'flood', '[]', ${T0});
  INSERT INTO series(id, device, point) VALUES (1, 'flood-1', 'level');
  INSERT INTO readings(series, ts, value, quality) VALUES (1, ${T0}, 2.5, 0);
  INSERT INTO events(gateway, seq, ts, kind, device, alarm_id, body) VALUES
    ('gw-1', 5, ${T0}, 'alarm', 'flood-1', 'flood-1/level/threshold', '{}'),
    ('gw-1', 7, ${T0 + 2000}, 'alarm', 'flood-1', 'flood-1/level/threshold', '{}');
  INSERT INTO alarms(gateway, alarm_id, device, point, detector, level, state, since, cause, value, raised_at, last_seq)
    VALUES ('gw-1', 'flood-1/level/threshold', 'flood-1', 'level', 'threshold', 4, 'active_unacked', ${T0 + 2000}, 'over red', 3.3, ${T0}, 7);`;

const transition = (seq: number, ts: number, to: AlarmTransition['to']): AlarmTransition => ({
  kind: 'alarm', seq, alarmId: 'flood-1/level/threshold', device: 'flood-1', point: 'level', ts, from: 'active_unacked', to, level: 4, detector: 'threshold', cause: to, value: null,
});

async function checkUpgraded(store: Store): Promise<void> {
  // Each epoch's prefix in its own seqs: the older one ended where the newer began.
  expect(await store.telemetry.laneCommitted('gw-1', 'telemetry', 11)).toBe(100);
  expect(await store.telemetry.laneCommitted('gw-1', 'telemetry', 22)).toBe(30);
  expect(await store.telemetry.laneCommitted('gw-1', 'events', 11)).toBe(5);
  expect(await store.telemetry.laneCommitted('gw-1', 'events', 22)).toBe(2);
  expect(await store.telemetry.laneCommitted('gw-0', 'telemetry', 0)).toBe(9); // a lane from before epochs
  // The early batch moved to epoch 22's seqs: filling the hole absorbs it.
  const r = (ts: number) => [{ device: 'flood-1', point: 'level', ts, value: 1 }];
  expect(await store.telemetry.commitTelemetry({ gateway: 'gw-1', epoch: 22, firstSeq: 31, lastSeq: 40, readings: r(T0 + 1) })).toEqual({ duplicate: false, committedUpTo: 50 });
  // The older epoch is taken again, never refused.
  expect(await store.telemetry.commitTelemetry({ gateway: 'gw-1', epoch: 11, firstSeq: 101, lastSeq: 105, readings: r(T0 + 2) })).toEqual({ duplicate: false, committedUpTo: 105 });
  expect(await store.telemetry.commitTelemetry({ gateway: 'gw-1', epoch: 11, firstSeq: 90, lastSeq: 95, readings: [] })).toEqual({ duplicate: true, committedUpTo: 105 });
  // Data kept, now under its gateway.
  expect((await store.telemetry.readings({ gateway: 'gw-1', device: 'flood-1', point: 'level', from: 0, to: T0 + 10, limit: 10 })).map((x) => x.value)).toEqual([2.5, 1, 1]);
  // Alarm state: a newer transition of epoch 22 wins; an older one from epoch 11 does not roll it back.
  await store.telemetry.commitEvents({ gateway: 'gw-1', epoch: 22, firstSeq: 3, lastSeq: 3, events: [transition(3, T0 + 3000, 'active_acked')] });
  await store.telemetry.commitEvents({ gateway: 'gw-1', epoch: 11, firstSeq: 6, lastSeq: 6, events: [transition(6, T0 + 1000, 'cleared_unacked')] });
  const [alarm] = await store.alarms.listAlarms({ gateway: 'gw-1', limit: 10 });
  expect(alarm.state).toBe('active_acked');
  expect((await store.alarms.alarmHistory(alarm.id)).length).toBe(4);
}

describe('identity-and-epochs migration', () => {
  it('upgrades a SQLite database', async () => {
    const tmp = tempDir('lifeline-upgrade-');
    const store = new SqliteStore(join(tmp.dir, 'cloud.db'));
    try {
      await store.migrate(3);
      store.db.exec(OLD_ROWS);
      await store.migrate();
      await checkUpgraded(store);
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });

  it('upgrades a PostgreSQL database', async () => {
    await requireService('PostgreSQL', '127.0.0.1', 5432);
    const schema = `t_upg_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const store = new PgStore({ url: TEST_DATABASE_URL, schema, poolSize: 2 });
    try {
      await store.migrate(2);
      await store.pool.query(OLD_ROWS);
      await store.migrate();
      await checkUpgraded(store);
    } finally {
      await store.close();
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    }
  });
});
