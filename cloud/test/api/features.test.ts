/**
 * What an operator, a technician and an external system do with the API:
 * registry and status, readings raw / downsampled / CSV, alarms and their
 * commands, config pushes, the live stream, webhooks, GeoJSON.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmTransition, Reading } from '@lifeline/shared';
import { signWebhook, type GatewayCommand } from '../../src/index.js';
import { testCloud, type TestCloud } from './helpers.js';
import { waitFor } from '../../../test/helpers.js';

let t: TestCloud;
const commands: GatewayCommand[] = [];
const now = Date.now();
const T0 = Math.floor(now / 60_000) * 60_000 - 30 * 60_000; // 30 minutes ago, minute-aligned
let seq = 0;
let eseq = 0;

async function readings(rs: Reading[], gateway = 'gw-f') {
  await t.cloud.store.telemetry.commitTelemetry({ gateway, firstSeq: seq + 1, lastSeq: seq + rs.length, readings: rs });
  seq += rs.length;
}
async function transition(p: Partial<AlarmTransition> & Pick<AlarmTransition, 'from' | 'to' | 'level'>, gateway = 'gw-f') {
  eseq++;
  const e: AlarmTransition = { kind: 'alarm', seq: eseq, alarmId: 'flood-9/water_level/threshold', device: 'flood-9', point: 'water_level', ts: now, detector: 'threshold', cause: 'water_level high', value: 3.3, ...p };
  await t.cloud.store.telemetry.commitEvents({ gateway, firstSeq: eseq, lastSeq: eseq, events: [e] });
}

beforeAll(async () => {
  t = await testCloud({ webhooks: { baseDelayMs: 50, maxAttempts: 4 } });
  t.cloud.commands.onCommand((_gw, c) => void commands.push(c));
  await t.cloud.store.registry.saveGatewayStatus({
    gateway: 'gw-f', online: true, ts: now, name: 'Binhe Rd underpass', location: { lon: 114.0579, lat: 22.5431, district: 'Futian', gridUnit: 'FT-03-12' },
    backlog: { depth: 1200, oldestTs: now - 90_000 }, clockOffsetMs: 35,
    devices: [
      { id: 'flood-9', profile: 'flood-gauge', kind: 'flood', location: { lon: 114.0581, lat: 22.5429, district: 'Futian' }, points: [{ name: 'water_level', unit: 'm' }] },
      { id: 'lamp-9', profile: 'lamp-post-controller', kind: 'lamp_post', points: [{ name: 'power', unit: 'W' }] },
    ],
  });
  // flood-9: one reading every 10 s for the last 30 minutes; value = minute index.
  await readings(Array.from({ length: 180 }, (_, i) => ({ device: 'flood-9', point: 'water_level', ts: T0 + i * 10_000, value: Math.floor(i / 6) })));
});
afterAll(async () => t.close());

describe('registry and status', () => {
  it('lists gateways with online, backlog depth and age, clock offset and 24 h completeness', async () => {
    const [g] = (await t.call('GET', '/api/v1/gateways', { as: 'viewer' })).json;
    expect(g).toMatchObject({ id: 'gw-f', name: 'Binhe Rd underpass', online: true, clockOffsetMs: 35, devices: 2, location: { lon: 114.0579, lat: 22.5431, district: 'Futian', gridUnit: 'FT-03-12' } });
    expect(g.backlog.depth).toBe(1200);
    expect(g.backlog.ageMs).toBeGreaterThanOrEqual(90_000);
    // flood-9 has data in 30 of the minutes since the gateway was first seen (now): capped at 1; lamp-9 has none.
    const one = (await t.call('GET', '/api/v1/gateways/gw-f', { as: 'viewer' })).json;
    const byId = Object.fromEntries(one.deviceList.map((d: { id: string; completeness24h: number }) => [d.id, d.completeness24h]));
    expect(byId['lamp-9']).toBe(0);
    expect(byId['flood-9']).toBeGreaterThan(0);
    expect(one.completeness24h).toBeCloseTo((byId['flood-9'] + byId['lamp-9']) / 2, 2);
  });

  it('lets a technician set the registry, and exports GeoJSON with status', async () => {
    const patched = await t.call('PATCH', '/api/v1/devices/lamp-9', { as: 'technician', body: { kind: 'lamp_post', name: 'Lamp 9', location: { lon: 114.06, lat: 22.544, district: 'Futian', gridUnit: 'FT-03-12' } } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ id: 'lamp-9', name: 'Lamp 9', location: { lon: 114.06, lat: 22.544 } });
    const geo = await t.call('GET', '/api/v1/devices.geojson', { as: 'viewer' });
    expect(geo.headers.get('content-type')).toMatch(/application\/geo\+json/);
    expect(geo.json.type).toBe('FeatureCollection');
    const lamp = geo.json.features.find((f: { id: string }) => f.id === 'gw-f/lamp-9');
    expect(lamp).toMatchObject({ type: 'Feature', geometry: { type: 'Point', coordinates: [114.06, 22.544] }, properties: { gateway: 'gw-f', kind: 'lamp_post', district: 'Futian', gridUnit: 'FT-03-12', online: true } });
    expect((await t.call('PATCH', '/api/v1/devices/nope', { as: 'technician', body: { name: 'x' } })).status).toBe(404);
  });
});

describe('readings', () => {
  const q = `device=flood-9&point=water_level&from=${T0}&to=${T0 + 30 * 60_000 - 1}`;

  it('answers raw readings time-ordered, and per-bucket min/max/mean/count with step', async () => {
    const raw = (await t.call('GET', `/api/v1/readings?${q}`, { as: 'viewer' })).json;
    expect(raw).toHaveLength(180);
    expect(raw[7]).toEqual({ ts: T0 + 70_000, value: 1 });
    const buckets = (await t.call('GET', `/api/v1/readings?${q}&step=600000`, { as: 'viewer' })).json;
    expect(buckets).toEqual([
      { ts: T0, min: 0, max: 9, mean: 4.5, count: 60 },
      { ts: T0 + 600_000, min: 10, max: 19, mean: 14.5, count: 60 },
      { ts: T0 + 1_200_000, min: 20, max: 29, mean: 24.5, count: 60 },
    ]);
  });

  it('exports CSV of a time range', async () => {
    const r = await t.call('GET', `/api/v1/readings.csv?${q}`, { as: 'viewer' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = r.text.trim().split('\n');
    expect(lines[0]).toBe('ts,time,value');
    expect(lines).toHaveLength(181);
    expect(lines[8]).toBe(`${T0 + 70_000},${new Date(T0 + 70_000).toISOString()},1`);
  });
});

describe('alarms', () => {
  it('derives state from transitions, filters, acknowledges through the downlink hook, shelves, comments, keeps history', async () => {
    await transition({ from: 'normal', to: 'active_unacked', level: 2 });
    await transition({ from: 'active_unacked', to: 'active_unacked', level: 4, value: 3.5 });
    const list = (await t.call('GET', '/api/v1/alarms?state=active_unacked&kind=flood&district=Futian&minLevel=3', { as: 'viewer' })).json;
    expect(list).toHaveLength(1);
    const alarm = list[0];
    expect(alarm).toMatchObject({ gateway: 'gw-f', device: 'flood-9', state: 'active_unacked', level: 4, value: 3.5, kind: 'flood', district: 'Futian' });
    expect((await t.call('GET', '/api/v1/alarms?kind=gas', { as: 'viewer' })).json).toEqual([]);
    expect((await t.call('GET', '/api/v1/alarms?level=2', { as: 'viewer' })).json).toEqual([]);

    const ack = await t.call('POST', `/api/v1/alarms/${alarm.id}/ack`, { as: 'operator', body: { comment: 'crew on the way' } });
    expect(ack.status).toBe(202);
    expect(ack.json.command).toMatchObject({ gateway: 'gw-f', type: 'alarm_ack', status: 'pending', requestedBy: 'test-operator', body: { alarmId: alarm.alarmId, user: 'test-operator' } });
    await waitFor(() => commands.some((c) => c.id === ack.json.command.id), 2000, 'the downlink hook');
    // The gateway answers and reports the transition; the cloud records both.
    expect(await t.cloud.commands.answer('gw-f', ack.json.command.id, { ok: true, message: 'acknowledged' })).toBe(true);
    await transition({ from: 'active_unacked', to: 'active_acked', level: 4, user: 'test-operator', cause: 'acknowledged by test-operator' });

    const shelve = await t.call('POST', `/api/v1/alarms/${alarm.id}/shelve`, { as: 'operator', body: { durationMs: 3_600_000, reason: 'pump maintenance' } });
    expect(shelve.status).toBe(202);
    expect(shelve.json.command.body).toMatchObject({ reason: 'pump maintenance' });
    expect(shelve.json.command.body.until).toBeGreaterThan(Date.now());
    expect((await t.call('POST', `/api/v1/alarms/${alarm.id}/comments`, { as: 'operator', body: { text: 'barrier closed' } })).status).toBe(201);

    const full = (await t.call('GET', `/api/v1/alarms/${alarm.id}`, { as: 'viewer' })).json;
    expect(full.state).toBe('active_acked');
    expect(full.history.map((h: AlarmTransition) => h.to)).toEqual(['active_unacked', 'active_unacked', 'active_acked']);
    expect(full.comments.map((c: { text: string }) => c.text)).toEqual(['crew on the way', expect.stringMatching(/^shelved until .*: pump maintenance$/), 'barrier closed']);
    expect(full.commands.map((c: { type: string; status: string }) => [c.type, c.status])).toEqual([['alarm_shelve', 'pending'], ['alarm_ack', 'done']]);
    expect((await t.call('GET', '/api/v1/commands?gateway=gw-f', { as: 'operator' })).json).toHaveLength(2);
  });
});

describe('config', () => {
  const good = {
    gateway: { id: 'gw-f', name: 'Binhe Rd underpass' },
    buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: 5020, devices: [{ id: 'flood-9', profile: 'flood-gauge', unit: 1 }] }],
    // No buffer and no login: a pushed config may not move the one and the gateway keeps the other.
    sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
  };

  it('refuses a bad desired config listing every error, accepts a good one, records the gateway’s answer', async () => {
    const bad = structuredClone(good) as Record<string, any>;
    bad.buses[0].devices[0].unit = 300;
    bad.buses[0].port = 'x';
    bad.sync.colour = 'red';
    bad.gateway.id = 'gw-other';
    const r = await t.call('PUT', '/api/v1/gateways/gw-f/config', { as: 'technician', body: bad });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('CONFIG_INVALID');
    const paths = r.json.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['buses[0].devices[0].unit', 'buses[0].port', 'sync', 'gateway.id']));
    expect(r.json.message).toMatch(/buses\[0\]\.devices\[0\]\.unit: must be <= 247/);
    expect((await t.call('GET', '/api/v1/gateways/gw-f/config', { as: 'technician' })).json.desired).toBeNull();

    const ok = await t.call('PUT', '/api/v1/gateways/gw-f/config', { as: 'technician', body: good });
    expect(ok.status).toBe(202);
    const cmd = ok.json.command;
    expect(cmd).toMatchObject({ type: 'config', body: { config: good } });
    await waitFor(() => commands.some((c) => c.id === cmd.id), 2000, 'the config command at the downlink hook');
    let state = (await t.call('GET', '/api/v1/gateways/gw-f/config', { as: 'technician' })).json;
    expect(state).toMatchObject({ desired: good, desiredBy: 'test-technician', desiredCommand: cmd.id, pending: true, running: null });

    await t.cloud.commands.answer('gw-f', cmd.id, { ok: true, message: 'applied', running: good });
    state = (await t.call('GET', '/api/v1/gateways/gw-f/config', { as: 'technician' })).json;
    expect(state).toMatchObject({ running: good, pending: false, answer: { ok: true, message: 'applied', command: cmd.id } });
    expect((await t.call('PUT', '/api/v1/gateways/gw-unknown/config', { as: 'technician', body: good })).status).toBe(404);
  });
});

describe('live stream (SSE)', () => {
  it('streams committed readings and alarm transitions, filtered by device', async () => {
    const abort = new AbortController();
    const res = await fetch(`${t.cloud.apiUrl}/api/v1/live?device=flood-9`, { headers: { authorization: `Bearer ${t.tokens.viewer}` }, signal: abort.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const until = async (re: RegExp) =>
      waitFor(async () => {
        if (re.test(text)) return true;
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
        return re.test(text);
      }, 5000, `SSE text matching ${re}`);
    await until(/lifeline live stream/);
    await readings([{ device: 'lamp-9', point: 'power', ts: now, value: 120 }, { device: 'flood-9', point: 'water_level', ts: now, value: 42.5 }]);
    await until(/event: readings\ndata: .*42\.5/);
    expect(text).not.toContain('lamp-9');
    await transition({ from: 'active_acked', to: 'cleared_unacked', level: 4, value: 1.2 });
    await until(/event: alarm\ndata: .*cleared_unacked/);
    const data = JSON.parse(/event: alarm\ndata: (.*)\n/.exec(text)![1]);
    expect(data).toMatchObject({ gateway: 'gw-f', kind: 'alarm', to: 'cleared_unacked', device: 'flood-9' });
    abort.abort();
  });
});

describe('webhooks', () => {
  it('POSTs HMAC-signed alarm transitions, retries after a failure, skips lower levels', async () => {
    const got: { headers: IncomingMessage['headers']; body: string }[] = [];
    let calls = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        calls++;
        if (calls === 1) return void res.writeHead(500).end('not now'); // the first attempt fails
        got.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dispatch`;
      const created = await t.call('POST', '/api/v1/webhooks', { body: { url, minLevel: 3, secret: 'a-very-secret-key-123' } });
      expect(created.status).toBe(201);
      await transition({ alarmId: 'gas-9/ch4/threshold', device: 'gas-9', point: 'ch4', from: 'normal', to: 'active_unacked', level: 1 }); // below minLevel
      await transition({ alarmId: 'flood-9/water_level/rate', from: 'normal', to: 'active_unacked', level: 4, detector: 'rate' });
      await waitFor(() => got.length === 1, 5000, 'a webhook delivery');
      const [d] = got;
      expect(calls).toBe(2);
      const body = JSON.parse(d.body);
      expect(body).toMatchObject({ type: 'alarm.transition', gateway: 'gw-f', transition: { alarmId: 'flood-9/water_level/rate', level: 4 } });
      expect(d.headers['x-lifeline-signature']).toBe(signWebhook('a-very-secret-key-123', d.headers['x-lifeline-timestamp'] as string, d.body));
      expect(d.headers['x-lifeline-signature']).not.toBe(signWebhook('another-key-000000000', d.headers['x-lifeline-timestamp'] as string, d.body));
      const [listed] = (await t.call('GET', '/api/v1/webhooks')).json;
      expect(listed).toMatchObject({ url, minLevel: 3, stats: { delivered: 1, failedAttempts: 1, dropped: 0 } });
      expect(listed.secret).toBeUndefined();
      expect((await t.call('DELETE', `/api/v1/webhooks/${listed.id}`)).status).toBe(204);
    } finally {
      server.close();
    }
  });

  it('never holds up a commit when the receiver hangs', async () => {
    const server = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const created = await t.call('POST', '/api/v1/webhooks', { body: { url } });
      const t0 = Date.now();
      for (let i = 0; i < 20; i++) await transition({ alarmId: `x-${i}`, from: 'normal', to: 'active_unacked', level: 2 });
      expect(Date.now() - t0).toBeLessThan(4000); // twenty commits, each far faster than the webhook's 5 s timeout
      await t.call('DELETE', `/api/v1/webhooks/${created.json.id}`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('summary', () => {
  it('sums devices, online and active alarms by district and kind', async () => {
    const s = (await t.call('GET', '/api/v1/summary', { as: 'viewer' })).json;
    expect(s.find((x: { kind: string }) => x.kind === 'flood')).toMatchObject({ district: 'Futian', devices: 1, online: 1 });
  });
});
