/**
 * Two stateless ingest workers share one gateway's stream through an MQTT
 * shared subscription on a real Mosquitto; one is killed mid-stream.
 * The broker is the machine's mosquitto binary started by the test on a free
 * port: on the shared 1883 another test's ingest would also acknowledge this
 * gateway's batches and hide a loss.
 * The gateway resends whatever is not acknowledged, as the edge's sync does.
 * Reconcile: every seq stored exactly once.
 */
import mqtt from 'mqtt';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageType, decodeDownlink, encodeTelemetryBatch, topics, type Reading } from '@lifeline/shared';
import { IngestWorker, SqliteStore } from '../../src/index.js';
import { startMosquitto, tempDir, testLog, waitFor } from '../../../test/helpers.js';

const BATCHES = 120;
const PER_BATCH = 50;
const POINTS = 5;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('ingest workers on a shared subscription', () => {
  it('split the load, and when one dies mid-stream nothing is lost and nothing doubled', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const URL = broker.url;
    const store = new SqliteStore(join(tmp.dir, 'cloud.db'));
    await store.migrate();
    cleanups.push(() => store.close());
    const run = `${process.pid}-${Date.now()}`;
    const workers = [1, 2].map((n) => new IngestWorker({ url: URL, store, log: testLog, shared: true, clientId: `ingest-${n}-${run}` }));
    for (const w of workers) await w.start();
    cleanups.push(() => workers[1].stop());

    const gw = `gw-share-${run}`;
    const device = `${gw}-d`;
    const base = Date.now() - 3_600_000;
    const batches = Array.from({ length: BATCHES }, (_, b) => {
      const firstSeq = b * PER_BATCH + 1;
      const readings: Reading[] = Array.from({ length: PER_BATCH }, (_, i) => {
        const seq = firstSeq + i;
        return { device, point: `p${seq % POINTS}`, ts: base + seq * 10, value: seq };
      });
      return { firstSeq, lastSeq: firstSeq + PER_BATCH - 1, bytes: encodeTelemetryBatch({ gateway: gw, epoch: 7, firstSeq, lastSeq: firstSeq + PER_BATCH - 1, readings }) };
    });
    const last = batches.at(-1)!.lastSeq;

    // A minimal gateway: publish, track the highest contiguous ack, resend what is not acknowledged.
    const client = await mqtt.connectAsync(URL, { clientId: gw, clean: true });
    cleanups.push(() => client.endAsync());
    let acked = 0;
    client.on('message', (_t, payload) => {
      const m = decodeDownlink(payload);
      if (m.type === MessageType.Ack && m.ack.telemetry !== undefined) acked = Math.max(acked, m.ack.telemetry);
    });
    await client.subscribeAsync(topics.ack(gw), { qos: 1 });
    const sentAt = new Map<number, number>();
    const send = async (b: (typeof batches)[number]) => {
      sentAt.set(b.firstSeq, Date.now());
      await client.publishAsync(topics.telemetry(gw), Buffer.from(b.bytes), { qos: 1 });
    };

    let killed = false;
    let survivorAtKill = 0;
    for (const [i, b] of batches.entries()) {
      await send(b);
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
      // Mid-stream, once both workers have committed something: worker 1 dies without a goodbye.
      if (!killed && i >= BATCHES / 2 && workers.every((w) => w.counters.batches > 0)) {
        (workers[0] as unknown as { client: mqtt.MqttClient }).client.end(true);
        killed = true;
        survivorAtKill = workers[1].counters.batches;
      }
    }
    await waitFor(
      async () => {
        const now = Date.now();
        for (const b of batches) if (b.lastSeq > acked && now - (sentAt.get(b.firstSeq) ?? 0) > 1500) await send(b);
        return acked === last;
      },
      30_000,
      'every batch acknowledged',
    );
    expect(killed).toBe(true);
    // Shared, not duplicated: each batch went to one worker (resends aside), not to both.
    expect(workers[0].counters.batches + workers[1].counters.batches).toBeLessThan(BATCHES * 1.25);
    // The survivor took over the rest of the stream.
    expect(workers[1].counters.batches).toBeGreaterThan(survivorAtKill);

    // Reconcile every seq: stored once, none missing.
    const seen = new Map<number, number>();
    for (let p = 0; p < POINTS; p++) {
      const rows = await store.telemetry.readings({ gateway: gw, device, point: `p${p}`, from: base, to: base + (last + 1) * 10, limit: 100_000 });
      for (const r of rows) seen.set(r.value, (seen.get(r.value) ?? 0) + 1);
    }
    const missing = Array.from({ length: last }, (_, i) => i + 1).filter((s) => !seen.has(s));
    const doubled = [...seen].filter(([, n]) => n > 1).map(([s]) => s);
    expect({ stored: seen.size, missing: missing.length, doubled: doubled.length }).toEqual({ stored: last, missing: 0, doubled: 0 });
  }, 60_000);
});
