/**
 * GET /gateways counts from the devices' keys in one pass (no device list with status is
 * built for it): its figures must stay exactly what /devices says of each gateway's devices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmTransition, Reading } from '@lifeline/shared';
import { testCloud, type TestCloud } from './helpers.js';
import { seqLanes } from '../../../test/helpers.js';

let t: TestCloud;
const now = Date.now();
const next = seqLanes();

async function readings(gateway: string, rs: Reading[]) {
  const s = next(gateway, rs.length);
  await t.cloud.store.telemetry.commitTelemetry({ gateway, firstSeq: s, lastSeq: s + rs.length - 1, readings: rs });
}
async function raise(gateway: string, device: string, level: number) {
  const s = next(`${gateway}/events`, 1);
  const e: AlarmTransition = { kind: 'alarm', seq: s, alarmId: `${device || 'gw'}/p/threshold`, device, point: 'p', ts: now, detector: 'threshold', cause: 'p high', value: 1, from: 'normal', to: 'active_unacked', level };
  await t.cloud.store.telemetry.commitEvents({ gateway, firstSeq: s, lastSeq: s, events: [e] });
}

beforeAll(async () => {
  t = await testCloud();
  const reg = t.cloud.store.registry;
  // gw-old was first seen two days ago (a full 24 h window), gw-new now (a window of a few minutes).
  await reg.saveGatewayStatus({ gateway: 'gw-old', online: true, ts: now - 2 * 86_400_000, devices: [{ id: 'flood-1', profile: 'f' }, { id: 'gas-1', profile: 'g' }, { id: 'gas-2', profile: 'g' }] });
  await reg.saveGatewayStatus({ gateway: 'gw-old', online: true, ts: now });
  await reg.saveGatewayStatus({ gateway: 'gw-new', online: false, ts: now - 7 * 60_000, devices: [{ id: 'flood-1', profile: 'f' }, { id: 'lamp-1', profile: 'l' }] });
  await reg.updateGateway('gw-empty', { name: 'planned box' });
  const minute = Math.floor(now / 60_000) * 60_000;
  await readings('gw-old', Array.from({ length: 90 }, (_, i) => ({ device: 'flood-1', point: 'p', ts: minute - i * 60_000, value: i })));
  await readings('gw-old', Array.from({ length: 7 }, (_, i) => ({ device: 'gas-1', point: 'p', ts: minute - i * 120_000, value: i })));
  await readings('gw-new', Array.from({ length: 3 }, (_, i) => ({ device: 'lamp-1', point: 'p', ts: minute - i * 60_000, value: i })));
  await raise('gw-old', 'flood-1', 4);
  await raise('gw-old', 'gas-2', 2);
  await raise('gw-new', 'flood-1', 1);
  // Alarms of no registered device (the gateway's own, an unknown device) count for no gateway's devices.
  await raise('gw-new', '', 3);
  await raise('gw-new', 'ghost-1', 3);
});
afterAll(async () => t.close());

describe('GET /gateways', () => {
  it('counts devices, mean 24 h completeness and active alarms exactly as /devices shows them', async () => {
    const devices = (await t.call('GET', '/api/v1/devices', { as: 'viewer' })).json as { gateway: string; id: string; completeness24h: number; activeAlarms: number; sameIdOn: string[] }[];
    const gateways = (await t.call('GET', '/api/v1/gateways', { as: 'viewer' })).json as { id: string; devices: number; completeness24h: number | null; activeAlarms: number }[];
    expect(gateways.map((g) => g.id)).toEqual(['gw-empty', 'gw-new', 'gw-old']);
    for (const g of gateways) {
      const mine = devices.filter((d) => d.gateway === g.id);
      const c = mine.map((d) => d.completeness24h);
      expect({ id: g.id, devices: g.devices, completeness24h: g.completeness24h, activeAlarms: g.activeAlarms }).toEqual({
        id: g.id,
        devices: mine.length,
        completeness24h: c.length ? Math.round((c.reduce((s, x) => s + x, 0) / c.length) * 1000) / 1000 : null,
        activeAlarms: mine.reduce((s, d) => s + d.activeAlarms, 0),
      });
    }
    // The figures themselves: not all zero, so the comparison above compares something.
    expect(gateways.map((g) => [g.id, g.devices, g.activeAlarms])).toEqual([['gw-empty', 0, 0], ['gw-new', 2, 1], ['gw-old', 3, 2]]);
    expect(gateways.find((g) => g.id === 'gw-old')!.completeness24h).toBeGreaterThan(0);
    expect(gateways.find((g) => g.id === 'gw-new')!.completeness24h).toBeGreaterThan(0);
    expect(devices.find((d) => d.gateway === 'gw-old' && d.id === 'flood-1')!.sameIdOn).toEqual(['gw-new']);
  });

  it('answers one gateway as the list does, with its devices', async () => {
    const list = (await t.call('GET', '/api/v1/gateways', { as: 'viewer' })).json as { id: string }[];
    for (const g of list) {
      const { deviceList, ...one } = (await t.call('GET', `/api/v1/gateways/${g.id}`, { as: 'viewer' })).json;
      expect({ ...one, backlog: null, lastSeen: null }).toEqual({ ...g, backlog: null, lastSeen: null });
      expect(deviceList.map((d: { id: string }) => d.id)).toEqual(g.id === 'gw-old' ? ['flood-1', 'gas-1', 'gas-2'] : g.id === 'gw-new' ? ['flood-1', 'lamp-1'] : []);
    }
  });
});

describe('GET /devices?fields=', () => {
  it('answers the fields asked for, each as the full list has it, and refuses an unknown one by name', async () => {
    const full = (await t.call('GET', '/api/v1/devices', { as: 'viewer' })).json as Record<string, unknown>[];
    // The full answer has a completeness and alarms to leave out: what follows compares something.
    expect(full.some((d) => (d.completeness24h as number) > 0 && (d.activeAlarms as number) > 0)).toBe(true);
    for (const fields of [['id', 'gateway', 'name', 'kind', 'location', 'online'], ['gateway', 'id', 'maxLevel'], ['completeness24h', 'id', 'gateway', 'sameIdOn', 'points']]) {
      const got = (await t.call('GET', `/api/v1/devices?fields=${fields.join(',')}`, { as: 'viewer' })).json as Record<string, unknown>[];
      expect(got).toEqual(full.map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => fields.includes(k)))));
      expect(Object.keys(got[0]).sort()).toEqual([...fields].sort());
    }
    const bad = await t.call('GET', '/api/v1/devices?fields=id,colour', { as: 'viewer' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('fields: "colour" not one of id, gateway');
  });
});

describe('GET /devices?format=columns', () => {
  it('answers the same values as the list, one array per field, location as four columns', async () => {
    // One device with a whole location, one with a location but no district or grid unit, the rest none.
    await t.cloud.store.registry.updateDevice('gw-old', 'flood-1', { location: { lon: 116.58, lat: 35.41, district: '任城区', gridUnit: 'RC-1' } });
    await t.cloud.store.registry.updateDevice('gw-new', 'lamp-1', { location: { lon: 116.6, lat: 35.4 } });
    const full = (await t.call('GET', '/api/v1/devices', { as: 'viewer' })).json as Record<string, any>[];
    const asColumns = (ds: Record<string, any>[], fields: string[]) =>
      Object.fromEntries(
        fields.flatMap((f) =>
          f === 'location'
            ? (['lon', 'lat', 'district', 'gridUnit'] as const).map((k) => [k, ds.map((d) => d.location?.[k] ?? null)])
            : [[f, ds.map((d) => d[f])]],
        ),
      );
    const map = ['id', 'gateway', 'name', 'kind', 'location', 'online'];
    const got = (await t.call('GET', `/api/v1/devices?format=columns&fields=${map.join(',')}`, { as: 'viewer' })).json;
    expect(got.count).toBe(full.length);
    expect(got.columns).toEqual(asColumns(full, map));
    expect(got.columns.district).toContain('任城区');
    expect(got.columns.lat).toContain(35.4);
    // No fields: every field, status included.
    const all = (await t.call('GET', '/api/v1/devices?format=columns', { as: 'viewer' })).json;
    expect(all.columns).toEqual(asColumns(full, Object.keys(full[0])));
    expect(all.columns.maxLevel).toContain(4);
    // objects is the list as before; anything else is refused naming the field.
    expect((await t.call('GET', '/api/v1/devices?format=objects', { as: 'viewer' })).json).toEqual(full);
    const bad = await t.call('GET', '/api/v1/devices?format=csv', { as: 'viewer' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('format');
  });
});
