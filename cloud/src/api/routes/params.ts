/**
 * What the route groups share: the schemas of ids and time ranges, the
 * parsing of comma lists and ranges, and the resolution of the device (and
 * point) a request names, so every group answers the same 400 / 404 / 409.
 */
import { Type } from '@sinclair/typebox';
import { ErrorCodes, LifelineError, didYouMean } from '@lifeline/shared';
import type { DeviceInfo, Store } from '../../store/store.js';
import type { Role } from '../auth.js';
import { EpochMs, RowId } from '../input.js';

/** A route's least role, as its config. */
export const role = (r: Role) => ({ role: r });

/** One day, ms. */
export const DAY = 86_400_000;
/** A gateway or device id in a path or query. */
export const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^/\\s]+$' });
/** `:id` as a row id. */
export const NumericId = Type.Object({ id: RowId }, { additionalProperties: false });
/** `:id` as a gateway or device id. */
export const StringId = Type.Object({ id: Id }, { additionalProperties: false });
/** `from` / `to` of a query. */
export const TimeRange = {
  from: Type.Optional(EpochMs('epoch ms, inclusive (default: to − 1 h)')),
  to: Type.Optional(EpochMs('epoch ms, inclusive (default: now)')),
};
/** A comma-separated list in a query (parsed by `list`). */
export const csvList = (what: string) => Type.Optional(Type.String({ maxLength: 1000, description: `comma-separated ${what}` }));

export function notFound(what: string, id: string | number): never {
  throw new LifelineError(ErrorCodes.NotFound, `no ${what} ${JSON.stringify(id)}`);
}

export function badRequest(message: string): never {
  throw new LifelineError(ErrorCodes.RequestInvalid, message);
}

export function range(q: { from?: number; to?: number }, defaultSpan = 3_600_000): { from: number; to: number } {
  const to = q.to ?? Date.now();
  const from = q.from ?? Math.max(0, to - defaultSpan);
  if (from > to) badRequest(`from (${from}) is after to (${to})`);
  return { from, to };
}

/** `a,b` → ['a','b'], each checked against `allowed` when given. */
export function list(name: string, raw: string | undefined, allowed?: readonly string[]): string[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = allowed ? items.filter((i) => !allowed.includes(i)) : [];
  if (bad.length) badRequest(`${name}: ${bad.map((b) => JSON.stringify(b)).join(', ')} not one of ${allowed!.join(', ')}`);
  return items;
}

/** `a, b, c` (and how many more), for error messages that name what exists. */
export function some(items: readonly string[], n = 10): string {
  return items.length ? `${items.slice(0, n).join(', ')}${items.length > n ? ` and ${items.length - n} more` : ''}` : '(none)';
}

/**
 * The device a request names. Devices are known by gateway and id; the id
 * alone is enough while no other gateway uses it. An unknown device is a 404
 * naming what exists, an id two gateways share is a 409 naming both.
 */
export async function resolveDevice(store: Pick<Store, 'registry'>, id: string, gateway?: string): Promise<DeviceInfo> {
  const devices = await store.registry.listDevices();
  const same = devices.filter((x) => x.id === id && (gateway === undefined || x.gateway === gateway));
  if (same.length === 1) return same[0];
  if (same.length > 1) {
    throw new LifelineError(ErrorCodes.Conflict, `device ${JSON.stringify(id)} is on ${same.length} gateways (${same.map((x) => x.gateway).join(', ')}): add gateway=<id> to say which`, {
      details: same.map((x) => ({ gateway: x.gateway, device: x.id })),
    });
  }
  if (gateway !== undefined) {
    if (!(await store.registry.getGateway(gateway))) notFound('gateway', gateway);
    const theirs = devices.filter((x) => x.gateway === gateway).map((x) => x.id);
    throw new LifelineError(ErrorCodes.NotFound, `gateway ${gateway} has no device ${JSON.stringify(id)}${didYouMean(id, theirs)}; it has: ${some(theirs)}`);
  }
  const ids = [...new Set(devices.map((x) => x.id))];
  throw new LifelineError(ErrorCodes.NotFound, `no device ${JSON.stringify(id)}${didYouMean(id, ids)}; known devices: ${some(ids)}`);
}

/** The device and point a readings request names; an unknown point is a 404 naming the device's points. */
export async function resolvePoint(store: Pick<Store, 'registry' | 'telemetry'>, q: { device: string; point: string; gateway?: string }): Promise<DeviceInfo> {
  const dev = await resolveDevice(store, q.device, q.gateway);
  const points = [...new Set([...dev.points.map((p) => p.name), ...(await store.telemetry.seriesPoints(dev.gateway, dev.id))])].sort();
  if (!points.includes(q.point)) {
    throw new LifelineError(ErrorCodes.NotFound, `device ${dev.id} (gateway ${dev.gateway}) has no point ${JSON.stringify(q.point)}${didYouMean(q.point, points)}; it has: ${some(points, 50)}`);
  }
  return dev;
}
