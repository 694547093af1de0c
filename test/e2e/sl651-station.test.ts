/**
 * SL 651 end to end with real parts: a simulated river-level RTU connects OUT
 * to the gateway's sl651-listen port and reports → listener → threshold
 * detection → edge SQLite → MQTT → cloud ingest → cloud API. The station gets
 * its acknowledgement once the gateway has the readings.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCloud, type Cloud } from '@lifeline/cloud';
import { runAgent, validateConfig } from '@lifeline/edge';
import { Sl651Station, loadProfile, type Sl651Profile } from '@lifeline/devices';
import { freePort, tempDir, testLog, waitFor } from '../helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

describe('an SL 651 river-level station reports to the gateway', () => {
  it('its level reaches the cloud with the observation time, and a threshold alarm is raised on the edge', async () => {
    const gw = 'gw-e2e-sl651';
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const cloud: Cloud = await startCloud({ log: testLog, port: 0, dbPath: join(tmp.dir, 'cloud.db'), adminToken: 'test-admin' });
    cleanups.push(() => cloud.close());
    const { token } = await cloud.enrolment.createToken('e2e', 60_000, gw);
    const { mqtt } = await cloud.enrolment.enroll(token, { gateway: gw });
    const port = await freePort();
    const loaded = validateConfig(
      {
        gateway: { id: gw, timeZone: 'Asia/Shanghai' },
        buses: [
          {
            name: 'hydrology',
            link: 'sl651-listen',
            host: '127.0.0.1',
            port,
            devices: [{ id: 'guangfu-river-level', name: '洸府河水位站', profile: 'sl651-water-level-station', station: '0037080001' }],
          },
        ],
        // Site limits (警戒水位 and 保证水位 come from the river authority, not the profile).
        detectors: { points: [{ device: 'guangfu-river-level', point: 'water_level', threshold: { high: { yellow: 34.0, red: 35.0 } } }] },
        buffer: { path: join(tmp.dir, 'edge.db') },
        sync: { transport: 'mqtt', url: cloud.brokerUrl, username: mqtt.username, password: mqtt.password, intervalMs: 100 },
      },
      'test config',
    );
    const running = await runAgent(loaded, testLog);
    cleanups.push(() => running.stop());

    const station = new Sl651Station({
      profile: loadProfile('sl651-water-level-station') as Sl651Profile,
      station: '0037080001',
      host: '127.0.0.1',
      port,
      intervalMs: 0,
      pointValue: (p) => (p.name === 'water_level' ? 35.125 : p.name === 'rainfall' ? 12.5 : 12.4),
    });
    cleanups.push(() => station.stop());
    await station.start();
    const sentAt = Date.now();
    expect(await station.report()).toBe(true);

    const api = async (path: string) => {
      const res = await fetch(`${cloud.apiUrl}${path}`, { headers: { authorization: 'Bearer test-admin' } });
      expect(res.status).toBe(200);
      return res.json() as Promise<unknown>;
    };
    const rows = await waitFor(
      async () => {
        const r = (await api(`/api/v1/readings?device=guangfu-river-level&point=water_level&from=0&to=${Date.now() + 60_000}`)) as { ts: number; value: number }[];
        return r.length ? r : null;
      },
      15_000,
      'the river level in the cloud API',
    );
    expect(rows[0].value).toBe(35.125);
    // The station's observation time, to the minute.
    expect(Math.abs(rows[0].ts - Math.floor(sentAt / 60_000) * 60_000)).toBeLessThanOrEqual(60_000);
    const events = await waitFor(async () => {
      const ev = await cloud.store.telemetry.listEvents({ gateway: gw, limit: 10 });
      return ev.find((e) => e.kind === 'alarm') ? ev : null;
    }, 15_000, 'the alarm in the cloud');
    expect(events.find((e) => e.kind === 'alarm')).toMatchObject({ device: 'guangfu-river-level', point: 'water_level', level: 4, value: 35.125 });
  });
});
