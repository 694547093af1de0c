/**
 * The ingest worker against the machine's Mosquitto, with a fake gateway
 * (mqtt.js + the shared codec): bad input is rejected, counted and logged and
 * never blocks what follows; buffer epochs keep a gateway that lost its
 * database apart from its old seqs; gap records are stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { join } from 'node:path';
import {
  Lane,
  MessageType,
  RejectReason,
  decodeDownlink,
  encodeEventBatch,
  encodeTelemetryBatch,
  topics,
  type Downlink,
  type Reading,
} from '@lifeline/shared';
import { IngestWorker, SqliteStore } from '../../src/index.js';
import { startMosquitto, tempDir, testLog, waitFor } from '../../../test/helpers.js';

// Its own broker: another test's cloud on the machine's Mosquitto would answer these gateways too.
let URL: string;
let stopBroker: () => Promise<void>;
const run = `${process.pid}-${Date.now().toString(36)}`;
const T0 = 1_764_000_000_000;
const readings = (n: number, from = 0): Reading[] => Array.from({ length: n }, (_, i) => ({ device: `dev-${run}`, point: 'level', ts: T0 + (from + i) * 1000, value: (from + i) / 100 }));

let store: SqliteStore;
let worker: IngestWorker;
let cleanup: () => void;
const clients: MqttClient[] = [];

/** A fake gateway: publishes raw bytes, collects what the cloud sends down. */
async function gateway(id: string): Promise<{ send: (lane: 'telemetry' | 'events', bytes: Uint8Array) => Promise<void>; down: Downlink[] }> {
  const c = await mqtt.connectAsync(URL, { clientId: `fake-${id}`, clean: true });
  clients.push(c);
  const down: Downlink[] = [];
  c.on('message', (_t, p) => down.push(decodeDownlink(p)));
  await c.subscribeAsync(topics.ack(id), { qos: 1 });
  return {
    send: async (lane, bytes) => void (await c.publishAsync(lane === 'telemetry' ? topics.telemetry(id) : topics.events(id), Buffer.from(bytes), { qos: 1 })),
    down,
  };
}

const acks = (down: Downlink[]) => down.filter((d) => d.type === MessageType.Ack).map((d) => (d as Extract<Downlink, { type: MessageType.Ack }>).ack);
const rejects = (down: Downlink[]) => down.filter((d) => d.type === MessageType.Reject).map((d) => (d as Extract<Downlink, { type: MessageType.Reject }>).reject);

beforeAll(async () => {
  ({ url: URL, stop: stopBroker } = await startMosquitto());
  const t = tempDir('lifeline-ingest-');
  cleanup = t.cleanup;
  store = new SqliteStore(join(t.dir, 'cloud.db'));
  await store.migrate();
  worker = new IngestWorker({ url: URL, store, log: testLog });
  await worker.start();
});

afterAll(async () => {
  for (const c of clients) await c.endAsync();
  await worker?.stop();
  await store?.close();
  cleanup?.();
  await stopBroker?.();
});

