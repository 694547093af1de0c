/**
 * Sync: moves buffered data to the cloud and reclaims it only when the cloud
 * says it has committed it. Only sync knows topics.
 *
 *   buffer outbox ─▶ encode (epoch, ≤ maxBatchBytes) ─▶ publish QoS 1 ─▶ broker ─▶ cloud ingest
 *   buffer.ack / buffer.committed ◀─ Ack ◀─ lifeline/<gw>/down/ack ◀─────────────────┘
 *   abandon (empty range + batch_rejected event) ◀─ Reject
 *   CommandHandler ◀─ lifeline/<gw>/down/cmd          reply ─▶ lifeline/<gw>/up/reply
 *   status-message.ts ─▶ lifeline/<gw>/status (retained)   encode-range.ts: a range's wire form
 *
 * Order of each pump: the event lane (alarms) first; then one *live* range
 * (the newest readings, so the operator's view is current) and then *backlog*
 * ranges from the oldest up, until `window` ranges per lane are unacknowledged
 * (mqtt.js stalls past 65,535 unacknowledged QoS 1 publishes; a bounded window
 * also bounds what a broker queue may drop). A range not acknowledged within
 * ackTimeoutMs is sent again with the same seqs, which the cloud dedupes.
 */
import {
  Lane,
  MessageType,
  decodeDownlink,
  isLifelineError,
  RejectReason,
  topics,
  type Ack,
  type Reject,
} from '@lifeline/shared';
import type { LoadedConfig } from '../config/load.js';
import { isDiskError, type EdgeBuffer, type LaneName, type OutboxRange } from '../buffer/buffer.js';
import type { Extension } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { Transport } from './transport.js';
import type { CommandHandler } from './command-handler.js';
import { LiveDictionary } from './live-dictionary.js';
import { encodeRange } from './encode-range.js';
import { statusMessage } from './status-message.js';
import type { SyncCounters, SyncOptions } from './types.js';

export type { SyncCounters, SyncOptions } from './types.js';

/** An event batch unanswered this long is sent again (telemetry waits for it meanwhile). */
const EVENTS_RESEND_MS = 1000;

const laneName = (l: Lane): LaneName => (l === Lane.Telemetry ? 'telemetry' : 'events');

export class Sync implements Extension {
  readonly counters: SyncCounters = { batchesSent: 0, batchesResent: 0, liveBatches: 0, acks: 0, staleAcks: 0, rejects: 0, abandoned: 0, splits: 0, badDownlinks: 0 };
  /** Cloud clock minus gateway clock, ms, from the latest ack. */
  clockOffsetMs: number | null = null;
  /** When a pump failure on the buffer's disk was last logged. */
  private diskErrorLoggedAt = -Infinity;
  /** When the cloud side last answered: an ack, or the broker accepting the status (null: not yet). */
  reachedAt: number | null = null;
  /** When the cloud last acknowledged a batch of this buffer (null: not since start). */
  lastAckAt: number | null = null;
  /** `lane:firstSeq` → when it was last published. */
  private readonly inflight = new Map<string, number>();
  /** Event ranges sent and not yet acknowledged (kept across reconnects): `firstSeq` → first send. */
  private readonly eventsUnackedSince = new Map<number, number>();
  /** Ranges to send empty (after a reject): `lane:firstSeq`. */
  private readonly abandoned = new Set<string>();
  /** Checksum rejects seen per range: a second one abandons it. */
  private readonly checksumRejects = new Map<string, number>();
  /** The series dictionary of live ranges (wire version 2). */
  readonly live: LiveDictionary;
  /** `telemetry:firstSeq` of ranges last sent in version 2 → the dictionary they used. */
  private readonly sentV2 = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private statusTimer?: NodeJS.Timeout;
  private readonly gateway: string;
  private readonly window: number;
  private readonly maxBatchBytes: number;
  private pumping = false;
  private stopped = false;

  constructor(
    /** The whole config, not a slice: the status message reports it (redacted) so the cloud shows what the box runs. */
    private readonly loaded: LoadedConfig,
    private readonly buffer: EdgeBuffer,
    private readonly transport: Transport,
    private readonly log: Logger,
    private readonly opts: SyncOptions = {},
  ) {
    this.gateway = loaded.config.gateway.id;
    this.window = opts.window ?? 8;
    this.maxBatchBytes = opts.maxBatchBytes ?? 120_000;
    this.live = new LiveDictionary(buffer.epoch, opts.liveDictionary || {});
    if (opts.liveDictionary === false) this.live.enabled = false;
  }

