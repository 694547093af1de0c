/**
 * The console's API client: every call carries the session's bearer token in
 * the Authorization header (never in a URL), errors come back as ApiError
 * with the API's code, message and details ({path, message} per problem).
 * Types mirror docs/api.md.
 */

/** A role, least first. */
export type Role = 'viewer' | 'operator' | 'technician' | 'admin';
const ranks: Record<Role, number> = { viewer: 0, operator: 1, technician: 2, admin: 3 };
/** Whether `have` includes `need`. */
export const can = (have: Role | undefined, need: Role) => have !== undefined && ranks[have] >= ranks[need];

// The store's own types (type-only: nothing of the server is bundled), so the console and the API cannot drift.
import type { AlarmInfo } from '../../src/store/alarm-store.js';
import type { DeviceInfo, GatewayInfo, Location } from '../../src/store/registry-store.js';
import type { Bucket, StorageReport } from '../../src/store/telemetry-store.js';
import type { DeviceColumns } from '../../src/api/routes/registry-status.js';
import type { AlarmState } from '@lifeline/shared';
export type { AlarmState, Bucket, Location };
/** GET /storage (docs/api.md): the report plus the range and its totals. */
export type Storage = StorageReport & { from: number; to: number; total: { readings: number; bytes: number; bytesPerReading: number } };

/** A device as GET /devices answers it (cloud/src/api/routes/registry-status.ts DeviceStatus). */
export type Device = DeviceInfo & { online: boolean; completeness24h: number | null; activeAlarms: number; maxLevel: number; sameIdOn?: string[] };
/** A gateway as GET /gateways answers it (registry-status.ts GatewayStatusView). */
export type Gateway = GatewayInfo & { devices: number; completeness24h: number | null; activeAlarms: number };
/** An alarm as GET /alarms answers it: the stored state, and the maintenance window that shows it out of service. */
export type Alarm = AlarmInfo & { maintenance?: { id: number; until: number; reason: string; reportedState: AlarmState } };
export interface AlarmTransitionRow {
  ts: number;
  from: AlarmState;
  to: AlarmState;
  level: number;
  cause: string;
  value: number | null;
  user?: string | null;
}
export interface AlarmDetail extends Alarm {
  history: AlarmTransitionRow[];
  comments: { id: number; ts: number; user: string; text: string }[];
  commands: { id: number; type: string; status: string; createdAt?: number; answer?: unknown }[];
}
export interface ConsoleInfo {
  user: { name: string; role: Role };
  map: { tileUrl: string | null; attribution: string | null; coords: 'gcj02' | 'wgs84' };
}
export interface ConfigState {
  gateway: string;
  running: unknown;
  runningTs: number | null;
  desired: unknown;
  desiredTs: number | null;
  desiredBy: string | null;
  answer: { command: number; ok: boolean; status?: string; message?: string; errors?: unknown } | null;
  answerTs: number | null;
  pending: boolean;
}

/** An answer other than 2xx: the API's error code, message and details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

let token: string | null = null;
/** The token every call sends (set by the session). */
export function setToken(t: string | null): void {
  token = t;
}
export function authHeader(): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Query string of defined values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/**
 * The overview's first GETs, asked for by the entry script (main.tsx) while the app's code is still
 * loading, by path: the first `call` of that path with the same token takes the answer (once);
 * `dropEarly` forgets what was not taken, so no later call gets an old answer.
 */
