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

/** Devices with their gateway's online flag, 24 h completeness, active alarms and the other gateways using their id. */
export async function devicesWithStatus(store: Pick<Store, 'registry' | 'telemetry' | 'alarms'>): Promise<DeviceStatus[]> {
  const now = Date.now();
  const [devices, gateways, minutes, alarms] = await Promise.all([
    store.registry.listDevices(),
    store.registry.listGateways(),
    store.telemetry.activeMinutes(now - DAY),
    store.alarms.listAlarms({ state: ['active_unacked', 'active_acked'], limit: 10_000 }),
  ]);
  const gw = new Map(gateways.map((g) => [g.id, g]));
  // Ids two gateways share are shown, never merged: each device lists the other gateways using its id.
  const byId = new Map<string, string[]>();
  for (const dev of devices) byId.set(dev.id, [...(byId.get(dev.id) ?? []), dev.gateway]);
  const alarmsOf = new Map<string, number[]>();
  for (const a of alarms) {
    const k = deviceKey(a.gateway, a.device);
    alarmsOf.set(k, [...(alarmsOf.get(k) ?? []), a.level]);
  }
  return devices.map((dev) => {
    const g = gw.get(dev.gateway);
    const levels = alarmsOf.get(deviceKey(dev.gateway, dev.id)) ?? [];
    return {
      ...dev,
      online: !!g?.online,
      completeness24h: completeness(minutes.get(deviceKey(dev.gateway, dev.id)), g?.firstSeen ?? null, now),
      activeAlarms: levels.length,
      maxLevel: levels.reduce((m, l) => Math.max(m, l), 0),
      sameIdOn: byId.get(dev.id)!.filter((x) => x !== dev.gateway),
    };
  });
}

/** Gateways (or the one named) with their device count, mean completeness and active alarms. */
export async function gatewaysWithStatus(store: Pick<Store, 'registry' | 'telemetry' | 'alarms'>, only?: string): Promise<GatewayStatusView[]> {
  const devices = await devicesWithStatus(store);
  const gateways = only ? [await store.registry.getGateway(only)].filter((g): g is GatewayInfo => !!g) : await store.registry.listGateways();
  return gateways.map((g) => {
    const mine = devices.filter((x) => x.gateway === g.id);
    const c = mine.map((x) => x.completeness24h ?? 0);
    return {
      ...g,
      devices: mine.length,
      completeness24h: c.length ? Math.round((c.reduce((s, x) => s + x, 0) / c.length) * 1000) / 1000 : null,
      activeAlarms: mine.reduce((s, x) => s + x.activeAlarms, 0),
    };
  });
}
