/**
 * The cloud watch's rules, one pass at a time with an injected clock: a real
 * SQLite store keeps the alarms (so states, duplicates and clears are what the
 * API would list); the registry it reads is a plain record the test edits.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudAlarms, CloudWatch, SqliteStore, cloudAlarmIds, cloudAlarmSettings, type AlarmInfo, type CloudAlarmOptions, type DeviceInfo, type GatewayInfo } from '../../src/index.js';
import { tempDir, testLog } from '../../../test/helpers.js';

const T0 = 1_800_000_000_000;
const HB = 1000;

let store: SqliteStore;
let cleanup: () => void;
let gateways: GatewayInfo[];
let devices: DeviceInfo[];

beforeEach(async () => {
  const t = tempDir('lifeline-watch-');
  cleanup = t.cleanup;
  store = new SqliteStore(join(t.dir, 'cloud.db'));
  await store.migrate();
  gateways = [];
  devices = [];
});
afterEach(async () => {
  await store.close();
  cleanup();
});

function gateway(id: string, over: Partial<GatewayInfo> = {}): GatewayInfo {
  const g: GatewayInfo = {
    id, name: null, location: null, kind: null, online: true, lastSeen: T0, firstSeen: T0, backlog: { depth: 0, oldestTs: null, ageMs: null },
    clockOffsetMs: 0, revokedAt: null, sync: { faulty: false, rejects: 0, lastRejectAt: null, lastRejectReason: null }, ...over,
  };
  gateways.push(g);
  return g;
}
function device(id: string, gw: string, lastReadingTs: number | null = T0): DeviceInfo {
  const d: DeviceInfo = { id, gateway: gw, profile: 'flood-gauge', kind: 'flood', lastReadingTs, location: null, points: [] };
  devices.push(d);
  return d;
}

function watch(opts: CloudAlarmOptions = {}) {
  const settings = cloudAlarmSettings({ heartbeatMs: HB, silentAfterHeartbeats: 3, staleAfterMs: 5 * HB, ...opts });
  const registry = { listGateways: async () => gateways.map((g) => ({ ...g })), listDevices: async () => devices.map((d) => ({ ...d })) };
  return new CloudWatch({ store: { registry, alarms: store.alarms }, alarms: new CloudAlarms(store), settings, log: testLog });
}

/** Cloud alarms of a gateway as the alarms list shows them, by alarm id. */
async function alarms(gw: string): Promise<Record<string, AlarmInfo>> {
  const list = await store.alarms.listAlarms({ gateway: gw, limit: 1000 });
  return Object.fromEntries(list.map((a) => [a.alarmId, a]));
}
async function transitions(gw: string, alarmId: string) {
  const a = await store.alarms.findAlarm(gw, alarmId);
  return a ? (await store.alarms.alarmHistory(a.id)).map((e) => (e.kind === 'alarm' ? e.to : e.kind)) : [];
}

