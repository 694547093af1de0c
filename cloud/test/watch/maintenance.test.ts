/**
 * The cloud watch and maintenance windows, one pass at a time with an injected
 * clock: a gateway or device under a window gets no watch alarm; once the
 * window is over, the watch raises what is still due.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { CloudAlarms, CloudWatch, Maintenance, SqliteStore, cloudAlarmIds, cloudAlarmSettings, type DeviceInfo, type GatewayInfo } from '../../src/index.js';
import { tempDir, testLog } from '../../../test/helpers.js';

const T0 = 1_800_000_000_000;
const HB = 1000;
let store: SqliteStore;
let cleanup: () => void;
let now = T0;

beforeEach(async () => {
  const t = tempDir('lifeline-watch-maint-');
  cleanup = t.cleanup;
  store = new SqliteStore(join(t.dir, 'cloud.db'));
  await store.migrate();
  now = T0;
});
afterEach(async () => {
  await store.close();
  cleanup();
});

const gw = (id: string): GatewayInfo => ({
  id, name: null, location: null, kind: null, online: true, lastSeen: T0, firstSeen: T0, backlog: { depth: 0, oldestTs: null, ageMs: null },
  clockOffsetMs: 0, revokedAt: null, sync: { faulty: false, rejects: 0, lastRejectAt: null, lastRejectReason: null },
});
const dev = (id: string, gateway: string): DeviceInfo => ({ id, gateway, profile: 'flood-gauge', kind: 'flood', lastReadingTs: T0, location: null, points: [] });

function watch(gateways: GatewayInfo[], devices: DeviceInfo[]) {
  const settings = cloudAlarmSettings({ heartbeatMs: HB, silentAfterHeartbeats: 3, staleAfterMs: 5 * HB });
  const registry = { listGateways: async () => gateways, listDevices: async () => devices };
  const maintenance = new Maintenance(store, { clock: () => now, ttlMs: 0 });
  return new CloudWatch({ store: { registry, alarms: store.alarms }, alarms: new CloudAlarms(store), settings, log: testLog, maintenance, clock: () => now });
}

it('raises no stale alarm for a device in maintenance, nor for the other gateway’s same-id device’s window; raises it once the window is over', async () => {
  const a = gw('gw-a');
  a.lastSeen = T0 + 10 * HB; // the gateway reports; its devices have not since T0
  const b = gw('gw-b');
  b.lastSeen = T0 + 10 * HB;
  const w = watch([a, b], [dev('flood-1', 'gw-a'), dev('flood-1', 'gw-b')]);
  await store.maintenance.addWindow({ gateway: 'gw-a', device: 'flood-1', point: null, from: T0, until: T0 + 20 * HB, reason: 'sensor swap', createdBy: 'li', createdAt: T0 });
  now = T0 + 10 * HB;
  // gw-b's flood-1 is not in maintenance: it is raised; gw-a's is not.
  expect((await w.check(now)).raised).toEqual([{ gateway: 'gw-b', alarmId: cloudAlarmIds.deviceStale('flood-1') }]);
  a.lastSeen = b.lastSeen = T0 + 20 * HB;
  now = T0 + 20 * HB; // the window is over (until is exclusive)
  expect((await w.check(now)).raised).toEqual([{ gateway: 'gw-a', alarmId: cloudAlarmIds.deviceStale('flood-1') }]);
});

it('raises no silent alarm for a gateway in maintenance', async () => {
  const w = watch([gw('gw-a')], [dev('flood-1', 'gw-a')]);
  await store.maintenance.addWindow({ gateway: 'gw-a', device: null, point: null, from: T0, until: T0 + 60 * HB, reason: 'cabinet power work', createdBy: 'li', createdAt: T0 });
  now = T0 + 10 * HB;
  expect((await w.check(now)).raised).toEqual([]);
  now = T0 + 60 * HB;
  expect((await w.check(now)).raised).toEqual([{ gateway: 'gw-a', alarmId: cloudAlarmIds.gatewaySilent }]);
});
