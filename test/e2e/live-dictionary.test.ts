/**
 * The series dictionary (wire version 2) with real parts: a gateway's sync over
 * its own Mosquitto to a real ingest worker committing into SQLite.
 *
 *   readings every 200 ms ─▶ EdgeBuffer ─▶ Sync (Live frames on up/live) ─▶ Mosquitto ─▶ IngestWorker ─▶ SqliteStore
 *                                                     cloud restart: a new worker, empty dictionary cache
 *
 * Proves: live ranges travel as Live frames once the cloud acknowledged the
 * dictionary; a restarted cloud that lost its cache answers UnknownDictionary,
 * the gateway sends the names again and goes back to Live frames; every reading
 * is stored exactly once; and a gateway facing a cloud that reads only version 1
 * falls back to it without losing a reading.
 */
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestWorker, SqliteStore } from '@lifeline/cloud';
import { EdgeBuffer } from '@lifeline/edge';
import { Lane, RejectReason, encodeAck, encodeReject, gatewayOfTopic, peekHeader, topics, type Reading } from '@lifeline/shared';
import { Sync } from '../../edge/src/sync/sync.js';
import { MqttTransport } from '../../edge/src/sync/transport.js';
import type { LoadedConfig } from '../../edge/src/config/load.js';
import { startMosquitto, tempDir, testLog, waitFor } from '../helpers.js';

const run = `${process.pid}-${Date.now().toString(36)}`;
let url: string;
let stopBroker: () => Promise<void>;
const tmp = tempDir('lifeline-live-dict-');
const cleanups: (() => unknown)[] = [];

const loaded = (gateway: string, brokerUrl: string) =>
  ({
    config: {
      gateway: { id: gateway },
      buses: [],
      buffer: { path: ':memory:' },
      sync: { transport: 'mqtt', url: brokerUrl, batchMaxReadings: 500, intervalMs: 200, ackTimeoutMs: 1500 },
    },
    profiles: new Map(),
  }) as unknown as LoadedConfig;

/** A poll cycle of the demo site's shape: four points every tick, two more every fifth. */
function poller(buffer: EdgeBuffer, device: string): { stop: () => void; produced: () => number } {
  let tick = 0;
  let produced = 0;
  const timer = setInterval(() => {
    const ts = Date.now();
    const rs: Reading[] = [
      { device, point: 'water_level', ts, value: (2400 + (tick % 7)) * 0.001 },
      { device, point: 'ponding_depth', ts, value: (tick % 3) * 0.01 },
      { device: `${device}-pipe`, point: 'pressure', ts: ts + 20, value: (330 + (tick % 5)) * 0.001 },
      { device: `${device}-pipe`, point: 'flow_rate', ts: ts + 20, value: (1500 + tick) * 0.1 },
    ];
    if (tick % 5 === 0) rs.push({ device: `${device}-lamp`, point: 'voltage', ts: ts + 45, value: 2281 * 0.1 }, { device: `${device}-lamp`, point: 'current', ts: ts + 45, value: NaN, quality: 2 });
    buffer.append(rs);
    produced += rs.length;
    tick++;
  }, 200);
  return { stop: () => clearInterval(timer), produced: () => produced };
}

/** Every point's stored readings: count and distinct timestamps (a duplicate shows as count > distinct). */
async function stored(store: SqliteStore, gateway: string, device: string): Promise<{ count: number; distinct: number }> {
  let count = 0;
  let distinct = 0;
  for (const [dev, point] of [
    [device, 'water_level'],
    [device, 'ponding_depth'],
    [`${device}-pipe`, 'pressure'],
    [`${device}-pipe`, 'flow_rate'],
    [`${device}-lamp`, 'voltage'],
    [`${device}-lamp`, 'current'],
  ]) {
    const rows = await store.telemetry.readings({ gateway, device: dev, point, from: 0, to: Date.now() + 60_000, limit: 1_000_000 });
    count += rows.length;
    distinct += new Set(rows.map((r) => r.ts)).size;
  }
  return { count, distinct };
}

beforeAll(async () => {
  ({ url, stop: stopBroker } = await startMosquitto());
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopBroker?.();
  tmp.cleanup();
});

