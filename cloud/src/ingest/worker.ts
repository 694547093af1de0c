/**
 * An ingest worker: subscribes to gateways' uplinks, commits each batch once,
 * and answers with the end-to-end ack that lets the gateway reclaim space.
 * Stateless: N workers share the load through an MQTT shared subscription
 * (`$share/ingest/...`) on brokers that have them (Mosquitto, EMQX).
 *
 *   lifeline/<gw>/up/{telemetry,events} ─▶ decodeUplink (gateway = the topic's) ─▶ names and time window checked
 *        ─▶ store.commit (gateway, epoch, seqs: each epoch its own seq space) ─▶ encodeAck (epoch, range) ─▶ lifeline/<gw>/down/ack
 *   lifeline/<gw>/status                ─▶ StatusHandler (status.ts): schema check ─▶ registry, clock offset, config-apply alarm
 *   lifeline/<gw>/up/reply              ─▶ ignored here (cloud/src/ingest/command-channel.ts takes command answers)
 *
 * A malformed or forged batch is answered with a Reject, counted and logged;
 * it is never retried here and never blocks the next message. The gateway
 * then sends the range again empty (and says so in its event lane), so the
 * committed prefix moves past it. A refused batch marks its gateway faulty
 * and raises a cloud alarm (cloud-alarms.ts) until one of its batches commits.
 * Readings stamped outside a sane window around the gateway's clock are
 * dropped and counted; the rest of the batch is committed.
 *
 * Ordering and concurrency: messages are queued per gateway and lane, committed
 * in arrival order, up to `concurrency` queues at once, and reading from the broker
 * pauses at `maxPending` held (lane-queues.ts). Where several telemetry batches of
 * one queue wait (a backlog draining), consecutive ones commit as one range in one
 * transaction (`runReadings`, telemetry-runs.ts), only if that range extends the
 * committed prefix, and each is acked after it; otherwise they commit one by one.
 */
import mqtt, { type MqttClient } from 'mqtt';
import {
  Lane,
  MessageType,
  RejectReason,
  decodeLive,
  decodeUplink,
  peekLiveDictionary,
  gatewayOfTopic,
  isLifelineError,
  peekHeader,
  rejectReasonFor,
  topics,
  type SeriesColumns,
} from '@lifeline/shared';
import type { CommitResult } from '../store/telemetry-store.js';
import { CloudAlarms } from '../cloud-alarms.js';
import { GatewayAnswers, type RejectRange } from './gateway-answers.js';
import { checkNames, refuseBadData } from './batch-checks.js';
import { StatusHandler } from './status.js';
import { DictionaryCache } from './dictionaries.js';
import { LaneQueues } from './lane-queues.js';
import { positiveInt, type IngestCounters, type IngestOptions } from './options.js';
import { readingCount, runLength, runnable, type Decoded, type Job } from './telemetry-runs.js';
import { TimeWindow } from './time-window.js';

export type { IngestCounters, IngestOptions } from './options.js';

export class IngestWorker {
  readonly counters: IngestCounters = { batches: 0, epochsOpened: 0, duplicates: 0, readings: 0, events: 0, rejected: 0, statuses: 0, badStatuses: 0, readingsOutOfWindow: 0, dictionariesLearned: 0, unknownDictionaries: 0 };
  /** Rejects by reason name, for health checks. */
  readonly rejectsByReason: Record<string, number> = {};
  /** `gateway\0lane\0epoch` of epochs recorded in the store. */
  private readonly epochs = new Set<string>();
  private readonly alarms: CloudAlarms;
  /** Acks, rejects and the gateways' fault state. */
  private readonly answers: GatewayAnswers;
  /** Series dictionaries learned (memory only: a restart forgets them and gateways send names again). */
  readonly dictionaries: DictionaryCache;
  /** The status lane: registry, clock offsets (the centre of the timestamp window), config-apply alarms. */
  private readonly statuses: StatusHandler;
  /** Drops readings stamped far from their gateway's clock. */
  private readonly window: TimeWindow;
  private client?: MqttClient;
  readonly concurrency: number;
  readonly maxPending: number;
  readonly maxMessageBytes: number;
  readonly runReadings: number;
  /** Messages per gateway and lane, committed in order, a bounded number held. */
  private readonly lanes: LaneQueues<Job>;
  /** A message that arrived while stopping: not taken, not PUBACKed. */
  private refused?: unknown;
  private stopping = false;