  /** Whether the broker connection is up. */
  get connected(): boolean {
    return this.transport.connected;
  }

  /** The transport's last connection error, if any (a refused login, an unreachable broker). */
  get transportError(): string | undefined {
    return this.transport.lastError;
  }

  /** Batches sent and not yet acknowledged, per lane. */
  unacked(): { telemetry: number; events: number } {
    let telemetry = 0;
    for (const k of this.inflight.keys()) if (k.startsWith('telemetry:')) telemetry++;
    return { telemetry, events: this.eventsUnackedSince.size };
  }

  /** The retained status message; the last will carries the offline version. */
  statusMessage(online: boolean): string {
    return statusMessage(this.loaded, this.buffer, online, { clockOffsetMs: this.clockOffsetMs, configHash: this.opts.commands?.runningHash(), configApply: this.opts.configApply?.() });
  }

  start(): void {
    this.transport.onMessage((topic, payload) => this.onDownlink(topic, payload));
    this.transport.onConnect(() => {
      this.log.info('connected to broker');
      // Whatever was in flight before the reconnect may be lost: send it again.
      this.inflight.clear();
      const subs = [topics.ack(this.gateway), ...(this.opts.commands ? [topics.commands(this.gateway)] : [])];
      void Promise.all(subs.map((t) => this.transport.subscribe(t)))
        .then(() => {
          this.publishStatus();
          this.pump();
        })
        .catch((err) => this.log.error({ err: (err as Error).message }, 'subscribe failed'));
    });
    this.opts.commands?.setReply((answer) => this.transport.publish(topics.reply(this.gateway), JSON.stringify(answer), { qos: 1 }));
    this.transport.connect();
    this.timer = setInterval(() => this.pump(), this.loaded.config.sync.intervalMs);
    this.statusTimer = setInterval(() => this.publishStatus(), this.opts.statusIntervalMs ?? 30_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.statusTimer);
    if (this.transport.connected) {
      await this.transport.publish(topics.status(this.gateway), this.statusMessage(false), { qos: 1, retain: true }).catch(() => {});
    }
    await this.transport.close();
  }

  /** Publish the retained status now (also done on connect and every statusIntervalMs). */
  publishStatus(): void {
    if (!this.transport.connected || this.stopped) return;
    this.transport
      .publish(topics.status(this.gateway), this.statusMessage(true), { qos: 1, retain: true })
      .then(() => {
        this.reachedAt = Date.now();
      })
      .catch((err) => this.log.warn({ err: (err as Error).message }, 'status publish failed'));
  }

  /** Send what is due: events first, then one live range, then backlog. */
  pump(): void {
    if (!this.transport.connected || this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      this.pumpLane('events');
      // Alarms first, strictly: telemetry waits until every event batch sent is committed. A
      // broker may drop a batch (an ingest that has not resubscribed after a broker restart)
      // while the telemetry behind it gets through; the events are resent every second.
      if (this.eventsUnackedSince.size === 0) this.pumpLane('telemetry');
    } catch (err) {
      // A failing disk fails every tick the same way (the agent logged it once, status shows it): say it once a minute.
      const disk = isDiskError(err);
      const now = Date.now();
      if (!disk || now - this.diskErrorLoggedAt >= 60_000) {
        if (disk) this.diskErrorLoggedAt = now;
        this.log.error({ err }, disk ? "sync pump failed on the buffer's disk; retrying every tick, logged once a minute" : 'sync pump failed; retrying at the next tick');
      }
    } finally {
      this.pumping = false;
    }
  }