describe('series dictionary through a cloud restart', () => {
  it('sends Live frames, survives a cloud that lost its cache, and stores every reading once', async () => {
    const gateway = `gw-dict-${run}`;
    const store = new SqliteStore(join(tmp.dir, 'cloud.db'));
    await store.migrate();
    cleanups.push(() => store.close());
    let worker = new IngestWorker({ url, store, log: testLog });
    await worker.start();
    const buffer = new EdgeBuffer(join(tmp.dir, 'edge.db'));
    const sync = new Sync(loaded(gateway, url), buffer, new MqttTransport({ url, clientId: `edge-${run}` }), testLog, { statusIntervalMs: 60_000 });
    cleanups.push(() => buffer.close());
    // Count the bytes of each kind the gateway publishes, as the broker sees them.
    const spy = await mqtt.connectAsync(url, { clientId: `spy-${run}` });
    cleanups.push(() => spy.endAsync());
    const seen = { live: 0, liveBytes: 0, defines: 0, defineBytes: 0 };
    spy.on('message', (topic, payload) => {
      if (topic === topics.live(gateway)) {
        seen.live++;
        seen.liveBytes += payload.length;
      } else if (topic === topics.telemetry(gateway) && peekHeader(payload).dictionary !== undefined) {
        seen.defines++;
        seen.defineBytes += payload.length;
      }
    });
    await spy.subscribeAsync(`lifeline/${gateway}/up/#`, { qos: 1 });
    sync.start();
    const poll = poller(buffer, `flood-${run}`);
    try {
      await waitFor(() => sync.live.known && seen.live >= 5, 20_000, 'Live frames against an acknowledged dictionary');
      expect(worker.counters.dictionariesLearned).toBeGreaterThanOrEqual(1);
      expect(worker.counters.rejected).toBe(0);

      // The cloud restarts: a new worker, nothing in memory.
      await worker.stop();
      worker = new IngestWorker({ url, store, log: testLog });
      await worker.start();
      const liveBefore = seen.live;
      const definesBefore = seen.defines;
      await waitFor(() => worker.counters.unknownDictionaries >= 1, 20_000, 'the restarted cloud to ask for names');
      await waitFor(() => worker.counters.dictionariesLearned >= 1 && seen.live >= liveBefore + 5, 20_000, 'Live frames again after the names were sent');
      expect(seen.defines).toBeGreaterThan(definesBefore);
      expect(sync.live.counters.forgotten).toBeGreaterThanOrEqual(1);
      // UnknownDictionary is not a fault: nothing rejected for good, nothing abandoned.
      expect(worker.counters.rejected).toBe(0);
      expect(sync.counters.abandoned).toBe(0);
    } finally {
      poll.stop();
    }
    await waitFor(() => buffer.backlog('telemetry').depth === 0, 20_000, 'everything acknowledged');
    const { count, distinct } = await stored(store, gateway, `flood-${run}`);
    expect(count).toBe(poll.produced());
    expect(distinct).toBe(count);
    // Few bytes: a Live frame carries the same readings as a batch with names in a fraction of the bytes.
    expect(seen.liveBytes / seen.live).toBeLessThan(seen.defineBytes / seen.defines / 2);
    await sync.stop();
    await worker.stop();
  }, 90_000);

  it('falls back to version 1 for a cloud that reads only version 1, losing nothing', async () => {
    const gateway = `gw-v1-${run}`;
    // An older cloud, played with the shared codec: version 2 is refused as the wire doc says (UnsupportedVersion, no range).
    const cloud = await mqtt.connectAsync(url, { clientId: `old-cloud-${run}` });
    cleanups.push(() => cloud.endAsync());
    const committed = new Set<number>();
    let refused = 0;
    cloud.on('message', (topic, payload) => {
      if (gatewayOfTopic(topic) !== gateway || topic !== topics.telemetry(gateway)) return;
      const h = peekHeader(payload);
      if (h.version !== 1) {
        refused++;
        void cloud.publishAsync(topics.ack(gateway), Buffer.from(encodeReject({ gateway, ts: Date.now(), lane: Lane.Telemetry, reason: RejectReason.UnsupportedVersion, detail: 'unsupported version 2' })), { qos: 1 });
        return;
      }
      for (let s = h.firstSeq!; s <= h.lastSeq!; s++) committed.add(s);
      const ack = encodeAck({ gateway, ts: Date.now(), epoch: h.epoch, telemetry: 0, range: { lane: Lane.Telemetry, firstSeq: h.firstSeq!, lastSeq: h.lastSeq! } });
      void cloud.publishAsync(topics.ack(gateway), Buffer.from(ack), { qos: 1 });
    });
    await cloud.subscribeAsync(topics.telemetry(gateway), { qos: 1 });
    const buffer = new EdgeBuffer(join(tmp.dir, 'edge-v1.db'));
    cleanups.push(() => buffer.close());
    const sync = new Sync(loaded(gateway, url), buffer, new MqttTransport({ url, clientId: `edge-v1-${run}` }), testLog, { statusIntervalMs: 60_000 });
    sync.start();
    const poll = poller(buffer, `flood-${run}`);
    await waitFor(() => !sync.live.enabled && committed.size >= 20, 20_000, 'the fallback to version 1');
    poll.stop();
    await waitFor(() => committed.size === poll.produced(), 20_000, 'every reading committed in version 1');
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(sync.counters.abandoned).toBe(0);
    await sync.stop();
  }, 60_000);
});
