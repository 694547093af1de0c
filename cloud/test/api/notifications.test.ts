/**
 * Alarm notifications to the receivers duty officers in Chinese cities use:
 * WeCom and DingTalk group robots and an SMS gateway, each checked on
 * 127.0.0.1 against its vendor's documented format (DingTalk's sign recomputed
 * here); retries on errcode ≠ 0 and on HTTP 500, dead letters and requeue, the
 * outbox through the API, and an outbox that outlives a cloud restart on SQLite
 * and on PostgreSQL.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmTransition } from '@lifeline/shared';
import { startCloud, type Cloud, type CloudOptions } from '../../src/index.js';
import { chinaTime } from '../../src/notify/messages.js';
import { testCloud, type TestCloud } from './helpers.js';
import { requireService, tempDir, testLog, waitFor } from '../../../test/helpers.js';
import { TEST_DATABASE_URL } from '../store/pg.js';

/** A receiver on 127.0.0.1 that records every request and answers from `answer`. */
interface Got { path: string; query: URLSearchParams; headers: IncomingHttpHeaders; body: string; method: string }
async function receiver(answer: (g: Got, n: number) => [number, string]): Promise<{ url: string; got: Got[]; server: Server }> {
  const got: Got[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const u = new URL(req.url!, 'http://x');
      const g = { path: u.pathname, query: u.searchParams, headers: req.headers, body, method: req.method! };
      got.push(g);
      const [status, text] = answer(g, got.filter((x) => x.path === g.path).length);
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, server };
}

const TS = Date.UTC(2026, 11, 7, 3, 5, 9); // 11:05:09 in Jining
let seq = 0;
function transition(p: Partial<AlarmTransition> = {}): AlarmTransition {
  return {
    kind: 'alarm', seq: ++seq, alarmId: 'lamp-gh-03/leakage_current/threshold', device: 'lamp-gh-03', point: 'leakage_current', ts: TS,
    from: 'normal', to: 'active_unacked', level: 4, detector: 'threshold', cause: 'leakage_current 32 mA ≥ red (I) high limit 30 mA', value: 32, ...p,
  };
}