const early = new Map<string, { token: string; res: Promise<Response> }>();
export function prefetch(withToken: string, paths: readonly string[]): void {
  // Errors surface when a call takes the answer (as they would have from its own fetch).
  for (const p of paths) {
    const res = fetch(`/api/v1${p}`, { headers: { authorization: `Bearer ${withToken}` } });
    res.catch(() => undefined);
    early.set(p, { token: withToken, res });
  }
}
export function dropEarly(): void {
  early.clear();
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const pre = method === 'GET' ? early.get(path) : undefined;
  if (pre) early.delete(path);
  const res =
    pre && pre.token === token
      ? await pre.res
      : await fetch(`/api/v1${path}`, {
          method,
          headers: { ...authHeader(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, json?.error ?? String(res.status), json?.message ?? res.statusText, json?.details ?? []);
  return json as T;
}

const MINUTE = 60_000;
/**
 * A chart's range and step on whole minutes: bucket edges then fall on minute
 * boundaries, so the API answers large steps from its per-minute rollup alone
 * (a cut minute must be read raw; 720 cut minutes on SQLite took seconds).
 */
export function alignRange(from: number, to: number, step: number): { from: number; to: number; step: number } {
  if (step < MINUTE) return { from, to, step };
  const s = Math.ceil(step / MINUTE) * MINUTE;
  return { from: Math.floor(from / MINUTE) * MINUTE, to: Math.floor(to / MINUTE) * MINUTE + MINUTE - 1, step: s };
}

/** What the overview's map, counts and alarm list need of a device. */
export type MapDevice = Pick<Device, 'id' | 'gateway' | 'name' | 'kind' | 'location' | 'online'>;
const MAP_FIELDS = 'id,gateway,name,kind,location,online';
/** The alarms the console lists: everything not back to normal. */
const OPEN_ALARMS = { state: 'active_unacked,active_acked,cleared_unacked,shelved,suppressed,out_of_service', limit: 10_000 };
const paths = {
  console: '/console',
  openAlarms: `/alarms${qs(OPEN_ALARMS)}`,
  gateways: '/gateways',
  mapDevices: `/devices${qs({ format: 'columns', fields: MAP_FIELDS })}`,
};
/** The overview's first requests (what main.tsx asks for before the app is loaded), small and quick ones first. */
export const overviewPaths = [paths.console, paths.openAlarms, paths.gateways, paths.mapDevices] as const;

/** GET /devices?format=columns (docs/api.md): the map's devices back as objects; a missing column is an error naming it. */
export function mapDevicesFromColumns(answer: DeviceColumns): MapDevice[] {
  const col = (name: string) => {
    const c = (answer?.columns as Record<string, unknown[]> | undefined)?.[name];
    if (!Array.isArray(c) || c.length !== answer.count) throw new Error(`/devices?format=columns: column ${name} missing or not ${answer?.count} long`);
    return c as any[];
  };
  const [id, gateway, name, kind, lon, lat, district, gridUnit, online] = ['id', 'gateway', 'name', 'kind', 'lon', 'lat', 'district', 'gridUnit', 'online'].map(col);
  const out: MapDevice[] = new Array(answer.count);
  for (let i = 0; i < answer.count; i++) {
    let location: Location | null = null;
    if (lon[i] !== null && lat[i] !== null) {
      location = { lon: lon[i], lat: lat[i] };
      if (district[i] !== null) location.district = district[i];
      if (gridUnit[i] !== null) location.gridUnit = gridUnit[i];
    }
    out[i] = { id: id[i], gateway: gateway[i], name: name[i], kind: kind[i], location, online: online[i] };
  }
  return out;
}

export const api = {
  console: () => call<ConsoleInfo>('GET', paths.console),
  /** All of every device. */
  devices: () => call<Device[]>('GET', '/devices'),
  /** What the map needs of every device, asked for as columns. */
  mapDevices: async () => mapDevicesFromColumns(await call<DeviceColumns>('GET', paths.mapDevices)),
  gateways: () => call<Gateway[]>('GET', paths.gateways),
  openAlarms: () => call<Alarm[]>('GET', paths.openAlarms),
  alarms: (q: Record<string, string | number | undefined> = {}) => call<Alarm[]>('GET', `/alarms${qs(q)}`),
  alarm: (id: number) => call<AlarmDetail>('GET', `/alarms/${id}`),
  ack: (id: number, comment?: string) => call<unknown>('POST', `/alarms/${id}/ack`, comment ? { comment } : {}),
  shelve: (id: number, durationMs: number, reason: string) => call<unknown>('POST', `/alarms/${id}/shelve`, { durationMs, reason }),
  comment: (id: number, text: string) => call<unknown>('POST', `/alarms/${id}/comments`, { text }),
  maintenance: (b: { gateway: string; device?: string; point?: string; until: number; reason: string }) => call<unknown>('POST', '/maintenance', b),
  buckets: (gateway: string, device: string, point: string, from: number, to: number, step: number) =>
    call<Bucket[]>('GET', `/readings${qs({ gateway, device, point, ...alignRange(from, to, step) })}`),
  /** What the readings take on disk per UTC day and district (operator), the last 30 days. */
  storage: () => call<Storage>('GET', '/storage'),
  config: (gateway: string) => call<ConfigState>('GET', `/gateways/${encodeURIComponent(gateway)}/config`),
  pushConfig: (gateway: string, config: unknown) => call<unknown>('PUT', `/gateways/${encodeURIComponent(gateway)}/config`, config),
};

/** Downloads one point's CSV with the token in a header, saved through a blob: link (no token in any URL). */
export async function downloadCsv(gateway: string, device: string, point: string, from: number, to: number): Promise<void> {
  const res = await fetch(`/api/v1/readings.csv${qs({ gateway, device, point, from, to })}`, { headers: authHeader() });
  if (!res.ok) {
    const j = await res.json().catch(() => ({}));
    throw new ApiError(res.status, j.error ?? String(res.status), j.message ?? res.statusText);
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `${gateway}-${device}-${point}-${from}-${to}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
