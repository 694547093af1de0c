/**
 * Gaps and completeness routes (viewer): the thinned ranges gateways report
 * (raw readings dropped under their disk budget, per-minute aggregates kept),
 * and how complete the data of a time range is per gateway, device, district
 * or lifeline kind.
 *
 *   GET /gaps          ─▶ resolveDevice / resolvePoint ─▶ telemetry.listGaps (newest first)
 *   GET /completeness  ─▶ registry.listDevices ┐
 *                         telemetry.activeMinutesBetween (one grouped query over readings_1m) ├─▶ per device ─▶ per group
 *                         telemetry.gapTotals (one grouped query over gaps)                   ┘
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { lifelineKinds } from '@lifeline/shared';
import { deviceKey, type DeviceInfo, type GapTotals } from '../../store/store.js';
import { DAY, Id, TimeRange, badRequest, csvList, list, notFound, range, resolveDevice, resolvePoint, role } from './params.js';
import type { RouteDeps } from './deps.js';

/** The rollup grain (readings_1m): completeness counts minutes. */
const MINUTE = 60_000;

/** Longest range a completeness request may span: a year and a bit, so a year-on-year view fits. */
export const MAX_COMPLETENESS_DAYS = 400;

/** What completeness can be grouped by. */
export const completenessGroups = ['gateway', 'device', 'district', 'kind'] as const;
export type CompletenessBy = (typeof completenessGroups)[number];

/** One group of a completeness answer. */
export interface CompletenessGroup {
  /** The group: gateway id, `gateway/device`, district or kind (null: devices without a district or kind). */
  key: string | null;
  /** by=device only: the device's gateway and id. */
  gateway?: string;
  device?: string;
  /** Devices in the group. */
  devices: number;
  /** Mean over the group's devices of the share (0..1, 3 decimals) of the range's minutes holding a reading. */
  completeness: number;
  /** Gap records overlapping the range. */
  gaps: number;
  /** Raw readings those records thinned. */
  thinnedReadings: number;
}

/** A device as completeness counts it: from the registry, or only known from its data. */
type Counted = Pick<DeviceInfo, 'gateway' | 'id' | 'kind'> & { district: string | null };

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Group devices' active minutes and gap totals. `window` is the number of
 * minutes in the range; a device's share is capped at 1.
 */
export function groupCompleteness(
  devices: readonly Counted[],
  by: CompletenessBy,
  window: number,
  minutes: ReadonlyMap<string, number>,
  gaps: ReadonlyMap<string, GapTotals>,
): CompletenessGroup[] {
  const groups = new Map<string | null, { g: CompletenessGroup; sum: number }>();
  for (const dev of devices) {
    const key = by === 'gateway' ? dev.gateway : by === 'device' ? `${dev.gateway}/${dev.id}` : by === 'district' ? dev.district : dev.kind;
    let e = groups.get(key);
    if (!e) {
      const g: CompletenessGroup = { key, ...(by === 'device' ? { gateway: dev.gateway, device: dev.id } : {}), devices: 0, completeness: 0, gaps: 0, thinnedReadings: 0 };
      groups.set(key, (e = { g, sum: 0 }));
    }
    const k = deviceKey(dev.gateway, dev.id);
    e.g.devices++;
    e.sum += Math.min(1, (minutes.get(k) ?? 0) / window);
    e.g.gaps += gaps.get(k)?.gaps ?? 0;
    e.g.thinnedReadings += gaps.get(k)?.thinnedReadings ?? 0;
  }
  const out = [...groups.values()].map(({ g, sum }) => ({ ...g, completeness: round3(sum / g.devices) }));
  // By key; devices without a district or kind last.
  return out.sort((a, b) => (a.key === b.key ? 0 : a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : 1));
}

