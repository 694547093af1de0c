/**
 * The far side for `pnpm bench alarm-latency`, in its own process so the agent's
 * process carries only the agent: an embedded MQTT broker (aedes) and a minimal
 * cloud that acknowledges every batch as soon as it arrives (no storage), so the
 * agent's sync runs its full cycle: encode, publish, ack, reclaim.
 * Prints one line: {"url":"mqtt://127.0.0.1:<port>"}.
 */
import { Lane, MessageType, encodeAck, peekHeader, topics } from '../shared/src/index.js';
import { startEmbeddedBroker } from '../cloud/src/broker/embedded.js';
import { MqttTransport } from '../edge/src/sync/transport.js';

const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1' });
const client = new MqttTransport({ url: broker.url, clientId: 'bench-acker' });
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
  void client.subscribe(topics.ingestAll).then(() => console.log(JSON.stringify({ url: broker.url })));
});
client.connect();
const stop = async () => {
  await client.close();
  await broker.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
