/**
 * Maintenance windows as an operator uses them: a device, gateway or point put
 * out of service with a reason; its alarms listed out_of_service with the
 * window, no webhook sent meanwhile, and the real state back when the window
 * ends by itself or is ended early. Refusals name the field and the value.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmTransition } from '@lifeline/shared';
import { testCloud, type TestCloud } from './helpers.js';
import { waitFor } from '../../../test/helpers.js';

let t: TestCloud;
const seqs = new Map<string, number>();
const ALARM = 'flood-1/water_level/threshold';

async function transition(gateway: string, p: Partial<AlarmTransition> & Pick<AlarmTransition, 'from' | 'to'>) {
  const seq = (seqs.get(gateway) ?? 0) + 1;
  seqs.set(gateway, seq);
  const e: AlarmTransition = { kind: 'alarm', seq, alarmId: ALARM, device: 'flood-1', point: 'water_level', ts: Date.now(), level: 3, detector: 'threshold', cause: 'water_level high', value: 3.3, ...p };
  await t.cloud.store.telemetry.commitEvents({ gateway, firstSeq: seq, lastSeq: seq, events: [e] });
}
async function alarm(gateway: string, alarmId = ALARM) {
  const list = (await t.call('GET', `/api/v1/alarms?gateway=${gateway}`, { as: 'viewer' })).json as { id: number; alarmId: string; state: string; maintenance?: unknown }[];
  return list.find((a) => a.alarmId === alarmId)!;
}

beforeAll(async () => {
  // The watch is off: these gateways send no heartbeats, and its alarms are not the subject here.
  t = await testCloud({ webhooks: { baseDelayMs: 50, maxAttempts: 4 }, alarms: { watch: false } });
  const now = Date.now();
  for (const gateway of ['gw-a', 'gw-b']) {
    await t.cloud.store.registry.saveGatewayStatus({
      gateway, online: true, ts: now,
      devices: [
        { id: 'flood-1', profile: 'flood-gauge', kind: 'flood', points: [{ name: 'water_level', unit: 'm' }] },
        ...(gateway === 'gw-a' ? [{ id: 'lamp-1', profile: 'lamp-post-controller', kind: 'lamp_post', points: [{ name: 'power', unit: 'W' }] }] : []),
      ],
    });
    await transition(gateway, { from: 'normal', to: 'active_unacked' });
  }
  await transition('gw-a', { alarmId: 'lamp-1/power/threshold', device: 'lamp-1', point: 'power', from: 'normal', to: 'active_unacked', level: 2 });
});
afterAll(async () => t?.close());

describe('setting a window', () => {
  const body = (over: Record<string, unknown> = {}) => ({ gateway: 'gw-a', device: 'flood-1', until: Date.now() + 3_600_000, reason: 'sensor swap', ...over });

  it('refuses bad windows naming the field and the value, and unknown things naming what exists', async () => {
    const post = (b: unknown) => t.call('POST', '/api/v1/maintenance', { as: 'operator', body: b });
    const past = Date.now() - 3_600_000;
    let r = await post(body({ until: past }));
    expect([r.status, r.json.message]).toEqual([400, expect.stringMatching(new RegExp(`^until: must be after from .*got ${past} `))]);
    r = await post(body({ until: Date.now() + 31 * 86_400_000 }));
    expect([r.status, r.json.message]).toEqual([400, expect.stringMatching(/^until: at most 30 days ahead/)]);
    r = await post(body({ from: past }));
    expect([r.status, r.json.message]).toEqual([400, expect.stringContaining(`from: must not be in the past, got ${past}`)]);
    r = await post(body({ device: undefined, point: 'water_level' }));
    expect([r.status, r.json.message]).toEqual([400, expect.stringMatching(/^point: a point belongs to a device.*"water_level"/)]);
    r = await post(body({ reason: '   ' }));
    expect([r.status, r.json.message]).toEqual([400, 'reason: must say why, got "   "']);
    expect((await post(body({ reason: 'x'.repeat(501) }))).status).toBe(400);
    expect((await post(body({ reason: undefined }))).status).toBe(400);
    r = await post(body({ gateway: 'gw-c', device: undefined }));
    expect([r.status, r.json.message]).toEqual([404, 'no gateway "gw-c" (did you mean "gw-a"?); known gateways: gw-a, gw-b']);
    r = await post(body({ device: 'flood-2' }));
    expect([r.status, r.json.message]).toEqual([404, expect.stringMatching(/gateway gw-a has no device "flood-2".*it has: flood-1, lamp-1/)]);
    r = await post(body({ point: 'flow' }));
    expect([r.status, r.json.message]).toEqual([404, expect.stringMatching(/device flood-1 \(gateway gw-a\) has no point "flow".*it has: water_level/)]);
    expect((await t.call('POST', '/api/v1/maintenance', { as: 'viewer', body: body() })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/maintenance', { as: 'viewer' })).json).toEqual([]);
  });
});

describe('alarms under a window', () => {
  it('lists a device’s alarm out_of_service with its window, leaves the other gateway’s same-id device alone, and shows the real state when the window ends by itself', async () => {
    const until = Date.now() + 2500;
    const created = await t.call('POST', '/api/v1/maintenance', { as: 'operator', body: { gateway: 'gw-a', device: 'flood-1', until, reason: 'sensor swap' } });
    expect(created.status).toBe(201);
    const w = created.json;
    expect(w).toMatchObject({ scope: 'device', gateway: 'gw-a', device: 'flood-1', point: null, until, reason: 'sensor swap', createdBy: 'test-operator', endedAt: null, status: 'active' });

    const a = await alarm('gw-a');
    expect(a).toMatchObject({ state: 'out_of_service', maintenance: { id: w.id, until, reason: 'sensor swap', reportedState: 'active_unacked' } });
    expect((await t.call('GET', `/api/v1/alarms/${a.id}`, { as: 'viewer' })).json).toMatchObject({ state: 'out_of_service', maintenance: { id: w.id } });
    // Another device of the same gateway, and gw-b's flood-1: in service.
    expect(await alarm('gw-a', 'lamp-1/power/threshold')).toMatchObject({ state: 'active_unacked' });
    expect((await alarm('gw-a', 'lamp-1/power/threshold')).maintenance).toBeUndefined();
    expect(await alarm('gw-b')).toMatchObject({ state: 'active_unacked' });
    expect((await alarm('gw-b')).maintenance).toBeUndefined();
    // Filters see the shown state.
    const active = (await t.call('GET', '/api/v1/alarms?active=true', { as: 'viewer' })).json.map((x: { gateway: string; alarmId: string }) => `${x.gateway} ${x.alarmId}`).sort();
    expect(active).toEqual(['gw-a lamp-1/power/threshold', `gw-b ${ALARM}`]);
    const oos = (await t.call('GET', '/api/v1/alarms?state=out_of_service', { as: 'viewer' })).json;
    expect(oos.map((x: { id: number }) => x.id)).toEqual([a.id]);
    expect((await t.call('GET', '/api/v1/alarms?state=active_unacked&limit=1', { as: 'viewer' })).json).toHaveLength(1);
    expect((await t.call('GET', '/api/v1/maintenance?active=true', { as: 'viewer' })).json.map((x: { id: number }) => x.id)).toEqual([w.id]);
    expect((await t.call('GET', '/api/v1/maintenance?active=false', { as: 'viewer' })).json).toEqual([]);

    // No job runs at the end: the stored state was never touched.
    await waitFor(async () => (await alarm('gw-a')).state === 'active_unacked', 5000, 'the alarm back in service');
    expect((await alarm('gw-a')).maintenance).toBeUndefined();
    expect((await t.call('GET', '/api/v1/maintenance?active=false&gateway=gw-a', { as: 'viewer' })).json).toMatchObject([{ id: w.id, status: 'over', endedAt: null }]);
  });

  it('sends no webhook for an alarm in maintenance, while the other gateway’s still go; ended early (audited), they are sent again', async () => {
    const got: { gateway: string; transition: AlarmTransition }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const hook = await t.call('POST', '/api/v1/webhooks', { body: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` } });
      expect(hook.status).toBe(201);
      const w = (await t.call('POST', '/api/v1/maintenance', { as: 'technician', body: { gateway: 'gw-a', device: 'flood-1', point: 'water_level', until: Date.now() + 600_000, reason: 'recalibration' } })).json;
      expect(w).toMatchObject({ scope: 'point', point: 'water_level', createdBy: 'test-technician' });
      await transition('gw-a', { from: 'active_unacked', to: 'cleared_unacked' }); // covered: not sent
      await transition('gw-b', { from: 'active_unacked', to: 'cleared_unacked' }); // not covered: sent
      // Deliveries keep their order: once gw-b's has arrived, gw-a's would have come first.
      await waitFor(() => got.length >= 1, 5000, 'the gw-b delivery');
      await new Promise((r) => setTimeout(r, 200));
      expect(got.map((g) => `${g.gateway} ${g.transition.to}`)).toEqual(['gw-b cleared_unacked']);

      const ended = await t.call('DELETE', `/api/v1/maintenance/${w.id}`, { as: 'operator' });
      expect(ended.status).toBe(200);
      expect(ended.json).toMatchObject({ id: w.id, status: 'over', endedBy: 'test-operator', endedAt: expect.any(Number) });
      const again = await t.call('DELETE', `/api/v1/maintenance/${w.id}`, { as: 'operator' });
      expect([again.status, again.json.message]).toEqual([409, expect.stringMatching(new RegExp(`^maintenance window ${w.id} is over: it was ended at .* by test-operator$`))]);
      expect((await t.call('DELETE', '/api/v1/maintenance/999999', { as: 'operator' })).status).toBe(404);
      expect((await t.call('DELETE', `/api/v1/maintenance/${w.id}`, { as: 'viewer' })).status).toBe(403);

      expect(await alarm('gw-a')).toMatchObject({ state: 'cleared_unacked' });
      await transition('gw-a', { from: 'cleared_unacked', to: 'active_unacked' });
      await waitFor(() => got.length === 2, 5000, 'the gw-a delivery after the window');
      expect(`${got[1].gateway} ${got[1].transition.to}`).toBe('gw-a active_unacked');
      await t.call('DELETE', `/api/v1/webhooks/${hook.json.id}`);
    } finally {
      server.close();
    }
  });
});
