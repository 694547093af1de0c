/**
 * The embedded broker as startCloud() sets it up with no options: no anonymous
 * client, each enrolled gateway pinned to its own topics, and a message size
 * limit enforced twice (the broker drops a client past twice the limit; ingest
 * answers a batch past the limit with a TooLarge reject, never decoding it).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, RejectReason, decodeDownlink, encodeTelemetryBatch, topics, type Downlink } from '@lifeline/shared';
import { testCloud, type TestCloud } from '../api/helpers.js';
import { waitFor } from '../../../test/helpers.js';

const clients: MqttClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
});

function connect(t: TestCloud, login: { username?: string; password?: string }) {
  return mqtt.connectAsync(t.cloud.brokerUrl, { ...login, reconnectPeriod: 0, connectTimeout: 3000, clientId: `trust-${Math.random().toString(16).slice(2)}` }).then((c) => (clients.push(c), c));
}

/** Enrol a gateway through the real path and log it in to the broker. */
async function gateway(t: TestCloud, id: string): Promise<MqttClient> {
  const { token } = await t.cloud.enrolment.createToken('test', 60_000, id);
  const { mqtt: login } = await t.cloud.enrolment.enroll(token, { gateway: id });
  return connect(t, { username: login.username, password: login.password });
}

/** The cloud's own login, subscribed to everything: sees what really passed the broker. */
async function spy(t: TestCloud): Promise<string[]> {
  const c = await connect(t, t.cloud.authority.service);
  const seen: string[] = [];
  c.on('message', (topic) => seen.push(topic));
  await c.subscribeAsync('#', { qos: 1 });
  return seen;
}

const closed = (c: MqttClient) => new Promise<void>((r) => (c.connected ? c.once('close', () => r()) : r()));
const health = async (t: TestCloud) => (await t.call('GET', '/api/v1/health', { as: null })).json as { broker: Record<string, number>; ingest: Record<string, number> };

describe('startCloud() with defaults', () => {
  let t: TestCloud;
  beforeAll(async () => {
    t = await testCloud();
  });
  afterAll(async () => t.close());

  it('refuses an anonymous CONNECT, with or without a client id', async () => {
    await expect(connect(t, {})).rejects.toThrow(/Not authorized|Bad username|refused/i);
    await expect(connect(t, { username: '', password: '' })).rejects.toThrow(/Not authorized|Bad username|refused/i);
    expect((await health(t)).broker.refusedLogins).toBe(2);
  });

  it('keeps an enrolled gateway off another gateway’s topics and off `#`', async () => {
    const seen = await spy(t);
    const a = await gateway(t, 'gw-trust-a');
    await gateway(t, 'gw-trust-b');
    // Subscribing to everything: the SUBACK carries a failure code.
    await expect(a.subscribeAsync('#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(a.subscribeAsync('lifeline/gw-trust-b/down/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    // Publishing as B (a forged reading, a forged command answer): A is dropped, nothing arrives.
    const gone = closed(a);
    a.publish('lifeline/gw-trust-b/up/telemetry', Buffer.from([1, 2, 3]), { qos: 1 });
    await gone;
    const again = await gateway(t, 'gw-trust-a2');
    const gone2 = closed(again);
    again.publish('lifeline/gw-trust-b/down/cmd', 'lamp off', { qos: 1 });
    await gone2;
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.filter((topic) => topic.includes('gw-trust-b'))).toEqual([]);
    const h = await health(t);
    expect(h.broker.refusedSubscribes).toBe(2);
    expect(h.broker.refusedPublishes).toBe(2);
  });
});

describe('message size limits', () => {
  const LIMIT = 16_384; // ingest's; the broker drops past 32 KiB
  let t: TestCloud;
  beforeAll(async () => {
    t = await testCloud({ maxMessageBytes: LIMIT });
  });
  afterAll(async () => t.close());

  it('the broker drops a client whose publish passes twice the limit, and counts it', async () => {
    const seen = await spy(t);
    // Over the payload limit but within the packet room: refused when the whole packet is read.
    const a = await gateway(t, 'gw-size-a');
    const goneA = closed(a);
    a.publish(topics.telemetry('gw-size-a'), Buffer.alloc(40_000, 1), { qos: 1 });
    await goneA;
    // 20 MB announced: dropped as soon as the fixed header is read. Only the header is sent, so
    // a broker that waited for the whole packet before judging it would never drop this client.
    const b = await gateway(t, 'gw-size-b');
    const goneB = closed(b);
    const twentyMB = 20_000_000; // remaining length as a base-128 varint
    b.stream.write(Buffer.from([0x32, (twentyMB & 0x7f) | 0x80, ((twentyMB >> 7) & 0x7f) | 0x80, ((twentyMB >> 14) & 0x7f) | 0x80, twentyMB >> 21]));
    await goneB;
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.filter((topic) => topic.startsWith('lifeline/gw-size-'))).toEqual([]);
    expect((await health(t)).broker.oversize).toBe(2);
  });

  it('ingest answers a batch over the limit with TooLarge naming its range, stores nothing, and counts it', async () => {
    const g = await gateway(t, 'gw-size-ingest');
    const down: Downlink[] = [];
    g.on('message', (_topic, payload) => down.push(decodeDownlink(payload)));
    await g.subscribeAsync(topics.ack('gw-size-ingest'), { qos: 1 });
    // Random values do not compress: about 20 kB, between ingest's limit and the broker's.
    const readings = Array.from({ length: 2600 }, (_, i) => ({ device: 'dev-big', point: 'level', ts: 1_764_000_000_000 + i * 1000, value: Math.random() }));
    const batch = Buffer.from(encodeTelemetryBatch({ gateway: 'gw-size-ingest', epoch: 1, firstSeq: 1, lastSeq: 2600, readings }));
    expect(batch.length).toBeGreaterThan(LIMIT);
    expect(batch.length).toBeLessThan(2 * LIMIT);
    await g.publishAsync(topics.telemetry('gw-size-ingest'), batch, { qos: 1 });
    const reject = await waitFor(() => down.find((d) => d.type === MessageType.Reject), 5000, 'the reject');
    expect(reject.type === MessageType.Reject && reject.reject).toMatchObject({ reason: RejectReason.TooLarge, firstSeq: 1, lastSeq: 2600, epoch: 1 });
    expect(reject.type === MessageType.Reject && reject.reject.detail).toBe(`message of ${batch.length} bytes is over the limit of ${LIMIT}`);
    expect(t.cloud.ingest.rejectsByReason.TooLarge).toBe(1);
    expect((await health(t)).ingest.rejected).toBe(1);
    // The same readings in a batch within the limit go through: the gateway is still welcome.
    await g.publishAsync(topics.telemetry('gw-size-ingest'), Buffer.from(encodeTelemetryBatch({ gateway: 'gw-size-ingest', epoch: 1, firstSeq: 1, lastSeq: 10, readings: readings.slice(0, 10) })), { qos: 1 });
    await waitFor(() => down.some((d) => d.type === MessageType.Ack), 5000, 'the ack of the small batch');
    const rows = (await t.call('GET', `/api/v1/readings?device=dev-big&point=level&from=1764000000000&to=1764000100000`, { as: 'viewer' })).json as unknown[];
    expect(rows).toHaveLength(10);
  });
});
