/**
 * The registry as the API shows it: devices and gateways joined with what
 * makes them a status (online, 24 h completeness, active alarms), shared by
 * the list, detail, GeoJSON and summary routes.
 */
import { deviceKey, type DeviceInfo, type GatewayInfo, type Store } from '../../store/store.js';
import { DAY } from './params.js';

/** A device as the device routes answer it. */
export type DeviceStatus = DeviceInfo & { online: boolean; completeness24h: number | null; activeAlarms: number; maxLevel: number; sameIdOn: string[] };
/** A gateway as the gateway routes answer it. */
export type GatewayStatusView = GatewayInfo & { devices: number; completeness24h: number | null; activeAlarms: number };

/** Fraction (0..1) of the minutes of the last 24 h (or since first seen) that hold data. */
function completeness(minutes: number | undefined, firstSeen: number | null, now: number): number | null {
  const windowMin = Math.min(1440, Math.max(1, Math.floor((now - (firstSeen ?? now - DAY)) / 60_000)));
  return Math.min(1, Math.round(((minutes ?? 0) / windowMin) * 1000) / 1000);
}

/**
 * What a device's and a gateway's status are made of, read in four queries whatever the size
 * (never one per device or gateway): gateways, the minutes with data since a day ago per device
 * (an index on readings_1m(minute) keeps that to the last day's rows), and the active alarms.
 */
async function statusInputs(store: Pick<Store, 'telemetry' | 'alarms'>, now: number) {
  const [minutes, alarms] = await Promise.all([
    store.telemetry.activeMinutes(now - DAY),
    store.alarms.listAlarms({ state: ['active_unacked', 'active_acked'], limit: 10_000 }),
  ]);
  const levelsOf = new Map<string, number[]>();
  for (const a of alarms) {
    const k = deviceKey(a.gateway, a.device);
    const levels = levelsOf.get(k);
    if (levels) levels.push(a.level);
    else levelsOf.set(k, [a.level]);
  }
  return { minutes, levelsOf };
}

/** The fields of a DeviceStatus, in answer order (GET /devices?fields= picks among them). */
export const deviceFields = ['id', 'gateway', 'name', 'profile', 'kind', 'lastReadingTs', 'location', 'points', 'online', 'completeness24h', 'activeAlarms', 'maxLevel', 'sameIdOn'] as const;
export type DeviceField = (typeof deviceFields)[number];

/** Devices with their gateway's online flag, 24 h completeness, active alarms and the other gateways using their id. */
export function devicesWithStatus(store: Pick<Store, 'registry' | 'telemetry' | 'alarms'>): Promise<DeviceStatus[]> {
  return withStatus(store, true);
}

/** The devices with only `fields` (all when none given): what no field asks for is not computed (a map's list reads no completeness, no alarms). */
export async function devicesWithFields(store: Pick<Store, 'registry' | 'telemetry' | 'alarms'>, fields?: readonly DeviceField[]): Promise<Partial<DeviceStatus>[]> {
  if (!fields) return withStatus(store, true);
  const keep = deviceFields.filter((f) => fields.includes(f));
  const all = await withStatus(store, keep.includes('completeness24h') || keep.includes('activeAlarms') || keep.includes('maxLevel'));
  return all.map((x) => {
    const out: Partial<Record<DeviceField, unknown>> = {};
    for (const f of keep) out[f] = x[f];
    return out as Partial<DeviceStatus>;
  });
}

/** GET /devices?format=columns: one array per field, index i of each is device i; `location` answers as four columns. */
export interface DeviceColumns {
  count: number;
  columns: Partial<Record<DeviceField | 'lon' | 'lat' | 'district' | 'gridUnit', unknown[]>>;
}

/**
 * The devices (only `fields` when given) as columns: the same values as the list of objects, without
 * each object's keys (a map's 10,000 devices in about half the bytes, parsed into a dozen arrays
 * instead of 20,000 objects). `location` becomes `lon`, `lat`, `district`, `gridUnit`, null where
 * a device has no location (or that part of it).
 */
