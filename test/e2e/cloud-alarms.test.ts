/**
 * The cloud's own alarms with real parts: simulators → Modbus TCP → agent →
 * embedded broker → ingest → SQLite → the cloud watch → alarms API.
 * Heartbeats are short (400 ms) so the scenario runs in seconds.
 *
 *   stop the agent          → exactly one cloud/gateway/silent within 3 heartbeats (+ one check), no device alarm
 *   start it again          → it clears (cleared_unacked), and no device is called stale on its readings from before the stop
 *   one device stops answering → cloud/device/<id>/stale under that device, and no gateway alarm
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCloud, type Cloud } from '@lifeline/cloud';
import { runAgent, validateConfig, type RunningAgent } from '@lifeline/edge';
import { SimulatedDevice, loadProfile, startTcpSimulator } from '@lifeline/devices';
import { tempDir, testLog, waitFor } from '../helpers.js';

const HB = 400;
const CHECK = 100;
const SILENT = 'cloud/gateway/silent';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

type ApiAlarm = { id: number; alarmId: string; state: string; level: number; device: string; cause: string; raisedAt: number | null; since: number };

describe('the cloud watches its gateways', () => {
  it('raises one gateway-silent alarm when the agent stops, clears it when it returns, and a stale alarm for one quiet device', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const cloud: Cloud = await startCloud({
      log: testLog, port: 0, dbPath: join(tmp.dir, 'cloud.db'), adminToken: 'test-admin',
      alarms: { heartbeatMs: HB, silentAfterHeartbeats: 3, staleAfterMs: 2000, checkEveryMs: CHECK },
    });
    cleanups.push(() => cloud.close());
    const gw = 'gw-e2e-watch';
    const { token } = await cloud.enrolment.createToken('e2e', 60_000, gw);
    const { mqtt } = await cloud.enrolment.enroll(token, { gateway: gw });

    // The device that will go quiet has a bus of its own: its timeouts must not slow the others' readings.
    const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1);
    const lamp = new SimulatedDevice(loadProfile('lamp-post-controller'), 3);
    const pressure = new SimulatedDevice(loadProfile('water-pressure-station'), 2);
    const simA = await startTcpSimulator({ devices: [flood, lamp] });
    const simB = await startTcpSimulator({ devices: [pressure] });
    cleanups.push(() => simA.close(), () => simB.close());
    const loaded = validateConfig(
      {
        gateway: { id: gw },
        buses: [
          { name: 'lan', link: 'tcp', host: '127.0.0.1', port: simA.port, devices: [
            { id: `${gw}-flood`, profile: 'flood-gauge', unit: 1, pollMs: 200 },
            { id: `${gw}-lamp`, profile: 'lamp-post-controller', unit: 3, pollMs: 200 },
          ] },
          { name: 'lan2', link: 'tcp', host: '127.0.0.1', port: simB.port, devices: [{ id: `${gw}-water`, profile: 'water-pressure-station', unit: 2, pollMs: 200 }] },
        ],
        buffer: { path: join(tmp.dir, 'edge.db') },
        sync: { transport: 'mqtt', url: cloud.brokerUrl, username: mqtt.username, password: mqtt.password, intervalMs: 100 },
      },
      'test config',
    );
    let running: RunningAgent | undefined = await runAgent(loaded, testLog);
    cleanups.push(() => running?.stop());

    const alarms = async (): Promise<ApiAlarm[]> => {
      const res = await fetch(`${cloud.apiUrl}/api/v1/alarms?gateway=${gw}`, { headers: { authorization: 'Bearer test-admin' } });
      expect(res.status).toBe(200);
      return ((await res.json()) as ApiAlarm[]).filter((a) => a.alarmId.startsWith('cloud/'));
    };
    const history = async (alarmId: string) => {
      const a = await cloud.store.alarms.findAlarm(gw, alarmId);
      return a ? (await cloud.store.alarms.alarmHistory(a.id)).map((e) => (e.kind === 'alarm' ? e.to : e.kind)) : [];
    };

    // All three devices report; nothing is alarmed while they do.
    await waitFor(async () => (await cloud.store.registry.listDevices()).filter((d) => d.gateway === gw && d.lastReadingTs).length === 3, 10_000, 'readings of all three devices');
    await new Promise((r) => setTimeout(r, 4 * HB));
    expect(await alarms()).toEqual([]);

    // Stop the agent and with it its broker connection.
    await running.stop();
    running = undefined;
    const stoppedAt = Date.now();
    const silent = await waitFor(async () => (await alarms()).find((a) => a.alarmId === SILENT), 5000, 'the gateway-silent alarm');
    // Within 3 heartbeats of the stop, give or take one check period, the pass itself and the timers'
    // lateness on a loaded 2-core CI machine (the exact rule is tested with a fake clock in cloud/test/watch).
    expect(silent.raisedAt! - stoppedAt).toBeLessThanOrEqual(3 * HB + CHECK + 400);
    expect(silent).toMatchObject({ state: 'active_unacked', level: 3, device: '' });
    expect(silent.cause).toContain(`${gw}-flood, ${gw}-lamp, ${gw}-water`);
    // Well past every device's stale time: still that one alarm, one transition, no device alarm.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await alarms()).map((a) => a.alarmId)).toEqual([SILENT]);
    expect(await history(SILENT)).toEqual(['active_unacked']);

    // The gateway returns: the alarm clears by itself, waiting for an operator's acknowledgement.
    const restartedAt = Date.now();
    running = await runAgent(loaded, testLog);
    await waitFor(async () => (await alarms()).find((a) => a.alarmId === SILENT && a.state === 'cleared_unacked'), 10_000, 'the silent alarm to clear');
    expect(await history(SILENT)).toEqual(['active_unacked', 'cleared_unacked']);

    // One device stops answering while its gateway reports: a stale alarm under that device, no gateway alarm.
    // First a reading of it from the restarted agent, so the alarm is about the silence injected below.
    await waitFor(async () => ((await cloud.store.registry.listDevices()).find((d) => d.id === `${gw}-water`)?.lastReadingTs ?? 0) >= restartedAt, 10_000, 'a reading of the water station after the restart');
    pressure.inject({ kind: 'silent' });
    const stale = await waitFor(async () => (await alarms()).find((a) => a.alarmId === `cloud/device/${gw}-water/stale`), 10_000, 'the stale-device alarm');
    expect(stale).toMatchObject({ state: 'active_unacked', level: 2, device: `${gw}-water` });
    await new Promise((r) => setTimeout(r, 4 * HB));
    const now = await alarms();
    expect(now.filter((a) => a.state.startsWith('active')).map((a) => a.alarmId)).toEqual([`cloud/device/${gw}-water/stale`]);
    expect(await history(SILENT)).toEqual(['active_unacked', 'cleared_unacked']);

    // It answers again: the stale alarm clears by itself.
    pressure.clear('silent');
    await waitFor(async () => (await alarms()).find((a) => a.alarmId === `cloud/device/${gw}-water/stale` && a.state === 'cleared_unacked'), 10_000, 'the stale alarm to clear');
    // The return raised no stale alarm for the devices that kept answering (their first readings after the
    // restart came in after its status: judged by their readings from before the stop they were stale).
    expect((await alarms()).map((a) => a.alarmId).sort()).toEqual([`cloud/device/${gw}-water/stale`, SILENT]);
    expect(await history(`cloud/device/${gw}-water/stale`)).toEqual(['active_unacked', 'cleared_unacked']);
  }, 60_000);
});