export const gapRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  const { store } = d;

  const GapsQuery = Type.Object(
    {
      ...TimeRange,
      gateway: Type.Optional({ ...Id, description: 'only this gateway’s gaps; with device, needed only when two gateways use the device id' }),
      device: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
      point: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'only this point (of the device, when one is named)' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'default 500' })),
    },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof GapsQuery> }>(
    '/api/v1/gaps',
    {
      config: role('viewer'),
      schema: {
        summary: 'Gap records: ranges a gateway thinned under its disk budget that overlap [from, to] (default: the last 24 h), newest first, with the per-minute aggregates kept',
        tags: ['readings'],
        querystring: GapsQuery,
      },
    },
    async (req) => {
      const q = req.query;
      const { from, to } = range(q, DAY);
      let { gateway, device } = q;
      // A device is addressed as /readings does: its id, and its gateway when two gateways use the id.
      if (device !== undefined) ({ gateway, id: device } = q.point === undefined ? await resolveDevice(store, device, gateway) : await resolvePoint(store, { device, point: q.point, gateway }));
      else if (gateway !== undefined && !(await store.registry.getGateway(gateway))) notFound('gateway', gateway);
      return store.telemetry.listGaps({ gateway, device, point: q.point, from, to, limit: q.limit ?? 500 });
    },
  );

  const CompletenessQuery = Type.Object(
    {
      ...TimeRange,
      // Checked in the handler, so a 400 names the value given (a schema enum would not).
      by: Type.String({ minLength: 1, maxLength: 32, description: `group by ${completenessGroups.join(', ')}` }),
      gateway: Type.Optional({ ...Id, description: 'only this gateway’s devices' }),
      district: csvList('districts'),
      kind: csvList(`lifeline kinds: ${lifelineKinds.join(', ')}`),
    },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof CompletenessQuery> }>(
    '/api/v1/completeness',
    {
      config: role('viewer'),
      schema: {
        summary: `Completeness of [from, to] (default: the last 24 h, at most ${MAX_COMPLETENESS_DAYS} days) per gateway, device, district or kind: the share of minutes holding a reading averaged over the group’s devices, with the gap records and thinned readings`,
        tags: ['readings'],
        querystring: CompletenessQuery,
      },
    },
    async (req) => {
      const q = req.query;
      const by = q.by as CompletenessBy;
      if (!completenessGroups.includes(by)) badRequest(`by: ${JSON.stringify(q.by)} is not one of ${completenessGroups.join(', ')}`);
      const { from, to } = range(q, DAY);
      if (to - from > MAX_COMPLETENESS_DAYS * DAY)
        badRequest(`from: ${from} is ${((to - from) / DAY).toFixed(1)} days before to (${to}); a completeness range may span at most ${MAX_COMPLETENESS_DAYS} days`);
      if (q.gateway !== undefined && !(await store.registry.getGateway(q.gateway))) notFound('gateway', q.gateway);
      const districts = list('district', q.district);
      const kinds = list('kind', q.kind);
      const [registered, minutes, gaps] = await Promise.all([
        store.registry.listDevices(),
        store.telemetry.activeMinutesBetween(from, to, q.gateway),
        store.telemetry.gapTotals(from, to, q.gateway),
      ]);
      const devices: Counted[] = registered.map((x) => ({ gateway: x.gateway, id: x.id, kind: x.kind, district: x.location?.district ?? null }));
      // A device known only from gap records (a batch of thinned ranges alone) has no registry row; it still counts, without district or kind.
      const known = new Set(devices.map((x) => deviceKey(x.gateway, x.id)));
      for (const k of new Set([...minutes.keys(), ...gaps.keys()])) {
        if (known.has(k)) continue;
        const [gateway, id] = k.split('\0');
        devices.push({ gateway, id, kind: null, district: null });
      }
      const chosen = devices.filter(
        (x) => (q.gateway === undefined || x.gateway === q.gateway) && (!districts || (x.district !== null && districts.includes(x.district))) && (!kinds || (x.kind !== null && kinds.includes(x.kind))),
      );
      // Minutes whose start lies in [from, to], as activeMinutesBetween counts them.
      const window = Math.floor(to / MINUTE) - Math.floor(from / MINUTE) + 1;
      return { from, to, by, minutes: window, groups: groupCompleteness(chosen, by, window, minutes, gaps) };
    },
  );
};
