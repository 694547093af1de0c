/**
 * The whole path with real parts: simulator → Modbus TCP → decode → threshold
 * → edge SQLite → MQTT → cloud ingest → cloud SQLite → API.
 * Once through the embedded broker (aedes), once through the machine's Mosquitto.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCloud, type Cloud } from '@lifeline/cloud';
import { runAgent, validateConfig } from '@lifeline/edge';
import { SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';
import { requireService, tempDir, testLog, waitFor } from '../helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

async function site(opts: { brokerUrl?: string; gateway: string }) {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const cloud: Cloud = await startCloud({ log: testLog, port: 0, dbPath: join(tmp.dir, 'cloud.db'), brokerUrl: opts.brokerUrl, adminToken: 'test-admin' });
  cleanups.push(() => cloud.close());
  // The embedded broker admits enrolled gateways only; the machine's Mosquitto is configured apart.
  let login: { username?: string; password?: string } = {};
  if (!opts.brokerUrl) {
    const { token } = await cloud.enrolment.createToken('e2e', 60_000, opts.gateway);
    const { mqtt } = await cloud.enrolment.enroll(token, { gateway: opts.gateway });
    login = { username: mqtt.username, password: mqtt.password };
  }
  const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1);
  // A known value: 3217 in the register, scale 0.001 → exactly 3.217 m.
  flood.inject({ kind: 'fixed', point: 'water_level', value: 3.217 });
  const pressure = new SimulatedDevice(loadProfile('water-pressure-station'), 2);
  const lamp = new SimulatedDevice(loadProfile('lamp-post-controller'), 3);
  const sim: TcpSimulator = await startTcpSimulator({ devices: [flood, pressure, lamp] });
  cleanups.push(() => sim.close());
  const loaded = validateConfig(
    {
      gateway: { id: opts.gateway },
      buses: [
        {
          name: 'lan',
          link: 'tcp',
          host: '127.0.0.1',
          port: sim.port,
          devices: [
            { id: `${opts.gateway}-flood`, profile: 'flood-gauge', unit: 1, pollMs: 200 },
            { id: `${opts.gateway}-water`, profile: 'water-pressure-station', unit: 2, pollMs: 200 },
            { id: `${opts.gateway}-lamp`, profile: 'lamp-post-controller', unit: 3, pollMs: 200 },
          ],
        },
      ],
      detectors: { points: [{ device: `${opts.gateway}-flood`, point: 'water_level', threshold: { high: { yellow: 3.0, red: 3.2 } } }] },
      buffer: { path: join(tmp.dir, 'edge.db') },
      sync: { transport: 'mqtt', url: cloud.brokerUrl, ...login, intervalMs: 100 },
    },
    'test config',
  );
  // As `lifeline run` runs it: a config pushed from the cloud restarts the agent on it.
  const running = await runAgent(loaded, testLog);
  cleanups.push(() => running.stop());
  const api = async (path: string) => {
    const res = await fetch(`${cloud.apiUrl}${path}`, { headers: { authorization: 'Bearer test-admin' } });
    expect(res.status).toBe(200);
    return res.json() as Promise<unknown>;
  };
  return {
    cloud,
    get agent() {
      return running.agent;
    },
    api,
    gw: opts.gateway,
  };
}

async function expectKnownValueArrives(s: Awaited<ReturnType<typeof site>>) {
  const rows = await waitFor(
    async () => {
      const r = (await s.api(`/api/v1/readings?device=${s.gw}-flood&point=water_level&from=0&to=${Date.now() + 60_000}`)) as { ts: number; value: number }[];
      return r.length ? r : null;
    },
    10_000,
    'the flood gauge reading in the cloud API',
  );
  expect(rows[0].value).toBe(3.217);
  expect(rows.every((r, i) => i === 0 || r.ts >= rows[i - 1].ts)).toBe(true);

  // All three device families arrive, each with its profile and a last reading time.
  const devices = await waitFor(async () => {
    const d = (await s.api('/api/v1/devices')) as { id: string; gateway: string; profile: string; lastReadingTs: number | null }[];
    return d.filter((x) => x.gateway === s.gw && x.lastReadingTs).length === 3 ? d : null;
  });
  expect(devices.filter((d) => d.gateway === s.gw).map((d) => [d.id, d.profile]).sort()).toEqual([
    [`${s.gw}-flood`, 'flood-gauge'],
    [`${s.gw}-lamp`, 'lamp-post-controller'],
    [`${s.gw}-water`, 'water-pressure-station'],
  ]);

  // The threshold check raised red on the edge, and the transition reached the cloud's event lane.
  const events = await waitFor(async () => {
    const ev = await s.cloud.store.telemetry.listEvents({ gateway: s.gw, limit: 10 });
    return ev.length ? ev : null;
  });
  expect(events[0]).toMatchObject({ kind: 'alarm', device: `${s.gw}-flood`, point: 'water_level', level: 4, value: 3.217 });

  // The cloud acknowledged, and the edge reclaimed what was committed.
  await waitFor(() => s.agent.buffer.ackedUpTo('telemetry') > 0, 5000, 'an ack to reach the edge');
}

describe('an operator acknowledges an alarm on the dashboard API', () => {
  it('reaches the gateway over the downlink, and the acknowledged state comes back to the cloud', async () => {
    const s = await site({ gateway: 'gw-e2e-ack' });
    const alarm = await waitFor(async () => {
      const list = (await s.api(`/api/v1/alarms?gateway=${s.gw}`)) as { id: number; alarmId: string; state: string; level: number }[];
      return list.find((a) => a.alarmId === `${s.gw}-flood/water_level/threshold` && a.state === 'active_unacked');
    }, 10_000, 'the red alarm in the cloud');
    const res = await fetch(`${s.cloud.apiUrl}/api/v1/alarms/${alarm.id}/ack`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin', 'content-type': 'application/json' },
      body: JSON.stringify({ comment: 'crew on the way' }),
    });
    expect(res.status).toBe(202);
    // The gateway applied it: its own alarm manager holds the alarm acknowledged...
    await waitFor(() => s.agent.alarms.manager.get(`${s.gw}-flood/water_level/threshold`)?.state === 'active_acked', 10_000, 'the ack on the gateway');
    // ...and its transition travelled back up the event lane.
    const after = await waitFor(async () => {
      const a = (await s.api(`/api/v1/alarms/${alarm.id}`)) as { state: string };
      return a.state === 'active_acked' ? a : null;
    }, 10_000, 'the acknowledged state in the cloud');
    expect(after.state).toBe('active_acked');
  });
});

describe('a technician pushes a config through the API', () => {
  it('is applied by the gateway, which restarts on it and reports the config it runs', async () => {
    const s = await site({ gateway: 'gw-e2e-cfg' });
    const first = s.agent;
    // Online, not only registered (enrolment registers it): its downlink subscription is up.
    await waitFor(async () => ((await s.api('/api/v1/gateways')) as { id: string; online: boolean }[]).some((g) => g.id === s.gw && g.online), 10_000, 'the gateway online');
    // An operator starts from the config the box runs, as the cloud shows it (its login redacted: pushed back, the box keeps it).
    type Cfg = { buses: { devices: { pollMs?: number }[] }[]; detectors: { points: { threshold: unknown }[] }; sync: { password?: string } };
    const config = await waitFor(async () => ((await s.api(`/api/v1/gateways/${s.gw}/config`)) as { running: Cfg | null }).running, 10_000, 'the running config in the cloud');
    expect(config.sync.password).toBe('[redacted]');
    config.buses[0].devices[2].pollMs = 1000;
    config.detectors.points[0].threshold = { high: { yellow: 3.5, red: 4.0 } }; // 3.217 m is now normal
    (config as unknown as { alarms: unknown }).alarms = { restoreGraceMs: 1000 }; // a restored alarm the detectors do not confirm clears after 1 s
    const put = async (body: unknown) =>
      fetch(`${s.cloud.apiUrl}/api/v1/gateways/${s.gw}/config`, {
        method: 'PUT',
        headers: { authorization: 'Bearer test-admin', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // A config with mistakes is refused in the cloud with every error, and never sent.
    const bad = await put({ ...config, buses: [] });
    expect(bad.status).toBe(400);
    const res = await put(config);
    expect(res.status).toBe(202);
    // The gateway validated it, answered, and restarted on it in the same process.
    const next = await waitFor(() => (s.agent !== first ? s.agent : null), 15_000, 'the agent to restart on the new config');
    expect(next.loaded.config.buses[0].devices[2].pollMs).toBe(1000);
    const state = await waitFor(async () => {
      const c = (await s.api(`/api/v1/gateways/${s.gw}/config`)) as { pending: boolean; answer?: { ok: boolean } };
      return c.pending === false ? c : null;
    }, 10_000, 'the gateway’s answer in the cloud');
    expect(state).toMatchObject({ pending: false });
    // The new limits run: the red alarm from the old ones clears.
    await waitFor(() => next.alarms.manager.get(`${s.gw}-flood/water_level/threshold`)?.level === 0, 15_000, 'the alarm to clear under the new limits');
  }, 60_000);
});

describe('one reading from a simulated device to the cloud API', () => {
  it('travels through the embedded broker', async () => {
    await expectKnownValueArrives(await site({ gateway: 'gw-e2e-aedes' }));
  });

  it('travels through the machine’s Mosquitto', async () => {
    await requireService('Mosquitto', '127.0.0.1', 1883);
    await expectKnownValueArrives(await site({ gateway: `gw-e2e-mosq-${process.pid}`, brokerUrl: 'mqtt://127.0.0.1:1883' }));
  });

  it('refuses API calls without a token, but not the health check', async () => {
    const s = await site({ gateway: 'gw-e2e-auth' });
    const health = await fetch(`${s.cloud.apiUrl}/api/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    for (const path of ['/api/v1/devices', '/api/v1/readings?device=x&point=y']) {
      const res = await fetch(`${s.cloud.apiUrl}${path}`);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'UNAUTHORIZED' });
      const wrong = await fetch(`${s.cloud.apiUrl}${path}`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
    }
  });
});