describe('gateway silent', () => {
  it('raises one alarm naming its devices after N heartbeats, none for its devices, and clears when heard again', async () => {
    const g = gateway('gw-1');
    device('flood-1', 'gw-1');
    device('flood-2', 'gw-1');
    const w = watch();
    expect((await w.check(T0 + 3 * HB - 1)).raised).toEqual([]);
    const p = await w.check(T0 + 3 * HB);
    expect(p.raised).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewaySilent }]);
    // Long past every device's stale time: still the one gateway alarm, and no duplicate transition.
    for (let i = 4; i < 20; i++) expect((await w.check(T0 + i * HB)).raised).toEqual([]);
    const a = await alarms('gw-1');
    expect(Object.keys(a)).toEqual([cloudAlarmIds.gatewaySilent]);
    expect(a[cloudAlarmIds.gatewaySilent]).toMatchObject({ state: 'active_unacked', level: 3, device: '', detector: 'cloud' });
    expect(a[cloudAlarmIds.gatewaySilent].cause).toContain('flood-1, flood-2');
    expect(await transitions('gw-1', cloudAlarmIds.gatewaySilent)).toEqual(['active_unacked']);

    // Data counts as being heard: a fresh reading alone clears it.
    devices[0].lastReadingTs = T0 + 20 * HB;
    devices[1].lastReadingTs = T0 + 20 * HB;
    g.lastSeen = T0 + 10 * HB;
    const back = await w.check(T0 + 20 * HB + 100);
    expect(back.cleared).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewaySilent }]);
    expect((await alarms('gw-1'))[cloudAlarmIds.gatewaySilent].state).toBe('cleared_unacked');
    expect((await w.check(T0 + 20 * HB + 200)).cleared).toEqual([]);
  });

  it('counts an offline gateway (its last will, stamped late) from its newest reading', async () => {
    gateway('gw-gone', { online: false, lastSeen: T0 + 2 * HB });
    device('flood-1', 'gw-gone', T0 - HB);
    const p = await watch().check(T0 + 2 * HB);
    expect(p.raised).toEqual([{ gateway: 'gw-gone', alarmId: cloudAlarmIds.gatewaySilent }]);
  });

  it('reads the gateway clock through its offset (a gateway 10 s behind is not silent)', async () => {
    gateway('gw-slow', { lastSeen: T0 - 10_000, clockOffsetMs: 10_000 });
    expect((await watch({ clockOffsetMs: 60_000 }).check(T0 + HB)).raised).toEqual([]);
  });

  it('judges nothing of a gateway never heard from, and nothing new of a revoked one (what it had clears)', async () => {
    gateway('gw-new', { lastSeen: null });
    const g = gateway('gw-old');
    const w = watch();
    await w.check(T0 + 10 * HB);
    expect(Object.keys(await alarms('gw-new'))).toEqual([]);
    expect((await alarms('gw-old'))[cloudAlarmIds.gatewaySilent].state).toBe('active_unacked');
    g.revokedAt = T0 + 11 * HB;
    const p = await w.check(T0 + 12 * HB);
    expect(p).toEqual({ raised: [], cleared: [{ gateway: 'gw-old', alarmId: cloudAlarmIds.gatewaySilent }] });
    expect((await alarms('gw-old'))[cloudAlarmIds.gatewaySilent].cause).toBe('gateway revoked: no longer watched');
    expect((await w.check(T0 + 30 * HB)).raised).toEqual([]);
  });
});