  private pumpLane(lane: LaneName): void {
    const { batchMaxReadings } = this.loaded.config.sync;
    // Events are resent sooner than telemetry: they are small and telemetry waits for them.
    const ackTimeoutMs = lane === 'events' ? Math.min(EVENTS_RESEND_MS, this.loaded.config.sync.ackTimeoutMs) : this.loaded.config.sync.ackTimeoutMs;
    const max = lane === 'events' ? 1000 : batchMaxReadings;
    const now = Date.now();
    const open = this.buffer.outbox(lane).filter((r) => !r.done);
    if (lane === 'events' && this.eventsUnackedSince.size) {
      // Whatever the acks named, a range no longer open holds nothing back.
      const still = new Set(open.map((r) => r.firstSeq));
      for (const first of this.eventsUnackedSince.keys()) if (!still.has(first)) this.eventsUnackedSince.delete(first);
    }
    // Resend what timed out, in seq order.
    for (const r of open.slice(0, this.window)) {
      const sentAt = this.inflight.get(`${lane}:${r.firstSeq}`);
      if (sentAt === undefined || now - sentAt >= ackTimeoutMs) this.send(r, sentAt !== undefined);
    }
    // Cut new ranges while the window has room: the newest readings first, then the oldest.
    let room = this.window - open.length;
    if (room > 0 && lane === 'telemetry') {
      const live = this.buffer.cutLive(max);
      if (live) {
        this.counters.liveBatches++;
        this.send(live, false);
        room--;
      }
    }
    while (room > 0) {
      const next = this.buffer.cutBacklog(lane, max);
      if (!next) break;
      this.send(next, false);
      room--;
    }
  }

  /** Encodes and publishes one range, splitting it first if it is too large to send. */
  private send(range: OutboxRange, resend: boolean): void {
    const { lane } = range;
    const key = `${lane}:${range.firstSeq}`;
    let { payload, topic, dictionary } = encodeRange(this.gateway, this.buffer, this.live, range, this.abandoned.has(key));
    let lastSeq = range.lastSeq;
    while (payload.length > this.maxBatchBytes && lane === 'telemetry') {
      const { seqs } = this.buffer.telemetryRange(range.firstSeq, lastSeq);
      if (seqs.length < 2) break;
      const at = seqs[(seqs.length >> 1) - 1];
      this.buffer.splitRange(lane, range.firstSeq, at);
      if (!this.buffer.outbox(lane).some((o) => o.firstSeq === range.firstSeq && o.lastSeq === at)) break; // a chunk with holes cannot be split
      this.counters.splits++;
      lastSeq = at;
      ({ payload, topic, dictionary } = encodeRange(this.gateway, this.buffer, this.live, { ...range, lastSeq }, this.abandoned.has(key)));
    }
    if (dictionary !== undefined) this.sentV2.set(key, dictionary);
    else this.sentV2.delete(key);
    this.inflight.set(key, Date.now());
    if (lane === 'events' && !this.eventsUnackedSince.has(range.firstSeq)) this.eventsUnackedSince.set(range.firstSeq, Date.now());
    if (resend) this.counters.batchesResent++;
    else this.counters.batchesSent++;
    this.transport.publish(topic, payload, { qos: 1 }).catch((err) => {
      this.inflight.delete(key);
      this.log.debug({ err: (err as Error).message, lane, firstSeq: range.firstSeq }, 'publish failed; will resend');
    });
  }

  private onDownlink(topic: string, payload: Uint8Array): void {
    if (topic === topics.commands(this.gateway)) {
      void this.opts.commands?.handle(payload);
      return;
    }
    if (topic !== topics.ack(this.gateway)) return;
    let msg;
    try {
      msg = decodeDownlink(payload);
    } catch (err) {
      this.counters.badDownlinks++;
      this.log.warn({ err: isLifelineError(err) ? err.message : String(err) }, 'ignored a malformed downlink message');
      return;
    }
    try {
      if (msg.type === MessageType.Ack) this.onAck(msg.ack);
      else this.onReject(msg.reject);
    } catch (err) {
      this.log.error({ err }, 'handling a downlink message failed');
    }
  }

  private onAck(ack: Ack): void {
    if (ack.epoch !== undefined && ack.epoch !== this.buffer.epoch) {
      // An ack for the seqs of an earlier database: applying it would reclaim unsent data.
      this.counters.staleAcks++;
      return;
    }
    this.counters.acks++;
    this.reachedAt = Date.now();
    this.lastAckAt = this.reachedAt;
    if (ack.dictionary !== undefined) this.live.acknowledged(ack.dictionary);
    this.clockOffsetMs = ack.ts - Date.now();
    for (const lane of ['telemetry', 'events'] as const) {
      const upTo = ack[lane];
      if (upTo === undefined || !this.buffer.ack(lane, upTo)) continue;
      for (const key of this.inflight.keys()) {
        const [l, first] = key.split(':');
        if (l === lane && Number(first) <= upTo) {
          this.inflight.delete(key);
          if (lane === 'events') this.eventsUnackedSince.delete(Number(first));
          this.abandoned.delete(key);
          this.checksumRejects.delete(key);
          this.sentV2.delete(key);
        }
      }
    }
    if (ack.range) {
      const lane = laneName(ack.range.lane);
      const key = `${lane}:${ack.range.firstSeq}`;
      const sentAt = this.inflight.get(key);
      this.buffer.committed(lane, ack.range.firstSeq, ack.range.lastSeq);
      this.inflight.delete(key);
      this.sentV2.delete(key);
      if (lane === 'events') this.eventsUnackedSince.delete(ack.range.firstSeq);
      // Fast retransmit: a batch published before this one and still unanswered half a second
      // later was most likely dropped (a broker with no subscriber, a restarted ingest). Send it
      // now rather than at its ack timeout, so an alarm is never held back behind telemetry.
      if (sentAt !== undefined) {
        const now = Date.now();
        for (const [k, t] of this.inflight) if (t < sentAt && now - t > 500) this.inflight.delete(k);
      }
    }
    // Room in the window: send the next ranges now rather than at the next tick.
    this.pump();
  }