export async function devicesAsColumns(store: Pick<Store, 'registry' | 'telemetry' | 'alarms'>, fields?: readonly DeviceField[]): Promise<DeviceColumns> {
  const keep = fields ? deviceFields.filter((f) => fields.includes(f)) : deviceFields;
  let rows: Pick<DeviceStatus, DeviceField>[];
  if (keep.some((f) => f === 'completeness24h' || f === 'activeAlarms' || f === 'maxLevel' || f === 'sameIdOn')) {
    rows = await withStatus(store, keep.includes('completeness24h') || keep.includes('activeAlarms') || keep.includes('maxLevel'));
  } else {
    // Registry fields and `online` only (a map's list): the registry's rows as they are, no status objects built.
    const [devices, gateways] = await Promise.all([keep.includes('points') ? store.registry.listDevices() : store.registry.listDevicesWithoutPoints(), store.registry.listGateways()]);
    const online = new Set(gateways.filter((g) => g.online).map((g) => g.id));
    rows = devices as Pick<DeviceStatus, DeviceField>[];
    if (keep.includes('online')) for (const d of rows) d.online = online.has(d.gateway);
  }
  const columns: DeviceColumns['columns'] = {};
  for (const f of keep) {
    if (f !== 'location') {
      columns[f] = rows.map((d) => d[f]);
      continue;
    }
    columns.lon = rows.map((d) => d.location?.lon ?? null);
    columns.lat = rows.map((d) => d.location?.lat ?? null);
    columns.district = rows.map((d) => d.location?.district ?? null);
    columns.gridUnit = rows.map((d) => d.location?.gridUnit ?? null);
  }
  return { count: rows.length, columns };
}

/** `status` false: completeness and alarms are left at 0 (not read). */
async function withStatus(store: Pick<Store, 'registry' | 'telemetry' | 'alarms'>, status: boolean): Promise<DeviceStatus[]> {
  const now = Date.now();
  const [devices, gateways, { minutes, levelsOf }] = await Promise.all([
    store.registry.listDevices(),
    store.registry.listGateways(),
    status ? statusInputs(store, now) : { minutes: new Map<string, number>(), levelsOf: new Map<string, number[]>() },
  ]);
  const gw = new Map(gateways.map((g) => [g.id, g]));
  // Ids two gateways share are shown, never merged: each device lists the other gateways using its id.
  const byId = new Map<string, string[]>();
  for (const dev of devices) {
    const on = byId.get(dev.id);
    if (on) on.push(dev.gateway);
    else byId.set(dev.id, [dev.gateway]);
  }
  const none: number[] = [];
  return devices.map((dev): DeviceStatus => {
    const g = gw.get(dev.gateway);
    const k = deviceKey(dev.gateway, dev.id);
    const levels = levelsOf.get(k) ?? none;
    let maxLevel = 0;
    for (const l of levels) if (l > maxLevel) maxLevel = l;
    const on = byId.get(dev.id)!;
    return {
      ...dev,
      online: !!g?.online,
      completeness24h: completeness(minutes.get(k), g?.firstSeen ?? null, now),
      activeAlarms: levels.length,
      maxLevel,
      sameIdOn: on.length === 1 ? [] : on.filter((x) => x !== dev.gateway),
    };
  });
}

/**
 * Gateways (or the one named) with their device count, mean completeness and active alarms:
 * one pass over the devices' keys (no device list with status is built for it).
 */
export async function gatewaysWithStatus(store: Pick<Store, 'registry' | 'telemetry' | 'alarms'>, only?: string): Promise<GatewayStatusView[]> {
  const now = Date.now();
  const [keys, gateways, { minutes, levelsOf }] = await Promise.all([
    store.registry.listDeviceKeys(),
    only ? store.registry.getGateway(only).then((g) => (g ? [g] : [])) : store.registry.listGateways(),
    statusInputs(store, now),
  ]);
  const sums = new Map<string, { devices: number; completeness: number; activeAlarms: number }>(
    gateways.map((g) => [g.id, { devices: 0, completeness: 0, activeAlarms: 0 }]),
  );
  const firstSeen = new Map(gateways.map((g) => [g.id, g.firstSeen]));
  for (const d of keys) {
    const sum = sums.get(d.gateway);
    if (!sum) continue;
    const k = deviceKey(d.gateway, d.id);
    sum.devices++;
    sum.completeness += completeness(minutes.get(k), firstSeen.get(d.gateway) ?? null, now) ?? 0;
    sum.activeAlarms += levelsOf.get(k)?.length ?? 0;
  }
  return gateways.map((g) => {
    const sum = sums.get(g.id)!;
    return {
      ...g,
      devices: sum.devices,
      completeness24h: sum.devices ? Math.round((sum.completeness / sum.devices) * 1000) / 1000 : null,
      activeAlarms: sum.activeAlarms,
    };
  });
}