  constructor(private readonly opts: IngestOptions) {
    this.concurrency = positiveInt('concurrency', opts.concurrency, 4);
    this.maxPending = positiveInt('maxPending', opts.maxPending, 8 * this.concurrency);
    const pastMs = positiveInt('timeWindow.pastMs', opts.timeWindow?.pastMs, 20 * 365 * 86_400_000);
    const futureMs = positiveInt('timeWindow.futureMs', opts.timeWindow?.futureMs, 86_400_000);
    this.alarms = new CloudAlarms(opts.store);
    this.statuses = new StatusHandler(opts.store, this.alarms, this.counters, opts.log);
    this.window = new TimeWindow(this.statuses, pastMs, futureMs, this.counters, opts.log);
    this.answers = new GatewayAnswers(opts.store, this.alarms, this.counters, this.rejectsByReason, opts.log, () => this.client!);
    this.maxMessageBytes = positiveInt('maxMessageBytes', opts.maxMessageBytes, 1_048_576);
    this.dictionaries = new DictionaryCache(positiveInt('maxDictionaries', opts.maxDictionaries, 10_000));
    this.runReadings = positiveInt('runReadings', opts.runReadings, 100_000);
    this.lanes = new LaneQueues<Job>(
      this.concurrency,
      this.maxPending,
      (queue) => runLength(queue, this.runReadings),
      (jobs) => (jobs.length > 1 ? this.handleRun(jobs) : this.handle(jobs[0].topic, jobs[0].payload, jobs[0].decoded)),
      opts.log,
    );
  }

