/**
 * The multivariate detector's yellow watch (issue 17, on by default since session 11) end to end,
 * with real parts: flood gauge simulator → Modbus TCP → agent (multivariate detector, default watch)
 * → alarm manager → SQLite buffer → sync → embedded broker → ingest → store → alarms API → the
 * console in Chromium, and the notification outbox → a WeCom robot and an SMS gateway on 127.0.0.1.
 *
 *   a short excursion  → yellow watch (console: 黄色 观察中 with its explanation, Chinese cause, Ack) → withdrawn after watchMs:
 *                        normal on the gateway and in the cloud (no acknowledgement asked), gone from
 *                        the console, history says 预警撤销; WeCom told twice, SMS never
 *   a lasting one      → yellow watch → orange confirms it → SMS paged with the orange alarm
 *
 * The detector's timing is pinned for the test (λ 1, onDelayMs 4 s, watchMs 30 s, the default: time to look at the
 * watch in the console) so a one-second excursion cannot confirm; the watch's own thresholds are the defaults (watch 8, watchGate 1).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCloud, type Cloud } from '@lifeline/cloud';
import { runAgent, validateConfig } from '@lifeline/edge';
import { SimulatedDevice, loadProfile, startTcpSimulator } from '@lifeline/devices';
import { tempDir, testLog, waitFor } from '../helpers.js';
import { launchBrowser, screenshot } from '../browser.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

/** WeCom robot and SMS gateway on 127.0.0.1: records what each is sent, answers as the vendor does. */
async function receivers(): Promise<{ url: string; wecom: string[]; sms: string[]; server: Server }> {
  const wecom: string[] = [];
  const sms: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url!.startsWith('/cgi-bin/webhook/send')) wecom.push(JSON.parse(body).markdown.content);
      else sms.push(JSON.parse(body).content);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, wecom, sms, server };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a yellow watch, end to end', () => {
  it('is shown yellow, withdrawn to normal everywhere without paging by SMS; confirmed, the orange alarm pages', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const cloud: Cloud = await startCloud({ log: testLog, port: 0, dbPath: join(tmp.dir, 'cloud.db'), adminToken: 'test-admin', alarms: { watch: false } });
    cleanups.push(() => cloud.close());
    const gw = 'gw-e2e-yellow';
    const { token } = await cloud.enrolment.createToken('e2e', 60_000, gw);
    const { mqtt } = await cloud.enrolment.enroll(token, { gateway: gw });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${cloud.apiUrl}${path}`, { method, headers: { authorization: 'Bearer test-admin', ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, json: (await res.json()) as any };
    };
    const r = await receivers();
    cleanups.push(() => new Promise<void>((done) => r.server.close(() => done())));
    // Both tell every transition (minLevel 0): the SMS gateway is kept from the watch by its kind alone.
    expect((await call('POST', '/api/v1/webhooks', { kind: 'wecom', url: `${r.url}/cgi-bin/webhook/send?key=k-e2e-0001`, minLevel: 0 })).status).toBe(201);
    const smsBody = { kind: 'sms', url: `${r.url}/sms/send`, minLevel: 0, sms: { body: '{"mobile":"{phone}","content":"{text}"}', phones: ['13800000001'] } };
    expect((await call('POST', '/api/v1/webhooks', smsBody)).status).toBe(201);
    const op = await call('POST', '/api/v1/tokens', { name: '值班员-2', role: 'operator' });

    // The level, dithered by ±1 mm (a constant would leave the detector no noise to learn): the test moves `level`.
    const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1);
    let level = 2.1;
    let tick = 0;
    const dither = () => {
      flood.clear('fixed');
      flood.inject({ kind: 'fixed', point: 'water_level', value: level + (tick++ % 2 ? 0.001 : -0.001) });
    };
    dither();
    const ditherer = setInterval(dither, 90);
    cleanups.push(() => clearInterval(ditherer));
    const sim = await startTcpSimulator({ devices: [flood] });
    cleanups.push(() => sim.close());
    const device = `${gw}-flood`;
    const alarmId = `${device}/multivariate`;
    const loaded = validateConfig(
      {
        gateway: { id: gw },
        buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: sim.port, devices: [{ id: device, profile: 'flood-gauge', unit: 1, pollMs: 200 }] }],
        // A step of 0.05 m stays under the profile's rise-rate alarm (0.15 m in 15 min): only the multivariate detector sees it.
        detectors: { multivariate: [{ device, points: ['water_level'], warmup: 10, lambda: 1, onDelayMs: 4000, watchMs: 30000 }] },
        buffer: { path: join(tmp.dir, 'edge.db') },
        sync: { transport: 'mqtt', url: cloud.brokerUrl, username: mqtt.username, password: mqtt.password, intervalMs: 100 },
      },
      'test config',
    );
    const running = await runAgent(loaded, testLog);
    cleanups.push(() => running.stop());
    const manager = running.agent.alarms.manager;
    await waitFor(async () => (await call('GET', '/api/v1/devices')).json.some((d: { id: string; lastReadingTs: number | null }) => d.id === device && d.lastReadingTs), 10_000, 'the device in the registry');
    expect((await call('PATCH', `/api/v1/gateways/${gw}/devices/${device}`, { name: '洸河路水位站', kind: 'flood', location: { lon: 116.6005, lat: 35.4029, district: '任城区' } })).status).toBe(200);
    // The gateway detects before it buffers: 15 readings in the cloud are 10 learned and some to spare.
    await waitFor(async () => (await call('GET', `/api/v1/readings?device=${device}&point=water_level&from=0&to=${Date.now() + 60_000}`)).json.length >= 15, 15_000, 'the warm-up learned');

    const browser = await launchBrowser();
    cleanups.push(() => browser.close());
    const page = await browser.page();
    await page.goto(`${cloud.apiUrl}/#token=${op.json.token}`);
    await page.waitForSelector('header.top .live.connected', { timeout: 15_000 });

    // 1. A one-second excursion: a yellow watch the alarm does not confirm.
    level = 2.15;
    await waitFor(() => manager.get(alarmId)?.level === 2, 10_000, 'the watch on the gateway');
    level = 2.1;
    const row = page.locator('.alarm-rows li[data-level="2"]');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getAttribute('data-state')).toBe('active_unacked');
    expect(await row.locator('.badge').textContent()).toContain('黄色');
    expect(await row.locator('.cause').textContent()).toMatch(/河道水位 .*已超出已学区间.*即预警.*黄色/);
    // Shown as a watch (观察中, its explanation on hover), not as a plain unacknowledged alarm; still acknowledgeable.
    expect(await row.getAttribute('data-watch')).toBe('true');
    expect(await row.locator('.state').textContent()).toBe('观察中');
    expect(await row.locator('.state').getAttribute('title')).toMatch(/^预警观察：.*橙色报警会确认它.*暂无需处置/);
    expect(await row.locator('button[data-action=ack]').count()).toBe(1);
    await screenshot(page, 'e2e-yellow-watch-1366');
    // Its detail (where a tap on a phone leads) says so in words; in English, "watch".
    await row.locator('.alarm-main').click();
    expect(await page.locator('[data-testid=watch-note]').textContent()).toMatch(/^预警观察：/);
    expect(await page.locator('[data-testid=alarm-actions] button[data-action=ack]').count()).toBe(1);
    await page.getByRole('button', { name: 'English' }).click();
    expect(await page.locator('.alarm-rows li[data-watch=true] .state').textContent()).toBe('watch');
    expect(await page.locator('[data-testid=watch-note]').textContent()).toMatch(/^Watch: .*No action needed yet/);
    await screenshot(page, 'e2e-yellow-watch-detail-en');
    await page.getByRole('button', { name: '中文' }).click();
    expect(manager.get(alarmId)).toMatchObject({ level: 2, state: 'active_unacked' });

    // Withdrawn after watchMs: normal on the gateway, no acknowledgement asked...
    await waitFor(() => manager.get(alarmId)?.state === 'normal', 45_000, 'the watch withdrawn on the gateway');
    expect(manager.get(alarmId)).toMatchObject({ level: 0, base: 'normal', raisedAt: null });
    // ...normal in the cloud, gone from the console, the history saying so in Chinese.
    const cloudAlarm = await waitFor(async () => {
      const list = (await call('GET', `/api/v1/alarms?state=normal&device=${device}`)).json as { id: number; alarmId: string }[];
      return list.find((a) => a.alarmId === alarmId);
    }, 10_000, 'the withdrawal in the cloud');
    expect((await call('GET', '/api/v1/alarms?state=active_unacked,active_acked,cleared_unacked')).json.filter((a: { alarmId: string }) => a.alarmId === alarmId)).toEqual([]);
    await page.waitForSelector('.alarm-rows li[data-level="2"]', { state: 'detached', timeout: 10_000 });
    const detail = (await call('GET', `/api/v1/alarms/${cloudAlarm.id}`)).json;
    expect(detail.history.map((h: { from: string; to: string; level: number }) => `${h.from}>${h.to}@${h.level}`)).toEqual(['normal>active_unacked@2', 'active_unacked>normal@0']);
    expect(detail.history[1].cause).toMatch(/^water_level watch withdrawn: not confirmed within 30 s/);
    expect(page.errors).toEqual([]);

    // The WeCom group heard of the watch and of its withdrawal; the phone nothing.
    await waitFor(() => r.wecom.length === 2, 10_000, 'two WeCom messages');
    expect(r.wecom[0]).toContain('【黄色预警】洸河路水位站（gw-e2e-yellow-flood） 预警观察');
    expect(r.wecom[1]).toContain('预警已撤销（未报警）');
    expect(r.wecom[1]).toMatch(/\*\*原因\*\*：河道水位 预警撤销：30 秒内未确认/);
    await sleep(1000);
    expect(r.sms).toEqual([]);

    // 2. A lasting excursion: the watch, then the orange alarm confirming it, which pages.
    level = 2.15;
    await waitFor(() => manager.get(alarmId)?.level === 3, 15_000, 'the orange alarm');
    await waitFor(() => r.sms.length === 1, 10_000, 'the SMS of the orange alarm');
    expect(r.sms[0]).toMatch(/^【Lifeline】橙色预警：洸河路水位站（gw-e2e-yellow-flood），任城区，河道水位 .*偏离已学区间.*橙色.*报警（未确认）/);
    // The same alarm: a new watch, escalated to orange (one alarm, whose orange wants an acknowledgement).
    const moves = await waitFor(async () => {
      const h = (await call('GET', `/api/v1/alarms/${cloudAlarm.id}`)).json.history.slice(2).map((x: { from: string; to: string; level: number }) => `${x.from}>${x.to}@${x.level}`);
      return h.length >= 2 ? h : undefined;
    }, 10_000, 'the second episode in the cloud');
    expect(moves.slice(0, 2)).toEqual(['normal>active_unacked@2', 'active_unacked>active_unacked@3']);
    const orange = page.locator('.alarm-rows li[data-level="3"]');
    await orange.waitFor({ timeout: 10_000 });
    // Confirmed, it is an alarm, no longer a watch, and says why it is orange (not the watch's cause it was raised with).
    expect(await orange.getAttribute('data-watch')).toBeNull();
    expect(await orange.locator('.state').textContent()).toBe('未确认');
    await page.waitForFunction(() => /河道水位 .*偏离已学区间.*橙色/.test(document.querySelector('.alarm-rows li[data-level="3"] .cause')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await page.reload();
    await page.waitForFunction(() => /河道水位 .*偏离已学区间.*橙色/.test(document.querySelector('.alarm-rows li[data-level="3"] .cause')?.textContent ?? ''), undefined, { timeout: 10_000 });
    expect(page.errors).toEqual([]);
  }, 120_000);
});
