/**
 * An ingest worker: subscribes to gateways' uplinks, commits each batch once,
 * and answers with the end-to-end ack that lets the gateway reclaim space.
 * Stateless: N workers share the load through an MQTT shared subscription
 * (`$share/ingest/...`) on brokers that have them (Mosquitto, EMQX).
 *
 *   lifeline/<gw>/up/{telemetry,events} ─▶ decodeUplink ─▶ epoch base (store.openEpoch, cached)
 *        ─▶ store.commit (cloud seq = base + gateway seq) ─▶ encodeAck (gateway seqs, epoch, range) ─▶ lifeline/<gw>/down/ack
 *   lifeline/<gw>/status                ─▶ schema check ─▶ store.saveGatewayStatus
 *   lifeline/<gw>/up/reply              ─▶ ignored here (cloud/src/ingest/commands.ts takes command answers)
 *
 * A malformed or forged batch is answered with a Reject, counted and logged;
 * it is never retried here and never blocks the next message. The gateway
 * then sends the range again empty (and says so in its event lane), so the
 * committed prefix moves past it.
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
  type Uplink,
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
  /** Buffer epochs opened (a gateway's first batch, or a gateway that lost its database). */
  epochsOpened: number;
  duplicates: number;
  readings: number;
  events: number;
  rejected: number;
  statuses: number;
  badStatuses: number;
}

/** A message decoded on arrival: the batch, or why it could not be. */
type Decoded = { msg?: Uplink; err?: unknown };

export class IngestWorker {
  readonly counters: IngestCounters = { batches: 0, epochsOpened: 0, duplicates: 0, readings: 0, events: 0, rejected: 0, statuses: 0, badStatuses: 0 };
  /** Rejects by reason name, for health checks. */
  readonly rejectsByReason: Record<string, number> = {};
  /** `gateway\0lane\0epoch` → base, for epochs known to be current. */
  private readonly bases = new Map<string, number>();
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
      // Decode now, commit in order: the next batch decodes while the store commits this one.
      let decoded: Decoded;
      try {
        decoded = this.decode(topic, payload);
      } catch (err) {
        decoded = { err };
      }
      this.chain = this.chain.then(() => this.handle(topic, payload, decoded)).catch((err) => opts.log.error({ err }, 'ingest failed on a message'));
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

  /** Decodes an uplink batch (synchronous CPU work, done as the message arrives). */
  private decode(topic: string, payload: Buffer): Decoded {
    const gateway = gatewayOfTopic(topic);
    if (!gateway || (topic !== topics.telemetry(gateway) && topic !== topics.events(gateway))) return {};
    // The topic is what the broker authenticated: a batch naming another gateway is forged.
    return { msg: decodeUplink(payload, { gateway }) };
  }