describe('ingest: bad input', () => {
  it('rejects garbage, counts and logs it, and still commits the next batch', async () => {
    const id = `gw-bad-${run}`;
    const gw = await gateway(id);
    const before = worker.counters.rejected;
    await gw.send('telemetry', new TextEncoder().encode('not a batch at all'));
    await waitFor(() => rejects(gw.down).length === 1, 5000, 'a reject');
    expect(rejects(gw.down)[0]).toMatchObject({ reason: RejectReason.Malformed, lane: Lane.Telemetry });
    expect(rejects(gw.down)[0].firstSeq).toBeUndefined();
    expect(worker.counters.rejected).toBe(before + 1);
    await gw.send('telemetry', encodeTelemetryBatch({ gateway: id, epoch: 11, firstSeq: 1, lastSeq: 3, readings: readings(3) }));
    await waitFor(() => acks(gw.down).some((a) => a.telemetry === 3), 5000, 'the next batch acked');
  });

  it('drops readings stamped far outside the gateway clock, counts them, and commits the rest', async () => {
    const id = `gw-ts-${run}`;
    const gw = await gateway(id);
    const before = worker.counters.readingsOutOfWindow;
    const good = readings(2);
    const bad = { device: `dev-${run}`, point: 'level', ts: 9_000_000_000_000_000, value: 1 };
    await gw.send('telemetry', encodeTelemetryBatch({ gateway: id, epoch: 14, firstSeq: 1, lastSeq: 3, readings: [good[0], bad, good[1]] }));
    await waitFor(() => acks(gw.down).some((a) => a.telemetry === 3), 5000, 'the batch acked');
    expect(worker.counters.readingsOutOfWindow).toBe(before + 1);
    const dev = (await store.registry.listDevices()).find((d) => d.gateway === id)!;
    expect(dev.lastReadingTs).toBe(good[1].ts); // not the year 287,000: a dead device must not look fresh
    expect(await store.telemetry.readings({ gateway: id, device: `dev-${run}`, point: 'level', from: 0, to: 9e15, limit: 10 })).toHaveLength(2);
  });

  it('refuses a name with a control character, marks the gateway faulty with an alarm, and clears both when a batch commits', async () => {
    const id = `gw-nul-${run}`;
    const gw = await gateway(id);
    await gw.send('telemetry', encodeTelemetryBatch({ gateway: id, epoch: 15, firstSeq: 1, lastSeq: 1, readings: [{ device: 'flood\u0000x', point: 'level', ts: T0, value: 1 }] }));
    await waitFor(() => rejects(gw.down).length === 1, 5000, 'a reject');
    expect(rejects(gw.down)[0]).toMatchObject({ reason: RejectReason.Malformed, firstSeq: 1, lastSeq: 1 });
    expect(rejects(gw.down)[0].detail).toContain('series[0].device: control characters are not allowed, got "flood\\u0000x"');
    await waitFor(async () => !!(await store.registry.getGateway(id))?.sync.faulty, 5000, 'the gateway marked faulty');
    expect((await store.registry.getGateway(id))!.sync).toMatchObject({ faulty: true, rejects: 1, lastRejectReason: 'Malformed' });
    const [alarm] = await store.alarms.listAlarms({ gateway: id, limit: 5 });
    expect(alarm).toMatchObject({ alarmId: 'cloud/sync/batches_rejected', state: 'active_unacked', level: 3, detector: 'cloud' });
    expect(alarm.cause).toContain('control characters');
    // The gateway sends the range again empty (as the edge does after a reject), then new data: faulty no more.
    await gw.send('telemetry', encodeTelemetryBatch({ gateway: id, epoch: 15, firstSeq: 1, lastSeq: 1, readings: [], seqs: [] }));
    await gw.send('telemetry', encodeTelemetryBatch({ gateway: id, epoch: 15, firstSeq: 2, lastSeq: 3, readings: readings(2) }));
    await waitFor(() => acks(gw.down).some((a) => a.telemetry === 3), 5000, 'the next batches acked');
    await waitFor(async () => (await store.registry.getGateway(id))!.sync.faulty === false, 5000, 'faulty cleared');
    expect((await store.alarms.listAlarms({ gateway: id, limit: 5 }))[0].state).toBe('cleared_unacked');
  });

  it('names the range of a batch whose body is damaged (CRC), and does not block the batches after it', async () => {
    const id = `gw-crc-${run}`;
    const gw = await gateway(id);
    const good = encodeTelemetryBatch({ gateway: id, epoch: 12, firstSeq: 1, lastSeq: 4, readings: readings(4) }, { compress: 'never' });
    const bad = good.slice();
    bad[bad.length - 1] ^= 0xff;
    await gw.send('telemetry', bad);
    await gw.send('telemetry', encodeTelemetryBatch({ gateway: id, epoch: 12, firstSeq: 5, lastSeq: 6, readings: readings(2, 4) }));
    await waitFor(() => rejects(gw.down).length === 1 && acks(gw.down).length === 1, 5000, 'a reject and an ack');
    expect(rejects(gw.down)[0]).toMatchObject({ reason: RejectReason.ChecksumMismatch, firstSeq: 1, lastSeq: 4, epoch: 12 });
    // The later batch is committed (out of order): the prefix waits for 1..4, the ack names the range.
    expect(acks(gw.down)[0]).toMatchObject({ telemetry: 0, epoch: 12, range: { lane: Lane.Telemetry, firstSeq: 5, lastSeq: 6 } });
    // The gateway's answer to a reject: the same range again, empty. The prefix moves past it.
    await gw.send('telemetry', encodeTelemetryBatch({ gateway: id, epoch: 12, firstSeq: 1, lastSeq: 4, readings: [], seqs: [] }));
    await waitFor(() => acks(gw.down).some((a) => a.telemetry === 6), 5000, 'the prefix past the rejected range');
  });

  it('rejects a forged batch (another gateway named on this topic) and leaves the named gateway alone', async () => {
    const a = `gw-a-${run}`;
    const b = `gw-b-${run}`;
    const gwA = await gateway(a);
    const gwB = await gateway(b);
    await gwA.send('telemetry', encodeTelemetryBatch({ gateway: b, epoch: 13, firstSeq: 1, lastSeq: 100, readings: readings(100) }));
    await waitFor(() => rejects(gwA.down).length === 1, 5000, 'a reject to the sender');
    expect(rejects(gwA.down)[0]).toMatchObject({ reason: RejectReason.GatewayMismatch });
    expect(rejects(gwA.down)[0].firstSeq).toBeUndefined();
    // B's own first batch is taken as new: nothing was committed in its name.
    await gwB.send('telemetry', encodeTelemetryBatch({ gateway: b, epoch: 13, firstSeq: 1, lastSeq: 2, readings: readings(2) }));
    await waitFor(() => acks(gwB.down).some((x) => x.telemetry === 2), 5000, "B's batch acked");
    expect(gwB.down.filter((d) => d.type === MessageType.Reject)).toHaveLength(0);
  });
});

