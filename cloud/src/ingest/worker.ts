/**
 * An ingest worker: subscribes to gateways' uplinks, commits each batch once,
 * and answers with the end-to-end ack that lets the gateway reclaim space.
 * Stateless: N workers share the load through an MQTT shared subscription
 * (`$share/ingest/...`) on brokers that have them (Mosquitto, EMQX).
 *
 *   lifeline/<gw>/up/{telemetry,events} ─▶ decodeUplink ─▶ store.commit ─▶ encodeAck ─▶ lifeline/<gw>/down/ack
 *   lifeline/<gw>/status                ─▶ schema check ─▶ store.saveGatewayStatus
 *
 * A malformed or forged batch is answered with a Reject, counted and logged;
 * it is never retried here and never blocks the next message.
 */
import mqtt, { type MqttClient } from 'mqtt';
import {
  GatewayStatusSchema,
  Lane,
  MessageType,
  RejectReason,
  decodeUplink,
  encodeAck,
  encodeReject,
  gatewayOfTopic,
  isLifelineError,
  peekHeader,
  rejectReasonFor,
  schemaIssues,
  topics,
} from '@lifeline/shared';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';

export interface IngestOptions {
  url: string;
  store: Store;
  log: Logger;
  clientId?: string;
  /** Use a shared subscription (needs a broker that supports MQTT 5 / $share). */
  shared?: boolean;
  username?: string;
  password?: string;
}

/** What a worker has done, for health checks and tests. */
export interface IngestCounters {
  batches: number;
  duplicates: number;
  readings: number;
  events: number;
  rejected: number;
  statuses: number;
  badStatuses: number;
}

export class IngestWorker {
  readonly counters: IngestCounters = { batches: 0, duplicates: 0, readings: 0, events: 0, rejected: 0, statuses: 0, badStatuses: 0 };
  private client?: MqttClient;
  /** Messages are committed one at a time, in arrival order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: IngestOptions) {}

  async start(): Promise<void> {
    const { opts } = this;
    this.client = await mqtt.connectAsync(opts.url, {
      clientId: opts.clientId ?? `lifeline-ingest-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      username: opts.username,
      password: opts.password,
      protocolVersion: opts.shared ? 5 : 4,
      reconnectPeriod: 1000,
      clean: true,
    });
    this.client.on('message', (topic, payload) => {
      this.chain = this.chain.then(() => this.handle(topic, payload)).catch((err) => opts.log.error({ err }, 'ingest failed on a message'));
    });
    this.client.on('error', (err) => opts.log.warn({ err: err.message }, 'ingest mqtt error'));
    await this.client.subscribeAsync(
      [opts.shared ? topics.ingestShare() : topics.ingestAll, topics.statusAll].map((t) => t),
      { qos: 1 },
    );
    opts.log.info({ url: opts.url, shared: !!opts.shared }, 'ingest worker subscribed');
  }

  async stop(): Promise<void> {
    await this.chain;
    await this.client?.endAsync();
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    const gateway = gatewayOfTopic(topic);
    if (!gateway) return;
    if (topic === topics.status(gateway)) return this.handleStatus(gateway, payload);
    if (topic !== topics.telemetry(gateway) && topic !== topics.events(gateway)) return;
    const lane = topic === topics.telemetry(gateway) ? Lane.Telemetry : Lane.Events;
    let range: { firstSeq?: number; lastSeq?: number } = {};
    try {
      range = peekHeader(payload);
    } catch {
      // The header itself is unreadable; the reject names no range.
    }
    try {
      const msg = decodeUplink(payload);
      if (msg.batch.gateway !== gateway) {
        return this.reject(gateway, lane, range, RejectReason.GatewayMismatch, `batch claims gateway ${JSON.stringify(msg.batch.gateway)} but arrived on ${topic}`);
      }
      const result =
        msg.type === MessageType.Telemetry ? await this.opts.store.commitTelemetry(msg.batch) : await this.opts.store.commitEvents(msg.batch);
      this.counters.batches++;
      if (result.duplicate) this.counters.duplicates++;
      else if (msg.type === MessageType.Telemetry) this.counters.readings += msg.batch.readings.length;
      else this.counters.events += msg.batch.events.length;
      const ack = encodeAck({ gateway, ts: Date.now(), ...(lane === Lane.Telemetry ? { telemetry: result.committedUpTo } : { events: result.committedUpTo }) });
      await this.client!.publishAsync(topics.ack(gateway), Buffer.from(ack), { qos: 1 });
    } catch (err) {
      if (!isLifelineError(err)) throw err;
      return this.reject(gateway, lane, range, rejectReasonFor(err), err.message);
    }
  }

  private async reject(gateway: string, lane: Lane, range: { firstSeq?: number; lastSeq?: number }, reason: RejectReason, detail: string): Promise<void> {
    this.counters.rejected++;
    this.opts.log.warn({ gateway, lane: Lane[lane], ...range, reason: RejectReason[reason], detail }, 'rejected an uplink batch');
    const msg = encodeReject({ gateway, ts: Date.now(), lane, firstSeq: range.firstSeq, lastSeq: range.lastSeq, reason, detail: detail.slice(0, 1000) });
    await this.client!.publishAsync(topics.ack(gateway), Buffer.from(msg), { qos: 1 });
  }

  private async handleStatus(gateway: string, payload: Buffer): Promise<void> {
    if (payload.length === 0) return; // a cleared retained message
    let status: unknown;
    try {
      status = JSON.parse(payload.toString('utf8'));
    } catch {
      status = undefined;
    }
    const issues = status === undefined ? [{ path: '', message: 'not JSON' }] : schemaIssues(GatewayStatusSchema, status);
    const s = status as { gateway?: string };
    if (issues.length || s.gateway !== gateway) {
      this.counters.badStatuses++;
      this.opts.log.warn({ gateway, issues, claimed: s?.gateway }, 'ignored a malformed status message');
      return;
    }
    this.counters.statuses++;
    const st = status as import('@lifeline/shared').GatewayStatusMessage;
    await this.opts.store.saveGatewayStatus({ ...st, ts: st.ts || Date.now(), devices: st.devices });
  }
}
