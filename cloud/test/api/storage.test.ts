/**
 * Cold storage through the API: every read an operator makes (raw readings, buckets,
 * CSV, gaps, completeness) answers the same before and after the days are compressed,
 * and GET /storage reports each day and district, hot and cold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '@lifeline/shared';
import { testCloud, type TestCloud } from './helpers.js';

const DAY = 86_400_000;
const T0 = Math.floor(Date.now() / DAY) * DAY - 3 * DAY; // a UTC midnight three days ago

let t: TestCloud;

beforeAll(async () => {
  t = await testCloud();
  await t.cloud.store.registry.saveGatewayStatus({
    gateway: 'gw-a', online: true, ts: Date.now(),
    devices: [{ id: 'flood-1', profile: 'flood-gauge', kind: 'flood', location: { lon: 116.59, lat: 35.41, district: '任城区' }, points: [{ name: 'water_level', unit: 'm' }] }],
  });
  await t.cloud.store.registry.saveGatewayStatus({
    gateway: 'gw-b', online: true, ts: Date.now(),
    devices: [{ id: 'gas-1', profile: 'gas-detector', kind: 'gas', points: [{ name: 'concentration', unit: '%LEL' }] }],
  });
  // Two days of a flood gauge at 5 s (a missing hour, some bad readings), half a day of a gas detector.
  const flood: Reading[] = [];
  for (let i = 0; i < 2 * 17_280; i++) {
    if (i >= 1000 && i < 1720) continue;
    flood.push({ device: 'flood-1', point: 'water_level', ts: T0 + i * 5000 + 17, value: i % 97 === 0 ? NaN : Math.round((1.2 + Math.sin(i / 700)) * 1000) / 1000, ...(i % 97 === 0 ? { quality: 2 } : {}) });
  }
  const gas: Reading[] = Array.from({ length: 4320 }, (_, i) => ({ device: 'gas-1', point: 'concentration', ts: T0 + DAY + i * 10_000, value: (i % 50) / 10 }));
  for (const [gateway, rs] of [['gw-a', flood], ['gw-b', gas]] as const) {
    for (let i = 0; i < rs.length; i += 5000) {
      const part = rs.slice(i, i + 5000);
      await t.cloud.store.telemetry.commitTelemetry({ gateway, epoch: 1, firstSeq: i + 1, lastSeq: i + part.length, readings: part });
    }
  }
});

afterAll(async () => t.close());

const get = async (path: string, as: 'viewer' | 'operator' = 'viewer') => {
  const r = await t.call('GET', path, { as });
  expect([path, r.status]).toEqual([path, 200]);
  return r.text;
};

describe('cold storage through the API', () => {
  it('answers readings, buckets, CSV, gaps and completeness the same once the days are compressed', async () => {
    const q = `device=flood-1&point=water_level&gateway=gw-a`;
    const paths = [
      `/api/v1/readings?${q}&from=${T0}&to=${T0 + DAY - 1}&limit=20000`,
      `/api/v1/readings?${q}&from=${T0 + DAY - 600_000}&to=${T0 + DAY + 600_000}`,
      `/api/v1/readings?${q}&from=${T0}&to=${T0 + 2 * DAY}&step=${Math.ceil((2 * DAY) / 1000) + 13}`,
      `/api/v1/readings?${q}&from=${T0 + 1234}&to=${T0 + 2 * DAY}&step=3600000`,
      `/api/v1/readings.csv?${q}&from=${T0}&to=${T0 + 2 * DAY}`,
      `/api/v1/readings?device=gas-1&point=concentration&from=${T0}&to=${T0 + 3 * DAY}&limit=10000`,
      `/api/v1/completeness?from=${T0}&to=${T0 + 2 * DAY - 1}&by=device`,
      `/api/v1/gaps?from=${T0}&to=${T0 + 2 * DAY}`,
    ];
    const before = await Promise.all(paths.map((p) => get(p)));
    const storageHot = JSON.parse(await get(`/api/v1/storage?from=${T0}&to=${T0 + 2 * DAY - 1}`, 'operator'));
    expect(storageHot.days.map((d: { day: string; district: string | null; hot: { readings: number }; cold: { readings: number } }) => [d.day, d.district, d.hot.readings, d.cold.readings])).toEqual([
      [new Date(T0).toISOString().slice(0, 10), '任城区', 17_280 - 720, 0],
      [new Date(T0 + DAY).toISOString().slice(0, 10), '任城区', 17_280, 0],
      [new Date(T0 + DAY).toISOString().slice(0, 10), null, 4320, 0], // no district: last
    ]);
    const done = await t.cloud.store.telemetry.compact();
    expect(done.readings).toBe(2 * 17_280 - 720 + 4320);
    const after = await Promise.all(paths.map((p) => get(p)));
    after.forEach((text, i) => expect([paths[i], text]).toEqual([paths[i], before[i]]));
    expect(before[0].length).toBeGreaterThan(100_000);
    expect(before[4].split('\n').length).toBeGreaterThan(2 * 17_280 - 720);

    const cold = JSON.parse(await get(`/api/v1/storage?from=${T0}&to=${T0 + 2 * DAY - 1}`, 'operator'));
    for (const d of cold.days) {
      expect(d.hot).toEqual({ readings: 0, bytes: 0 });
      expect(d.cold.bytes).toBeGreaterThan(0);
      expect(d.ratio).toBeGreaterThan(20);
    }
    expect(cold.total.readings).toBe(done.readings);
    expect(cold.total.bytesPerReading).toBeLessThan(2);
    const one = JSON.parse(await get(`/api/v1/storage?from=${T0}&to=${T0 + 2 * DAY - 1}&district=${encodeURIComponent('任城区')}`, 'operator'));
    expect(one.days.map((d: { district: string }) => d.district)).toEqual(['任城区', '任城区']);
  });

  it('refuses a range over 400 days, naming from and the span; viewers are not let in', async () => {
    const r = await t.call('GET', `/api/v1/storage?from=0&to=${401 * DAY}`, { as: 'operator' });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/from: 0 is 401\.0 days before to/);
    expect((await t.call('GET', '/api/v1/storage', { as: 'viewer' })).status).toBe(403);
  });
});