describe('ingest: buffer epochs', () => {
  it('keeps each buffer epoch in its own seq space and never refuses an older one', async () => {
    const id = `gw-epoch-${run}`;
    const gw = await gateway(id);
    await gw.send('telemetry', encodeTelemetryBatch({ gateway: id, epoch: 1001, firstSeq: 1, lastSeq: 10, readings: readings(10) }));
    await waitFor(() => acks(gw.down).some((a) => a.epoch === 1001 && a.telemetry === 10), 5000, 'epoch 1001 acked');
    // The gateway's disk died: a new database, a new epoch, seqs from 1 again. Not duplicates.
    await gw.send('telemetry', encodeTelemetryBatch({ gateway: id, epoch: 2002, firstSeq: 1, lastSeq: 5, readings: readings(5, 100) }));
    await waitFor(() => acks(gw.down).some((a) => a.epoch === 2002 && a.telemetry === 5), 5000, 'epoch 2002 acked in its own seqs');
    await gw.send('events', encodeEventBatch({ gateway: id, epoch: 2002, firstSeq: 1, lastSeq: 1, events: [{ kind: 'event', seq: 1, ts: T0, type: 'booted', message: 'new disk' }] }));
    await waitFor(() => acks(gw.down).some((a) => a.epoch === 2002 && a.events === 1), 5000, 'event acked');
    // The old buffer is back (a restored card): its late batch is committed in its own seqs, not refused.
    await gw.send('telemetry', encodeTelemetryBatch({ gateway: id, epoch: 1001, firstSeq: 11, lastSeq: 12, readings: readings(2, 10) }));
    await waitFor(() => acks(gw.down).some((a) => a.epoch === 1001 && a.telemetry === 12), 5000, 'epoch 1001 acked again');
    await gw.send('events', encodeEventBatch({ gateway: id, epoch: 1001, firstSeq: 1, lastSeq: 1, events: [{ kind: 'event', seq: 1, ts: T0, type: 'booted', message: 'old disk' }] }));
    await waitFor(() => acks(gw.down).some((a) => a.epoch === 1001 && a.events === 1), 5000, 'old epoch event acked');
    expect(rejects(gw.down)).toEqual([]);
    const stored = await store.telemetry.readings({ gateway: id, device: `dev-${run}`, point: 'level', from: T0, to: T0 + 200_000, limit: 1000 });
    expect(stored).toHaveLength(17);
    expect((await store.telemetry.listEvents({ gateway: id, limit: 10 })).map((e) => (e as { message?: string }).message).sort()).toEqual(['new disk', 'old disk']);
    expect((await store.registry.getGateway(id))!.sync.faulty).toBe(false);
  });
});

describe('ingest: gap records', () => {
  it('stores the gaps a batch reports, once, and adds the kept minutes to the rollup', async () => {
    const id = `gw-gap-${run}`;
    const gw = await gateway(id);
    const device = `thin-${run}`;
    const gaps = [{ device, point: 'level', from: T0, to: T0 + 119_999, minutes: [{ ts: T0, count: 60, min: 1, max: 3, mean: 2 }, { ts: T0 + 60_000, count: 30, min: 2, max: 4, mean: 3 }] }];
    const batch = encodeTelemetryBatch({ gateway: id, epoch: 5, firstSeq: 1, lastSeq: 91, readings: [{ device, point: 'level', ts: T0 + 120_000, value: 3 }], seqs: [91], gaps });
    await gw.send('telemetry', batch);
    await gw.send('telemetry', batch); // a resend: stored once
    await waitFor(() => acks(gw.down).length === 2, 5000, 'two acks');
    const stored = await store.telemetry.listGaps({ gateway: id, limit: 10 });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ device, point: 'level', from: T0, to: T0 + 119_999, keptReadings: 90, firstSeq: 1, lastSeq: 91 });
    expect(stored[0].minutes).toEqual(gaps[0].minutes);
    // The kept minutes join the per-minute rollup the charts read.
    const rollup = store.db
      .prepare('SELECT r.minute, r.count, r.min, r.max FROM readings_1m r JOIN series s ON s.id = r.series WHERE s.device = ? ORDER BY r.minute')
      .all(device) as { minute: number; count: number; min: number; max: number }[];
    expect(rollup.map((r) => [r.minute - T0, r.count, r.min, r.max])).toEqual([
      [0, 60, 1, 3],
      [60_000, 30, 2, 4],
      [120_000, 1, 3, 3],
    ]);
  });
});
