/**
 * One ingest worker committing several gateways at once (IngestOptions.concurrency)
 * on a Mosquitto started by the test (free port: on the shared 1883 another
 * test's worker would also take these batches).
 *
 * - Against PostgreSQL: two gateways' batches interleave, each gateway's commit
 *   in arrival order and never two at once, acks per gateway correct, every
 *   reading stored once.
 * - A queued backlog commits as runs of batches (one transaction, each range
 *   acked); a run that does not extend the prefix commits batch by batch.
 * - Backpressure: with the store stalled, the worker holds at most maxPending
 *   messages; the broker keeps the rest, and all of them commit once it moves.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Lane, MessageType, decodeDownlink, encodeEventBatch, encodeTelemetryBatch, topics, type LaneEvent, type Reading } from '@lifeline/shared';
import { IngestWorker, SqliteStore, wrapTelemetry, type Store } from '../../src/index.js';
import { freshPgStore } from '../store/pg.js';
import { startMosquitto, tempDir, testLog, waitFor } from '../../../test/helpers.js';

// Per test (workers, gateways, stores), then the broker: a worker left running would take the next test's batches.
const cleanups: (() => Promise<unknown> | unknown)[] = [];
const brokerCleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  for (const c of brokerCleanups.reverse()) await c();
});

let URL = '';
const run = `${process.pid}-${Date.now().toString(36)}`;
const T0 = 1_764_000_000_000;

beforeAll(async () => {
  const broker = await startMosquitto();
  brokerCleanups.push(() => broker.stop());
  URL = broker.url;
});

/** A store whose telemetry commits wait at a gate, and which records when each one starts and ends. */
function observed(store: Store) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const log: { gateway: string; firstSeq: number; at: 'start' | 'end' }[] = [];
  const inFlight = new Map<string, number>();
  const stats = { maxTotal: 0, maxPerGateway: 0 };
  let total = 0;
  const wrapped = wrapTelemetry(store, (telemetry) => ({
    async commitTelemetry(b) {
      log.push({ gateway: b.gateway, firstSeq: b.firstSeq, at: 'start' });
      const n = (inFlight.get(b.gateway) ?? 0) + 1;
      inFlight.set(b.gateway, n);
      total++;
      stats.maxTotal = Math.max(stats.maxTotal, total);
      stats.maxPerGateway = Math.max(stats.maxPerGateway, n);
      try {
        await gate;
        return await telemetry.commitTelemetry(b);
      } finally {
        inFlight.set(b.gateway, inFlight.get(b.gateway)! - 1);
        total--;
        log.push({ gateway: b.gateway, firstSeq: b.firstSeq, at: 'end' });
      }
    },
  }));
  return { store: wrapped, open, log, stats };
}

/** A fake gateway: pre-encoded batches, the acks it got per lane, and its sends. */
async function gateway(id: string, batches: number, perBatch: number) {
  const c: MqttClient = await mqtt.connectAsync(URL, { clientId: `fake-${id}`, clean: true });
  cleanups.push(() => c.endAsync());
  const acks: { lane: 'telemetry' | 'events'; upTo: number; range?: [number, number] }[] = [];
  c.on('message', (_t, p) => {
    const m = decodeDownlink(p);
    if (m.type !== MessageType.Ack) return;
    const range = m.ack.range && ([m.ack.range.firstSeq, m.ack.range.lastSeq] as [number, number]);
    if (m.ack.telemetry !== undefined) acks.push({ lane: 'telemetry', upTo: m.ack.telemetry, range });
    if (m.ack.events !== undefined) acks.push({ lane: 'events', upTo: m.ack.events, range });
    expect(m.ack.range?.lane).toBe(m.ack.telemetry !== undefined ? Lane.Telemetry : Lane.Events);
  });
  await c.subscribeAsync(topics.ack(id), { qos: 1 });
  const encoded = Array.from({ length: batches }, (_, b) => {
    const firstSeq = b * perBatch + 1;
    const readings: Reading[] = Array.from({ length: perBatch }, (_, i) => {
      const seq = firstSeq + i;
      return { device: `${id}-d${seq % 3}`, point: `p${seq % 5}`, ts: T0 + seq * 1000, value: seq / 100 };
    });
    return encodeTelemetryBatch({ gateway: id, epoch: 1, firstSeq, lastSeq: firstSeq + perBatch - 1, readings });
  });
  return {
    acks,
    last: batches * perBatch,
    sendAll: async () => {
      for (const bytes of encoded) await c.publishAsync(topics.telemetry(id), Buffer.from(bytes), { qos: 1 });
    },
    /** Batch i (from 0) again or for the first time. */
    send: (i: number) => c.publishAsync(topics.telemetry(id), Buffer.from(encoded[i]), { qos: 1 }),
    sendAlarm: async (seq: number) => {
      const e: LaneEvent = {
        kind: 'alarm', seq, ts: T0 + seq, alarmId: `${id}-d0/p0/threshold`, device: `${id}-d0`, point: 'p0', detector: 'threshold',
        from: 'normal', to: 'active_unacked', level: 2, cause: 'p0 2 above 1', value: 2,
      };
      await c.publishAsync(topics.events(id), Buffer.from(encodeEventBatch({ gateway: id, epoch: 1, firstSeq: seq, lastSeq: seq, events: [e] })), { qos: 1 });
    },
  };
}

