/**
 * The operator console end to end, with real parts: flood gauge simulator →
 * Modbus TCP → agent (threshold red 3.2 m) → embedded broker → ingest → live
 * stream → the console in Chromium; the operator's Ack → command downlink →
 * the agent's alarm manager → the acknowledged transition back up → the console.
 */
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

describe('the operator console, end to end', () => {
  it('shows a red alarm raised on the gateway live, and its Ack reaches the gateway and comes back', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const cloud: Cloud = await startCloud({ log: testLog, port: 0, dbPath: join(tmp.dir, 'cloud.db'), adminToken: 'test-admin' });
    cleanups.push(() => cloud.close());
    const gw = 'gw-e2e-console';
    const { token } = await cloud.enrolment.createToken('e2e', 60_000, gw);
    const { mqtt } = await cloud.enrolment.enroll(token, { gateway: gw });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${cloud.apiUrl}${path}`, { method, headers: { authorization: 'Bearer test-admin', ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, json: (await res.json()) as any };
    };
    const op = await call('POST', '/api/v1/tokens', { name: '值班员-1', role: 'operator' });
    expect(op.status).toBe(201);

    const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1);
    flood.inject({ kind: 'fixed', point: 'water_level', value: 2.1 });
    const sim = await startTcpSimulator({ devices: [flood] });
    cleanups.push(() => sim.close());
    const device = `${gw}-flood`;
    const loaded = validateConfig(
      {
        gateway: { id: gw },
        buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: sim.port, devices: [{ id: device, profile: 'flood-gauge', unit: 1, pollMs: 200 }] }],
        detectors: { points: [{ device, point: 'water_level', threshold: { high: { yellow: 3.0, red: 3.2 } } }] },
        buffer: { path: join(tmp.dir, 'edge.db') },
        sync: { transport: 'mqtt', url: cloud.brokerUrl, username: mqtt.username, password: mqtt.password, intervalMs: 100 },
      },
      'test config',
    );
    const running = await runAgent(loaded, testLog);
    cleanups.push(() => running.stop());
    await waitFor(async () => (await call('GET', '/api/v1/devices')).json.some((d: { id: string; lastReadingTs: number | null }) => d.id === device && d.lastReadingTs), 10_000, 'the device in the registry');
    expect((await call('PATCH', `/api/v1/gateways/${gw}/devices/${device}`, { name: '洸河路下穿通道积水', kind: 'flood', location: { lon: 116.6005, lat: 35.4029, district: '任城区', gridUnit: 'RC-GH-03-12' } })).status).toBe(200);

    const browser = await launchBrowser();
    cleanups.push(() => browser.close());
    const page = await browser.page();
    await page.goto(`${cloud.apiUrl}/#token=${op.json.token}`);
    await page.waitForSelector('header.top .live.connected', { timeout: 15_000 });
    expect(await page.locator('.alarm-rows li').count()).toBe(0);

    // The water rises past yellow, then past red on the field device: one alarm, escalated.
    flood.clear('fixed');
    flood.inject({ kind: 'fixed', point: 'water_level', value: 3.1 });
    await page.locator('.alarm-rows li[data-level="2"]').waitFor({ timeout: 15_000 });
    flood.clear('fixed');
    flood.inject({ kind: 'fixed', point: 'water_level', value: 3.5 });
    const row = page.locator('.alarm-rows li[data-level="4"]');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getAttribute('data-state')).toBe('active_unacked');
    expect(await row.textContent()).toContain('洸河路下穿通道积水');
    // Red says why it is red (the escalation's cause), in the row and the banner, not the yellow raise's.
    await page.waitForFunction(() => /河道水位 3\.5 m ≥ 红色/.test(document.querySelector('.alarm-rows li[data-level="4"] .cause')?.textContent ?? ''), undefined, { timeout: 10_000 });
    expect(await page.locator('[data-testid=red-banner]').textContent()).toMatch(/河道水位 3\.5 m ≥ 红色/);
    await page.waitForSelector('[data-testid=red-banner]');
    await page.waitForSelector('[data-testid=map] .cluster.level-4, [data-testid=map] .dev-marker.level-4');
    await screenshot(page, 'e2e-red-alarm-1366');

    await row.locator('button[data-action=ack]').click();
    // The gateway's own alarm manager holds it acknowledged...
    await waitFor(() => running.agent.alarms.manager.get(`${device}/water_level/threshold`)?.state === 'active_acked', 10_000, 'the ack on the gateway');
    // ...and its transition, back up the event lane and the live stream, changes the console.
    await page.waitForSelector('.alarm-rows li[data-level="4"][data-state="active_acked"]', { timeout: 10_000 });
    expect(await page.locator('[data-testid=red-banner]').count()).toBe(0);
    const acked = page.locator('.alarm-rows li[data-level="4"]');
    expect(await acked.getAttribute('class')).not.toContain('blink');
    // The cause that made it red is kept, not replaced by "acknowledged by …"; its point named by the profile's label.
    expect(await acked.locator('.cause').textContent()).toMatch(/河道水位 3\.5 m ≥ 红色/);
    await screenshot(page, 'e2e-acked-1366');
    // Also after a reload, when the console knows the alarm only from the API, and in its detail (cause and value).
    await page.reload();
    await page.waitForFunction(() => /河道水位 3\.5 m ≥ 红色/.test(document.querySelector('.alarm-rows li[data-level="4"] .cause')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await page.locator('.alarm-rows li[data-level="4"] .alarm-main').click();
    await page.waitForSelector('[data-testid=alarm-detail] .facts .cause');
    expect(await page.locator('[data-testid=alarm-detail] .facts .cause').textContent()).toMatch(/^河道水位 3\.5 m ≥ 红色/);
    expect(page.errors).toEqual([]);
  }, 120_000);
});