describe('device stale', () => {
  it('raises one alarm under the device while its gateway reports, and clears when it reports again', async () => {
    const g = gateway('gw-1');
    const ok = device('flood-1', 'gw-1');
    const quiet = device('flood-2', 'gw-1');
    const w = watch();
    for (let t = T0 + HB; t <= T0 + 8 * HB; t += HB) {
      g.lastSeen = t;
      ok.lastReadingTs = t;
      await w.check(t);
    }
    const a = await alarms('gw-1');
    expect(Object.keys(a)).toEqual([cloudAlarmIds.deviceStale('flood-2')]);
    expect(a[cloudAlarmIds.deviceStale('flood-2')]).toMatchObject({ state: 'active_unacked', level: 2, device: 'flood-2' });
    expect(await transitions('gw-1', cloudAlarmIds.deviceStale('flood-2'))).toEqual(['active_unacked']);
    // The alarms list filtered by device finds it.
    expect((await store.alarms.listAlarms({ device: 'flood-2', limit: 10 })).map((x) => x.alarmId)).toEqual([cloudAlarmIds.deviceStale('flood-2')]);

    quiet.lastReadingTs = T0 + 9 * HB;
    g.lastSeen = T0 + 9 * HB;
    const p = await w.check(T0 + 9 * HB);
    expect(p.cleared).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.deviceStale('flood-2') }]);
    expect((await alarms('gw-1'))[cloudAlarmIds.deviceStale('flood-2')].state).toBe('cleared_unacked');
  });

  it('counts the devices of a returning gateway quiet from its return, not from their readings before the outage', async () => {
    const g = gateway('gw-1');
    const first = device('flood-1', 'gw-1');
    device('flood-2', 'gw-1');
    const w = watch();
    expect((await w.check(T0 + 3 * HB)).raised).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewaySilent }]);
    // Its status is in, its first readings are not yet: its devices last reported 10 heartbeats ago, before the outage.
    g.lastSeen = T0 + 10 * HB;
    const back = await w.check(T0 + 10 * HB);
    expect(back).toEqual({ raised: [], cleared: [{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewaySilent }] });
    first.lastReadingTs = T0 + 11 * HB;
    for (let t = T0 + 11 * HB; t <= T0 + 15 * HB; t += HB) {
      g.lastSeen = t;
      expect((await w.check(t)).raised).toEqual([]);
    }
    // Quiet for the stale time since its gateway came back: stale, the cause saying both ages.
    first.lastReadingTs = T0 + 15 * HB;
    g.lastSeen = T0 + 15 * HB + 1;
    expect((await w.check(T0 + 15 * HB + 1)).raised).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.deviceStale('flood-2') }]);
    expect((await alarms('gw-1'))[cloudAlarmIds.deviceStale('flood-2')].cause).toBe(
      'no reading for 15 s, none in the 5 s since its gateway reports again (stale after 5 s)',
    );
  });

  it('knows a gateway was away from its silent alarm when the watch started during the outage (a cloud restart)', async () => {
    const g = gateway('gw-1');
    device('flood-1', 'gw-1');
    await watch().check(T0 + 3 * HB);
    const restarted = watch();
    g.lastSeen = T0 + 10 * HB;
    expect(await restarted.check(T0 + 10 * HB)).toEqual({ raised: [], cleared: [{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewaySilent }] });
    g.lastSeen = T0 + 15 * HB;
    expect((await restarted.check(T0 + 15 * HB)).raised).toEqual([]);
    g.lastSeen = T0 + 15 * HB + 1;
    expect((await restarted.check(T0 + 15 * HB + 1)).raised).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.deviceStale('flood-1') }]);
  });

  it('counts a gateway that said goodbye and came back before it went silent from its return too', async () => {
    const g = gateway('gw-1', { online: false, lastSeen: T0 });
    device('flood-1', 'gw-1', T0 - 10 * HB);
    const w = watch({ silentAfterHeartbeats: 30, staleAfterMs: 30 * HB });
    expect(await w.check(T0 + HB)).toEqual({ raised: [], cleared: [] });
    Object.assign(g, { online: true, lastSeen: T0 + 25 * HB });
    expect((await w.check(T0 + 25 * HB)).raised).toEqual([]);
  });

  it('raises no device alarm while its gateway is silent or said goodbye', async () => {
    gateway('gw-1', { online: false });
    for (let i = 0; i < 40; i++) device(`d-${i}`, 'gw-1', i === 0 ? T0 : T0 - 10 * HB);
    const w = watch();
    // Said goodbye (its last will) but not yet silent: 39 devices past their stale time, none judged.
    expect((await w.check(T0 + HB)).raised).toEqual([]);
    for (let i = 3; i < 30; i++) {
      const p = await w.check(T0 + i * HB);
      expect(p.raised).toEqual(i === 3 ? [{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewaySilent }] : []);
    }
    expect(Object.keys(await alarms('gw-1'))).toEqual([cloudAlarmIds.gatewaySilent]);
    expect((await alarms('gw-1'))[cloudAlarmIds.gatewaySilent].cause).toContain('d-0, d-1, d-10');
  });
});

describe('backlog and clock', () => {
  it('raises backlog on depth or age, once, and clears when both are back within the limits', async () => {
    const g = gateway('gw-1', { backlog: { depth: 50, oldestTs: T0 - 1000, ageMs: null } });
    const w = watch({ backlogDepth: 100, backlogAgeMs: 60_000 });
    expect((await w.check(T0)).raised).toEqual([]);
    g.backlog = { depth: 101, oldestTs: T0 - 1000, ageMs: null };
    expect((await w.check(T0)).raised).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewayBacklog }]);
    expect((await w.check(T0 + 10)).raised).toEqual([]);
    g.backlog = { depth: 10, oldestTs: T0 - 1000, ageMs: null };
    expect((await w.check(T0 + 20)).cleared).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewayBacklog }]);
    // Too old: 56 s on the gateway's clock, which runs 5 s ahead, is 61 s in cloud time.
    g.clockOffsetMs = -5000;
    g.lastSeen = T0 + 5000;
    g.backlog = { depth: 10, oldestTs: T0 - 56_000, ageMs: null };
    const p = await w.check(T0 + 20);
    expect(p.raised).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewayBacklog }]);
    expect((await alarms('gw-1'))[cloudAlarmIds.gatewayBacklog].cause).toContain('oldest 61');
    g.backlog = { depth: 0, oldestTs: null, ageMs: null };
    expect((await w.check(T0 + 30)).cleared).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewayBacklog }]);
    expect(await transitions('gw-1', cloudAlarmIds.gatewayBacklog)).toEqual(['active_unacked', 'cleared_unacked', 'active_unacked', 'cleared_unacked']);
  });

  it('raises clock beyond the limit either way, and clears within it', async () => {
    const g = gateway('gw-1', { clockOffsetMs: -60_000, lastSeen: T0 + 60_000 });
    const w = watch({ clockOffsetMs: 60_000 });
    expect((await w.check(T0)).raised).toEqual([]);
    g.clockOffsetMs = -61_000;
    g.lastSeen = T0 + 61_000; // its clock is ahead: this is "now" for it
    expect((await w.check(T0)).raised).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewayClock }]);
    expect((await alarms('gw-1'))[cloudAlarmIds.gatewayClock].cause).toContain('ahead of');
    expect((await w.check(T0 + 10)).raised).toEqual([]);
    g.clockOffsetMs = 200;
    g.lastSeen = T0;
    expect((await w.check(T0 + 20)).cleared).toEqual([{ gateway: 'gw-1', alarmId: cloudAlarmIds.gatewayClock }]);
  });

  it('leaves an acknowledged alarm acknowledged, and its clear takes it to normal', async () => {
    const g = gateway('gw-1', { clockOffsetMs: 120_000, lastSeen: T0 - 120_000 });
    const w = watch();
    await w.check(T0);
    const a = (await alarms('gw-1'))[cloudAlarmIds.gatewayClock];
    await new CloudAlarms(store).ack(a, 'duty', T0 + 1);
    expect((await w.check(T0 + 2)).raised).toEqual([]);
    g.clockOffsetMs = 0;
    g.lastSeen = T0 + 3;
    await w.check(T0 + 3);
    expect((await alarms('gw-1'))[cloudAlarmIds.gatewayClock].state).toBe('normal');
  });
});

