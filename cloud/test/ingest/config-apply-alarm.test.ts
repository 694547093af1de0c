/**
 * A gateway's status reports a rolled-back config apply: the ingest raises
 * cloud/gateway/config_apply once (statuses repeat the answer), and a later
 * confirmed apply clears it. A status saying the gateway's buffer disk is full or
 * failing raises cloud/gateway/disk the same way. Real Mosquitto, real SQLite store.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { topics } from '@lifeline/shared';
import { IngestWorker, SqliteStore, cloudAlarmIds } from '../../src/index.js';
import { startMosquitto, tempDir, testLog, waitFor } from '../../../test/helpers.js';

let broker: Awaited<ReturnType<typeof startMosquitto>>;
let store: SqliteStore;
let worker: IngestWorker;
let cleanup: () => void;

beforeAll(async () => {
  broker = await startMosquitto();
  const t = tempDir('lifeline-apply-');
  cleanup = t.cleanup;
  store = new SqliteStore(join(t.dir, 'cloud.db'));
  await store.migrate();
  worker = new IngestWorker({ url: broker.url, store, log: testLog });
  await worker.start();
});
afterAll(async () => {
  await worker?.stop();
  await store?.close();
  cleanup?.();
  await broker?.stop();
});

describe('ingest: config apply alarm', () => {
  it('raises on a rollback once, however often the status repeats it, and clears on a later confirmed apply', async () => {
    const gw = `gw-apply-${Date.now()}`;
    const c = await mqtt.connectAsync(broker.url);
    const status = async (configApply: object) => {
      const before = worker.counters.statuses;
      await c.publishAsync(topics.status(gw), JSON.stringify({ gateway: gw, online: true, ts: Date.now(), configApply }), { qos: 1 });
      await waitFor(() => worker.counters.statuses > before, 5000, 'the status ingested');
    };
    const history = async () => {
      const a = await store.alarms.findAlarm(gw, cloudAlarmIds.configApply);
      return a ? (await store.alarms.alarmHistory(a.id)).map((e) => (e.kind === 'alarm' ? e.to : e.kind)) : [];
    };
    await status({ result: 'confirmed', ts: 1000 });
    expect(await history()).toEqual([]);
    for (let i = 0; i < 3; i++) await status({ command: '7', result: 'rolled_back', reason: 'bus lan: no device answered', ts: 2000 });
    await waitFor(async () => (await history()).length > 0, 5000, 'the alarm');
    const a = (await store.alarms.findAlarm(gw, cloudAlarmIds.configApply))!;
    expect(a).toMatchObject({ state: 'active_unacked', level: 3, detector: 'cloud' });
    expect(a.cause).toContain('bus lan: no device answered');
    await status({ command: '8', result: 'confirmed', ts: 3000 });
    await waitFor(async () => (await history()).length === 2, 5000, 'the clear');
    expect(await history()).toEqual(['active_unacked', 'cleared_unacked']);
    await c.endAsync();
  });

  it('raises cloud/gateway/disk once while the status says the buffer disk is full or failing (a read-only SD card), and clears it when it is back', async () => {
    const gw = `gw-disk-${Date.now()}`;
    const c = await mqtt.connectAsync(broker.url);
    const status = async (disk: object) => {
      const before = worker.counters.statuses;
      const bad = worker.counters.badStatuses;
      await c.publishAsync(topics.status(gw), JSON.stringify({ gateway: gw, online: true, ts: Date.now(), disk }), { qos: 1 });
      await waitFor(() => worker.counters.statuses > before || worker.counters.badStatuses > bad, 5000, 'the status ingested');
      expect(worker.counters.badStatuses).toBe(bad);
    };
    const history = async () => {
      const a = await store.alarms.findAlarm(gw, cloudAlarmIds.gatewayDisk);
      return a ? (await store.alarms.alarmHistory(a.id)).map((e) => (e.kind === 'alarm' ? e.to : e.kind)) : [];
    };
    // What the agent sends (buffer.diskState()), every field.
    const ok = { full: false, since: null, lastError: null, errors: 0, droppedReadings: 0, reserve: true };
    await status(ok);
    expect(await history()).toEqual([]);
    const since = Date.UTC(2026, 11, 7, 21, 50, 22);
    for (let i = 0; i < 3; i++) await status({ full: true, since, lastError: 'SQLITE_IOERR_WRITE', errors: 9 + i, droppedReadings: 114 + i * 20, reserve: false });
    await waitFor(async () => (await history()).length > 0, 5000, 'the alarm');
    const a = (await store.alarms.findAlarm(gw, cloudAlarmIds.gatewayDisk))!;
    expect(a).toMatchObject({ state: 'active_unacked', level: 3, detector: 'cloud' });
    expect(a.cause).toBe('buffer disk full or failing since 2026-12-07T21:50:22.000Z (SQLITE_IOERR_WRITE); 114 reading(s) could not be stored');
    await status({ ...ok, errors: 12 });
    await waitFor(async () => (await history()).length === 2, 5000, 'the clear');
    expect(await history()).toEqual(['active_unacked', 'cleared_unacked']);
    // The buffer file deleted under the running agent: the same alarm, its own cause.
    await status({ ...ok, deleted: true });
    await waitFor(async () => (await history()).length === 3, 5000, 'the alarm for a deleted file');
    expect((await store.alarms.findAlarm(gw, cloudAlarmIds.gatewayDisk))!.cause).toBe('buffer file deleted under the running agent: what it holds is lost when the agent stops');
    await c.endAsync();
  });
});
