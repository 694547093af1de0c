/**
 * MQTT topic names. Only sync (edge) and ingest (cloud) use them; everything
 * a gateway publishes is under `lifeline/<gateway>/...`, so a broker ACL can
 * pin each gateway to its own subtree.
 */
export const TOPIC_ROOT = 'lifeline';

export const topics = {
  /** Gateway → cloud: telemetry batches. */
  telemetry: (gateway: string) => `${TOPIC_ROOT}/${gateway}/up/telemetry`,
  /**
   * Gateway → cloud: Live frames, a few readings against a series dictionary (wire
   * version 2, docs/wire-protocol.md §7). The topic says what the bytes are: no envelope.
   */
  live: (gateway: string) => `${TOPIC_ROOT}/${gateway}/up/live`,
  /** Gateway → cloud: alarm transitions and events (own lane, ahead of backlog). */
  events: (gateway: string) => `${TOPIC_ROOT}/${gateway}/up/events`,
  /** Gateway → cloud: retained status; the last will marks it offline. */
  status: (gateway: string) => `${TOPIC_ROOT}/${gateway}/status`,
  /** Cloud → gateway: end-to-end acknowledgements. */
  ack: (gateway: string) => `${TOPIC_ROOT}/${gateway}/down/ack`,
  /** Cloud → gateway: commands (JSON, shared/src/wire/commands.ts). */
  commands: (gateway: string) => `${TOPIC_ROOT}/${gateway}/down/cmd`,
  /** Gateway → cloud: answers to commands (JSON). */
  reply: (gateway: string) => `${TOPIC_ROOT}/${gateway}/up/reply`,
  /** Every gateway's answers (a command sender subscribes to these). */
  replyAll: `${TOPIC_ROOT}/+/up/reply`,
  /** Shared subscription used by the cloud's ingest workers. */
  ingestShare: (group = 'ingest') => `$share/${group}/${TOPIC_ROOT}/+/up/#`,
  ingestAll: `${TOPIC_ROOT}/+/up/#`,
  statusAll: `${TOPIC_ROOT}/+/status`,
} as const;

/** `lifeline/gw-1/up/telemetry` → `gw-1`; undefined if not ours. */
export function gatewayOfTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  return parts[0] === TOPIC_ROOT && parts.length >= 3 ? parts[1] : undefined;
}
