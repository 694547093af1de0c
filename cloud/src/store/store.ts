/**
 * The cloud store: one interface, two engines (SQLite for one box, PostgreSQL
 * for the city). Ingest commits batches idempotently; the API reads and keeps
 * the registry, alarms, commands, configs, tokens, enrolments and webhooks.
 *
 *   ingest ─▶ commitTelemetry / commitEvents / saveGatewayStatus ─▶ readings, rollups, events, alarms
 *   API    ─▶ readings / downsample / list* / registry / alarms / tokens / … ─▶ JSON
 *
 * One contract suite (cloud/test/store/contract.ts) runs against both engines.
 */
import type { AlarmState, GapRecord, LaneEvent, Reading } from '@lifeline/shared';

/** The epoch of the event lane the cloud writes for a gateway itself (its own alarms about that gateway). */
export const CLOUD_EPOCH = -1;

/** A telemetry batch as the ingest decoded it. */
export interface TelemetryBatch {
  /** The gateway that authenticated (the topic), never a name from the payload: its devices are the only ones touched. */
  gateway: string;
  /** The gateway's buffer epoch: its own seq space (docs/wire-protocol.md §1.1). Default 0 (writers before epochs). */
  epoch?: number;
  firstSeq: number;
  lastSeq: number;
  readings: Reading[];
  /** Thinned ranges the batch reports (gateway disk budget); stored with the batch, once. */
  gaps?: GapRecord[];
}

/** A gap record as stored: a thinned range of one point, and what was kept of it. */
export interface GapInfo {
  id: number;
  gateway: string;
  device: string;
  point: string;
  /** Epoch ms, inclusive. */
  from: number;
  to: number;
  /** Gateway seq range (in its epoch) of the batch that reported it. */
  firstSeq: number;
  lastSeq: number;
  /** Per-minute aggregates kept (may be empty: nothing kept). */
  minutes: GapRecord['minutes'];
  /** Raw readings the kept minutes stand for. */
  keptReadings: number;
  committedAt: number;
}

/** What the store did with a batch. */
export interface CommitResult {
  /** True if this exact range was already committed (nothing stored again). */
  duplicate: boolean;
  /** Highest seq of the batch's epoch such that every seq up to it is committed, for the gateway's ack. */
  committedUpTo: number;
}

/** Where a device or gateway is: WGS-84 plus the city's district and grid unit. */
export interface Location {
  /** WGS-84 longitude, degrees. */
  lon: number;
  /** WGS-84 latitude, degrees. */
  lat: number;
  district?: string;
  /** City grid-management unit. */
  gridUnit?: string;
}

/** A device instance the cloud has heard of. */
export interface DeviceInfo {
  id: string;
  gateway: string;
  profile: string | null;
  /** Lifeline kind (flood, gas, bridge, …). */
  kind: string | null;
  /** Epoch ms of its newest reading, or null if none yet. */
  lastReadingTs: number | null;
  location: Location | null;
  /** Points the gateway reports for it, with units. */
  points: { name: string; unit: string }[];
  name?: string | null;
}

/** What a gateway tells about itself in its retained status message. */
export interface GatewayStatus {
  gateway: string;
  online: boolean;
  ts: number;
  name?: string;
  location?: Location;
  devices?: { id: string; profile: string; kind?: string; location?: Location; points?: DeviceInfo['points'] }[];
  backlog?: { depth: number; oldestTs: number | null };
  clockOffsetMs?: number | null;
  /** The config it runs (secrets redacted by the gateway), kept as the running config. */
  config?: Record<string, unknown>;
  /** How the last pushed config fared on the gateway (confirmed, or rolled back with a reason): kept as the config answer. */
  configApply?: { command?: string; result: 'confirmed' | 'rolled_back'; reason?: string; ts: number };
}

/** A gateway in the registry, with its last reported status. */
export interface GatewayInfo {
  id: string;
  name: string | null;
  location: Location | null;
  /** Lifeline kind the box mainly watches, if set by a technician. */
  kind: string | null;
  online: boolean;
  /** Epoch ms of its last status message (or last batch). */
  lastSeen: number | null;
  /** Epoch ms it was first heard of or enrolled. */
  firstSeen: number | null;
  backlog: { depth: number; oldestTs: number | null; ageMs: number | null } | null;
  clockOffsetMs: number | null;
  /** Epoch ms it was revoked, or null. */
  revokedAt: number | null;
  /** Batches the cloud refused: a gateway is faulty from a refusal until a batch of it commits again. */
  sync: { faulty: boolean; rejects: number; lastRejectAt: number | null; lastRejectReason: string | null };
}

/** Fields a technician may set in the registry; absent fields are left alone. */
export interface RegistryPatch {
  name?: string | null;
  kind?: string | null;
  location?: Location | null;
  /** Gateways only: null lifts a revocation (an admin's reinstatement; the MQTT login stays revoked). */
  revokedAt?: null;
}

export interface ReadingsQuery {
  gateway: string;
  device: string;
  point: string;
  from: number;
  to: number;
  /** Maximum rows returned. */
  limit: number;
}

