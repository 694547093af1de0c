/**
 * Device identity through the API: two gateways with the same device ids stay
 * apart (readings, registry, alarms, GeoJSON), what a status or batch may
 * touch is decided by the gateway that sent it, a shared id is shown rather
 * than merged, and unknown devices and points answer 404 naming what exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmTransition, Reading } from '@lifeline/shared';
import { testCloud, type TestCloud } from './helpers.js';

let t: TestCloud;
const now = Date.now();
const T0 = now - 10 * 60_000;
const seqs: Record<string, number> = {};

async function readings(gateway: string, rs: Reading[]) {
  const first = (seqs[gateway] ?? 0) + 1;
  seqs[gateway] = first + rs.length - 1;
  await t.cloud.store.telemetry.commitTelemetry({ gateway, epoch: 1, firstSeq: first, lastSeq: seqs[gateway], readings: rs });
}
const at = (device: string, value: number, i: number): Reading => ({ device, point: 'water_level', ts: T0 + i * 1000, value });

beforeAll(async () => {
  t = await testCloud();
  const site = (district: string) => [
    { id: 'flood-1', profile: 'flood-gauge', kind: 'flood', location: { lon: 116.59, lat: 35.41, district }, points: [{ name: 'water_level', unit: 'm' }] },
    { id: 'lamp-1', profile: 'lamp-post-controller', kind: 'lamp_post', points: [{ name: 'power', unit: 'W' }] },
  ];
  await t.cloud.store.registry.saveGatewayStatus({ gateway: 'gw-a', online: true, ts: now, devices: site('任城区') });
  await t.cloud.store.registry.saveGatewayStatus({ gateway: 'gw-b', online: true, ts: now, devices: site('太白湖新区') });
  await readings('gw-a', [at('flood-1', 1.1, 0), at('flood-1', 1.2, 1)]);
  await readings('gw-b', [at('flood-1', 2.1, 0), at('flood-1', 2.2, 1), at('flood-1', 2.3, 2)]);
});

afterAll(async () => {
  await t.close();
});

describe('two gateways with the same device ids', () => {
  it('lists both devices, each under its gateway, with the collision shown', async () => {
    const devs = (await t.call('GET', '/api/v1/devices')).json as { id: string; gateway: string; sameIdOn: string[]; location: { district: string } }[];
    const floods = devs.filter((d) => d.id === 'flood-1');
    expect(floods.map((d) => [d.gateway, d.location.district, d.sameIdOn])).toEqual([
      ['gw-a', '任城区', ['gw-b']],
      ['gw-b', '太白湖新区', ['gw-a']],
    ]);
    expect(((await t.call('GET', '/api/v1/gateways/gw-a')).json as { deviceList: unknown[] }).deviceList).toHaveLength(2);
    const geo = (await t.call('GET', '/api/v1/devices.geojson')).json as { features: { id: string }[] };
    expect(geo.features.map((f) => f.id).sort()).toEqual(['gw-a/flood-1', 'gw-b/flood-1']);
  });

  it('keeps their readings apart, and asks which one when the id alone is ambiguous', async () => {
    const q = (extra: string) => t.call('GET', `/api/v1/readings?device=flood-1&point=water_level&from=0&to=${now}${extra}`);
    expect(((await q('&gateway=gw-a')).json as { value: number }[]).map((r) => r.value)).toEqual([1.1, 1.2]);
    expect(((await q('&gateway=gw-b')).json as { value: number }[]).map((r) => r.value)).toEqual([2.1, 2.2, 2.3]);
    const amb = await q('');
    expect(amb.status).toBe(409);
    expect(amb.json.message).toContain('device "flood-1" is on 2 gateways (gw-a, gw-b): add gateway=<id>');
    const csv = await t.call('GET', `/api/v1/readings.csv?device=flood-1&point=water_level&gateway=gw-b&from=${T0 - 1000}&to=${now}`);
    expect(csv.text.trim().split('\n')).toHaveLength(4);
  });

  it('lets a status or batch of one gateway touch only its own devices', async () => {
    // gw-b reports flood-1 as a gas device "Nowhere": only gw-b's flood-1 changes.
    await t.cloud.store.registry.saveGatewayStatus({ gateway: 'gw-b', online: true, ts: now, devices: [{ id: 'flood-1', profile: 'gas-detector', kind: 'gas', location: { lon: 1, lat: 1, district: 'Nowhere' } }] });
    const devs = (await t.call('GET', '/api/v1/devices')).json as { id: string; gateway: string; kind: string; location: { district: string } }[];
    expect(devs.find((d) => d.gateway === 'gw-a' && d.id === 'flood-1')).toMatchObject({ kind: 'flood', location: { district: '任城区' } });
    // A forged red alarm from gw-b for flood-1 is gw-b's, listed under gw-b's district, not gw-a's.
    const e: AlarmTransition = { kind: 'alarm', seq: 1, alarmId: 'flood-1/water_level/threshold', device: 'flood-1', point: 'water_level', ts: now, from: 'normal', to: 'active_unacked', level: 4, detector: 'threshold', cause: 'forged', value: 333 };
    await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-b', epoch: 1, firstSeq: 1, lastSeq: 1, events: [e] });
    // Only the threshold alarms: under load the cloud's own check may have raised "device stale" on these 10-minute-old readings.
    const alarms = ((await t.call('GET', '/api/v1/alarms')).json as { gateway: string; district: string | null; detector: string }[]).filter((a) => a.detector === 'threshold');
    expect(alarms.map((a) => [a.gateway, a.district])).toEqual([['gw-b', 'Nowhere']]);
    expect(((await t.call('GET', '/api/v1/alarms?district=任城区')).json as unknown[]).length).toBe(0);
    // The registry patch by path addresses one of the two.
    const p = await t.call('PATCH', '/api/v1/gateways/gw-a/devices/flood-1', { body: { name: '洸河路下穿水位' } });
    expect(p.status).toBe(200);
    expect(p.json).toMatchObject({ gateway: 'gw-a', id: 'flood-1', name: '洸河路下穿水位' });
    expect((await t.call('PATCH', '/api/v1/devices/flood-1', { body: { name: 'x' } })).status).toBe(409);
  });
});

describe('errors that name what exists', () => {
  it('answers 404 for an unknown device or point, with what exists and a near miss', async () => {
    const dev = await t.call('GET', `/api/v1/readings?device=flod-1&point=water_level&gateway=gw-a`);
    expect(dev.status).toBe(404);
    expect(dev.json.message).toBe('gateway gw-a has no device "flod-1" (did you mean "flood-1"?); it has: flood-1, lamp-1');
    const any = await t.call('GET', `/api/v1/readings?device=nope&point=water_level`);
    expect(any.status).toBe(404);
    expect(any.json.message).toContain('known devices: flood-1, lamp-1');
    const pt = await t.call('GET', `/api/v1/readings?device=flood-1&gateway=gw-a&point=water_levle`);
    expect(pt.status).toBe(404);
    expect(pt.json.message).toBe('device flood-1 (gateway gw-a) has no point "water_levle" (did you mean "water_level"?); it has: water_level');
    expect((await t.call('GET', `/api/v1/readings.csv?device=flood-1&gateway=gw-x&point=water_level`)).status).toBe(404);
  });
});

describe('an alarm the cloud raised about a gateway', () => {
  it('is acknowledged in the cloud, not sent to the gateway', async () => {
    const { CloudAlarms, cloudAlarmIds } = await import('../../src/cloud-alarms.js');
    await new CloudAlarms(t.cloud.store).raise('gw-a', cloudAlarmIds.batchesRejected, 3, 'cloud refused a telemetry batch (Malformed): test');
    const [alarm] = (await t.call('GET', '/api/v1/alarms?gateway=gw-a')).json as { id: number; state: string; detector: string }[];
    expect(alarm).toMatchObject({ state: 'active_unacked', detector: 'cloud' });
    const ack = await t.call('POST', `/api/v1/alarms/${alarm.id}/ack`, { as: 'operator', body: {} });
    expect(ack.status).toBe(200);
    expect(ack.json).toEqual({ alarm: alarm.id, state: 'active_acked' });
    const detail = (await t.call('GET', `/api/v1/alarms/${alarm.id}`)).json as { state: string; history: { to: string; user?: string }[]; commands: unknown[] };
    expect(detail.state).toBe('active_acked');
    expect(detail.history.map((h) => h.to)).toEqual(['active_unacked', 'active_acked']);
    expect(detail.commands).toEqual([]);
    // Shelving is the gateway's: a cloud alarm is refused with the way to silence it, and nothing is sent.
    const shelve = await t.call('POST', `/api/v1/alarms/${alarm.id}/shelve`, { as: 'operator', body: { durationMs: 3_600_000, reason: 'known outage' } });
    expect([shelve.status, shelve.json.error]).toEqual([409, 'CONFLICT']);
    expect(shelve.json.message).toContain('put the gateway or device in a maintenance window');
    expect((await t.call('GET', `/api/v1/alarms/${alarm.id}`)).json.commands).toEqual([]);
  });
});
