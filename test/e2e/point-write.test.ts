/**
 * A point write from the operations centre with real parts: API → CommandCenter
 * → MQTT downlink → agent (point_write) → Modbus TCP write → read-back → answer
 * → cloud store → GET /writes shows `confirmed`, and the simulator's lamp holds it.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCloud } from '@lifeline/cloud';
import { runAgent, validateConfig } from '@lifeline/edge';
import { SimulatedDevice, loadProfile, startTcpSimulator } from '@lifeline/devices';
import { tempDir, testLog, waitFor } from '../helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

describe('point write, end to end', () => {
  it('switches and dims a lamp post through the API and shows confirmed with the read-back', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const cloud = await startCloud({ log: testLog, port: 0, dbPath: join(tmp.dir, 'cloud.db'), adminToken: 'test-admin' });
    cleanups.push(() => cloud.close());
    const { token } = await cloud.enrolment.createToken('e2e', 60_000, 'gw-jn');
    const { mqtt } = await cloud.enrolment.enroll(token, { gateway: 'gw-jn' });
    const lamp = new SimulatedDevice(loadProfile('lamp-post-controller'), 3);
    const sim = await startTcpSimulator({ devices: [lamp] });
    cleanups.push(() => sim.close());
    const loaded = validateConfig(
      {
        gateway: { id: 'gw-jn' },
        buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: sim.port, devices: [{ id: 'lamp-jn-1', profile: 'lamp-post-controller', unit: 3, pollMs: 200 }] }],
        buffer: { path: join(tmp.dir, 'edge.db') },
        sync: { transport: 'mqtt', url: cloud.brokerUrl, username: mqtt.username, password: mqtt.password, intervalMs: 100 },
      },
      'test config',
    );
    const running = await runAgent(loaded, testLog);
    cleanups.push(() => running.stop());

    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${cloud.apiUrl}${path}`, {
        method,
        headers: { authorization: 'Bearer test-admin', ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, json: (await res.json()) as any };
    };
    // The cloud knows the lamp's points once the gateway has reported them.
    await waitFor(async () => ((await call('GET', '/api/v1/devices')).json as { id: string; points: { name: string }[] }[]).find((d) => d.id === 'lamp-jn-1' && d.points.some((p) => p.name === 'dimming')), 15_000, 'the lamp in the registry');

    const write = async (point: string, value: number) => {
      const r = await call('POST', `/api/v1/gateways/gw-jn/devices/lamp-jn-1/points/${point}/write`, { value, reason: 'e2e: Taibai Lake Rd evening test' });
      expect(r.status, JSON.stringify(r.json)).toBe(202);
      const id = r.json.command.id as number;
      return waitFor(
        async () => ((await call('GET', '/api/v1/writes?device=lamp-jn-1')).json as { id: number; state: string }[]).find((w) => w.id === id && w.state !== 'pending'),
        15_000,
        `the answer to the ${point} write`,
      );
    };

    const on = await write('lamp_on', 1);
    expect(on).toMatchObject({ state: 'confirmed', requestedBy: 'admin', body: { point: 'lamp_on', value: 1 }, answer: { ok: true, status: 'done', readBack: 1 } });
    expect(lamp.valueOf('lamp_on')).toBe(1);

    const dim = await write('dimming', 60);
    expect(dim).toMatchObject({ state: 'confirmed', answer: { ok: true, readBack: 60 } });
    expect(lamp.valueOf('dimming')).toBe(60);

    // A read-only point: sent (the cloud cannot tell), refused by the gateway, shown failed; nothing written.
    const ro = await write('voltage', 230);
    expect(ro).toMatchObject({ state: 'failed', answer: { ok: false, status: 'rejected' } });
    expect((ro as unknown as { answer: { message: string } }).answer.message).toMatch(/not a writable coil or holding register/);
  }, 60_000);
});
