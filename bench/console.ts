/**
 * `pnpm bench console [--devices 10000] [--alarms 300] [--rate 1000] [--seconds 10] [--runs 3]`
 *
 * The operator console in headless Chromium (Debian's, through playwright-core)
 * against a real cloud (SQLite): `devices` devices on 100 gateways spread over
 * Jining, `alarms` of them in alarm, one point with 30 days of readings at 1 a
 * minute (43,200), and `rate` readings a second streamed through the store
 * (so the live stream carries them) while the overview is open.
 *
 *   overview_ms         navigation start → the overview interactive: every alarm row rendered, the map's clusters drawn
 *   chart_30d_ms        click on "30 d" → the 30-day chart drawn (API downsampling included)
 *   long_task_ms_per_s  main-thread long tasks (PerformanceObserver 'longtask', each ≥ 50 ms) per second of streaming
 *
 * Each figure is the median of `runs` fresh page loads. Final line:
 * {"devices":…,"alarms":…,"rate":…,"overview_ms":…,"chart_30d_ms":…,"long_task_ms_per_s":…}
 */
import { join } from 'node:path';
import { startCloud } from '@lifeline/cloud';
import type { Reading } from '@lifeline/shared';
import { pino } from 'pino';
import { launchBrowser, screenshot } from '../test/browser.js';
import { seqLanes, tempDir } from '../test/helpers.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${name}: must be a positive number, got ${JSON.stringify(args[i + 1])}`);
    process.exit(2);
  }
  return v;
};
const DEVICES = opt('devices', 10_000);
const ALARMS = opt('alarms', 300);
const RATE = opt('rate', 1000);
const SECONDS = opt('seconds', 10);
const RUNS = opt('runs', 3);
const GATEWAYS = 100;
const KINDS = ['lamp_post', 'bridge', 'gas', 'water_supply', 'drainage', 'heat', 'utility_tunnel', 'flood'];
const DISTRICTS = ['任城区', '太白湖新区', '高新区', '兖州区', '曲阜市', '邹城市'];
const POINT: Record<string, [string, string]> = {
  lamp_post: ['current', 'A'], bridge: ['strain', 'με'], gas: ['pressure', 'kPa'], water_supply: ['pressure', 'MPa'],
  drainage: ['level', 'm'], heat: ['temperature', '°C'], utility_tunnel: ['methane', '%LEL'], flood: ['water_level', 'm'],
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const tmp = tempDir('lifeline-bench-console-');
  const cloud = await startCloud({ log: pino({ level: 'error' }), port: 0, dbPath: join(tmp.dir, 'cloud.db'), adminToken: 'bench-admin', alarms: { watch: false } });
  const store = cloud.store;
  const now = Date.now();
  const nextSeq = seqLanes();
  // A deterministic spread over the city: gateway g sits on a grid, its devices around it.
  let rnd = 42;
  const random = () => ((rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const perGw = Math.ceil(DEVICES / GATEWAYS);
  const all: { gw: string; id: string; point: string }[] = [];
  for (let g = 0; g < GATEWAYS; g++) {
    const gw = `gw-${String(g).padStart(3, '0')}`;
    const lon = 116.3 + (g % 10) * 0.06;
    const lat = 35.2 + Math.floor(g / 10) * 0.05;
    const devices = [];
    for (let k = 0; k < perGw && all.length < DEVICES; k++) {
      const kind = KINDS[(g + k) % KINDS.length];
      const id = `${kind}-${g}-${k}`;
      all.push({ gw, id, point: POINT[kind][0] });
      devices.push({
        id, profile: `bench-${kind}`, kind, name: `${DISTRICTS[g % DISTRICTS.length]}${kind}${k}号`,
        location: { lon: lon + (random() - 0.5) * 0.05, lat: lat + (random() - 0.5) * 0.04, district: DISTRICTS[g % DISTRICTS.length], gridUnit: `G-${g}` },
        points: [{ name: POINT[kind][0], unit: POINT[kind][1] }],
      });
    }
    await store.registry.saveGatewayStatus({ gateway: gw, online: true, ts: now, name: `网关${g}`, location: { lon, lat, district: DISTRICTS[g % DISTRICTS.length] }, devices, backlog: { depth: 0, oldestTs: null }, clockOffsetMs: 10 });
  }
  // Alarms on every (DEVICES/ALARMS)th device, all four levels.
  const step = Math.floor(all.length / ALARMS);
  for (let i = 0; i < ALARMS; i++) {
    const d = all[i * step];
    const s = nextSeq(d.gw + '/events', 1);
    await store.telemetry.commitEvents({ gateway: d.gw, firstSeq: s, lastSeq: s, events: [{ kind: 'alarm', seq: s, alarmId: `${d.id}/${d.point}/threshold`, device: d.id, point: d.point, ts: now - i * 1000, from: 'normal', to: 'active_unacked', level: 1 + (i % 4), detector: 'threshold', cause: `${d.point} above limit`, value: 1 }] });
  }
  // 30 days of one point, one reading a minute.
  const chartDev = all[1];
  const month: Reading[] = [];
  for (let k = 0; k < 30 * 1440; k++) month.push({ device: chartDev.id, point: chartDev.point, ts: now - 30 * 86_400_000 + k * 60_000, value: 20 + 5 * Math.sin(k / 720) });
  for (let i = 0; i < month.length; i += 10_000) {
    const rs = month.slice(i, i + 10_000);
    const s = nextSeq(chartDev.gw, rs.length);
    await store.telemetry.commitTelemetry({ gateway: chartDev.gw, epoch: 1, firstSeq: s, lastSeq: s + rs.length - 1, readings: rs });
  }
  const token = (await (await fetch(`${cloud.apiUrl}/api/v1/tokens`, { method: 'POST', headers: { authorization: 'Bearer bench-admin', 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench-operator', role: 'operator' }) })).json() as { token: string }).token;

  // What the console's first load costs the API (diagnostic, stderr).
  const timed = async (path: string) => {
    const t = performance.now();
    const r = await fetch(`${cloud.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const bytes = (await r.arrayBuffer()).byteLength;
    return `${path.startsWith('/api/v1/devices?') ? path : path.split('?')[0]} ${Math.round(performance.now() - t)} ms ${Math.round(bytes / 1024)} kB`;
  };
  const to = Date.now();
  console.error(
    'API:',
    await timed('/api/v1/devices'), ';', await timed('/api/v1/devices?fields=id,gateway,name,kind,location,online'), ';', await timed('/api/v1/devices?format=columns&fields=id,gateway,name,kind,location,online'), ';', await timed('/api/v1/gateways'), ';',
    await timed('/api/v1/alarms?state=active_unacked,active_acked,cleared_unacked,shelved,suppressed,out_of_service&limit=10000'), ';',
    await timed(`/api/v1/readings?gateway=${chartDev.gw}&device=${chartDev.id}&point=${chartDev.point}&from=${Math.floor((to - 30 * 86_400_000) / 60_000) * 60_000}&to=${Math.floor(to / 60_000) * 60_000 + 59_999}&step=${3_600_000}`),
  );

  const browser = await launchBrowser();
  const overview: number[] = [];
  const chart: number[] = [];
  const longTasks: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const page = await browser.page(1920, 1080);
      await page.addInitScript(() => {
        (window as any).__longTasks = 0;
        new PerformanceObserver((l) => {
          for (const e of l.getEntries()) (window as any).__longTasks += e.duration;
        }).observe({ type: 'longtask', buffered: true });
      });
      await page.goto(`${cloud.apiUrl}/#token=${token}`);
      // The page's clock when the overview first holds (not when Node gets round to asking: a round trip under load).
      const ready = await page.waitForFunction(
        (n) => (document.querySelectorAll('.alarm-rows li').length >= n && document.querySelector('[data-testid=map] .cluster') !== null ? performance.now() : false),
        Math.min(ALARMS, 500),
        { timeout: 60_000, polling: 'raf' },
      );
      overview.push((await ready.jsonValue()) as number);
      // What the overview looked like (test-results/console/, git-ignored), for a person to check.
      if (run === 0) await screenshot(page, 'bench-overview-1920');
      if (run === 0)
        console.error('marks:', await page.evaluate(() => performance.getEntriesByType('mark').map((m) => `${m.name.replace('lifeline:', '')} ${Math.round(m.startTime)}`).join(', ')));
      // Where the page's own start goes: the document and each file or request, start → end (ms from navigation start).
      if (run === 0)
        console.error('page:', await page.evaluate(() => {
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
          const files = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => `${r.name.replace(location.origin, '').slice(0, 60)} ${Math.round(r.startTime)}→${Math.round(r.responseEnd)}`);
          return [`document ${Math.round(nav.responseEnd)}, domContentLoaded ${Math.round(nav.domContentLoadedEventEnd)}`, ...files].join('; ');
        }));

      // Streaming: RATE readings a second on random devices, through the store (→ live hub → SSE), for SECONDS.
      await page.waitForTimeout(1000);
      const before = await page.evaluate(() => (window as any).__longTasks as number);
      const t0 = Date.now();
      let sent = 0;
      while (Date.now() - t0 < SECONDS * 1000) {
        const tick = Date.now();
        const byGw = new Map<string, Reading[]>();
        for (let k = 0; k < RATE / 10; k++) {
          const d = all[Math.floor(random() * all.length)];
          let rs = byGw.get(d.gw);
          if (!rs) byGw.set(d.gw, (rs = []));
          rs.push({ device: d.id, point: d.point, ts: tick, value: random() * 10 });
        }
        for (const [gw, rs] of byGw) {
          const s = nextSeq(gw, rs.length);
          await store.telemetry.commitTelemetry({ gateway: gw, epoch: 1, firstSeq: s, lastSeq: s + rs.length - 1, readings: rs });
          sent += rs.length;
        }
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tick))));
      }
      const elapsed = (Date.now() - t0) / 1000;
      const after = await page.evaluate(() => (window as any).__longTasks as number);
      longTasks.push((after - before) / elapsed);
      if (run === 0) console.error(`streamed ${sent} readings in ${elapsed.toFixed(1)} s (${Math.round(sent / elapsed)}/s)`);

      // The 30-day chart: open the device, then time the click on "30 d" to the chart drawn.
      await page.evaluate(([gw, id]) => (location.hash = `#/device/${encodeURIComponent(gw)}/${encodeURIComponent(id)}`), [chartDev.gw, chartDev.id]);
      await page.waitForSelector('[data-testid=chart]', { timeout: 30_000 });
      chart.push(
        await page.evaluate(async () => {
          const button = document.querySelector('button[data-range="2592000000"]') as HTMLButtonElement;
          const t = performance.now();
          button.click();
          for (;;) {
            await new Promise((r) => requestAnimationFrame(r));
            const el = document.querySelector('[data-testid=chart]') as (HTMLElement & { uplot?: { data: number[][] } }) | null;
            if (el?.uplot && el.uplot.data[0].length > 600) return performance.now() - t;
          }
        }),
      );
      await page.close();
    }
  } finally {
    await browser.close();
    await cloud.close();
    tmp.cleanup();
  }
  console.error(`runs: overview ${overview.map(Math.round).join(', ')} ms; chart ${chart.map(Math.round).join(', ')} ms; long tasks ${longTasks.map(Math.round).join(', ')} ms/s`);
  console.log(JSON.stringify({ devices: DEVICES, alarms: ALARMS, rate: RATE, overview_ms: Math.round(median(overview)), chart_30d_ms: Math.round(median(chart)), long_task_ms_per_s: Math.round(median(longTasks)) }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
