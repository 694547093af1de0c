/**
 * The far side for `pnpm bench alarm-latency`, in its own process so the agent's
 * process carries only the agent: an embedded MQTT broker (aedes) and a minimal
 * cloud that acknowledges every batch as soon as it arrives (no storage), so the
 * agent's sync runs its full cycle: encode, publish, ack, reclaim. The broker
 * admits no anonymous client, as in production: the bench gateway is enrolled
 * (in an in-memory store) and the acker logs in with the service credential.
 * Prints one line: {"url":"mqtt://127.0.0.1:<port>","username":"gw-bench","password":"…"}.
 */
import { Lane, MessageType, encodeAck, peekHeader, topics } from '../shared/src/index.js';
import { startEmbeddedBroker } from '../cloud/src/broker/embedded.js';
import { BrokerAuthority, Enrolment } from '../cloud/src/enrol.js';
import { SqliteStore } from '../cloud/src/store/sqlite-store.js';
import { MqttTransport } from '../edge/src/sync/transport.js';

const gateway = process.argv[2] ?? 'gw-bench';
const store = new SqliteStore(':memory:');
await store.migrate();
const authority = new BrokerAuthority(store, false);
const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', authority });
const enrolment = new Enrolment(store, broker.url);
const { mqtt: login } = await enrolment.enroll((await enrolment.createToken('bench', 60_000, 'alarm-latency bench')).token, { gateway });
const client = new MqttTransport({ url: broker.url, clientId: 'bench-acker', ...authority.service });
client.onMessage((_topic, payload) => {
  try {
    const h = peekHeader(payload);
    if (h.firstSeq === undefined || h.lastSeq === undefined) return;
    const lane = h.type === MessageType.Telemetry ? Lane.Telemetry : Lane.Events;
    const ack = encodeAck({
      gateway: h.gateway,
      ts: Date.now(),
      ...(lane === Lane.Telemetry ? { telemetry: h.lastSeq } : { events: h.lastSeq }),
      ...(h.epoch !== undefined ? { epoch: h.epoch } : {}),
      range: { lane, firstSeq: h.firstSeq, lastSeq: h.lastSeq },
    });
    void client.publish(topics.ack(h.gateway), ack, { qos: 1 });
  } catch (err) {
    console.error(`acker: ${(err as Error).message}`);
  }
});
client.onConnect(() => {
  void client.subscribe(topics.ingestAll).then(() => console.log(JSON.stringify({ url: broker.url, username: login.username, password: login.password })));
});
client.connect();
const stop = async () => {
  await client.close();
  await broker.close();
  await store.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
