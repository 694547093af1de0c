/**
 * The operator console in a real browser (Debian's Chromium through
 * playwright-core) against a real cloud: sign-in (form, #token= on load and on
 * hashchange, never left in the URL), roles (a viewer sees no Ack), a red
 * alarm arriving on the live stream, shelving with an expiry, a chart of a
 * known series, field and operator text that tries to run script, zh-CN and
 * English. Screenshots of each page: test-results/console/ (git-ignored).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { testCloud, type TestCloud } from '../api/helpers.js';
import { launchBrowser, screenshot, type Browser } from '../../../test/browser.js';
import { consolePages } from './pages.js';
import { waitFor } from '../../../test/helpers.js';

const GW = 'gw-rencheng-1';
const XSS = '<img src=x onerror="window.__xss=(window.__xss||0)+1">';
const HOUR = 3_600_000;
let t: TestCloud;
let b: Browser;
let seq = 0;
const now = Date.now();
// A known series: one reading a minute for the last hour, value = 100 + minute index (a step down from 1873.41 kWh on the meter).
const series = Array.from({ length: 60 }, (_, i) => ({ ts: now - HOUR + i * 60_000, value: i < 30 ? 1873.41 : 100 + i }));

async function raise(device: string, point: string, level: number, cause: string, value: number, ts = Date.now()) {
  seq++;
  await t.cloud.store.telemetry.commitEvents({ gateway: GW, firstSeq: seq, lastSeq: seq, events: [{ kind: 'alarm', seq, alarmId: `${device}/${point}/threshold`, device, point, ts, from: 'normal', to: 'active_unacked', level, detector: 'threshold', cause, value }] });
}

const { alarmId, signedIn } = consolePages(() => ({ t, b }), GW);

beforeAll(async () => {
  t = await testCloud();
  await t.cloud.store.telemetry.commitTelemetry({
    gateway: GW, epoch: 1, firstSeq: 1, lastSeq: series.length + 2,
    readings: [...series.map((s) => ({ device: 'meter-1', point: 'energy', ...s })), { device: 'lamp-12', point: 'current', ts: now - 1000, value: 1.25 }, { device: 'xss-1', point: 'water_level', ts: now - 1000, value: 0.3 }],
  });
  // What the gateway reports of itself (its retained status): devices, profiles, points with units.
  await t.cloud.store.registry.saveGatewayStatus({
    gateway: GW, online: true, ts: now, name: '洸河路网关', location: { lon: 116.6, lat: 35.405, district: '任城区' }, backlog: { depth: 12, oldestTs: now - 5000 }, clockOffsetMs: 35,
    devices: [
      { id: 'lamp-12', profile: 'lamp-post-controller', points: [{ name: 'current', unit: 'A', label: '灯具电流' }] },
      { id: 'meter-1', profile: 'dlt645-meter', points: [{ name: 'energy', unit: 'kWh', label: '正向有功总电能' }] },
      { id: 'xss-1', profile: 'flood-gauge', points: [{ name: 'water_level', unit: 'm' }] },
    ],
  });
  const devices: [string, string, string, number, number, string][] = [
    ['lamp-12', '洸河路12号灯杆', 'lamp_post', 116.6005, 35.4031, '任城区'],
    ['meter-1', '如意洸府河大桥配电', 'bridge', 116.552, 35.452, '太白湖新区'],
    ['xss-1', XSS, 'flood', 116.65, 35.38, '高新区'],
  ];
  for (const [id, name, kind, lon, lat, district] of devices) {
    const r = await t.call('PATCH', `/api/v1/gateways/${GW}/devices/${id}`, { body: { name, kind, location: { lon, lat, district, gridUnit: `RC-${id}` } } });
    expect(r.status).toBe(200);
  }
  await raise('xss-1', 'water_level', 3, `water_level ${XSS} above orange`, 0.3, now - 120_000);
  const xssAlarm = await alarmId('xss-1');
  expect((await t.call('POST', `/api/v1/alarms/${xssAlarm}/comments`, { as: 'operator', body: { text: XSS } })).status).toBe(201);
  b = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await b?.close();
  await t?.close();
});

describe('the operator console in Chromium', { timeout: 90_000 }, () => {
  it('signs in with the form, keeps the token in this tab only, and takes a #token= link pasted into the open tab', async () => {
    const page = await b.page();
    // Every request the page makes: no token in any URL, every API call with the Authorization header.
    const requests: { url: string; auth: string | undefined }[] = [];
    page.on('request', (r) => requests.push({ url: r.url(), auth: r.headers().authorization }));
    await page.goto(`${t.cloud.apiUrl}/`);
    await page.fill('input[name=token]', 'not-a-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('.signin [role=alert]');
    expect(await page.textContent('.signin [role=alert]')).toContain('令牌被拒绝');
    await screenshot(page, 'signin-1366');
    await page.fill('input[name=token]', t.tokens.operator);
    await page.click('button[type=submit]');
    await page.waitForSelector('header.top .user');
    expect(await page.textContent('header.top .user')).toContain('值班员');
    expect(page.url()).not.toContain('token');
    expect(await page.evaluate(() => sessionStorage.getItem('lifeline.token'))).toBe(t.tokens.operator);
    // A link with another token, pasted into the same tab: signs in as that one, and the URL drops it.
    await page.evaluate((tok) => (location.hash = `#token=${tok}`), t.tokens.viewer);
    await page.waitForFunction(() => document.querySelector('header.top .user')?.textContent?.includes('查看'));
    expect(page.url()).not.toContain('token');
    expect(await page.evaluate(() => sessionStorage.getItem('lifeline.token'))).toBe(t.tokens.viewer);
    // A reload keeps the session (sessionStorage), no token anywhere in the URL.
    await page.reload();
    await page.waitForSelector('header.top .user');
    const api = requests.filter((r) => new URL(r.url).pathname.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(3);
    expect(api.filter((r) => !r.auth?.startsWith('Bearer '))).toEqual([]);
    for (const tok of ['not-a-token', t.tokens.operator, t.tokens.viewer]) expect(requests.filter((r) => r.url.includes(tok) || r.url.includes(encodeURIComponent(tok)))).toEqual([]);
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('lists the open alarms as soon as /alarms answers, without waiting for the map\'s device list', async () => {
    const page = await b.page();
    // The map's list held back until the alarm rows are checked: a row must not wait for it.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route(/\/api\/v1\/devices\?format=columns/, async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${t.cloud.apiUrl}/#token=${encodeURIComponent(t.tokens.operator)}`);
    await page.waitForSelector('.alarm-rows li[data-level="3"]', { timeout: 10_000 });
    expect(await page.evaluate(() => (globalThis as any).__lifeline.devices.length)).toBe(0);
    release();
    await page.waitForSelector('[data-testid=map] .cluster, [data-testid=map] .dev-marker, [data-testid=map] path.leaflet-interactive');
    expect(await page.evaluate(() => (globalThis as any).__lifeline.devices.length)).toBeGreaterThan(0);
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('draws the map from its clustering worker: the district outlines and their names, a device found and its popup as text', async () => {
    const page = await b.page();
    await page.goto(`${t.cloud.apiUrl}/#token=${encodeURIComponent(t.tokens.operator)}`);
    await page.waitForSelector('[data-testid=map] .cluster, [data-testid=map] .dev-marker, [data-testid=map] path.leaflet-interactive');
    // The outlines come in their own chunk after the first devices are drawn.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.district-label'), (e) => e.textContent).includes('任城区'));
    // Zoomed to one device through the worker's answer, its popup opened, the field's name shown as text.
    await page.evaluate((gw) => (globalThis as any).__lifelineMap.showDevice(gw, 'xss-1'), GW);
    await page.waitForSelector('.leaflet-popup .name');
    expect(await page.textContent('.leaflet-popup .name')).toBe(XSS);
    expect(await page.evaluate(() => (globalThis as any).__xss)).toBeUndefined();
    expect(await page.evaluate(() => (globalThis as any).__lifelineMap.getZoom())).toBe(18);
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('shows a red alarm that arrives on the live stream at the top, blinking, on the map and in the header', async () => {
    const page = await signedIn('operator');
    await page.waitForSelector('[data-testid=map].leaflet-container');
    await raise('lamp-12', 'current', 4, 'current 9.8 A ≥ red (I) high limit 8 A', 9.8);
    const id = await alarmId('lamp-12');
    // No reload, no polling: the stream brings it.
    const top = page.locator('.alarm-rows li').first();
    await waitFor(async () => (await top.getAttribute('data-alarm')) === String(id), 10_000, 'the red alarm at the top of the console');
    expect(await top.getAttribute('class')).toContain('blink');
    expect(await top.textContent()).toContain('洸河路12号灯杆');
    // The gateway's English cause, shown in Chinese, its point named by the profile's label (the id stays beside it).
    expect(await top.textContent()).toContain('灯具电流 9.8 A ≥ 红色（I级）上限 8 A');
    await page.waitForSelector('[data-testid=red-banner]');
    expect(await page.textContent('[data-testid=red-banner]')).toContain('灯具电流 9.8 A');
    expect(await page.textContent('[data-testid=level-counts] [data-level="4"] b')).toBe('1');
    // On the map: a red cluster or a red device marker.
    await page.waitForSelector('[data-testid=map] .cluster.level-4, [data-testid=map] .dev-marker.level-4');
    await screenshot(page, 'overview-red-1366');
    for (const [w, h, name] of [[3840, 2160, 'overview-red-3840'], [390, 844, 'overview-red-phone']] as const) {
      await page.setViewportSize({ width: w, height: h });
      await page.waitForTimeout(300);
      await screenshot(page, name);
    }
    await page.setViewportSize({ width: 1366, height: 800 });
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('does not offer Ack, shelve or comment to a viewer', async () => {
    const page = await signedIn('viewer');
    await page.waitForSelector('.alarm-rows li');
    expect(await page.locator('button[data-action=ack]').count()).toBe(0);
    await page.click('.alarm-rows li a.alarm-main');
    await page.waitForSelector('[data-testid=alarm-detail]');
    expect(await page.locator('[data-testid=alarm-actions]').count()).toBe(0);
    expect(await page.locator('button[data-action=ack]').count()).toBe(0);
    await screenshot(page, 'alarm-viewer-1366');
    await page.close();
  });

  it('shelves an alarm with an expiry, sent to its gateway as a command', async () => {
    await raise('meter-1', 'energy', 2, 'energy above yellow', 1873.41);
    const id = await alarmId('meter-1');
    const page = await signedIn('operator', 1366, 800, `/alarm/${id}`);
    await page.waitForSelector(`[data-testid=alarm-detail][data-alarm="${id}"]`);
    await page.click('button[data-action=shelve]');
    await page.selectOption('form[data-form=shelve] select[name=duration]', String(8 * HOUR));
    await page.fill('form[data-form=shelve] input[name=text]', '夜间施工');
    const before = Date.now();
    await page.click('form[data-form=shelve] button[type=submit]');
    await page.waitForSelector('[data-testid=alarm-actions] .ok');
    const detail = await t.call('GET', `/api/v1/alarms/${id}`);
    const shelve = detail.json.commands.find((c: { type: string }) => c.type === 'alarm_shelve');
    expect(shelve.body.reason).toBe('夜间施工');
    expect(shelve.body.until).toBeGreaterThanOrEqual(before + 8 * HOUR - 5000);
    expect(shelve.body.until).toBeLessThanOrEqual(Date.now() + 8 * HOUR + 5000);
    expect(shelve.requestedBy).toBe('test-operator');
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('charts a known series with the values the API holds, at 1 h and at 30 days', async () => {
    const page = await signedIn('operator', 1366, 900, `/device/${GW}/meter-1`);
    await page.waitForSelector('[data-testid=device-view] [data-testid=chart]', { state: 'attached' }).catch(async (e) => {
      await screenshot(page, 'FAILED-device');
      throw e;
    });
    const drawn = await page.evaluate(() => {
      const el = document.querySelector('[data-testid=chart]') as HTMLElement & { uplot: { data: (number | null)[][] } };
      return el.uplot.data.map((col) => [...col]);
    });
    // The 1 h range asks for 5 s buckets: one bucket per reading, mean = min = max = the reading.
    const expected = series.filter((s) => s.ts >= Date.now() - HOUR - 60_000);
    const means = drawn[1].filter((v): v is number => v !== null);
    expect(means.length).toBeGreaterThanOrEqual(expected.length - 2);
    for (const v of means) expect(series.map((s) => s.value)).toContain(v);
    expect(means).toContain(1873.41);
    expect(means[means.length - 1]).toBe(159);
    expect(drawn[0].every((x, i) => i === 0 || (x as number) > (drawn[0][i - 1] as number))).toBe(true);
    // The point as operators call it (the profile's label), its name beside it for technicians.
    expect(await page.textContent('[data-testid=points] tr[data-point=energy]')).toContain('正向有功总电能');
    expect(await page.textContent('[data-testid=points] tr[data-point=energy] .ids')).toContain('energy');
    await screenshot(page, 'device-1366');
    // 30 days: downsampled by the API, same values within the buckets' range.
    await page.click(`button[data-range="${30 * 24 * HOUR}"]`);
    // Wait for the 30-day chart itself: a new chart element is in the page before its effect has drawn
    // it (no uplot yet), and the 1 h chart holds 1873.41 too, so the x scale must span the 30 days.
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid=chart]') as (HTMLElement & { uplot?: { scales: { x: { min?: number; max?: number } } } }) | null;
      const x = el?.uplot?.scales.x;
      return x?.min !== undefined && x.max !== undefined && x.max - x.min > 20 * 24 * 3600 && document.querySelector('button.on')?.getAttribute('data-range') === String(30 * 24 * 3600000);
    });
    const month = await page.evaluate(() => (document.querySelector('[data-testid=chart]') as HTMLElement & { uplot: { data: number[][] } }).uplot.data[3].filter((v) => v !== null));
    expect(Math.max(...month)).toBe(1873.41);
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('renders a device name and a comment that try to run script as text: nothing runs', async () => {
    const id = await alarmId('xss-1');
    const page = await signedIn('operator', 1366, 800, `/alarm/${id}`);
    await page.waitForSelector('[data-testid=comments]');
    expect(await page.textContent('[data-testid=comments]')).toContain(XSS);
    expect(await page.textContent('[data-testid=alarm-detail] h2')).toContain(XSS);
    await page.goto(`${t.cloud.apiUrl}/#/device/${GW}/xss-1`);
    await page.waitForSelector('[data-testid=device-view] h1');
    expect(await page.textContent('[data-testid=device-view] h1')).toBe(XSS);
    await page.goto(`${t.cloud.apiUrl}/#/`);
    await page.waitForSelector('.alarm-rows li');
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('img[src=x]').count()).toBe(0);
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('speaks Chinese by default and English on request, and keeps the choice', async () => {
    const page = await signedIn('operator');
    expect(await page.textContent('nav.tabs')).toContain('告警');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    await page.click('header.top .meta button:has-text("English")');
    await page.waitForFunction(() => document.querySelector('nav.tabs')?.textContent?.includes('Alarms'));
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('[data-testid=level-counts]')).toContain('red I');
    await screenshot(page, 'overview-en-1366');
    await page.goto(`${t.cloud.apiUrl}/#/gateways/${GW}`);
    await page.waitForSelector('[data-testid=gateways]');
    await screenshot(page, 'gateways-en-1366');
    await page.reload();
    await page.waitForSelector('nav.tabs');
    expect(await page.textContent('nav.tabs')).toContain('Gateways');
    await page.click('header.top .meta button:has-text("中文")');
    await page.waitForFunction(() => document.querySelector('nav.tabs')?.textContent?.includes('网关'));
    await page.close();
  });

  it('shows a technician the cloud\'s validation errors of a config push inline, by path', async () => {
    const page = await signedIn('technician', 1366, 900, `/gateways/${GW}`);
    await page.waitForSelector('[data-testid=gw-config] textarea');
    await page.fill('[data-testid=gw-config] textarea', JSON.stringify({ gateway: { id: GW }, buses: [{ name: 'rs485', link: 'tcp', host: '127.0.0.1', port: 502, devices: [{ id: 'd', profile: 'flood-gauge', unit: 300 }] }], colour: 'red' }));
    await page.click('button[data-action=push]');
    await page.waitForSelector('[data-testid=config-errors]');
    const errors = await page.textContent('[data-testid=config-errors]');
    expect(errors).toContain('buses[0].devices[0].unit');
    expect(errors).toContain('colour');
    await screenshot(page, 'gateway-config-errors-1366');
    // A config the gateway rolled back: said so (not "refused"), its reason in Chinese.
    await t.cloud.store.registry.saveGatewayStatus({ gateway: GW, online: true, ts: Date.now(), configApply: { result: 'rolled_back', reason: 'bus rs485: no device answered within 60 s (under the last good config lamp-12 did)', ts: Date.now() } });
    await page.reload();
    await page.waitForSelector('[data-testid=gw-config] [data-status=rolled_back]');
    const apply = await page.textContent('[data-testid=gw-config] p');
    expect(apply).toContain('已回滚');
    expect(apply).toContain('总线 rs485：60 秒内没有设备应答（上一个正常配置下 lamp-12 有应答）');
    // An operator sees the gateways but no config editor.
    const op = await signedIn('operator', 1366, 900, `/gateways/${GW}`);
    await op.waitForSelector('[data-testid=gateways]');
    expect(await op.locator('[data-testid=gw-config]').count()).toBe(0);
    expect(page.errors).toEqual([]);
    await page.close();
    await op.close();
  });

  it('shows the alarm tapped on a phone at once, above the list; beside the list on a desk, each cause keeps the row\'s width', async () => {
    // A shift's worth of alarms: longer than a phone's screen.
    for (let i = 0; i < 12; i++) await raise('lamp-12', `circuit_${i}`, 1, `circuit_${i} current 0.2 A below blue (IV) low limit 0.3 A`, 0.2);
    const phone = await signedIn('operator', 390, 844, '/alarms');
    await phone.waitForSelector('.alarm-rows li:nth-child(12)');
    await phone.locator('.alarm-rows li .alarm-main').first().click();
    await phone.waitForSelector('[data-testid=alarm-detail] .facts');
    await phone.waitForTimeout(300);
    const top = await phone.locator('[data-testid=alarm-detail]').evaluate((e) => e.getBoundingClientRect().top);
    expect(top).toBeGreaterThanOrEqual(0);
    expect(top).toBeLessThan(844 / 2);
    await screenshot(phone, 'alarm-tapped-phone');
    expect(phone.errors).toEqual([]);
    await phone.close();
    const desk = await signedIn('operator', 1366, 800, '/alarms');
    await desk.locator('.alarm-rows li .alarm-main').first().click();
    await desk.waitForSelector('[data-testid=alarm-detail] .facts');
    const widths = await desk.locator('.alarm-rows li').first().evaluate((li) => [li.querySelector('.cause')!.getBoundingClientRect().width, li.getBoundingClientRect().width]);
    expect(widths[0]).toBeGreaterThan(widths[1] / 2);
    await screenshot(desk, 'alarm-with-detail-1366');
    expect(desk.errors).toEqual([]);
    await desk.close();
  });

  it('fits every page to a desk, a wall and a phone: no sideways scrolling, no script error', async () => {
    const id = await alarmId('xss-1');
    const pages: [string, string, string][] = [
      ['overview', '/', '[data-testid=map].leaflet-container'],
      ['alarms', '/alarms', '.alarm-rows li'],
      ['alarm', `/alarm/${id}`, '[data-testid=alarm-detail]'],
      ['device', `/device/${GW}/meter-1`, '[data-testid=chart] .uplot'],
      ['gateways', `/gateways/${GW}`, '[data-testid=gateways]'],
    ];
    // Every request the browser makes answers (the tab's own favicon request included, which page events do not show).
    const refused: string[] = [];
    const watch = async (p: Page) => {
      const cdp = await b.context.newCDPSession(p);
      cdp.on('Network.responseReceived', (e) => e.response.status >= 400 && refused.push(`${e.response.status} ${e.response.url}`));
      await cdp.send('Network.enable');
    };
    b.context.on('page', watch);
    for (const [w, h, size] of [[1366, 800, '1366'], [3840, 2160, '3840'], [390, 844, 'phone']] as const) {
      refused.length = 0;
      const page = await signedIn('technician', w, h);
      // In both languages (English words are longer and break less): neither the page nor its scrolling main area goes sideways.
      for (const lang of ['zh', 'en'] as const) {
        if (lang === 'en') await page.getByRole('button', { name: 'English' }).click();
        for (const [name, route, ready] of pages) {
          await page.evaluate((r) => (location.hash = `#${r}`), route);
          await page.waitForSelector(ready, { state: 'attached' });
          await page.waitForTimeout(300);
          const overflow = await page.evaluate(() => [document.documentElement.scrollWidth - window.innerWidth, ...Array.from(document.querySelectorAll('main'), (m) => m.scrollWidth - m.clientWidth)]);
          expect([name, size, lang, overflow]).toEqual([name, size, lang, overflow.map(() => 0)]);
          await screenshot(page, `${name}-${size}-${lang}`);
        }
      }
      await page.getByRole('button', { name: '中文' }).click();
      expect(page.errors).toEqual([]);
      expect(refused).toEqual([]);
      await page.close();
    }
    b.context.off('page', watch);
  }, 90_000);
});

