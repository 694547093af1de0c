/**
 * The registry concern of the cloud store: gateways and devices as heard
 * (retained status) and as set by a technician, revocation, and the sync
 * faults of a gateway whose batches the cloud refused.
 *
 *   ingest ─▶ saveGatewayStatus / recordReject / clearRejects ─▶ gateways, devices (and the running config)
 *   API    ─▶ listGateways / getGateway / listDevices / update* / revokeGateway
 */

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
  /** label: what operators call the point (the profile's `label`), when its profile gives one. */
  points: { name: string; unit: string; label?: string }[];
  name?: string | null;
}

/** What a gateway tells about itself in its retained status message. */
export interface GatewayStatus {
  gateway: string;
  online: boolean;
  ts: number;
  name?: string;
  location?: Location;
  devices?: { id: string; name?: string; profile: string; kind?: string; location?: Location; points?: DeviceInfo['points'] }[];
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

/** Gateways, devices and sync faults. */
export interface RegistryStore {
  /** Record a gateway's status and the devices it reports (its config and a rolled-back apply go to the command store). */
  saveGatewayStatus(status: GatewayStatus): Promise<void>;
  listDevices(): Promise<DeviceInfo[]>;
  /** listDevices without each device's points (not read, not parsed): what a map's list needs. */
  listDevicesWithoutPoints(): Promise<Omit<DeviceInfo, 'points'>[]>;
  /** Every device's key only (gateway, id): what per-gateway counts need, without parsing each device's points. */
  listDeviceKeys(): Promise<{ gateway: string; id: string }[]>;
  listGateways(): Promise<GatewayInfo[]>;
  getGateway(id: string): Promise<GatewayInfo | undefined>;
  /** Create the gateway if unknown, then apply the patch. */
  updateGateway(id: string, patch: RegistryPatch): Promise<void>;
  /** False if the gateway has no such device. */
  updateDevice(gateway: string, id: string, patch: RegistryPatch): Promise<boolean>;
  /** Marks the gateway revoked and its MQTT credentials with it. */
  revokeGateway(id: string, at: number): Promise<boolean>;
  /** Count a refused batch of a gateway: it shows as faulty until `clearRejects`. */
  recordReject(gateway: string, reason: string, at: number): Promise<void>;
  /** A batch of the gateway committed again; true if it was faulty. */
  clearRejects(gateway: string, at: number): Promise<boolean>;
}