  /** Messages held now (queued or committing); never above maxPending. */
  get pending(): number {
    return this.lanes.pending;
  }

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
    // mqtt.js emits 'message' and then calls handleMessage for the same packet, and
    // sends the PUBACK and reads the next packet only when handleMessage's callback runs.
    this.client.on('message', (topic, payload, packet) => {
      if (this.stopping) {
        this.refused = packet;
        return;
      }
      this.accept(topic, payload);
    });
    this.client.handleMessage = (packet, callback) => {
      if (packet === this.refused) {
        this.refused = undefined;
        // No PUBACK: the broker still owns it (and gives it to another worker of the share).
        return callback(new Error('ingest worker stopping'));
      }
      if (this.stopping) callback();
      else this.lanes.hold(() => callback());
    };
    this.client.on('error', (err) => opts.log.warn({ err: err.message }, 'ingest mqtt error'));
    await this.client.subscribeAsync(
      [opts.shared ? topics.ingestShare() : topics.ingestAll, topics.statusAll].map((t) => t),
      { qos: 1 },
    );
    opts.log.info({ url: opts.url, shared: !!opts.shared }, 'ingest worker subscribed');
  }

  async stop(): Promise<void> {
    // Take nothing new; finish what was taken (its PUBACK may go), then leave.
    this.stopping = true;
    this.lanes.release();
    await this.lanes.idle();
    await this.client?.endAsync();
  }

  /** Decode now (so the next batch decodes while the store commits), queue by gateway and lane. */
  private accept(topic: string, payload: Buffer): void {
    const gateway = gatewayOfTopic(topic);
    if (!gateway) return;
    const lane =
      topic === topics.events(gateway) ? 'events' : topic === topics.telemetry(gateway) || topic === topics.live(gateway) || topic === topics.status(gateway) ? 'telemetry' : undefined;
    if (!lane) return; // up/reply and the like: not ingest's
    if (payload.length > this.maxMessageBytes) return this.refuseOversize(topic, gateway, payload);
    let decoded: Decoded;
    try {
      decoded = this.decode(topic, payload);
    } catch (err) {
      decoded = { err };
    }
    this.lanes.push(`${gateway}\0${lane}`, { topic, payload, decoded });
  }

  /** A message over maxMessageBytes: counted and refused, never decoded (only a batch header is peeked, to name its range). */
  private refuseOversize(topic: string, gateway: string, payload: Buffer): void {
    const detail = `message of ${payload.length} bytes is over the limit of ${this.maxMessageBytes}`;
    if (topic === topics.status(gateway)) {
      this.counters.badStatuses++;
      this.opts.log.warn({ gateway, bytes: payload.length }, `dropped a gateway status: ${detail}`);
      return;
    }
    let range: { firstSeq?: number; lastSeq?: number; epoch?: number } = {};
    try {
      const h = peekHeader(payload);
      // A header naming another gateway is forged: its range is not this gateway's to hear about.
      if (h.gateway === gateway) range = { firstSeq: h.firstSeq, lastSeq: h.lastSeq, epoch: h.epoch };
    } catch {
      // No readable header: the reject names no range.
    }
    const lane = topic === topics.events(gateway) ? Lane.Events : Lane.Telemetry;
    this.answers.reject(gateway, lane, range, RejectReason.TooLarge, detail).catch((err: unknown) => this.opts.log.error({ err, gateway }, 'could not answer an oversized batch'));
  }

  /** Decodes an uplink batch (synchronous CPU work, done as the message arrives). */
  private decode(topic: string, payload: Buffer): Decoded {
    const gateway = gatewayOfTopic(topic);
    if (!gateway) return {};
    // Decoded in arrival order: a batch defining a dictionary is learned before the Live frames after it.
    if (topic === topics.live(gateway)) return { msg: { type: MessageType.Telemetry, batch: decodeLive(payload, gateway, (id) => this.dictionaries.get(gateway, id)) } };
    if (topic !== topics.telemetry(gateway) && topic !== topics.events(gateway)) return {};
    // The topic is what the broker authenticated: a batch naming another gateway is forged.
    const msg = decodeUplink(payload, { gateway, columns: true });
    if (msg.type === MessageType.Telemetry && msg.batch.dictionary) {
      this.dictionaries.learn(gateway, msg.batch.dictionary);
      this.counters.dictionariesLearned++;
    }
    return { msg };
  }

  private async handle(topic: string, payload: Buffer, decoded: Decoded): Promise<void> {
    const gateway = gatewayOfTopic(topic);
    if (!gateway) return;
    if (topic === topics.status(gateway)) return this.statuses.handle(gateway, payload);
    const live = topic === topics.live(gateway);
    if (topic !== topics.telemetry(gateway) && topic !== topics.events(gateway) && !live) return;
    const lane = topic === topics.events(gateway) ? Lane.Events : Lane.Telemetry;
    let range: RejectRange = {};
    try {
      if (live) {
        // A Live frame's range is relative to its dictionary: name the range only if it decoded.
        range = decoded.msg ? { firstSeq: decoded.msg.batch.firstSeq, lastSeq: decoded.msg.batch.lastSeq, epoch: decoded.msg.batch.epoch } : {};
        range.dictionary = peekLiveDictionary(payload);
      } else {
        const h = peekHeader(payload);
        range = { firstSeq: h.firstSeq, lastSeq: h.lastSeq, epoch: h.epoch, dictionary: h.dictionary };
      }
    } catch {
      // The header itself is unreadable; the reject names no range.
    }
    try {
      if (decoded.err !== undefined) throw decoded.err;
      const msg = decoded.msg!;
      const laneName = lane === Lane.Telemetry ? 'telemetry' : 'events';
      const epoch = msg.batch.epoch ?? 0;
      await this.noteEpoch(gateway, laneName, epoch);
      const { firstSeq, lastSeq } = msg.batch;
      let result;
      if (msg.type === MessageType.Telemetry) {
        const b = msg.batch;
        const rows = 'series' in b ? { series: this.window.series(gateway, b.series) } : { readings: this.window.readings(gateway, b.readings) };
        checkNames('series' in b ? b.series : b.readings, 'series' in b ? 'series' : 'readings');
        checkNames(b.gaps ?? [], 'gaps');
        result = await refuseBadData(() => this.opts.store.telemetry.commitTelemetry({ gateway, epoch, firstSeq, lastSeq, ...rows, gaps: b.gaps }));
      } else {
        checkNames(msg.batch.events, 'events');
        result = await refuseBadData(() => this.opts.store.telemetry.commitEvents({ gateway, epoch, firstSeq, lastSeq, events: msg.batch.events }));
      }
      this.counters.batches++;
      if (result.duplicate) this.counters.duplicates++;
      else if (msg.type === MessageType.Telemetry) this.counters.readings += readingCount(msg.batch);
      else this.counters.events += msg.batch.events.length;
      // Version 2 (a Live frame or a batch defining a dictionary): say the dictionary is held.
      const held = range.dictionary !== undefined && this.dictionaries.get(gateway, range.dictionary) ? range.dictionary : undefined;
      this.answers.ack(gateway, msg.batch.epoch, lane, firstSeq, lastSeq, result.committedUpTo, held);
      if (!this.answers.settled.has(gateway)) await this.answers.settle(gateway);
    } catch (err) {
      if (!isLifelineError(err)) throw err;
      return this.answers.reject(gateway, lane, range, rejectReasonFor(err), err.message);
    }
  }

  /**
   * Batches of a backlog committed as one range in one transaction (fewer commits, rollup minutes merged),
   * each acked after it. A run that does not extend the committed prefix (a resend, an early range), or
   * that a check or the store refuses, is committed batch by batch instead: duplicates and refusals stay per batch.
   */
  private async handleRun(jobs: Job[]): Promise<void> {
    const gateway = gatewayOfTopic(jobs[0].topic)!;
    const batches = jobs.map((j) => runnable(j)!);
    const epoch = batches[0].epoch ?? 0;
    let result: CommitResult | undefined;
    try {
      await this.noteEpoch(gateway, 'telemetry', epoch);
      for (const b of batches) checkNames(b.series, 'series');
      const series = ([] as SeriesColumns[]).concat(...batches.map((b) => this.window.series(gateway, b.series)));
      const { firstSeq } = batches[0];
      const { lastSeq } = batches[batches.length - 1];
      result = await refuseBadData(() => this.opts.store.telemetry.commitTelemetry({ gateway, epoch, firstSeq, lastSeq, series, onlyInOrder: true }));
    } catch (err) {
      if (!isLifelineError(err)) throw err;
    }
    if (!result || result.skipped) {
      for (const j of jobs) await this.handle(j.topic, j.payload, j.decoded);
      return;
    }
    for (const b of batches) {
      this.counters.batches++;
      if (result.duplicate) this.counters.duplicates++;
      else this.counters.readings += b.order.length;
      this.answers.ack(gateway, b.epoch, Lane.Telemetry, b.firstSeq, b.lastSeq, result.committedUpTo);
    }
    if (!this.answers.settled.has(gateway)) await this.answers.settle(gateway);
  }

  /** Record an epoch the first time this worker sees it (every epoch is its own seq space: nothing to refuse). */
  private async noteEpoch(gateway: string, lane: 'telemetry' | 'events', epoch: number): Promise<void> {
    const key = `${gateway}\0${lane}\0${epoch}`;
    if (this.epochs.has(key)) return;
    if (await this.opts.store.telemetry.openEpoch(gateway, lane, epoch, Date.now())) {
      this.counters.epochsOpened++;
      this.opts.log.info({ gateway, lane, epoch }, 'new buffer epoch');
    }
    this.epochs.add(key);
  }
}