  private async handle(topic: string, payload: Buffer, decoded: Decoded): Promise<void> {
    const gateway = gatewayOfTopic(topic);
    if (!gateway) return;
    if (topic === topics.status(gateway)) return this.handleStatus(gateway, payload);
    if (topic !== topics.telemetry(gateway) && topic !== topics.events(gateway)) return;
    const lane = topic === topics.telemetry(gateway) ? Lane.Telemetry : Lane.Events;
    let range: { firstSeq?: number; lastSeq?: number; epoch?: number } = {};
    try {
      const h = peekHeader(payload);
      range = { firstSeq: h.firstSeq, lastSeq: h.lastSeq, epoch: h.epoch };
    } catch {
      // The header itself is unreadable; the reject names no range.
    }
    try {
      if (decoded.err !== undefined) throw decoded.err;
      const msg = decoded.msg!;
      const laneName = lane === Lane.Telemetry ? 'telemetry' : 'events';
      const epoch = msg.batch.epoch;
      const { base, stale } = await this.base(gateway, laneName, epoch ?? 0);
      if (stale) {
        return this.reject(gateway, lane, range, RejectReason.StaleEpoch, `epoch ${epoch ?? 0} of ${gateway} was replaced by a newer buffer epoch; its batches are no longer taken`);
      }
      const firstSeq = base + msg.batch.firstSeq;
      const lastSeq = base + msg.batch.lastSeq;
      const result =
        msg.type === MessageType.Telemetry
          ? await this.opts.store.commitTelemetry({ gateway, firstSeq, lastSeq, readings: msg.batch.readings, gaps: msg.batch.gaps })
          : await this.opts.store.commitEvents({ gateway, firstSeq, lastSeq, events: msg.batch.events.map((e) => ({ ...e, seq: base + e.seq })) });
      this.counters.batches++;
      if (result.duplicate) this.counters.duplicates++;
      else if (msg.type === MessageType.Telemetry) this.counters.readings += msg.batch.readings.length;
      else this.counters.events += msg.batch.events.length;
      const upTo = Math.max(0, result.committedUpTo - base);
      const ack = encodeAck({
        gateway,
        ts: Date.now(),
        ...(epoch !== undefined ? { epoch } : {}),
        ...(lane === Lane.Telemetry ? { telemetry: upTo } : { events: upTo }),
        range: { lane, firstSeq: msg.batch.firstSeq, lastSeq: msg.batch.lastSeq },
      });
      // Not awaited: the next batch need not wait for the broker's PUBACK of this ack.
      this.client!.publishAsync(topics.ack(gateway), Buffer.from(ack), { qos: 1 }).catch((err) => this.opts.log.warn({ err: (err as Error).message, gateway }, 'ack publish failed; the gateway resends'));
    } catch (err) {
      if (!isLifelineError(err)) throw err;
      return this.reject(gateway, lane, range, rejectReasonFor(err), err.message);
    }
  }

  /** The epoch's base, from the cache or the store (which opens a new epoch). */
  private async base(gateway: string, lane: 'telemetry' | 'events', epoch: number): Promise<{ base: number; stale: boolean }> {
    const key = `${gateway}\0${lane}\0${epoch}`;
    const cached = this.bases.get(key);
    if (cached !== undefined) return { base: cached, stale: false };
    const r = await this.opts.store.openEpoch(gateway, lane, epoch, Date.now());
    if (r.openedAfter !== undefined) {
      this.counters.epochsOpened++;
      const lost = r.base - r.openedAfter;
      this.opts.log[lost > 0 ? 'warn' : 'info'](
        { gateway, lane, epoch, base: r.base, ...(lost > 0 ? { lostFrom: r.openedAfter + 1, lostTo: r.base } : {}) },
        lost > 0 ? 'new buffer epoch: the old one left seqs that were never committed' : 'new buffer epoch',
      );
    }
    if (!r.stale) {
      // Forget older epochs of this gateway and lane: their batches must look the store up (and be found stale).
      for (const k of this.bases.keys()) if (k.startsWith(`${gateway}\0${lane}\0`)) this.bases.delete(k);
      this.bases.set(key, r.base);
    }
    return r;
  }

  private async reject(gateway: string, lane: Lane, range: { firstSeq?: number; lastSeq?: number; epoch?: number }, reason: RejectReason, detail: string): Promise<void> {
    this.counters.rejected++;
    this.rejectsByReason[RejectReason[reason]] = (this.rejectsByReason[RejectReason[reason]] ?? 0) + 1;
    this.opts.log.warn({ gateway, lane: Lane[lane], ...range, reason: RejectReason[reason], detail }, 'rejected an uplink batch');
    // A forged batch names a range of another gateway's seqs: do not echo it back as if it were this gateway's.
    const named = reason === RejectReason.GatewayMismatch ? {} : { firstSeq: range.firstSeq, lastSeq: range.lastSeq, epoch: range.epoch };
    const msg = encodeReject({ gateway, ts: Date.now(), lane, ...named, reason, detail: detail.slice(0, 1000) });
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