/** A downsampled query: buckets of `step` ms starting at `from`. */
export interface DownsampleQuery {
  gateway: string;
  device: string;
  point: string;
  /** Epoch ms, inclusive; bucket i starts at from + i·step. */
  from: number;
  /** Epoch ms, inclusive. */
  to: number;
  /** Bucket width, ms (≥ 1). */
  step: number;
}

/**
 * One bucket of a downsampled series. Only buckets holding at least one
 * reading with a value are returned (readings without one, quality bad, are not counted).
 */
export interface Bucket {
  /** Bucket start, epoch ms. */
  ts: number;
  min: number;
  max: number;
  mean: number;
  /** Readings with a value in the bucket. */
  count: number;
}

/** An event-lane batch as the ingest decoded it. */
export interface EventBatchIn {
  gateway: string;
  /** Buffer epoch, as in TelemetryBatch (default 0); the cloud's own alarms use CLOUD_EPOCH. */
  epoch?: number;
  firstSeq: number;
  lastSeq: number;
  events: LaneEvent[];
}

/** An alarm's current state, derived from the transitions its gateway sent. */
export interface AlarmInfo {
  /** Cloud id, used in API paths. */
  id: number;
  gateway: string;
  /** The gateway's stable alarm id, e.g. `flood-1/water_level/threshold`. */
  alarmId: string;
  device: string;
  point: string;
  detector: string;
  /** 0 normal … 4 red. */
  level: number;
  state: AlarmState;
  /** Epoch ms of the last transition. */
  since: number;
  cause: string;
  value: number | null;
  /** Epoch ms it last left normal. */
  raisedAt: number | null;
  /** Of its device, from the registry. */
  kind: string | null;
  district: string | null;
}

/** Alarm list filter; every field optional, lists are OR-ed, fields AND-ed. */
export interface AlarmFilter {
  state?: AlarmState[];
  /** Minimum level. */
  minLevel?: number;
  level?: number[];
  kind?: string[];
  district?: string[];
  gateway?: string;
  device?: string;
  limit: number;
}

/** An operator comment on an alarm. */
export interface AlarmComment {
  id: number;
  alarm: number;
  ts: number;
  user: string;
  text: string;
}

/** What was asked of a gateway over the downlink, and what it answered. */
export interface CommandRecord {
  id: number;
  gateway: string;
  /** `alarm_ack`, `alarm_shelve`, `config`, … */
  type: string;
  /** Cloud alarm id for alarm commands. */
  alarm: number | null;
  body: Record<string, unknown>;
  requestedBy: string;
  requestedAt: number;
  /** `pending` until the gateway answers; then `done` or `failed`. */
  status: 'pending' | 'done' | 'failed';
  answer: Record<string, unknown> | null;
  answeredAt: number | null;
}

/** A gateway's configs: what it runs, what the cloud wants, and its last answer. */
export interface GatewayConfigState {
  gateway: string;
  running: unknown | null;
  runningTs: number | null;
  desired: unknown | null;
  desiredTs: number | null;
  desiredBy: string | null;
  /** The command that carried the desired config. */
  desiredCommand: number | null;
  answer: Record<string, unknown> | null;
  answerTs: number | null;
}

/** An API token as stored: only its hash. */
export interface TokenRecord {
  id: number;
  name: string;
  role: string;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

/** A subscriber to alarm transitions. */
export interface WebhookRecord {
  id: number;
  url: string;
  /** HMAC key; returned once at creation, never listed. */
  secret: string;
  /** Only transitions at or above this level (0 = all). */
  minLevel: number;
  createdBy: string;
  createdAt: number;
}

/** An MQTT login of an enrolled gateway (password kept as a salted scrypt hash). */
export interface MqttCredential {
  username: string;
  gateway: string;
  salt: string;
  hash: string;
  revokedAt: number | null;
}

export interface Store {
  /** Apply pending schema migrations. */
  migrate(): Promise<void>;
  /** Commit a batch once; a range seen before is not stored again. Throws PAYLOAD_INVALID (SeqConflict) on an overlapping range. */
  commitTelemetry(batch: TelemetryBatch): Promise<CommitResult>;
  /** Same contract for the event lane; alarm transitions also update the alarms' current state. */
  commitEvents(batch: EventBatchIn): Promise<CommitResult>;
  /**
   * Record a gateway's buffer epoch on one lane; true the first time it is seen.
   * Every epoch is its own seq space (docs/wire-protocol.md §1.1): none is ever refused.
   */
  openEpoch(gateway: string, lane: 'telemetry' | 'events', epoch: number, at: number): Promise<boolean>;
  /** The committed prefix of one epoch of a lane (0 if none). */
  laneCommitted(gateway: string, lane: string, epoch: number): Promise<number>;
  /** Count a refused batch of a gateway: it shows as faulty until `clearRejects`. */
  recordReject(gateway: string, reason: string, at: number): Promise<void>;
  /** A batch of the gateway committed again; true if it was faulty. */
  clearRejects(gateway: string, at: number): Promise<boolean>;
  /** Gap records, newest first. */
  listGaps(q: { gateway?: string; device?: string; point?: string; from?: number; to?: number; limit: number }): Promise<GapInfo[]>;
  /** Events of the event lane, newest first. */
  listEvents(q: { gateway?: string; limit: number }): Promise<(LaneEvent & { gateway: string })[]>;
  /** Record a gateway's status and the devices it reports. */
  saveGatewayStatus(status: GatewayStatus): Promise<void>;
  listDevices(): Promise<DeviceInfo[]>;
  /** Points of one device that hold (or held) readings, sorted. */
  seriesPoints(gateway: string, device: string): Promise<string[]>;
  /** Time-ordered raw readings of one point. */
  readings(q: ReadingsQuery): Promise<{ ts: number; value: number }[]>;
  /** Per-bucket min/max/mean/count of one point, time-ordered. */
  downsample(q: DownsampleQuery): Promise<Bucket[]>;
  /** Minutes holding at least one reading since `since`, per device (keyed by deviceKey(gateway, device)). */
  activeMinutes(since: number): Promise<Map<string, number>>;
  /** Delete readings older than `before` (epoch ms); returns nothing useful but time. */
  applyRetention(before: number): Promise<void>;