describe('WeCom, DingTalk and SMS receivers', () => {
  let t: TestCloud;
  beforeAll(async () => {
    t = await testCloud({ webhooks: { baseDelayMs: 50, maxAttempts: 3, pollMs: 100 }, alarms: { watch: false } });
    await t.cloud.store.registry.saveGatewayStatus({
      gateway: 'gw-guanghe', online: true, ts: Date.now(),
      devices: [{ id: 'lamp-gh-03', profile: 'lamp-post-controller', kind: 'lamp_post', location: { lon: 116.58, lat: 35.41, district: '任城区' }, points: [{ name: 'leakage_current', unit: 'mA', label: '漏电流' }] }],
    });
    await t.cloud.store.registry.updateDevice('gw-guanghe', 'lamp-gh-03', { name: '洸河路3号灯杆' });
  });
  afterAll(async () => t.close());

  it('tells a WeCom group, a signed DingTalk group and two phones in their documented formats, retrying errcode ≠ 0 and HTTP 500', async () => {
    const r = await receiver((g, n) => {
      if (g.path === '/cgi-bin/webhook/send') return n === 1 ? [200, '{"errcode":45009,"errmsg":"api freq out of limit"}'] : [200, '{"errcode":0,"errmsg":"ok"}'];
      if (g.path === '/robot/send') return [200, '{"errcode":0,"errmsg":"ok"}'];
      return n === 1 ? [500, 'busy'] : [200, '{"code":"OK"}'];
    });
    try {
      const wecom = await t.call('POST', '/api/v1/webhooks', { body: { kind: 'wecom', url: `${r.url}/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa`, minLevel: 3 } });
      expect([wecom.status, wecom.json.kind]).toEqual([201, 'wecom']);
      const secret = 'SEC0123456789abcdef0123456789abcdef';
      const ding = await t.call('POST', '/api/v1/webhooks', { body: { kind: 'dingtalk', url: `${r.url}/robot/send?access_token=a1b2c3d4e5`, secret, minLevel: 3 } });
      expect(ding.status).toBe(201);
      const sms = await t.call('POST', '/api/v1/webhooks', {
        body: {
          kind: 'sms', url: `${r.url}/sms/send`, minLevel: 4,
          sms: { body: '{"mobile":"{phone}","content":"{text}","level":"{level}"}', headers: { 'x-api-key': 'sms-key-123' }, phones: ['13800000001', '13900000002'] },
        },
      });
      expect(sms.status).toBe(201);

      await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-guanghe', epoch: 3, firstSeq: 1, lastSeq: 2, events: [transition({ level: 2, alarmId: 'low' }), transition()] });
      await waitFor(() => r.got.length === 6, 5000, 'six requests: WeCom twice, DingTalk once, SMS three times');

      // WeCom: https://developer.work.weixin.qq.com/document/path/91770, markdown.
      const [w1, w2] = r.got.filter((g) => g.path === '/cgi-bin/webhook/send');
      expect(w1.query.get('key')).toBe('693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa');
      expect(w1.headers['content-type']).toBe('application/json');
      const wbody = JSON.parse(w2.body);
      expect(Object.keys(wbody).sort()).toEqual(['markdown', 'msgtype']);
      expect(wbody.msgtype).toBe('markdown');
      expect(Object.keys(wbody.markdown)).toEqual(['content']);
      const content: string = wbody.markdown.content;
      for (const s of ['红色预警', '洸河路3号灯杆（lamp-gh-03）', '任城区', '**测点**：漏电流（leakage_current）', '**原因**：漏电流 32 mA ≥ 红色（I级）上限 30 mA', '报警（未确认）', `${chinaTime(TS)}（北京时间）`, 'gw-guanghe'])
        expect(content).toContain(s);
      expect(chinaTime(TS)).toBe('2026-12-07 11:05:09');
      expect(Buffer.byteLength(content)).toBeLessThan(4096);
      expect(w1.body).toBe(w2.body); // the retry sends the same message

      // DingTalk: https://open.dingtalk.com/document/robots/custom-robot-access, signed per
      // https://open.dingtalk.com/document/robots/customize-robot-security-settings.
      const [d] = r.got.filter((g) => g.path === '/robot/send');
      expect(d.query.get('access_token')).toBe('a1b2c3d4e5');
      const ts = d.query.get('timestamp')!;
      expect(Math.abs(Number(ts) - Date.now())).toBeLessThan(60_000);
      expect(d.query.get('sign')).toBe(createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64'));
      expect(d.query.get('sign')).not.toBe(createHmac('sha256', 'SECother').update(`${ts}\nSECother`).digest('base64'));
      const dbody = JSON.parse(d.body);
      expect(dbody.msgtype).toBe('markdown');
      expect(dbody.markdown.title).toBe('【红色预警】洸河路3号灯杆（lamp-gh-03） 报警（未确认）');
      expect(dbody.markdown.text).toBe(content);

      // SMS: the template, one request per number, the first refused with HTTP 500 and retried.
      const texts = r.got.filter((g) => g.path === '/sms/send');
      expect(texts.map((g) => [g.method, g.headers['x-api-key'], g.headers['content-type']])).toEqual(Array(3).fill(['POST', 'sms-key-123', 'application/json']));
      const bodies = texts.map((g) => JSON.parse(g.body));
      expect(bodies.map((b) => b.mobile).sort()).toEqual(['13800000001', '13800000001', '13900000002'].sort());
      expect(bodies[0].level).toBe('红色预警');
      expect(bodies[0].content).toBe(`【Lifeline】红色预警：洸河路3号灯杆（lamp-gh-03），任城区，漏电流 32 mA ≥ 红色（I级）上限 30 mA，报警（未确认），2026-12-07 11:05:09。`);

      // The outbox, as an operator sees it: each delivered, the WeCom one after a vendor refusal, phones shortened.
      const rows = await waitFor(async () => {
        const l = (await t.call('GET', '/api/v1/notifications?status=delivered', { as: 'operator' })).json as Record<string, unknown>[];
        return l.length === 4 ? l : undefined;
      }, 3000, 'four delivered rows');
      const wrow = rows.find((x) => x.receiverId === wecom.json.id)!;
      expect(wrow).toMatchObject({ status: 'delivered', attempts: 2, lastError: 'errcode 45009: api freq out of limit', gateway: 'gw-guanghe', level: 4, key: `${wecom.json.id}:gw-guanghe:3:2` });
      expect(typeof wrow.deliveredAt).toBe('number');
      expect(rows.filter((x) => x.receiverId === sms.json.id).map((x) => [x.key, x.phone]).sort()).toEqual([
        [`${sms.json.id}:gw-guanghe:3:2:p0`, '138****0001'],
        [`${sms.json.id}:gw-guanghe:3:2:p1`, '139****0002'],
      ]);
      expect(JSON.stringify(rows)).not.toMatch(/SEC0123|sms-key-123|13800000001/);
      expect((await t.call('GET', '/api/v1/notifications', { as: 'viewer' })).status).toBe(403);

      // Receivers as listed: no secret, the robot key shortened, header values hidden.
      const listed = (await t.call('GET', '/api/v1/webhooks')).json as Record<string, any>[];
      const lw = listed.find((x) => x.id === wecom.json.id)!;
      expect(lw.url).toBe(`${r.url}/cgi-bin/webhook/send?key=…5aaa`);
      expect(lw.stats).toMatchObject({ delivered: 1, failedAttempts: 1, dropped: 0 });
      const ld = listed.find((x) => x.id === ding.json.id)!;
      expect([ld.secret, ld.signed, ld.url]).toEqual([undefined, true, `${r.url}/robot/send?access_token=…d4e5`]);
      expect(listed.find((x) => x.id === sms.json.id)!.sms.headers).toEqual({ 'x-api-key': '…' });

      // Published twice (a replay), the same transition is one row per receiver.
      const before = (await t.call('GET', '/api/v1/notifications?limit=1000')).json.length;
      t.cloud.live.publishEvents('gw-guanghe', [transition({ seq: 2 })], 3);
      await t.cloud.webhooks.settled();
      expect((await t.call('GET', '/api/v1/notifications?limit=1000')).json.length).toBe(before);
      for (const w of [wecom, ding, sms]) await t.call('DELETE', `/api/v1/webhooks/${w.json.id}`);
    } finally {
      r.server.close();
    }
  });

  it('dead-letters after maxAttempts with the reason, and an admin requeues it', async () => {
    let up = false;
    const r = await receiver(() => (up ? [200, '{"errcode":0}'] : [200, '{"errcode":310000,"errmsg":"sign not match"}']));
    try {
      const ding = await t.call('POST', '/api/v1/webhooks', { body: { kind: 'dingtalk', url: `${r.url}/robot/send?access_token=t0`, secret: 'SECwrong-secret-for-now' } });
      await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-guanghe', epoch: 4, firstSeq: 1, lastSeq: 1, events: [transition({ level: 1 })] });
      const [dead] = await waitFor(async () => {
        const l = (await t.call('GET', `/api/v1/notifications?status=dead&receiver=${ding.json.id}`, { as: 'operator' })).json as Record<string, any>[];
        return l.length === 1 ? l : undefined;
      }, 5000, 'a dead notification');
      expect(dead).toMatchObject({ status: 'dead', attempts: 3, lastError: 'errcode 310000: sign not match', nextAt: null });
      expect(r.got).toHaveLength(3);
      expect((await t.call('POST', `/api/v1/notifications/${dead.id}/retry`, { as: 'operator' })).status).toBe(403);
      up = true;
      const again = await t.call('POST', `/api/v1/notifications/${dead.id}/retry`);
      expect([again.status, again.json.status, again.json.attempts]).toEqual([200, 'pending', 0]);
      await waitFor(async () => (await t.call('GET', `/api/v1/notifications?status=delivered&receiver=${ding.json.id}`)).json.length === 1, 3000, 'delivered after requeue');
      const twice = await t.call('POST', `/api/v1/notifications/${dead.id}/retry`);
      expect([twice.status, twice.json.message]).toEqual([409, `notification ${dead.id}: only a dead one is requeued, it is delivered`]);
      expect((await t.call('POST', '/api/v1/notifications/999999/retry')).status).toBe(404);
      await t.call('DELETE', `/api/v1/webhooks/${ding.json.id}`);
    } finally {
      r.server.close();
    }
  });

  it('refuses a receiver that cannot work, naming the field and the value', async () => {
    const bad = async (body: object) => (await t.call('POST', '/api/v1/webhooks', { body })).json?.message as string;
    const post = async (body: object) => (await t.call('POST', '/api/v1/webhooks', { body })).status;
    expect(await post({ kind: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send' })).toBe(400);
    expect(await bad({ kind: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send' })).toBe(
      'url: a WeCom robot URL ends in ?key=… (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…), got "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"',
    );
    expect(await bad({ kind: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', secret: 'a-very-secret-key-123' })).toMatch(/^secret: a WeCom robot takes none/);
    expect(await bad({ kind: 'dingtalk', url: 'https://oapi.dingtalk.com/robot/send' })).toMatch(/^url: a DingTalk robot URL has \?access_token=/);
    expect(await bad({ kind: 'dingtalk', url: 'https://oapi.dingtalk.com/robot/send?access_token=t', secret: 'not-a-dingtalk-secret' })).toBe('secret: a DingTalk signing secret starts with SEC, got "not-a-…"');
    expect(await bad({ kind: 'sms', url: 'http://127.0.0.1:9/sms' })).toMatch(/^sms: required for kind sms/);
    expect(await bad({ kind: 'sms', url: 'http://127.0.0.1:9/sms', sms: { body: '{"content":"{text}"}', phones: ['13800000001'] } })).toMatch(/^sms: \{phone\} must appear in url or sms.body/);
    expect(await bad({ kind: 'sms', url: 'http://127.0.0.1:9/sms?to={phone}', sms: { method: 'GET', phones: ['13800000001'] } })).toMatch(/^sms: \{text\} must appear in url,/);
    expect(await bad({ url: 'http://127.0.0.1:9/x', sms: { phones: ['13800000001'] } })).toBe('sms: only for kind sms, got kind "webhook"');
    expect(await post({ kind: 'telegram', url: 'http://127.0.0.1:9/x' })).toBe(400);
    expect(await bad({ kind: 'sms', url: 'http://127.0.0.1:9/s', sms: { body: '{phone}{text}', phones: ['call-me'] } })).toMatch(/phones/);
    expect((await t.call('GET', '/api/v1/notifications?status=lost')).status).toBe(400);
  });
});

describe('the outbox outlives a cloud restart', () => {
  async function restart(opts: Partial<CloudOptions>, cleanup: () => Promise<void>) {
    let up = false;
    const r = await receiver(() => (up ? [204, ''] : [503, 'down for maintenance']));
    const start = () => startCloud({ log: testLog, port: 0, adminToken: 'admin-secret-token', alarms: { watch: false }, webhooks: { baseDelayMs: 200, pollMs: 100 }, ...opts } as CloudOptions);
    let cloud: Cloud | undefined;
    try {
      cloud = await start();
      const hook = await cloud.store.webhooks.addWebhook({ kind: 'webhook', url: `${r.url}/hook`, secret: 'a-very-secret-key-123', minLevel: 0, sms: null, createdBy: 'admin', createdAt: Date.now() });
      await cloud.webhooks.reload();
      await cloud.store.telemetry.commitEvents({ gateway: 'gw-r', epoch: 1, firstSeq: 1, lastSeq: 1, events: [transition()] });
      await waitFor(() => r.got.length >= 1, 3000, 'a first (refused) attempt');
      await cloud.close();
      const tried = r.got.length;
      up = true;
      cloud = await start(); // the same file or schema
      await waitFor(() => r.got.length > tried && r.got.at(-1), 5000, 'the delivery after the restart');
      // The receiver has answered; the row is marked delivered just after, by the cloud that sent it.
      const c = cloud;
      await waitFor(async () => (await c.store.notifications.list({ receiverId: hook.id, limit: 10 }))[0]?.status === 'delivered', 5000, 'the row marked delivered');
      const [row] = await cloud.store.notifications.list({ receiverId: hook.id, limit: 10 });
      expect(row).toMatchObject({ status: 'delivered', key: `${hook.id}:gw-r:1:${seq}` });
      // One key across processes: a receiver can tell a retry from a new transition.
      expect(new Set(r.got.map((g) => g.headers['x-lifeline-delivery']))).toEqual(new Set([row.key]));
      expect(JSON.parse(r.got.at(-1)!.body)).toMatchObject({ type: 'alarm.transition', gateway: 'gw-r', transition: { seq } });
    } finally {
      await cloud?.close();
      r.server.close();
      await cleanup();
    }
  }

  it('on SQLite: the same file', async () => {
    const tmp = tempDir('lifeline-outbox-');
    await restart({ dbPath: join(tmp.dir, 'cloud.db') }, async () => tmp.cleanup());
  });

  it('on PostgreSQL: the same schema', async () => {
    await requireService('PostgreSQL', '127.0.0.1', 5432);
    const schema = `t_outbox_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    await restart({ dbPath: ':memory:', databaseUrl: TEST_DATABASE_URL, databaseSchema: schema }, async () => {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    });
  });
});
