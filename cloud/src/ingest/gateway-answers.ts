/**
 * What the ingest worker answers a gateway on `lifeline/<gw>/down/ack`, and the
 * gateway's fault state: an Ack per committed range; a Reject per refused batch,
 * which marks the gateway faulty and raises a cloud alarm until one of its
 * batches commits again. Neither answer is awaited: while the worker's reading
 * is paused at its bound, the broker's PUBACK of it cannot be read.
 */
import { Lane, RejectReason, encodeAck, encodeReject, topics } from '@lifeline/shared';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { cloudAlarmIds, type CloudAlarms } from '../cloud-alarms.js';
import type { IngestCounters } from './options.js';

/** The range a reject names, as far as the batch's header could be read. */
export type RejectRange = { firstSeq?: number; lastSeq?: number; epoch?: number; dictionary?: number };

export class GatewayAnswers {
  /** Gateways whose fault state this worker has settled since its last reject of them (so a commit need not ask the store). */
  readonly settled = new Set<string>();

  constructor(
    private readonly store: Pick<Store, 'registry'>,
    private readonly alarms: CloudAlarms,
    private readonly counters: Pick<IngestCounters, 'rejected' | 'unknownDictionaries'>,
    /** Rejects by reason name, for health checks. */
    private readonly rejectsByReason: Record<string, number>,
    private readonly log: Logger,
    /** The worker's connection (made in its start()). */
    private readonly client: () => MqttClient,
  ) {}

  /** The end-to-end ack of one range (not awaited: the next batch need not wait for the broker's PUBACK of it). */
  ack(gateway: string, epoch: number | undefined, lane: Lane, firstSeq: number, lastSeq: number, committedUpTo: number, dictionary?: number): void {
    const ack = encodeAck({
      gateway,
      ts: Date.now(),
      ...(epoch !== undefined ? { epoch } : {}),
      ...(lane === Lane.Telemetry ? { telemetry: committedUpTo } : { events: committedUpTo }),
      range: { lane, firstSeq, lastSeq },
      ...(dictionary !== undefined ? { dictionary } : {}),
    });
    this.publish(gateway, ack, 'ack');
  }

  /** A batch of the gateway committed: it is no longer faulty (a cleared fault clears its alarm). */
  async settle(gateway: string): Promise<void> {
    if (await this.store.registry.clearRejects(gateway, Date.now())) {
      this.log.info({ gateway }, 'gateway batches commit again');
      await this.alarms.clear(gateway, cloudAlarmIds.batchesRejected, 'batches commit again');
    }
    this.settled.add(gateway);
  }

  async reject(gateway: string, lane: Lane, range: RejectRange, reason: RejectReason, detail: string): Promise<void> {
    if (reason === RejectReason.UnknownDictionary && range.dictionary !== undefined) {
      // Not a fault: this worker restarted or never saw the definition. The gateway sends names again.
      this.counters.unknownDictionaries++;
      this.log.info({ gateway, dictionary: range.dictionary }, 'live frame names a series dictionary not held here; asking for names');
      const msg = encodeReject({ gateway, ts: Date.now(), lane, reason, dictionary: range.dictionary, detail: detail.slice(0, 1000) });
      this.publish(gateway, msg, 'reject');
      return;
    }
    this.counters.rejected++;
    this.rejectsByReason[RejectReason[reason]] = (this.rejectsByReason[RejectReason[reason]] ?? 0) + 1;
    this.log.warn({ gateway, lane: Lane[lane], ...range, reason: RejectReason[reason], detail }, 'rejected an uplink batch');
    // A forged batch names a range of another gateway's seqs: do not echo it back as if it were this gateway's.
    const named = reason === RejectReason.GatewayMismatch ? {} : { firstSeq: range.firstSeq, lastSeq: range.lastSeq, epoch: range.epoch };
    // A Live frame's reject is version 2 (only a version 2 gateway sends one): it names the dictionary.
    if (range.dictionary !== undefined && reason !== RejectReason.GatewayMismatch) Object.assign(named, { dictionary: range.dictionary });
    const msg = encodeReject({ gateway, ts: Date.now(), lane, ...named, reason, detail: detail.slice(0, 1000) });
    this.publish(gateway, msg, 'reject');
    // A gateway whose batches are refused is faulty: visible in its status and health, and an alarm for the duty officer.
    this.settled.delete(gateway);
    const cause = `cloud refused a ${Lane[lane].toLowerCase()} batch (${RejectReason[reason]}): ${detail}`.slice(0, 500);
    await this.store.registry.recordReject(gateway, RejectReason[reason], Date.now());
    await this.alarms.raise(gateway, cloudAlarmIds.batchesRejected, 3, cause);
  }

  /** Not awaited: a lost answer is resent by the gateway. */
  private publish(gateway: string, msg: Uint8Array, what: 'ack' | 'reject'): void {
    this.client()
      .publishAsync(topics.ack(gateway), Buffer.from(msg), { qos: 1 })
      .catch((err) => this.log.warn({ err: (err as Error).message, gateway }, `${what} publish failed; the gateway resends`));
  }
}
