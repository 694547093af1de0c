/**
 * The console's gateway-side pages in Chromium against a real cloud: a gateway's own alarm (an
 * alarm flood: no device, no series) and the storage an operator watches on the gateways page.
 * The sign-in and alarm pages are in console.test.ts. Screenshots: test-results/console/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../api/helpers.js';
import { launchBrowser, screenshot, type Browser } from '../../../test/browser.js';
import { consolePages } from './pages.js';

const GW = 'gw-taibaihu-1';
let t: TestCloud;
let b: Browser;
let seq = 0;

const { alarmId, signedIn } = consolePages(() => ({ t, b }), GW);

beforeAll(async () => {
  t = await testCloud();
  const now = Date.now();
  // Twenty readings a minute apart, ending now: today's (UTC) storage, maybe yesterday's too.
  await t.cloud.store.telemetry.commitTelemetry({ gateway: GW, epoch: 1, firstSeq: 1, lastSeq: 1, readings: Array.from({ length: 20 }, (_, i) => ({ device: 'lake-1', point: 'water_level', ts: now - i * 60_000, value: 33.1 })) });
  await t.cloud.store.registry.saveGatewayStatus({ gateway: GW, online: true, ts: now, name: '太白湖网关', devices: [{ id: 'lake-1', profile: 'flood-gauge', points: [{ name: 'water_level', unit: 'm', label: '湖水位' }] }] });
  b = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await b?.close();
  await t?.close();
});

describe('the console\'s gateway pages in Chromium', { timeout: 60_000 }, () => {
  it('opens a gateway\'s own alarm (an alarm flood) without a chart of a series that is none, and links its gateway', async () => {
    seq++;
    const cause = 'alarm flood: 10 alarms raised within 10m; new alarms below red (I) are suppressed until fewer than 5 remain in the window';
    await t.cloud.store.telemetry.commitEvents({ gateway: GW, firstSeq: seq, lastSeq: seq, events: [{ kind: 'alarm', seq, alarmId: `${GW}/alarms/flood`, device: GW, point: 'alarms', ts: Date.now(), from: 'normal', to: 'active_unacked', level: 3, detector: 'flood', cause, value: 10 }] });
    const id = await alarmId(GW);
    const page = await signedIn('operator', 1366, 800, `/alarm/${id}`);
    const refused: string[] = [];
    page.on('response', (r) => r.status() >= 400 && refused.push(`${r.status()} ${r.url()}`));
    await page.waitForSelector(`[data-testid=alarm-detail][data-alarm="${id}"] .facts`);
    await page.waitForFunction(() => (globalThis as any).__lifeline.detailed);
    await page.waitForTimeout(500);
    expect(await page.locator('[data-testid=alarm-detail] h2 a').getAttribute('href')).toBe(`#/gateways/${GW}`);
    expect(await page.locator('[data-testid=alarm-detail] [data-testid=chart]').count()).toBe(0);
    expect(await page.locator('[data-testid=alarm-detail] button[data-action=ack]').count()).toBe(1);
    expect(refused).toEqual([]);
    expect(page.errors).toEqual([]);
    await page.close();
  });


  it('shows an operator what the readings take on disk on the gateways page, per day as the API counts them; a viewer not', async () => {
    const api = (await t.call('GET', '/api/v1/storage', { as: 'operator' })).json;
    const today = new Date().toISOString().slice(0, 10);
    const readings = api.days.filter((d: { day: string }) => d.day === today).reduce((n: number, d: { hot: { readings: number } }) => n + d.hot.readings, 0);
    expect(readings).toBeGreaterThan(0);
    const page = await signedIn('operator', 1366, 800, '/gateways');
    await page.waitForSelector('[data-testid=storage] .storage-days tbody tr');
    expect(await page.locator('[data-testid=storage] .storage-total').textContent()).toContain(`合计: ${api.total.readings.toLocaleString('zh-CN')} 读数`);
    expect(await page.locator(`[data-testid=storage] tr[data-day="${today}"] td.num`).first().textContent()).toBe(readings.toLocaleString('zh-CN'));
    await screenshot(page, 'gateways-storage-1366');
    expect(page.errors).toEqual([]);
    await page.close();
    const viewer = await signedIn('viewer', 1366, 800, '/gateways');
    await viewer.waitForSelector('[data-testid=gateways]');
    await viewer.waitForTimeout(300);
    expect(await viewer.locator('[data-testid=storage]').count()).toBe(0);
    expect(viewer.errors).toEqual([]);
    await viewer.close();
  });
});
