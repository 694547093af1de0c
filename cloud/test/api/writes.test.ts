/**
 * Point writes from the operations centre: who may, what is checked before
 * anything is sent, and the state the API shows as the gateway answers
 * (simulated here through the CommandCenter: the downlink hook and `answer`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayCommand } from '../../src/index.js';
import { testCloud, type TestCloud } from './helpers.js';
import { waitFor } from '../../../test/helpers.js';

let t: TestCloud;
const sent: GatewayCommand[] = [];
const TTL = 1500;
const url = (gw: string, device: string, point: string) => `/api/v1/gateways/${gw}/devices/${device}/points/${point}/write`;

beforeAll(async () => {
  t = await testCloud({ pointWriteTtlMs: TTL });
  t.cloud.commands.onCommand((_gw, c) => void sent.push(c));
  await t.cloud.store.registry.saveGatewayStatus({
    gateway: 'gw-w', online: true, ts: Date.now(),
    devices: [
      { id: 'lamp-1', profile: 'lamp-post-controller', kind: 'lamp_post', points: [{ name: 'lamp_on', unit: '' }, { name: 'dimming', unit: '%' }, { name: 'voltage', unit: 'V' }] },
      { id: 'lamp-2', profile: 'lamp-post-controller', kind: 'lamp_post', points: [{ name: 'dimming', unit: '%' }] },
    ],
  });
});
afterAll(() => t.close());

async function write(point: string, value: number, reason = 'night test', device = 'lamp-1') {
  const r = await t.call('POST', url('gw-w', device, point), { as: 'operator', body: { value, reason } });
  expect(r.status, r.text).toBe(202);
  return r.json.command as { id: number; state: string };
}
const listed = async (q = '') => (await t.call('GET', `/api/v1/writes${q}`, { as: 'operator' })).json as { id: number; state: string; answer: Record<string, unknown> | null }[];
const stateOf = async (id: number) => (await listed('?gateway=gw-w')).find((w) => w.id === id)?.state;

describe('POST a point write', () => {
  it('is for operators and above, recorded with who, what, why and when it expires, and sent to the gateway', async () => {
    const body = { value: 1, reason: 'lamp stuck off, resident call 0537-123' };
    expect((await t.call('POST', url('gw-w', 'lamp-1', 'lamp_on'), { as: 'viewer', body })).status).toBe(403);
    const before = Date.now();
    const r = await t.call('POST', url('gw-w', 'lamp-1', 'lamp_on'), { as: 'operator', body });
    expect(r.status).toBe(202);
    expect(r.json.command).toMatchObject({
      gateway: 'gw-w', type: 'point_write', status: 'pending', state: 'pending', requestedBy: 'test-operator', answer: null,
      body: { device: 'lamp-1', point: 'lamp_on', value: 1, reason: body.reason },
    });
    expect(r.json.command.body.expiresAt).toBeGreaterThanOrEqual(before + TTL);
    expect(r.json.command.body.expiresAt).toBeLessThanOrEqual(Date.now() + TTL);
    await waitFor(() => sent.find((c) => c.id === r.json.command.id), 2000, 'the downlink hook');
    expect((await t.call('POST', url('gw-w', 'lamp-1', 'dimming'), { as: 'technician', body: { value: 50, reason: 'x' } })).status).toBe(202);
  });

  it('refuses an unknown gateway, device or point naming what exists, and a bad value or reason naming the field', async () => {
    const ok = { value: 1, reason: 'r' };
    const gw = await t.call('POST', url('gw-nope', 'lamp-1', 'lamp_on'), { as: 'operator', body: ok });
    expect([gw.status, gw.json.message]).toEqual([404, 'no gateway "gw-nope"']);
    const dev = await t.call('POST', url('gw-w', 'lamp-9', 'lamp_on'), { as: 'operator', body: ok });
    expect(dev.status).toBe(404);
    expect(dev.json.message).toMatch(/gateway gw-w has no device "lamp-9".*it has: lamp-1, lamp-2/);
    const pt = await t.call('POST', url('gw-w', 'lamp-1', 'dimmer'), { as: 'operator', body: ok });
    expect(pt.status).toBe(404);
    expect(pt.json.message).toMatch(/device lamp-1 \(gateway gw-w\) has no point "dimmer"; it has: dimming, lamp_on, voltage/);

    const bad = async (body: unknown) => {
      const r = await t.call('POST', url('gw-w', 'lamp-1', 'dimming'), { as: 'operator', body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      return r.json.message as string;
    };
    expect(await bad({ value: 1 })).toMatch(/reason/);
    expect(await bad({ value: 1, reason: '' })).toMatch(/reason.*fewer than 1|reason.*at least 1|reason/);
    expect(await bad({ value: 1, reason: 'x'.repeat(501) })).toMatch(/reason/);
    expect(await bad({ value: 'on', reason: 'r' })).toMatch(/value/);
    expect(await bad({ reason: 'r' })).toMatch(/value/);
    expect(await bad({ value: 1, reason: 'r', force: true })).toMatch(/force/);
    const inf = await t.call('POST', url('gw-w', 'lamp-1', 'dimming'), { as: 'operator', raw: '{"value":1e400,"reason":"r"}', headers: { 'content-type': 'application/json' } });
    expect(inf.status).toBe(400);
    expect(inf.json.message).toMatch(/^body\.value: must be/);
  });
});

describe('the state of a write', () => {
  it('is confirmed when the gateway read the value back', async () => {
    const w = await write('dimming', 75);
    expect(await stateOf(w.id)).toBe('pending');
    expect(await t.cloud.commands.answer('gw-w', w.id, { ok: true, status: 'done', message: 'done: wrote 75 to lamp-1.dimming; read back 75', readBack: 75 })).toBe(true);
    const [row] = (await listed('?gateway=gw-w&device=lamp-1')).filter((x) => x.id === w.id);
    expect(row).toMatchObject({ state: 'confirmed', status: 'done', answer: { ok: true, status: 'done', readBack: 75 } });
  });

  it('is failed when the gateway refused it, the write failed, or the read-back differs; unverified when done without a read-back', async () => {
    const refused = await write('voltage', 230);
    await t.cloud.commands.answer('gw-w', refused.id, { ok: false, status: 'rejected', message: 'rejected: REQUEST_INVALID: write lamp-1.voltage: not a writable coil or holding register of lamp-post-controller' });
    const mismatch = await write('dimming', 70000);
    await t.cloud.commands.answer('gw-w', mismatch.id, { ok: false, status: 'failed', message: 'failed: WRITE_NOT_CONFIRMED: write lamp-1.dimming: wrote 70000, read back 4464', readBack: 4464 });
    const down = await write('lamp_on', 0);
    await t.cloud.commands.answer('gw-w', down.id, { ok: false, status: 'failed', message: 'failed: LINK_DOWN: connection refused' });
    const old = await write('lamp_on', 1);
    await t.cloud.commands.answer('gw-w', old.id, { ok: true, status: 'done', message: 'done: wrote 1 to lamp-1.lamp_on' });
    const rows = await listed('?gateway=gw-w');
    const by = (id: number) => rows.find((r) => r.id === id)!;
    expect([by(refused.id).state, by(mismatch.id).state, by(down.id).state, by(old.id).state]).toEqual(['failed', 'failed', 'failed', 'unverified']);
    expect(by(mismatch.id).answer).toMatchObject({ readBack: 4464, message: expect.stringMatching(/wrote 70000, read back 4464/) });
  });

  it('is expired with no answer by expiresAt, or when the gateway got it too late', async () => {
    const silent = await write('dimming', 10);
    const late = await write('dimming', 20);
    await t.cloud.commands.answer('gw-w', late.id, { ok: false, status: 'expired', message: 'expired: arrived 20 ms after it expired; not carried out' });
    expect(await stateOf(silent.id)).toBe('pending');
    expect(await stateOf(late.id)).toBe('expired');
    await waitFor(async () => (await stateOf(silent.id)) === 'expired', TTL + 3000, 'the unanswered write to expire');
  });
});

describe('GET /writes', () => {
  it('lists point writes only, newest first, by gateway and device, for operators and above', async () => {
    expect((await t.call('GET', '/api/v1/writes', { as: 'viewer' })).status).toBe(403);
    await t.call('POST', '/api/v1/gateways/gw-w/config', { as: 'technician', body: {} }); // not a write, whatever it answers
    const last = await write('dimming', 5, 'lamp-2 only', 'lamp-2');
    const all = await listed();
    expect(all.length).toBeGreaterThan(5);
    expect(all.every((w) => (w as unknown as { type: string }).type === 'point_write')).toBe(true);
    expect(all.map((w) => w.id)).toEqual([...all.map((w) => w.id)].sort((a, b) => b - a));
    expect(all[0]).toMatchObject({ id: last.id, requestedBy: 'test-operator', body: { device: 'lamp-2', point: 'dimming', value: 5, reason: 'lamp-2 only' } });
    expect((await listed('?device=lamp-2')).map((w) => w.id)).toEqual([last.id]);
    expect((await listed('?device=lamp-1&limit=2')).length).toBe(2);
    expect((await listed('?device=lamp-1')).every((w) => (w as unknown as { body: { device: string } }).body.device === 'lamp-1')).toBe(true);
    const unknown = await t.call('GET', '/api/v1/writes?device=lamp-9', { as: 'operator' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toMatch(/no device "lamp-9".*known devices: lamp-1, lamp-2/);
  });
});
