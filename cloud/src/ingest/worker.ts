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
 * Ordering and concurrency: messages are queued per gateway and lane (status
 * rides with the telemetry lane: both write the gateway's device rows). One
 * queue commits in arrival order, one batch at a time (the store's committed
 * prefix and epoch bases rely on it); up to `concurrency` queues commit at
 * once, taken round-robin. Where several telemetry batches of one queue wait
 * (a backlog draining), consecutive ones commit as one range in one transaction
 * (`runReadings`), only if that range extends the committed prefix, and each is
 * acked after it; otherwise they commit one by one. At `maxPending` messages held (queued or
 * committing) the worker stops reading from the broker: the MQTT PUBACK of the
 * next message waits, so the broker's inflight window holds the rest, not us.
 */
import mqtt, { type MqttClient } from 'mqtt';
import {
  ErrorCodes,
  LifelineError,
  Lane,
  MessageType,
  RejectReason,
  decodeLive,
  decodeUplink,
  encodeAck,
  peekLiveDictionary,
  encodeReject,
  gatewayOfTopic,
  isLifelineError,
  peekHeader,
  rejectReasonFor,
  topics,
  type Reading,
  type SeriesColumns,
  type Uplink,
  type UplinkColumns,
} from '@lifeline/shared';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { CommitResult } from '../store/telemetry-store.js';
import { CloudAlarms, cloudAlarmIds } from '../cloud-alarms.js';
import { checkNames, refuseBadData, splitByWindow, splitSeriesByWindow } from './batch-checks.js';
import { StatusHandler } from './status.js';
import { DictionaryCache } from './dictionaries.js';

export interface IngestOptions {
  url: string;
  store: Pick<Store, 'telemetry' | 'registry' | 'alarms'>;
  log: Logger;
  clientId?: string;
  /** Use a shared subscription (needs a broker that supports MQTT 5 / $share). */
  shared?: boolean;
  username?: string;
  password?: string;
  /**
   * Batches of different gateways committed at once (default 4). One gateway's
   * lane always commits in arrival order. A PgStore's pool needs at least this
   * many connections, plus what the API uses.
   */
  concurrency?: number;
  /** Messages held in memory (queued or committing) before the worker stops reading from the broker (default 8 × concurrency). */
  maxPending?: number;
  /**
   * Readings stamped further than this before or after the gateway's clock are dropped and counted
   * (default 20 years / 1 day: a far-future stamp would make a dead device look fresh for ever).
   */
  timeWindow?: { pastMs?: number; futureMs?: number };
  /** Largest message taken, bytes (default 1 MiB); a larger batch is answered TooLarge without being decoded. */
  maxMessageBytes?: number;
  /** Series dictionaries held in memory (default 10,000; wire version 2). */
  maxDictionaries?: number;
  /**
   * Most readings committed as one range when a gateway's telemetry batches queue up (a backlog
   * draining): consecutive queued batches of one epoch go into one transaction, each acked after it
   * (default 100,000; 1 commits every batch alone).
   */
  runReadings?: number;
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
  /** Readings dropped for a timestamp outside the window around their gateway's clock. */
  readingsOutOfWindow: number;
  /** Series dictionaries learned from gateways (wire version 2). */
  dictionariesLearned: number;
  /** Live frames naming a dictionary this worker does not hold (answered UnknownDictionary: not a fault). */
  unknownDictionaries: number;
}

/**
 * A message decoded on arrival: the batch, or why it could not be. A telemetry topic's batch is decoded
 * into columns per series (no object per reading, down to the store's COPY); a Live frame into readings.
 */
type Decoded = { msg?: Uplink | UplinkColumns; err?: unknown };
type Job = { topic: string; payload: Buffer; decoded: Decoded };

/** A telemetry batch of a backlog as a run may take it: decoded, on the telemetry topic, no gaps, no dictionary. */
type TelemetryRun = { epoch?: number; firstSeq: number; lastSeq: number; series: SeriesColumns[]; order: Uint32Array };

function runnable(job: Job): TelemetryRun | undefined {
  const msg = job.decoded.msg;
  if (!msg || msg.type !== MessageType.Telemetry || job.topic !== topics.telemetry(gatewayOfTopic(job.topic) ?? '')) return undefined;
  const b = msg.batch;
  if (!('series' in b) || b.gaps?.length || b.dictionary || !b.order.length) return undefined;
  return b;
}

/** Readings in a decoded telemetry batch. */
const readingCount = (b: { readings: Reading[] } | { order: Uint32Array }): number => ('order' in b ? b.order.length : b.readings.length);

function positiveInt(field: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new LifelineError(ErrorCodes.ConfigInvalid, `${field}: expected an integer ≥ 1, got ${JSON.stringify(v)}`);
  return v;
}

export class IngestWorker {
  readonly counters: IngestCounters = { batches: 0, epochsOpened: 0, duplicates: 0, readings: 0, events: 0, rejected: 0, statuses: 0, badStatuses: 0, readingsOutOfWindow: 0, dictionariesLearned: 0, unknownDictionaries: 0 };
  /** Rejects by reason name, for health checks. */
  readonly rejectsByReason: Record<string, number> = {};
  /** `gateway\0lane\0epoch` of epochs recorded in the store. */
  private readonly epochs = new Set<string>();
  /** Gateways whose fault state this worker has settled since its last reject of them (so a commit need not ask the store). */
  private readonly settled = new Set<string>();
  private readonly alarms: CloudAlarms;
  /** Series dictionaries learned (memory only: a restart forgets them and gateways send names again). */
  readonly dictionaries: DictionaryCache;
  /** The status lane: registry, clock offsets (the centre of the timestamp window), config-apply alarms. */
  private readonly statuses: StatusHandler;
  private readonly pastMs: number;
  private readonly futureMs: number;
  private client?: MqttClient;
  readonly concurrency: number;
  readonly maxPending: number;
  readonly maxMessageBytes: number;
  readonly runReadings: number;
  /** `gateway\0lane` → its messages not yet handled, oldest first; present while it has some. */
  private readonly queues = new Map<string, Job[]>();
  /** Queues with messages and none committing, in the order they became so. */
  private readonly ready: string[] = [];
  private active = 0;
  private pendingCount = 0;
  /** The PUBACK callback of the message that filled the bound: mqtt.js reads nothing more until it runs. */
  private held?: () => void;
  /** A message that arrived while stopping: not taken, not PUBACKed. */
  private refused?: unknown;
  private stopping = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: IngestOptions) {
    this.concurrency = positiveInt('concurrency', opts.concurrency, 4);
    this.maxPending = positiveInt('maxPending', opts.maxPending, 8 * this.concurrency);
    this.pastMs = positiveInt('timeWindow.pastMs', opts.timeWindow?.pastMs, 20 * 365 * 86_400_000);
    this.futureMs = positiveInt('timeWindow.futureMs', opts.timeWindow?.futureMs, 86_400_000);
    this.alarms = new CloudAlarms(opts.store);
    this.statuses = new StatusHandler(opts.store, this.alarms, this.counters, opts.log);
    this.maxMessageBytes = positiveInt('maxMessageBytes', opts.maxMessageBytes, 1_048_576);
    this.dictionaries = new DictionaryCache(positiveInt('maxDictionaries', opts.maxDictionaries, 10_000));
    this.runReadings = positiveInt('runReadings', opts.runReadings, 100_000);
  }

  /** Messages held now (queued or committing); never above maxPending. */
  get pending(): number {
    return this.pendingCount;
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
      if (this.pendingCount >= this.maxPending && !this.stopping) this.held = () => callback();
      else callback();
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
    this.release();
    if (this.pendingCount) await new Promise<void>((r) => this.idleWaiters.push(r));
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
    const key = `${gateway}\0${lane}`;
    const queue = this.queues.get(key);
    this.pendingCount++;
    if (queue) queue.push({ topic, payload, decoded });
    else {
      this.queues.set(key, [{ topic, payload, decoded }]);
      this.ready.push(key);
      this.pump();
    }
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
    this.reject(gateway, lane, range, RejectReason.TooLarge, detail).catch((err: unknown) => this.opts.log.error({ err, gateway }, 'could not answer an oversized batch'));
  }

  /** Start the next ready queues' heads (a run of batches where several queue up), up to the concurrency bound. */
  private pump(): void {
    while (this.active < this.concurrency && this.ready.length) {
      const key = this.ready.shift()!;
      const queue = this.queues.get(key)!;
      const n = this.runLength(queue);
      this.active++;
      void (n > 1 ? this.handleRun(queue.slice(0, n)) : this.handle(queue[0].topic, queue[0].payload, queue[0].decoded))
        .catch((err) => this.opts.log.error({ err }, 'ingest failed on a message'))
        .finally(() => this.done(key, n));
    }
  }

  /**
   * How many of a queue's first jobs commit as one range: consecutive decoded telemetry batches of one
   * epoch, each starting where the last ended, without gaps or a dictionary, up to runReadings readings.
   */
  private runLength(queue: Job[]): number {
    let n = 0;
    let readings = 0;
    let prev: TelemetryRun | undefined;
    for (const job of queue) {
      const b = runnable(job);
      if (!b || (prev && (b.epoch !== prev.epoch || b.firstSeq !== prev.lastSeq + 1)) || (n && readings + b.order.length > this.runReadings)) break;
      n++;
      readings += b.order.length;
      prev = b;
    }
    return Math.max(n, 1);
  }

  private done(key: string, n: number): void {
    this.active--;
    this.pendingCount -= n;
    const queue = this.queues.get(key)!;
    queue.splice(0, n);
    // To the back of the line: a gateway with a deep queue does not starve the others.
    if (queue.length) this.ready.push(key);
    else this.queues.delete(key);
    if (this.pendingCount < this.maxPending) this.release();
    this.pump();
    if (this.pendingCount === 0) for (const r of this.idleWaiters.splice(0)) r();
  }

  private release(): void {
    const held = this.held;
    this.held = undefined;
    held?.();
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
    let range: { firstSeq?: number; lastSeq?: number; epoch?: number; dictionary?: number } = {};
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
        const rows = 'series' in b ? { series: this.seriesInWindow(gateway, b.series) } : { readings: this.inWindow(gateway, b.readings) };
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
      this.ack(gateway, msg.batch.epoch, lane, firstSeq, lastSeq, result.committedUpTo, held);
      if (!this.settled.has(gateway)) await this.settle(gateway);
    } catch (err) {
      if (!isLifelineError(err)) throw err;
      return this.reject(gateway, lane, range, rejectReasonFor(err), err.message);
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
      const series = ([] as SeriesColumns[]).concat(...batches.map((b) => this.seriesInWindow(gateway, b.series)));
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
      this.ack(gateway, b.epoch, Lane.Telemetry, b.firstSeq, b.lastSeq, result.committedUpTo);
    }
    if (!this.settled.has(gateway)) await this.settle(gateway);
  }

  /** The end-to-end ack of one range (not awaited: the next batch need not wait for the broker's PUBACK of it). */
  private ack(gateway: string, epoch: number | undefined, lane: Lane, firstSeq: number, lastSeq: number, committedUpTo: number, dictionary?: number): void {
    const ack = encodeAck({
      gateway,
      ts: Date.now(),
      ...(epoch !== undefined ? { epoch } : {}),
      ...(lane === Lane.Telemetry ? { telemetry: committedUpTo } : { events: committedUpTo }),
      range: { lane, firstSeq, lastSeq },
      ...(dictionary !== undefined ? { dictionary } : {}),
    });
    this.client!.publishAsync(topics.ack(gateway), Buffer.from(ack), { qos: 1 }).catch((err) => this.opts.log.warn({ err: (err as Error).message, gateway }, 'ack publish failed; the gateway resends'));
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

  /** Readings inside the window around the gateway's clock; the others are counted and logged. */
  private inWindow(gateway: string, readings: Reading[]): Reading[] {
    const window = this.window(gateway);
    const { kept, dropped, first } = splitByWindow(readings, ...window);
    this.outOfWindow(gateway, window, dropped, first);
    return kept;
  }

  /** inWindow for a batch as columns per series. */
  private seriesInWindow(gateway: string, series: SeriesColumns[]): SeriesColumns[] {
    const window = this.window(gateway);
    const { kept, dropped, first } = splitSeriesByWindow(series, ...window);
    this.outOfWindow(gateway, window, dropped, first);
    return kept;
  }

  private window(gateway: string): readonly [number, number] {
    const centre = Date.now() - this.statuses.clockOffset(gateway);
    return [centre - this.pastMs, centre + this.futureMs];
  }

  private outOfWindow(gateway: string, window: readonly [number, number], dropped: number, first?: { device: string; point: string; ts: number }): void {
    if (first) {
      this.counters.readingsOutOfWindow += dropped;
      this.opts.log.warn(
        { gateway, dropped, device: first.device, point: first.point, ts: first.ts, window },
        `dropped ${dropped} reading(s) stamped outside the window around the gateway's clock (e.g. ${first.device}/${first.point} ts ${first.ts})`,
      );
    }
  }

  /** A batch of the gateway committed: it is no longer faulty (a cleared fault clears its alarm). */
  private async settle(gateway: string): Promise<void> {
    if (await this.opts.store.registry.clearRejects(gateway, Date.now())) {
      this.opts.log.info({ gateway }, 'gateway batches commit again');
      await this.alarms.clear(gateway, cloudAlarmIds.batchesRejected, 'batches commit again');
    }
    this.settled.add(gateway);
  }

  private async reject(
    gateway: string,
    lane: Lane,
    range: { firstSeq?: number; lastSeq?: number; epoch?: number; dictionary?: number },
    reason: RejectReason,
    detail: string,
  ): Promise<void> {
    if (reason === RejectReason.UnknownDictionary && range.dictionary !== undefined) {
      // Not a fault: this worker restarted or never saw the definition. The gateway sends names again.
      this.counters.unknownDictionaries++;
      this.opts.log.info({ gateway, dictionary: range.dictionary }, 'live frame names a series dictionary not held here; asking for names');
      const msg = encodeReject({ gateway, ts: Date.now(), lane, reason, dictionary: range.dictionary, detail: detail.slice(0, 1000) });
      this.client!.publishAsync(topics.ack(gateway), Buffer.from(msg), { qos: 1 }).catch((err) => this.opts.log.warn({ err: (err as Error).message, gateway }, 'reject publish failed; the gateway resends'));
      return;
    }
    this.counters.rejected++;
    this.rejectsByReason[RejectReason[reason]] = (this.rejectsByReason[RejectReason[reason]] ?? 0) + 1;
    this.opts.log.warn({ gateway, lane: Lane[lane], ...range, reason: RejectReason[reason], detail }, 'rejected an uplink batch');
    // A forged batch names a range of another gateway's seqs: do not echo it back as if it were this gateway's.
    const named = reason === RejectReason.GatewayMismatch ? {} : { firstSeq: range.firstSeq, lastSeq: range.lastSeq, epoch: range.epoch };
    // A Live frame's reject is version 2 (only a version 2 gateway sends one): it names the dictionary.
    if (range.dictionary !== undefined && reason !== RejectReason.GatewayMismatch) Object.assign(named, { dictionary: range.dictionary });
    const msg = encodeReject({ gateway, ts: Date.now(), lane, ...named, reason, detail: detail.slice(0, 1000) });
    // Not awaited, like acks: while reading is paused at the bound, the broker's PUBACK cannot be read.
    this.client!.publishAsync(topics.ack(gateway), Buffer.from(msg), { qos: 1 }).catch((err) => this.opts.log.warn({ err: (err as Error).message, gateway }, 'reject publish failed; the gateway resends'));
    // A gateway whose batches are refused is faulty: visible in its status and health, and an alarm for the duty officer.
    this.settled.delete(gateway);
    const cause = `cloud refused a ${Lane[lane].toLowerCase()} batch (${RejectReason[reason]}): ${detail}`.slice(0, 500);
    await this.opts.store.registry.recordReject(gateway, RejectReason[reason], Date.now());
    await this.alarms.raise(gateway, cloudAlarmIds.batchesRejected, 3, cause);
  }
}