  // Registry
  listGateways(): Promise<GatewayInfo[]>;
  getGateway(id: string): Promise<GatewayInfo | undefined>;
  /** Create the gateway if unknown, then apply the patch. */
  updateGateway(id: string, patch: RegistryPatch): Promise<void>;
  /** False if the gateway has no such device. */
  updateDevice(gateway: string, id: string, patch: RegistryPatch): Promise<boolean>;
  /** Marks the gateway revoked and its MQTT credentials with it. */
  revokeGateway(id: string, at: number): Promise<boolean>;

  // Alarms
  listAlarms(f: AlarmFilter): Promise<AlarmInfo[]>;
  getAlarm(id: number): Promise<AlarmInfo | undefined>;
  /** An alarm by its gateway and the gateway's alarm id. */
  findAlarm(gateway: string, alarmId: string): Promise<AlarmInfo | undefined>;
  /** Every transition of one alarm, oldest first. */
  alarmHistory(id: number): Promise<LaneEvent[]>;
  addComment(c: Omit<AlarmComment, 'id'>): Promise<AlarmComment>;
  listComments(alarm: number): Promise<AlarmComment[]>;

  // Commands and configs
  addCommand(c: Omit<CommandRecord, 'id' | 'status' | 'answer' | 'answeredAt'>): Promise<CommandRecord>;
  /** Record a gateway's answer; false if no such pending command. */
  answerCommand(id: number, ok: boolean, answer: Record<string, unknown>, at: number): Promise<boolean>;
  listCommands(q: { gateway?: string; alarm?: number; limit: number }): Promise<CommandRecord[]>;
  getCommand(id: number): Promise<CommandRecord | undefined>;
  getConfig(gateway: string): Promise<GatewayConfigState>;
  setDesiredConfig(gateway: string, config: unknown, by: string, command: number, at: number): Promise<void>;
  setRunningConfig(gateway: string, config: unknown, at: number): Promise<void>;
  setConfigAnswer(gateway: string, answer: Record<string, unknown>, at: number): Promise<void>;

  // Tokens, enrolment, MQTT credentials, webhooks
  addToken(t: { name: string; role: string; hash: string; createdBy: string; createdAt: number }): Promise<TokenRecord>;
  /** Replace the hash of the token with this name (the bootstrap admin token), creating it if needed. */
  putToken(t: { name: string; role: string; hash: string; createdBy: string; createdAt: number }): Promise<void>;
  findToken(hash: string): Promise<TokenRecord | undefined>;
  listTokens(): Promise<TokenRecord[]>;
  revokeToken(id: number, at: number): Promise<boolean>;
  /** `forGateway`: the token replaces that existing gateway only; absent or null: it enrols a new gateway only. */
  addEnrolment(e: { hash: string; note: string | null; createdBy: string; createdAt: number; expiresAt: number; forGateway?: string | null }): Promise<{ id: number }>;
  /** An unused, unexpired enrolment token's target (null: a new gateway), without spending it; undefined if it cannot be used. */
  findEnrolment(hash: string, at: number): Promise<{ forGateway: string | null } | undefined>;
  /**
   * Spend an unused, unexpired enrolment token on `gateway`, in one transaction
   * with the gateway's state: a token without a target only if `gateway` is not
   * in the registry (it is then created), a token for a gateway only for that
   * gateway while it exists and is not revoked. False, and the token unspent,
   * otherwise.
   */
  consumeEnrolment(hash: string, gateway: string, at: number): Promise<boolean>;
  putMqttCredential(c: Omit<MqttCredential, 'revokedAt'>, at: number): Promise<void>;
  findMqttCredential(username: string): Promise<MqttCredential | undefined>;
  addWebhook(w: Omit<WebhookRecord, 'id'>): Promise<WebhookRecord>;
  listWebhooks(): Promise<WebhookRecord[]>;
  deleteWebhook(id: number): Promise<boolean>;

  close(): Promise<void>;
}