  /** Forget the send time of the ranges sent in version 2 with a matching dictionary, so the pump sends them again now. */
  private resendV2(match: (dictionary: number) => boolean): void {
    for (const [key, id] of this.sentV2) {
      if (!match(id)) continue;
      this.inflight.delete(key);
      this.sentV2.delete(key);
    }
    this.pump();
  }

  private onReject(r: Reject): void {
    if (r.epoch !== undefined && r.epoch !== this.buffer.epoch) return;
    this.counters.rejects++;
    const lane = laneName(r.lane);
    if (r.reason === RejectReason.UnknownDictionary && r.dictionary !== undefined) {
      // The cloud lost (or never had) the dictionary: resend what used it, with names.
      this.log.info({ dictionary: r.dictionary }, 'cloud does not know the series dictionary; sending names again');
      this.live.forgotten(r.dictionary);
      this.resendV2((id) => id === r.dictionary);
      return;
    }
    if (r.reason === RejectReason.UnsupportedVersion && this.live.enabled && this.sentV2.size > 0 && r.firstSeq === undefined) {
      // An older cloud: it reads version 1 only. Send everything as version 1 from now on.
      this.log.warn({ detail: r.detail }, 'cloud reads wire version 1 only; live ranges go without a series dictionary');
      this.live.enabled = false;
      this.resendV2(() => true);
      return;
    }
    this.log.error({ lane, firstSeq: r.firstSeq, lastSeq: r.lastSeq, reason: RejectReason[r.reason], detail: r.detail }, 'cloud rejected a batch');
    if (r.firstSeq === undefined || r.lastSeq === undefined) return; // no range: the ack timeout resends a fresh encoding
    const key = `${lane}:${r.firstSeq}`;
    const range = this.buffer.outbox(lane).find((o) => o.firstSeq === r.firstSeq && o.lastSeq === r.lastSeq);
    if (!range || this.abandoned.has(key)) return;
    this.inflight.delete(key);
    if (r.reason === RejectReason.TooLarge && lane === 'telemetry') {
      const { seqs } = this.buffer.telemetryRange(range.firstSeq, range.lastSeq);
      if (seqs.length >= 2) {
        this.buffer.splitRange(lane, range.firstSeq, seqs[(seqs.length >> 1) - 1]);
        this.counters.splits++;
        return;
      }
    }
    if (r.reason === RejectReason.ChecksumMismatch && (this.checksumRejects.get(key) ?? 0) === 0) {
      this.checksumRejects.set(key, 1); // damaged on the way: one fresh send
      return;
    }
    // The cloud can never commit this content: send the range empty so the cloud's prefix
    // moves on, and record what was given up in the event lane (audited in the cloud).
    this.abandoned.add(key);
    this.counters.abandoned++;
    const lost = lane === 'telemetry' ? this.buffer.telemetryRange(range.firstSeq, range.lastSeq).seqs.length : this.buffer.events(range.firstSeq, range.lastSeq).length;
    this.buffer.appendEvent(Date.now(), 'event', {
      kind: 'event',
      type: 'batch_rejected',
      message: `cloud rejected ${lane} ${range.firstSeq}..${range.lastSeq} (${RejectReason[r.reason]}): ${r.detail}`.slice(0, 4000),
      details: { lane, firstSeq: range.firstSeq, lastSeq: range.lastSeq, reason: RejectReason[r.reason], items: lost },
    });
    this.pump();
  }
}
