/**
 * Gaps and completeness through the API: the thinned ranges a gateway reported,
 * addressed like /readings, and completeness of any range per gateway, device,
 * district and kind, checked against numbers worked out by hand below.
 *
 * Range [T0, T0 + 10 min): 10 minutes.
 *   gw-a/flood-1  flood      任城区       minutes 0..9                     10/10 = 1
 *   gw-a/lamp-1   lamp_post  任城区       minutes 0..4 (and one at 10)      5/10 = 0.5
 *   gw-b/flood-1  flood      太白湖新区   minutes 0, 1 read; 2, 3 kept      4/10 = 0.4   2 gaps, 120 thinned
 *                                        of a thinned range; 6..7 thinned, nothing kept
 *   gw-b/gas-1    gas        (none)       nothing in range                  0/10 = 0     (a gap an hour before)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GapRecord, Reading } from '@lifeline/shared';
import { testCloud, type TestCloud } from './helpers.js';

const M = 60_000;
const DAY = 86_400_000;
const T0 = Math.floor(Date.now() / DAY) * DAY - 2 * DAY; // a UTC midnight two days ago
const TO = T0 + 10 * M - 1;

let t: TestCloud;
const seqs: Record<string, number> = {};
async function commit(gateway: string, readings: Reading[], gaps: GapRecord[] = []) {
  const first = (seqs[gateway] ?? 0) + 1;
  seqs[gateway] = first + readings.length + gaps.reduce((s, g) => s + g.minutes.reduce((a, m) => a + m.count, 0), 0) - 1;
  await t.cloud.store.telemetry.commitTelemetry({ gateway, epoch: 1, firstSeq: first, lastSeq: seqs[gateway], readings, gaps });
}
const minutes = (device: string, point: string, ms: number[]): Reading[] => ms.map((m) => ({ device, point, ts: T0 + m * M + 5000, value: m }));
const kept = (m: number, count: number) => ({ ts: T0 + m * M, count, min: 1, max: 2, mean: 1.5 });

const gapB1: GapRecord = { device: 'flood-1', point: 'water_level', from: T0 + 2 * M, to: T0 + 4 * M - 1, minutes: [kept(2, 60), kept(3, 60)] };
const gapB2: GapRecord = { device: 'flood-1', point: 'water_level', from: T0 + 6 * M, to: T0 + 7 * M, minutes: [] };
const gapGas: GapRecord = { device: 'gas-1', point: 'concentration', from: T0 - 60 * M, to: T0 - 59 * M, minutes: [kept(-60, 30)] };

beforeAll(async () => {
  t = await testCloud();
  const flood = (district: string) => ({ id: 'flood-1', profile: 'flood-gauge', kind: 'flood', location: { lon: 116.59, lat: 35.41, district }, points: [{ name: 'water_level', unit: 'm' }] });
  await t.cloud.store.registry.saveGatewayStatus({
    gateway: 'gw-a', online: true, ts: Date.now(),
    devices: [flood('任城区'), { id: 'lamp-1', profile: 'lamp-post-controller', kind: 'lamp_post', location: { lon: 116.6, lat: 35.4, district: '任城区' }, points: [{ name: 'power', unit: 'W' }] }],
  });
  await t.cloud.store.registry.saveGatewayStatus({
    gateway: 'gw-b', online: true, ts: Date.now(),
    devices: [flood('太白湖新区'), { id: 'gas-1', profile: 'gas-detector', kind: 'gas', points: [{ name: 'concentration', unit: '%LEL' }] }],
  });
  await commit('gw-a', [...minutes('flood-1', 'water_level', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), ...minutes('lamp-1', 'power', [0, 1, 2, 3, 4, 10])]);
  await commit('gw-b', minutes('flood-1', 'water_level', [0, 1]), [gapB1, gapB2, gapGas]);
});

afterAll(async () => {
  await t.close();
});

type Group = { key: string | null; gateway?: string; device?: string; devices: number; completeness: number; gaps: number; thinnedReadings: number };
async function completeness(query: string, as: 'viewer' | 'admin' = 'viewer'): Promise<{ minutes: number; groups: Group[] }> {
  const r = await t.call('GET', `/api/v1/completeness?${query}`, { as });
  expect([r.status, r.text.slice(0, 200)]).toEqual([200, expect.any(String)]);
  return r.json;
}
const row = (g: Group) => [g.key, g.devices, g.completeness, g.gaps, g.thinnedReadings];

describe('GET /api/v1/completeness', () => {
  it('answers per gateway, device, district and kind: mean share of minutes with data, gap records and thinned readings', async () => {
    const range = `from=${T0}&to=${TO}`;
    const byGateway = await completeness(`${range}&by=gateway`);
    expect(byGateway.minutes).toBe(10);
    expect(byGateway.groups.map(row)).toEqual([
      ['gw-a', 2, 0.75, 0, 0],
      ['gw-b', 2, 0.2, 2, 120],
    ]);
    const byDevice = (await completeness(`${range}&by=device`)).groups;
    expect(byDevice.map((g) => [g.gateway, g.device, ...row(g)])).toEqual([
      ['gw-a', 'flood-1', 'gw-a/flood-1', 1, 1, 0, 0],
      ['gw-a', 'lamp-1', 'gw-a/lamp-1', 1, 0.5, 0, 0],
      ['gw-b', 'flood-1', 'gw-b/flood-1', 1, 0.4, 2, 120],
      ['gw-b', 'gas-1', 'gw-b/gas-1', 1, 0, 0, 0],
    ]);
    // Devices without a district form the null group, listed last.
    expect((await completeness(`${range}&by=district`)).groups.map(row)).toEqual([
      ['任城区', 2, 0.75, 0, 0],
      ['太白湖新区', 1, 0.4, 2, 120],
      [null, 1, 0, 0, 0],
    ]);
    expect((await completeness(`${range}&by=kind`)).groups.map(row)).toEqual([
      ['flood', 2, 0.7, 2, 120],
      ['gas', 1, 0, 0, 0],
      ['lamp_post', 1, 0.5, 0, 0],
    ]);
  });

  it('filters by gateway, district and kind', async () => {
    const range = `from=${T0}&to=${TO}`;
    expect((await completeness(`${range}&by=kind&district=${encodeURIComponent('任城区')}`)).groups.map(row)).toEqual([
      ['flood', 1, 1, 0, 0],
      ['lamp_post', 1, 0.5, 0, 0],
    ]);
    expect((await completeness(`${range}&by=kind&gateway=gw-b`)).groups.map(row)).toEqual([
      ['flood', 1, 0.4, 2, 120],
      ['gas', 1, 0, 0, 0],
    ]);
    expect((await completeness(`${range}&by=gateway&kind=flood,gas`)).groups.map(row)).toEqual([
      ['gw-a', 1, 1, 0, 0],
      ['gw-b', 2, 0.2, 2, 120],
    ]);
    expect((await completeness(`${range}&by=district&district=nowhere`)).groups).toEqual([]);
  });

  it('counts the range given: wider, the hour-old gap and its kept minute count; past the data, nothing does', async () => {
    // [T0 − 60 min, T0 + 10 min): 70 minutes.
    const wide = await completeness(`from=${T0 - 60 * M}&to=${TO}&by=device&gateway=gw-b`);
    expect(wide.minutes).toBe(70);
    expect(wide.groups.map(row)).toEqual([
      ['gw-b/flood-1', 1, Math.round((4 / 70) * 1000) / 1000, 2, 120],
      ['gw-b/gas-1', 1, Math.round((1 / 70) * 1000) / 1000, 1, 30],
    ]);
    // The minute holding `from` counts whole: from = T0 + 9.5 min takes in minute 9 (and lamp-1's minute 10).
    const late = await completeness(`from=${T0 + 9 * M + 30_000}&to=${T0 + 10 * M}&by=device&gateway=gw-a`);
    expect(late.minutes).toBe(2);
    expect(late.groups.map(row)).toEqual([
      ['gw-a/flood-1', 1, 0.5, 0, 0],
      ['gw-a/lamp-1', 1, 0.5, 0, 0],
    ]);
    const after = await completeness(`from=${T0 + DAY}&to=${T0 + DAY + 10 * M}&by=gateway`);
    expect(after.groups.map(row)).toEqual([
      ['gw-a', 2, 0, 0, 0],
      ['gw-b', 2, 0, 0, 0],
    ]);
  });

  it('refuses bad ranges, groupings and gateways, naming the field and value', async () => {
    const long = await t.call('GET', `/api/v1/completeness?from=0&to=${T0}&by=gateway`, { as: 'viewer' });
    expect([long.status, long.json.error]).toEqual([400, 'REQUEST_INVALID']);
    expect(long.json.message).toBe(`from: 0 is ${(T0 / DAY).toFixed(1)} days before to (${T0}); a completeness range may span at most 400 days`);
    expect((await t.call('GET', `/api/v1/completeness?from=${T0 - 400 * DAY}&to=${T0}&by=gateway`, { as: 'viewer' })).status).toBe(200);
    const reversed = await t.call('GET', `/api/v1/completeness?from=${TO}&to=${T0}&by=gateway`, { as: 'viewer' });
    expect([reversed.status, reversed.json.message]).toEqual([400, `from (${TO}) is after to (${T0})`]);
    const by = await t.call('GET', `/api/v1/completeness?from=${T0}&to=${TO}&by=week`, { as: 'viewer' });
    expect([by.status, by.json.message]).toEqual([400, 'by: "week" is not one of gateway, device, district, kind']);
    const none = await t.call('GET', `/api/v1/completeness?from=${T0}&to=${TO}`, { as: 'viewer' });
    expect([none.status, none.json.message]).toEqual([400, "querystring: must have required property 'by'"]);
    const gw = await t.call('GET', `/api/v1/completeness?from=${T0}&to=${TO}&by=device&gateway=gw-x`, { as: 'viewer' });
    expect([gw.status, gw.json.message]).toEqual([404, 'no gateway "gw-x"']);
  });
});

describe('GET /api/v1/gaps', () => {
  type Gap = { gateway: string; device: string; point: string; from: number; to: number; keptReadings: number; minutes: { ts: number; count: number; mean: number }[] };
  const gaps = async (query: string): Promise<Gap[]> => {
    const r = await t.call('GET', `/api/v1/gaps?${query}`, { as: 'viewer' });
    expect([r.status, r.text.slice(0, 200)]).toEqual([200, expect.any(String)]);
    return r.json;
  };
  const brief = (g: Gap) => [g.gateway, g.device, g.from, g.keptReadings, g.minutes.length];

  it('lists the thinned ranges overlapping the range, newest first, with what was kept', async () => {
    const all = await gaps(`from=${T0 - 2 * 60 * M}&to=${TO}`);
    expect(all.map(brief)).toEqual([
      ['gw-b', 'flood-1', T0 + 6 * M, 0, 0],
      ['gw-b', 'flood-1', T0 + 2 * M, 120, 2],
      ['gw-b', 'gas-1', T0 - 60 * M, 30, 1],
    ]);
    expect(all[1]).toMatchObject({ point: 'water_level', to: T0 + 4 * M - 1, minutes: [{ ts: T0 + 2 * M, count: 60, min: 1, max: 2, mean: 1.5 }, { ts: T0 + 3 * M, count: 60 }] });
    // Overlap, inclusive: from = the end of the first range keeps it; the hour-old one is out.
    expect((await gaps(`from=${T0 + 4 * M - 1}&to=${TO}`)).map((g) => g.from)).toEqual([T0 + 6 * M, T0 + 2 * M]);
    expect((await gaps(`from=${T0 - 2 * 60 * M}&to=${TO}&limit=1`)).map((g) => g.from)).toEqual([T0 + 6 * M]);
    expect((await gaps(`from=${T0 - 2 * 60 * M}&to=${TO}&gateway=gw-a`))).toEqual([]);
    expect((await gaps(`from=${T0 - 2 * 60 * M}&to=${TO}&point=concentration`)).map(brief)).toEqual([['gw-b', 'gas-1', T0 - 60 * M, 30, 1]]);
  });

  it('addresses a device as /readings does: a shared id needs gateway=, unknown devices and points are 404', async () => {
    const range = `from=${T0 - 2 * 60 * M}&to=${TO}`;
    expect((await gaps(`${range}&device=gas-1`)).map(brief)).toEqual([['gw-b', 'gas-1', T0 - 60 * M, 30, 1]]);
    expect((await gaps(`${range}&device=flood-1&gateway=gw-b&point=water_level`)).map((g) => g.from)).toEqual([T0 + 6 * M, T0 + 2 * M]);
    expect(await gaps(`${range}&device=flood-1&gateway=gw-a`)).toEqual([]);
    const shared = await t.call('GET', `/api/v1/gaps?${range}&device=flood-1`, { as: 'viewer' });
    expect([shared.status, shared.json.message]).toEqual([409, 'device "flood-1" is on 2 gateways (gw-a, gw-b): add gateway=<id> to say which']);
    const point = await t.call('GET', `/api/v1/gaps?${range}&device=flood-1&gateway=gw-b&point=level`, { as: 'viewer' });
    expect(point.status).toBe(404);
    expect(point.json.message).toContain('device flood-1 (gateway gw-b) has no point "level"');
    const gw = await t.call('GET', `/api/v1/gaps?${range}&gateway=gw-x`, { as: 'viewer' });
    expect([gw.status, gw.json.message]).toEqual([404, 'no gateway "gw-x"']);
    const reversed = await t.call('GET', `/api/v1/gaps?from=${TO}&to=${T0}`, { as: 'viewer' });
    expect([reversed.status, reversed.json.message]).toEqual([400, `from (${TO}) is after to (${T0})`]);
  });
});
