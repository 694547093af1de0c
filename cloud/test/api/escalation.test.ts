/**
 * Escalation and the daily digest, on a fake clock (the escalator's and the
 * digester's injected `now`) and once in real time: a red bridge alarm still
 * unacknowledged 15 minutes after its raise goes to the bridge engineer by
 * SMS, once, through a restart; an acknowledged one does not; the lighting
 * team's WeCom group gets one Chinese digest a day.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmTransition } from '@lifeline/shared';
import { Escalator } from '../../src/notify/escalation.js';
import { Digester } from '../../src/notify/digest.js';
import { localClock } from '../../src/notify/rules.js';
import { testCloud, type TestCloud } from './helpers.js';
import { testLog, waitFor } from '../../../test/helpers.js';

interface Got { path: string; body: string; at: number }
async function receiver(): Promise<{ url: string; got: Got[]; server: Server }> {
  const got: Got[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ path: new URL(req.url!, 'http://x').pathname, body, at: Date.now() });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, server };
}

let seq = 0;
const raise = (alarmId: string, ts: number, level = 4): AlarmTransition => ({
  kind: 'alarm', seq: ++seq, alarmId, device: 'bridge-ry-01', point: 'deflection', ts, from: 'normal', to: 'active_unacked', level: level as AlarmTransition['level'],
  detector: 'threshold', cause: 'deflection 41 mm above red 40 mm', value: 41,
});

async function jining(t: TestCloud, r: { url: string }) {
  await t.cloud.store.registry.saveGatewayStatus({
    gateway: 'gw-ruyi', online: true, ts: Date.now(),
    devices: [{ id: 'bridge-ry-01', profile: 'bridge-monitor', kind: 'bridge', location: { lon: 116.6, lat: 35.43, district: '任城区', gridUnit: 'RC-RY-01' } }],
  });
  await t.cloud.store.registry.updateDevice('gw-ruyi', 'bridge-ry-01', { name: '如意洸府河大桥' });
  const wecom = (await t.call('POST', '/api/v1/webhooks', { body: { kind: 'wecom', url: `${r.url}/cgi-bin/webhook/send?key=bridge-team` } })).json.id as number;
  const sms = (await t.call('POST', '/api/v1/webhooks', {
    body: { kind: 'sms', url: `${r.url}/sms`, sms: { body: '{"mobile":"{phone}","content":"{text}"}', phones: ['13800000001', '13900000002'] } },
  })).json.id as number;
  return { wecom, sms };
}

describe('escalation and digest on a fake clock', () => {
  let t: TestCloud;
  let r: Awaited<ReturnType<typeof receiver>>;
  let clock = Date.now();
  const now = () => clock;
  beforeAll(async () => {
    r = await receiver();
    t = await testCloud({ webhooks: { pollMs: 100, baseDelayMs: 50 }, alarms: { watch: false }, escalation: { checkMs: 3_600_000, now }, digest: { checkMs: 3_600_000, now } });
  });
  afterAll(async () => {
    await t.close();
    r.server.close();
  });

  it('escalates an unacknowledged red alarm after exactly 15 minutes, once, through a restart; an acknowledged one never', async () => {
    const { wecom, sms } = await jining(t, r);
    const rule = await t.call('POST', '/api/v1/rules', {
      body: { name: '如意洸府河大桥', match: { kinds: ['bridge'], districts: ['任城区'] }, receivers: [wecom], escalation: { levels: [4], steps: [{ afterMinutes: 15, receivers: [sms] }] } },
    });
    expect(rule.status).toBe(201);
    const T = Date.now();
    clock = T;
    await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-ruyi', epoch: 1, firstSeq: seq + 1, lastSeq: seq + 2, events: [raise('bridge-ry-01/deflection/threshold', T), raise('bridge-ry-01/tilt/threshold', T)] });
    await t.cloud.webhooks.settled();
    // The gateway's operator acknowledged the tilt alarm (the gateway sends the transition).
    const ack = { ...raise('bridge-ry-01/tilt/threshold', T + 60_000), from: 'active_unacked' as const, to: 'active_acked' as const, user: 'duty' };
    await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-ruyi', epoch: 1, firstSeq: ack.seq, lastSeq: ack.seq, events: [ack] });
    expect((await t.cloud.store.alarms.findAlarm('gw-ruyi', 'bridge-ry-01/tilt/threshold'))?.state).toBe('active_acked');

    clock = T + 15 * 60_000 - 1;
    expect(await t.cloud.escalator.check()).toBe(0);
    clock = T + 15 * 60_000;
    expect(await t.cloud.escalator.check()).toBe(2); // two phones, the deflection alarm only
    expect(await t.cloud.escalator.check()).toBe(0);
    // A restarted cloud derives the same step from the stored alarm and finds its key queued.
    const again = new Escalator(t.cloud.store, t.cloud.webhooks, testLog, { now });
    clock = T + 40 * 60_000;
    expect(await again.check()).toBe(0);

    const texts = await waitFor(() => { const s = r.got.filter((g) => g.path === '/sms'); return s.length === 2 ? s : undefined; }, 5000, 'two escalation SMS');
    const content = JSON.parse(texts[0].body).content as string;
    expect(content).toMatch(/^【Lifeline】升级：红色预警 如意洸府河大桥（bridge-ry-01），任城区，deflection 41 mm above red 40 mm，15 分钟未确认，报警于 /);
    const rows = (await t.call('GET', `/api/v1/notifications?receiver=${sms}`, { as: 'operator' })).json as { key: string; escalation: unknown }[];
    expect(rows.map((x) => x.key).sort()).toEqual([0, 1].map((p) => `esc:${rule.json.id}:gw-ruyi:bridge-ry-01/deflection/threshold:${T}:s0:r${sms}:p${p}`));
    expect(rows[0].escalation).toEqual({ ruleId: rule.json.id, rule: '如意洸府河大桥', step: 0, afterMinutes: 15 });
    // The WeCom group had the raise (and the ack) as transitions, never the escalation.
    await waitFor(() => r.got.filter((g) => g.path === '/cgi-bin/webhook/send').length >= 3, 5000, 'raises and ack to WeCom');
    expect(r.got.filter((g) => g.path === '/cgi-bin/webhook/send').some((g) => g.body.includes('升级'))).toBe(false);
  });

  it('escalates nothing of a device out of service, and escalates it once the window is over', async () => {
    const sms = (await t.cloud.store.webhooks.listWebhooks()).find((w) => w.kind === 'sms')!.id;
    const T = Date.now();
    await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-ruyi', epoch: 2, firstSeq: 1, lastSeq: 1, events: [{ ...raise('bridge-ry-01/strain/threshold', T), seq: 1 }] });
    const w = await t.call('POST', '/api/v1/maintenance', { as: 'operator', body: { gateway: 'gw-ruyi', device: 'bridge-ry-01', until: T + 60_000, reason: 'strain gauge swap' } });
    expect(w.status).toBe(201);
    clock = T + 20 * 60_000;
    const before = (await t.cloud.store.notifications.list({ receiverId: sms, limit: 1000 })).length;
    expect(await t.cloud.escalator.check()).toBe(0);
    expect((await t.call('DELETE', `/api/v1/maintenance/${w.json.id}`, { as: 'operator' })).status).toBe(200);
    expect(await t.cloud.escalator.check()).toBe(2);
    expect((await t.cloud.store.notifications.list({ receiverId: sms, limit: 1000 })).length).toBe(before + 2);
  });

  it('sends one Chinese digest a day at the set local time, through a restart', async () => {
    const wecom = (await t.cloud.store.webhooks.listWebhooks()).find((w) => w.kind === 'wecom')!.id;
    expect((await t.call('PUT', `/api/v1/webhooks/${wecom}/digest`, { body: { at: '08:00', timeZone: 'Asia/Jining' } })).status).toBe(400);
    const put = await t.call('PUT', `/api/v1/webhooks/${wecom}/digest`, { body: { at: '08:00' } });
    expect(put.json).toMatchObject({ receiverId: wecom, at: '08:00', timeZone: 'Asia/Shanghai' });
    expect((await t.call('GET', '/api/v1/digests', { as: 'operator' })).json).toHaveLength(1);
    // The next 08:00 in Jining after the alarms of the test before.
    const real = Date.now();
    const ms = localClock(real, 'Asia/Shanghai').msOfDay;
    const at = real - ms + 8 * 3_600_000 + (ms >= 8 * 3_600_000 ? 86_400_000 : 0);
    clock = at - 1;
    expect(await t.cloud.digester.check()).toBe(0);
    clock = at + 30_000;
    expect(await t.cloud.digester.check()).toBe(1);
    expect(await t.cloud.digester.check()).toBe(0);
    expect(await new Digester(t.cloud.store, t.cloud.webhooks, testLog, { now }).check()).toBe(0);
    const date = localClock(at, 'Asia/Shanghai').date;
    const got = await waitFor(() => r.got.find((g) => g.path === '/cgi-bin/webhook/send' && g.body.includes('每日报警汇总')), 5000, 'the digest');
    const md = JSON.parse(got.body).markdown.content as string;
    expect(md.split('\n').slice(0, 7)).toEqual([
      `### Lifeline 每日报警汇总（${date}）`,
      expect.stringMatching(/^- \*\*时段\*\*：\d{4}-\d\d-\d\d 08:00 至 \d{4}-\d\d-\d\d 08:00（北京时间）$/),
      '- **新报警**：共 3 起（红色预警 3）',
      '- **按生命线**：桥梁 3',
      '- **按区域**：任城区 3',
      '- **仍未恢复**：3 起',
      '',
    ]);
    expect(md).toContain('1. 【红色预警】如意洸府河大桥（bridge-ry-01）：deflection 41 mm above red 40 mm');
    const rows = (await t.call('GET', `/api/v1/notifications?receiver=${wecom}`, { as: 'operator' })).json as { key: string; type: string }[];
    expect(rows.filter((x) => x.type === 'alarm.digest').map((x) => x.key)).toEqual([`digest:${wecom}:${date}`]);
  });

  it('escalates no yellow watch (its alarm is escalated once it confirms it), a yellow threshold alarm as before', async () => {
    const sms = (await t.cloud.store.webhooks.listWebhooks()).find((w) => w.kind === 'sms')!.id;
    const rule = (await t.call('POST', '/api/v1/rules', { body: { name: 'yellow too', match: { gateways: ['gw-ruyi'] }, receivers: [sms], escalation: { levels: [2], steps: [{ afterMinutes: 5, receivers: [sms] }] } } })).json;
    const T = Date.now();
    const watch = { ...raise('bridge-ry-01/multivariate', T, 2), detector: 'multivariate', cause: 'strain 812.5 has been beyond its learned band and its excess has piled up to 9.1 (CUSUM; watch at 8, 8× the most it reached while learning): yellow (III)' };
    const yellow = raise('bridge-ry-01/temperature/threshold', T, 2);
    await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-ruyi', epoch: 3, firstSeq: watch.seq, lastSeq: yellow.seq, events: [watch, yellow] });
    await t.cloud.webhooks.settled();
    clock = T + 5 * 60_000;
    const keys = async () => (await t.cloud.store.notifications.list({ receiverId: sms, limit: 1000 })).map((n) => n.key).filter((k) => k.startsWith(`esc:${rule.id}:`));
    expect(await t.cloud.escalator.check()).toBe(2); // two phones, the threshold alarm only
    expect((await keys()).every((k) => k.includes(':bridge-ry-01/temperature/threshold:'))).toBe(true);
    await t.call('DELETE', `/api/v1/rules/${rule.id}`);
  });
  it('escalates 15 minutes after the raise on the cloud’s clock when the gateway’s clock is a year ahead or a year behind', async () => {
    const sms = (await t.cloud.store.webhooks.listWebhooks()).find((w) => w.kind === 'sms')!.id;
    const YEAR = 365 * 86_400_000;
    const T = Date.now();
    const rule = (await t.call('POST', '/api/v1/rules', { body: { name: 'skewed clocks', match: { gateways: ['gw-ahead', 'gw-behind'] }, receivers: [sms], escalation: { levels: [4], steps: [{ afterMinutes: 15, receivers: [sms] }] } } })).json;
    // Status offsets say cloud = gateway + offset; each gateway stamps its raise on its own clock, at cloud time T.
    for (const [gateway, offset] of [['gw-ahead', -YEAR], ['gw-behind', YEAR]] as const) {
      await t.cloud.store.registry.saveGatewayStatus({ gateway, online: true, ts: T - offset, clockOffsetMs: offset, devices: [{ id: 'bridge-ry-01', profile: 'bridge-monitor', kind: 'bridge' }] });
      await t.cloud.store.telemetry.commitEvents({ gateway, epoch: 1, firstSeq: 1, lastSeq: 1, events: [{ ...raise('bridge-ry-01/deflection/threshold', T - offset), seq: 1 }] });
    }
    await t.cloud.webhooks.settled();
    const escalated = async () =>
      (await t.cloud.store.notifications.list({ receiverId: sms, limit: 1000 })).map((n) => n.key.split(':')).filter((k) => k[0] === 'esc' && k[1] === String(rule.id) && k[2] !== 'gw-ruyi').map((k) => k[2]).sort();
    clock = T + 14 * 60_000;
    await t.cloud.escalator.check();
    expect(await escalated()).toEqual([]); // not the one a year behind at once
    clock = T + 15 * 60_000;
    await t.cloud.escalator.check();
    expect(await escalated()).toEqual(['gw-ahead', 'gw-ahead', 'gw-behind', 'gw-behind']); // nor the one a year ahead never (two phones each)
    await t.call('DELETE', `/api/v1/rules/${rule.id}`);
  });
});

describe('escalation in real time', () => {
  it('sends the step when its minutes have passed on the wall clock, not before', async () => {
    const r = await receiver();
    const t = await testCloud({ webhooks: { pollMs: 100, baseDelayMs: 50 }, alarms: { watch: false }, escalation: { checkMs: 100 } });
    try {
      const { wecom, sms } = await jining(t, r);
      await t.call('POST', '/api/v1/rules', { body: { name: 'bridge', match: { kinds: ['bridge'] }, receivers: [wecom], escalation: { steps: [{ afterMinutes: 0.02, receivers: [sms] }] } } });
      const T = Date.now();
      await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-ruyi', epoch: 1, firstSeq: 1, lastSeq: 1, events: [{ ...raise('bridge-ry-01/deflection/threshold', T), seq: 1 }] });
      const first = await waitFor(() => r.got.find((g) => g.path === '/sms'), 10_000, 'the escalation SMS');
      expect(first.at - T).toBeGreaterThanOrEqual(1200);
      // Two phones, once each: the second may come well after the first on a loaded machine, so wait for
      // it; then give a duplicate the time to show.
      const phones = () => r.got.filter((g) => g.path === '/sms').map((g) => /"mobile":"(\d+)"/.exec(g.body)?.[1]);
      await waitFor(() => phones().length >= 2, 10_000, 'the SMS to the second phone');
      await new Promise((res) => setTimeout(res, 500));
      expect(phones().sort()).toEqual(['13800000001', '13900000002']);
    } finally {
      await t.close();
      r.server.close();
    }
  });
});