describe('settings', () => {
  it('fills defaults and names each bad field with its value', () => {
    expect(cloudAlarmSettings()).toMatchObject({ heartbeatMs: 30_000, silentAfterHeartbeats: 3, staleAfterMs: 300_000, backlogDepth: 100_000, backlogAgeMs: 900_000, clockOffsetMs: 60_000, checkEveryMs: 7500 });
    expect(() => cloudAlarmSettings({ heartbeatMs: 0, backlogDepth: 1.5 })).toThrow(/alarms\.heartbeatMs: expected an integer ≥ 100, got 0; alarms\.backlogDepth: expected an integer ≥ 1, got 1\.5/);
    expect(() => cloudAlarmSettings({ staleAfterMs: 60_000 })).toThrow(/alarms\.staleAfterMs: must be at least heartbeatMs × silentAfterHeartbeats \(90000\), got 60000/);
  });
});

describe('device stale by poll interval', () => {
  it('judges a device the running config polls slowly by staleAfterPolls × pollMs, the others by the floor', async () => {
    const g = gateway('gw-meters');
    device('meter-slow', 'gw-meters');
    device('gauge-fast', 'gw-meters');
    const running = { buses: [{ name: 'rs485-1', devices: [{ id: 'meter-slow', pollMs: 4 * HB }, { id: 'gauge-fast', pollMs: 100 }] }, { name: 'odd', devices: 'not a list' }] };
    const settings = cloudAlarmSettings({ heartbeatMs: HB, silentAfterHeartbeats: 3, staleAfterMs: 5 * HB, staleAfterPolls: 3 });
    const registry = { listGateways: async () => gateways.map((x) => ({ ...x })), listDevices: async () => devices.map((d) => ({ ...d })) };
    const commands = { getConfig: async (gw: string) => ({ gateway: gw, running, runningTs: T0, desired: null, desiredTs: null, desiredBy: null, desiredCommand: null, answer: null, answerTs: null }) };
    const w = new CloudWatch({ store: { registry, alarms: store.alarms, commands }, alarms: new CloudAlarms(store), settings, log: testLog });
    const stale = (id: string) => cloudAlarmIds.deviceStale(id);
    const at = (t: number) => ((g.lastSeen = t), w.check(t));
    // The fast gauge: the 5-heartbeat floor (3 × 100 ms is below it).
    expect((await at(T0 + 5 * HB + 1)).raised).toEqual([{ gateway: 'gw-meters', alarmId: stale('gauge-fast') }]);
    // The slow meter: 3 × 4 heartbeats = 12, not 5.
    expect((await at(T0 + 12 * HB)).raised).toEqual([]);
    const p = await at(T0 + 12 * HB + 1);
    expect(p.raised).toEqual([{ gateway: 'gw-meters', alarmId: stale('meter-slow') }]);
    expect((await alarms('gw-meters'))[stale('meter-slow')].cause).toMatch(/\(stale after 12 s\) while its gateway reports$/);
  });
});