describe('ingest worker, concurrent commits', () => {
  it('commits two gateways at once against PostgreSQL, each in arrival order, with correct acks, every reading once', async () => {
    const pg = await freshPgStore({ poolSize: 6 });
    cleanups.push(pg.cleanup);
    const obs = observed(pg.store);
    // Batch by batch (runReadings 1): this test is about gateways committing side by side; runs have their own test below.
    const worker = new IngestWorker({ url: URL, store: obs.store, log: testLog, concurrency: 4, runReadings: 1, clientId: `ingest-pg-${run}` });
    await worker.start();
    // A failed test must not leave the store stalled: stop() waits for the commits it took.
    cleanups.push(() => (obs.open(), worker.stop()));

    const BATCHES = 15;
    const PER = 200;
    const a = await gateway(`gw-a-${run}`, BATCHES, PER);
    const b = await gateway(`gw-b-${run}`, BATCHES, PER);
    // Both streams published while the store is stalled: both gateways are queued before anything commits.
    await Promise.all([a.sendAll(), b.sendAll(), a.sendAlarm(1), b.sendAlarm(1)]);
    await waitFor(() => obs.stats.maxTotal >= 2, 10_000, 'both gateways committing');
    obs.open();
    await waitFor(() => [a, b].every((g) => g.acks.some((k) => k.lane === 'telemetry' && k.upTo === g.last)), 20_000, 'every telemetry batch acknowledged');
    await waitFor(() => [a, b].every((g) => g.acks.some((k) => k.lane === 'events' && k.upTo === 1)), 10_000, 'the alarm batches acknowledged');

    // Concurrent across gateways, never within one.
    expect(obs.stats.maxTotal).toBe(2);
    expect(obs.stats.maxPerGateway).toBe(1);
    // Each gateway's batches started in arrival order, and the two streams interleave.
    for (const g of [`gw-a-${run}`, `gw-b-${run}`]) {
      const starts = obs.log.filter((e) => e.gateway === g && e.at === 'start').map((e) => e.firstSeq);
      expect(starts).toEqual(Array.from({ length: BATCHES }, (_, i) => i * PER + 1));
    }
    const order = obs.log.filter((e) => e.at === 'end').map((e) => e.gateway);
    const lastA = order.lastIndexOf(`gw-a-${run}`);
    const lastB = order.lastIndexOf(`gw-b-${run}`);
    expect(order.indexOf(`gw-a-${run}`)).toBeLessThan(lastB);
    expect(order.indexOf(`gw-b-${run}`)).toBeLessThan(lastA);
    // In order, so every ack names its own range and the prefix up to its end.
    for (const g of [a, b]) {
      const tel = g.acks.filter((k) => k.lane === 'telemetry');
      expect(tel.map((k) => k.upTo)).toEqual(Array.from({ length: BATCHES }, (_, i) => (i + 1) * PER));
      expect(tel.every((k) => k.range && k.range[1] === k.upTo && k.range[0] === k.upTo - PER + 1)).toBe(true);
    }
    const { rows } = await pg.store.pool.query('SELECT COUNT(*) AS n, COUNT(DISTINCT (series, ts)) AS u FROM readings');
    expect({ n: Number(rows[0].n), u: Number(rows[0].u) }).toEqual({ n: 2 * BATCHES * PER, u: 2 * BATCHES * PER });
    expect(worker.counters).toMatchObject({ batches: 2 * BATCHES + 2, duplicates: 0, rejected: 0, readings: 2 * BATCHES * PER, events: 2 });
    expect((await pg.store.alarms.listAlarms({ limit: 10 })).length).toBe(2);
  }, 60_000);

  it('holds at most maxPending messages while the store is stalled, then commits them all', async () => {
    const tmp = tempDir('lifeline-conc-sqlite-');
    cleanups.push(tmp.cleanup);
    const sqlite = new SqliteStore(join(tmp.dir, 'cloud.db'));
    await sqlite.migrate();
    cleanups.push(() => sqlite.close());
    const obs = observed(sqlite);
    const worker = new IngestWorker({ url: URL, store: obs.store, log: testLog, concurrency: 2, maxPending: 5, clientId: `ingest-bp-${run}` });
    await worker.start();
    // A failed test must not leave the store stalled: stop() waits for the commits it took.
    cleanups.push(() => (obs.open(), worker.stop()));

    const gws = await Promise.all([0, 1, 2, 3].map((i) => gateway(`gw-bp${i}-${run}`, 10, 50)));
    await Promise.all(gws.map((g) => g.sendAll()));
    await waitFor(() => worker.pending >= 5, 10_000, 'the worker to fill its bound');
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, worker.pending)), 5);
    // The broker holds the other 35 while the store stays stalled.
    await new Promise((r) => setTimeout(r, 500));
    expect(worker.pending).toBe(5);
    expect(obs.stats.maxTotal).toBe(2);
    obs.open();
    await waitFor(() => gws.every((g) => g.acks.some((k) => k.upTo === g.last)), 20_000, 'every batch acknowledged');
    clearInterval(sample);
    expect(most).toBeLessThanOrEqual(5);
    expect(worker.counters).toMatchObject({ batches: 40, duplicates: 0, rejected: 0, readings: 2000 });
    expect(worker.pending).toBe(0);
  }, 60_000);

  it('commits a queued backlog as runs of batches, one transaction each, acks every range, and batch by batch where a run does not extend the prefix', async () => {
    const pg = await freshPgStore({ poolSize: 4 });
    cleanups.push(pg.cleanup);
    let gate: Promise<void> = Promise.resolve();
    let open = () => {};
    const close = () => void (gate = new Promise<void>((r) => (open = r)));
    const calls: { firstSeq: number; lastSeq: number; duplicate: boolean; skipped: boolean }[] = [];
    const store = wrapTelemetry(pg.store, (telemetry) => ({
      async commitTelemetry(b) {
        await gate;
        const r = await telemetry.commitTelemetry(b);
        calls.push({ firstSeq: b.firstSeq, lastSeq: b.lastSeq, duplicate: r.duplicate, skipped: !!r.skipped });
        return r;
      },
    }));
    const worker = new IngestWorker({ url: URL, store, log: testLog, runReadings: 1000, clientId: `ingest-run-${run}` });
    await worker.start();
    cleanups.push(() => (open(), worker.stop()));
    const g = await gateway(`gw-run-${run}`, 18, 200);
    const upTo = (n: number) => waitFor(() => g.acks.some((k) => k.lane === 'telemetry' && k.upTo === n), 20_000, `acks up to ${n}`);
    const c = (firstSeq: number, lastSeq: number, duplicate = false, skipped = false) => ({ firstSeq, lastSeq, duplicate, skipped });

    // 15 batches queue behind the first while the store is stalled: then runs of 5 (1,000 readings).
    close();
    for (let i = 0; i < 15; i++) await g.send(i);
    await waitFor(() => worker.pending === 15, 10_000, 'all 15 batches held');
    open();
    await upTo(3000);
    // The run's four acks are published one after another: the first with 3000 may arrive before the rest.
    await waitFor(() => g.acks.filter((k) => k.lane === 'telemetry').length === 15, 20_000, 'all 15 acks');
    expect(calls).toEqual([c(1, 200), c(201, 1200), c(1201, 2200), c(2201, 3000)]);
    // Every range acked once, each after its run committed (the prefix then ends at the run's end).
    const ranges = g.acks.filter((k) => k.lane === 'telemetry').map((k) => k.range);
    expect(ranges).toEqual(Array.from({ length: 15 }, (_, i) => [i * 200 + 1, (i + 1) * 200]));
    expect(g.acks.filter((k) => k.lane === 'telemetry').map((k) => k.upTo)).toEqual([200, ...Array(5).fill(1200), ...Array(5).fill(2200), ...Array(4).fill(3000)]);

    // A resend of batch 15 queued with batches 16 and 17: that run overlaps the prefix, so nothing of it is
    // stored and each batch commits alone (the resend a duplicate).
    calls.length = 0;
    close();
    await g.send(14);
    await waitFor(() => worker.pending === 1, 10_000, 'the first resend held');
    for (const i of [14, 15, 16]) await g.send(i);
    await waitFor(() => worker.pending === 4, 10_000, 'a resend and two new batches queued');
    open();
    await upTo(3400);
    expect(calls).toEqual([c(2801, 3000, true), c(2801, 3400, false, true), c(2801, 3000, true), c(3001, 3200), c(3201, 3400)]);
    const { rows } = await pg.store.pool.query('SELECT COUNT(*) AS n, COUNT(DISTINCT (series, ts)) AS u FROM readings');
    expect({ n: Number(rows[0].n), u: Number(rows[0].u) }).toEqual({ n: 3400, u: 3400 });
    expect(worker.counters).toMatchObject({ batches: 19, duplicates: 2, rejected: 0, readings: 3400 });
    // The rollup counts every reading once, whether it came in a run or alone.
    const sum = await pg.store.pool.query('SELECT SUM(count) AS n FROM readings_1m');
    expect(Number(sum.rows[0].n)).toBe(3400);
  }, 60_000);

  it('refuses a concurrency or bound that is not a positive integer, naming it', () => {
    const opts = { url: URL, store: {} as Store, log: testLog };
    expect(() => new IngestWorker({ ...opts, concurrency: 0 })).toThrow('concurrency: expected an integer ≥ 1, got 0');
    expect(() => new IngestWorker({ ...opts, maxPending: 2.5 })).toThrow('maxPending: expected an integer ≥ 1, got 2.5');
    expect(() => new IngestWorker({ ...opts, runReadings: 0 })).toThrow('runReadings: expected an integer ≥ 1, got 0');
  });
});
