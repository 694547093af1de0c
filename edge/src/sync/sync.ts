/**
 * Sync: moves buffered data to the cloud and reclaims it only when the cloud
 * says it has committed it. Only sync knows topics.
 *
 *   buffer.batchesAfter ─▶ encode ─▶ publish QoS 1 ─▶ broker ─▶ cloud ingest
 *   buffer.ack(lane, upTo) ◀─ decodeDownlink ◀─ lifeline/<gw>/down/ack ◀─┘
 *
 * The event lane (alarms) is pumped before telemetry. At most `window`
 * batches per lane are unacknowledged at once (mqtt.js stalls past 65,535
 * unacknowledged QoS 1 publishes); a batch not acknowledged within
 * ackTimeoutMs is sent again with the same range, which the cloud dedupes.
 */
import {
  MessageType,
  decodeDownlink,
  encodeEventBatch,
  encodeTelemetryBatch,
  isLifelineError,
  RejectReason,
  topics,
  type LaneEvent,
} from '@lifeline/shared';
import type { LoadedConfig } from '../config/load.js';
import type { EdgeBuffer, LaneName } from '../buffer/buffer.js';
import type { Extension } from '../agent/event-bus.js';
import type { Logger } from '../log.js';
import type { Transport } from './transport.js';

/** What sync tells about itself (status message, CLI, tests). */
export interface SyncCounters {
  batchesSent: number;
  batchesResent: number;
  acks: number;
  rejects: number;
  badDownlinks: number;
}

export class Sync implements Extension {
  readonly counters: SyncCounters = { batchesSent: 0, batchesResent: 0, acks: 0, rejects: 0, badDownlinks: 0 };
  /** Cloud clock minus gateway clock, ms, from the latest ack. */
  clockOffsetMs: number | null = null;
  private readonly inflight = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private statusTimer?: NodeJS.Timeout;
  private readonly gateway: string;
  private pumping = false;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly buffer: EdgeBuffer,
    private readonly transport: Transport,
    private readonly log: Logger,
    /** Unacknowledged batches allowed per lane. */
    private readonly window = 8,
  ) {
    this.gateway = loaded.config.gateway.id;
  }

  /** The retained status message; the last will carries the offline version. */
  statusMessage(online: boolean): string {
    const { config, profiles } = this.loaded;
    return JSON.stringify({
      gateway: this.gateway,
      online,
      ts: Date.now(),
      name: config.gateway.name,
      location: config.gateway.location,
      devices: config.buses.flatMap((b) =>
        b.devices.map((d) => {
          const p = profiles.get(d.id)!;
          return { id: d.id, profile: p.id, kind: p.kind, location: d.location, points: p.points.map((pt) => ({ name: pt.name, unit: pt.unit })) };
        }),
      ),
      backlog: online ? this.buffer.backlog('telemetry') : undefined,
      clockOffsetMs: this.clockOffsetMs,
    });
  }

  start(): void {
    this.transport.onMessage((topic, payload) => this.onDownlink(topic, payload));
    this.transport.onConnect(() => {
      this.log.info('connected to broker');
      // Whatever was in flight before the reconnect may be lost: send it again.
      this.inflight.clear();
      void this.transport.subscribe(topics.ack(this.gateway)).catch((err) => this.log.error({ err }, 'subscribe failed'));
      this.publishStatus();
    });
    this.transport.connect();
    this.timer = setInterval(() => this.pump(), this.loaded.config.sync.intervalMs);
    this.statusTimer = setInterval(() => this.publishStatus(), 30_000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.statusTimer);
    if (this.transport.connected) {
      await this.transport.publish(topics.status(this.gateway), this.statusMessage(false), { qos: 1, retain: true }).catch(() => {});
    }
    await this.transport.close();
  }

  private publishStatus(): void {
    if (!this.transport.connected) return;
    this.transport.publish(topics.status(this.gateway), this.statusMessage(true), { qos: 1, retain: true }).catch((err) => this.log.warn({ err: (err as Error).message }, 'status publish failed'));
  }

  /** Send what is due: events first, then telemetry. */
  pump(): void {
    if (!this.transport.connected || this.pumping) return;
    this.pumping = true;
    try {
      this.pumpLane('events');
      this.pumpLane('telemetry');
    } finally {
      this.pumping = false;
    }
  }

  private pumpLane(lane: LaneName): void {
    const { batchMaxReadings, ackTimeoutMs } = this.loaded.config.sync;
    const now = Date.now();
    const due = this.buffer.batchesAfter(lane, 0, lane === 'events' ? 1000 : batchMaxReadings, this.window);
    for (const b of due) {
      const key = `${lane}:${b.firstSeq}`;
      const sentAt = this.inflight.get(key);
      if (sentAt !== undefined && now - sentAt < ackTimeoutMs) continue;
      const payload = lane === 'telemetry' ? this.encodeTelemetry(b.firstSeq, b.lastSeq) : this.encodeEvents(b.firstSeq, b.lastSeq);
      this.inflight.set(key, now);
      if (sentAt === undefined) this.counters.batchesSent++;
      else this.counters.batchesResent++;
      const topic = lane === 'telemetry' ? topics.telemetry(this.gateway) : topics.events(this.gateway);
      this.transport.publish(topic, payload, { qos: 1 }).catch((err) => {
        this.inflight.delete(key);
        this.log.debug({ err: (err as Error).message, lane, firstSeq: b.firstSeq }, 'publish failed; will resend');
      });
    }
  }

  private encodeTelemetry(firstSeq: number, lastSeq: number): Uint8Array {
    const { readings, seqs } = this.buffer.readings(firstSeq, lastSeq);
    const full = seqs.length === lastSeq - firstSeq + 1;
    return encodeTelemetryBatch({ gateway: this.gateway, firstSeq, lastSeq, readings, seqs: full ? undefined : seqs });
  }

  private encodeEvents(firstSeq: number, lastSeq: number): Uint8Array {
    const events = this.buffer.events(firstSeq, lastSeq).map((e) => ({ ...(e.body as object), seq: e.seq, ts: e.ts }) as LaneEvent);
    return encodeEventBatch({ gateway: this.gateway, firstSeq, lastSeq, events });
  }

  private onDownlink(topic: string, payload: Uint8Array): void {
    if (topic !== topics.ack(this.gateway)) return;
    try {
      const msg = decodeDownlink(payload);
      if (msg.type === MessageType.Ack) {
        this.counters.acks++;
        this.clockOffsetMs = msg.ack.ts - Date.now();
        for (const lane of ['telemetry', 'events'] as const) {
          const upTo = msg.ack[lane];
          if (upTo === undefined || !this.buffer.ack(lane, upTo)) continue;
          for (const key of this.inflight.keys()) {
            const [l, first] = key.split(':');
            if (l === lane && Number(first) <= upTo) this.inflight.delete(key);
          }
        }
        // Room in the window: send the next batches now rather than at the next tick.
        this.pump();
      } else {
        this.counters.rejects++;
        const r = msg.reject;
        this.log.error({ lane: r.lane, firstSeq: r.firstSeq, lastSeq: r.lastSeq, reason: RejectReason[r.reason], detail: r.detail }, 'cloud rejected a batch');
      }
    } catch (err) {
      this.counters.badDownlinks++;
      this.log.warn({ err: isLifelineError(err) ? err.message : String(err) }, 'ignored a malformed downlink message');
    }
  }
}
