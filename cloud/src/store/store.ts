/**
 * The cloud store: one interface, two engines (SQLite for one box, PostgreSQL
 * for the city). Ingest commits batches idempotently; the API reads.
 */
import type { LaneEvent, Reading } from '@lifeline/shared';

/** A telemetry batch as the ingest decoded it. */
export interface TelemetryBatch {
  gateway: string;
  firstSeq: number;
  lastSeq: number;
  readings: Reading[];
}

/** What the store did with a batch. */
export interface CommitResult {
  /** True if this exact range was already committed (nothing stored again). */
  duplicate: boolean;
  /** Highest seq such that every seq up to it is committed, for the gateway's ack. */
  committedUpTo: number;
}

/** A device instance the cloud has heard of. */
export interface DeviceInfo {
  id: string;
  gateway: string;
  profile: string | null;
  kind: string | null;
  /** Epoch ms of its newest reading, or null if none yet. */
  lastReadingTs: number | null;
  location: { lon: number; lat: number; district?: string; gridUnit?: string } | null;
  /** Points the gateway reports for it, with units. */
  points: { name: string; unit: string }[];
}

/** What a gateway tells about itself in its retained status message. */
export interface GatewayStatus {
  gateway: string;
  online: boolean;
  ts: number;
  devices?: { id: string; profile: string; kind?: string; location?: DeviceInfo['location']; points?: DeviceInfo['points'] }[];
  backlog?: { depth: number; oldestTs: number | null };
}

export interface ReadingsQuery {
  device: string;
  point: string;
  from: number;
  to: number;
  /** Maximum rows returned. */
  limit: number;
}

/** An event-lane batch as the ingest decoded it. */
export interface EventBatchIn {
  gateway: string;
  firstSeq: number;
  lastSeq: number;
  events: LaneEvent[];
}

export interface Store {
  /** Apply pending schema migrations. */
  migrate(): Promise<void>;
  /** Commit a batch once; a range seen before is not stored again. Throws STORE_CONFLICT on an overlapping range. */
  commitTelemetry(batch: TelemetryBatch): Promise<CommitResult>;
  /** Same contract for the event lane (alarm transitions, gateway events). */
  commitEvents(batch: EventBatchIn): Promise<CommitResult>;
  /** Events of the event lane, newest first. */
  listEvents(q: { gateway?: string; limit: number }): Promise<(LaneEvent & { gateway: string })[]>;
  /** Record a gateway's status and the devices it reports. */
  saveGatewayStatus(status: GatewayStatus): Promise<void>;
  listDevices(): Promise<DeviceInfo[]>;
  /** Time-ordered raw readings of one point. */
  readings(q: ReadingsQuery): Promise<{ ts: number; value: number }[]>;
  close(): Promise<void>;
}
