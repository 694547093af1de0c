/**
 * Two boxes commissioned with one gateway's identity (a cloned SD card, or a config copied
 * with its login): each MQTT login takes the other's session, so the gateway's statuses
 * alternate between the two buffer epochs every few seconds (seen in session 11's field
 * run: 13 reconnects each in 40 s). The status lane raises cloud/gateway/identity; one box
 * changing its buffer file now and then raises nothing; quiet for the window clears it.
 * Real SQLite store, the ingest's status handler, Date faked to move the clock.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore, cloudAlarmIds } from '../../src/index.js';
import { CloudAlarms } from '../../src/cloud-alarms.js';
import { IDENTITY_WINDOW_MS, StatusHandler } from '../../src/ingest/status.js';
import { tempDir, testLog } from '../../../test/helpers.js';

const t = tempDir('lifeline-identity-');
const store = new SqliteStore(join(t.dir, 'cloud.db'));
afterEach(() => void vi.useRealTimers());
afterAll(async () => {
  await store.close();
  t.cleanup();
});

async function rig(at = Date.UTC(2026, 11, 7, 22, 0)) {
  await store.migrate();
  const counters = { statuses: 0, badStatuses: 0 };
  const handler = new StatusHandler(store, new CloudAlarms(store), counters, testLog);
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(at);
  const status = async (gw: string, epoch: number, online = true) => {
    await handler.handle(gw, Buffer.from(JSON.stringify({ gateway: gw, online, ts: Date.now(), epoch })));
    expect(counters.badStatuses).toBe(0);
  };
  const history = async (gw: string) => {
    const a = await store.alarms.findAlarm(gw, cloudAlarmIds.gatewayIdentity);
    return a ? (await store.alarms.alarmHistory(a.id)).map((e) => (e.kind === 'alarm' ? e.to : e.kind)) : [];
  };
  return { status, history, later: (ms: number) => vi.setSystemTime(Date.now() + ms) };
}

describe('ingest: two boxes with one gateway identity', () => {
  it('raises cloud/gateway/identity when statuses keep alternating between two epochs, and clears after a quiet window', async () => {
    const { status, history, later } = await rig();
    const gw = 'gw-clone';
    for (let i = 0; i < 6; i++) {
      await status(gw, i % 2 ? 222 : 111);
      // The other box's last will between the two (offline statuses do not count).
      await status(gw, i % 2 ? 111 : 222, false);
      later(3000);
    }
    expect(await history(gw)).toEqual(['active_unacked']);
    const a = (await store.alarms.findAlarm(gw, cloudAlarmIds.gatewayIdentity))!;
    expect(a).toMatchObject({ level: 3, detector: 'cloud' });
    expect(a.cause).toBe('two or more boxes report as gw-clone: its buffer epoch switched 4 times within 10 min (a cloned SD card or config?); their data is mixed under one gateway');
    // The clone is switched off: the box left reports on; no switch for the whole window clears it.
    await status(gw, 111);
    later(IDENTITY_WINDOW_MS / 2);
    await status(gw, 111);
    expect(await history(gw)).toEqual(['active_unacked']);
    later(IDENTITY_WINDOW_MS / 2);
    await status(gw, 111);
    expect(await history(gw)).toEqual(['active_unacked', 'cleared_unacked']);
  });

  it('raises nothing for one box whose buffer file changes now and then (a new SD card, a corrected buffer.path)', async () => {
    const { status, history, later } = await rig();
    const gw = 'gw-one-box';
    for (const epoch of [111, 111, 222, 222, 111, 333]) {
      await status(gw, epoch);
      later(4 * 60_000);
    }
    expect(await history(gw)).toEqual([]);
  });

  it('clears an alarm raised before the cloud restarted once the restarted cloud has seen one epoch for a window', async () => {
    const gw = 'gw-clone-2';
    const first = await rig();
    for (let i = 0; i < 5; i++) await first.status(gw, i % 2 ? 222 : 111);
    expect(await first.history(gw)).toEqual(['active_unacked']);
    // A new process: nothing in memory. One box reports on; not cleared before a whole quiet window.
    const again = await rig(Date.now() + 60_000);
    await again.status(gw, 111);
    again.later(IDENTITY_WINDOW_MS / 2);
    await again.status(gw, 111);
    expect(await again.history(gw)).toEqual(['active_unacked']);
    again.later(IDENTITY_WINDOW_MS / 2);
    await again.status(gw, 111);
    expect(await again.history(gw)).toEqual(['active_unacked', 'cleared_unacked']);
  });
});
