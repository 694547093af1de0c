/**
 * The API routes. Each declares its least role (config.role), its schemas
 * (unknown fields refused) and a summary for the OpenAPI document. Every
 * command, config or answer leaves through views.ts (secrets redacted for all,
 * config bodies for technician and above).
 *
 *   registry   GET  /gateways, /gateways/:id, /devices, /devices.geojson, /summary      viewer
 *              PATCH /gateways/:id, /devices/:id                                        technician
 *   readings   GET  /readings (raw, or buckets with step), /readings.csv                 viewer
 *   alarms     GET  /alarms, /alarms/:id                                                viewer
 *              POST /alarms/:id/ack, /alarms/:id/shelve, /alarms/:id/comments           operator
 *   commands   GET  /commands (config bodies and errors: technician and above)          operator
 *   config     GET/PUT /gateways/:id/config                                             technician
 *   live       GET  /live (Server-Sent Events)                                          viewer
 *   enrolment  POST /enrolments (for a new gateway, or to replace one)                  technician
 *              POST /enroll (public, rate-limited; spends a one-time token)
 *   admin      /tokens, /webhooks, POST /gateways/:id/revoke, /gateways/:id/reinstate    admin
 */
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import { ErrorCodes, LifelineError, alarmStates, didYouMean, mergePushedConfig, pushedConfigIssues, lifelineKinds, pointerToPath, redactSecrets, type AlarmState } from '@lifeline/shared';
import type { Logger } from 'pino';
import type { DeviceInfo, GatewayInfo, Store } from '../store/store.js';
import { deviceKey } from '../store/store.js';
import type { LiveHub, LiveMessage } from '../live.js';
import type { CommandCenter } from '../command-center.js';
import { GATEWAY_ID_PATTERN, type Enrolment } from '../enrol.js';
import type { WebhookDispatcher } from '../webhooks.js';
import { isCloudAlarm, type CloudAlarms } from '../cloud-alarms.js';
import { roles, type TokenAuth, type Role } from './auth.js';
import { httpError } from './http-error.js';
import { EpochMs, MAX_EPOCH_MS, RowId } from './input.js';
import { commandView, configView } from './views.js';
import { attachment } from './attachment.js';

export interface RouteDeps {
  store: Store;
  auth: TokenAuth;
  log: Logger;
  live: LiveHub;
  commands: CommandCenter;
  enrolment: Enrolment;
  cloudAlarms: CloudAlarms;
  webhooks?: WebhookDispatcher;
  gatewayConfigSchema?: object;
  onRevoke?: (gateway: string) => void;
  rateLimit?: { enrollPerMinute?: number };
  maxBuckets: number;
}

const DAY = 86_400_000;
const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^/\\s]+$' });
const NumericId = Type.Object({ id: RowId }, { additionalProperties: false });
const StringId = Type.Object({ id: Id }, { additionalProperties: false });
const LocationBody = Type.Object(
  {
    lon: Type.Number({ minimum: -180, maximum: 180, description: 'WGS-84 longitude' }),
    lat: Type.Number({ minimum: -90, maximum: 90, description: 'WGS-84 latitude' }),
    district: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    gridUnit: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);
const RegistryPatchBody = Type.Object(
  {
    name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
    kind: Type.Optional(Type.Union([Type.Union(lifelineKinds.map((k) => Type.Literal(k))), Type.Null()], { description: `Lifeline kind: ${lifelineKinds.join(', ')}` })),
    location: Type.Optional(Type.Union([LocationBody, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
const TimeRange = {
  from: Type.Optional(EpochMs('epoch ms, inclusive (default: to − 1 h)')),
  to: Type.Optional(EpochMs('epoch ms, inclusive (default: now)')),
};
const csvList = (what: string) => Type.Optional(Type.String({ maxLength: 1000, description: `comma-separated ${what}` }));

function notFound(what: string, id: string | number): never {
  throw new LifelineError(ErrorCodes.NotFound, `no ${what} ${JSON.stringify(id)}`);
}

function badRequest(message: string): never {
  throw new LifelineError(ErrorCodes.RequestInvalid, message);
}

function range(q: { from?: number; to?: number }, defaultSpan = 3_600_000): { from: number; to: number } {
  const to = q.to ?? Date.now();
  const from = q.from ?? Math.max(0, to - defaultSpan);
  if (from > to) badRequest(`from (${from}) is after to (${to})`);
  return { from, to };
}

/** `a,b` → ['a','b'], each checked against `allowed` when given. */
function list(name: string, raw: string | undefined, allowed?: readonly string[]): string[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = allowed ? items.filter((i) => !allowed.includes(i)) : [];
  if (bad.length) badRequest(`${name}: ${bad.map((b) => JSON.stringify(b)).join(', ')} not one of ${allowed!.join(', ')}`);
  return items;
}

/** `a, b, c` (and how many more), for error messages that name what exists. */
function some(items: readonly string[], n = 10): string {
  return items.length ? `${items.slice(0, n).join(', ')}${items.length > n ? ` and ${items.length - n} more` : ''}` : '(none)';
}

/**
 * The device a request names. Devices are known by gateway and id; the id
 * alone is enough while no other gateway uses it. An unknown device is a 404
 * naming what exists, an id two gateways share is a 409 naming both.
 */
async function resolveDevice(store: Store, id: string, gateway?: string): Promise<DeviceInfo> {
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
async function resolvePoint(store: Store, q: { device: string; point: string; gateway?: string }): Promise<DeviceInfo> {
  const dev = await resolveDevice(store, q.device, q.gateway);
  const points = [...new Set([...dev.points.map((p) => p.name), ...(await store.telemetry.seriesPoints(dev.gateway, dev.id))])].sort();
  if (!points.includes(q.point)) {
    throw new LifelineError(ErrorCodes.NotFound, `device ${dev.id} (gateway ${dev.gateway}) has no point ${JSON.stringify(q.point)}${didYouMean(q.point, points)}; it has: ${some(points, 50)}`);
  }
  return dev;
}

/** ISO 8601 of an epoch ms, or '' past the range a Date holds (a stored far-off stamp must not end an export in a RangeError). */
function isoTime(ts: number): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** Fraction (0..1) of the minutes of the last 24 h (or since first seen) that hold data. */
function completeness(minutes: number | undefined, firstSeen: number | null, now: number): number | null {
  const windowMin = Math.min(1440, Math.max(1, Math.floor((now - (firstSeen ?? now - DAY)) / 60_000)));
  return Math.min(1, Math.round(((minutes ?? 0) / windowMin) * 1000) / 1000);
}

export async function registerRoutes(app: FastifyInstance, d: RouteDeps): Promise<void> {
  const { store } = d;
  const role = (r: Role) => ({ role: r });

  // ---- registry and status

  async function devicesWithStatus(): Promise<(DeviceInfo & { online: boolean; completeness24h: number | null; activeAlarms: number; maxLevel: number; sameIdOn: string[] })[]> {
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

  async function gatewaysWithStatus(only?: string): Promise<(GatewayInfo & { devices: number; completeness24h: number | null; activeAlarms: number })[]> {
    const devices = await devicesWithStatus();
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

  app.get('/api/v1/gateways', { config: role('viewer'), schema: { summary: 'Gateways with status: online, last seen, backlog depth and age, clock offset, 24 h completeness', tags: ['registry'] } }, async () =>
    gatewaysWithStatus(),
  );

  app.get<{ Params: Static<typeof StringId> }>(
    '/api/v1/gateways/:id',
    { config: role('viewer'), schema: { summary: 'One gateway with status and its devices', tags: ['registry'], params: StringId } },
    async (req) => {
      const [g] = await gatewaysWithStatus(req.params.id);
      if (!g) notFound('gateway', req.params.id);
      return { ...g, deviceList: (await devicesWithStatus()).filter((x) => x.gateway === g.id) };
    },
  );

  app.patch<{ Params: Static<typeof StringId>; Body: Static<typeof RegistryPatchBody> }>(
    '/api/v1/gateways/:id',
    { config: role('technician'), schema: { summary: 'Set a gateway’s name, lifeline kind or location (WGS-84, district, grid unit)', tags: ['registry'], params: StringId, body: RegistryPatchBody } },
    async (req) => {
      await store.registry.updateGateway(req.params.id, req.body);
      return store.registry.getGateway(req.params.id);
    },
  );

  app.post<{ Params: Static<typeof StringId> }>(
    '/api/v1/gateways/:id/revoke',
    { config: role('admin'), schema: { summary: 'Revoke a gateway: its MQTT login is refused from its next connect (and dropped now on the embedded broker)', tags: ['admin'], params: StringId } },
    async (req) => {
      if (!(await store.registry.getGateway(req.params.id))) notFound('gateway', req.params.id);
      const revoked = await store.registry.revokeGateway(req.params.id, Date.now());
      d.onRevoke?.(req.params.id);
      return { gateway: req.params.id, revoked };
    },
  );

  app.post<{ Params: Static<typeof StringId> }>(
    '/api/v1/gateways/:id/reinstate',
    { config: role('admin'), schema: { summary: 'Lift a gateway’s revocation; issues no credentials: the box then enrols with a token issued for this gateway', tags: ['admin'], params: StringId } },
    async (req) => {
      const g = (await store.registry.getGateway(req.params.id)) ?? notFound('gateway', req.params.id);
      if (g.revokedAt !== null) await store.registry.updateGateway(g.id, { revokedAt: null });
      return { gateway: g.id, reinstated: g.revokedAt !== null };
    },
  );

  app.get('/api/v1/devices', { config: role('viewer'), schema: { summary: 'Devices: registry (profile, kind, location, points) and status', tags: ['registry'] } }, async () =>
    devicesWithStatus(),
  );

  // `:id` is the gateway, as on every /gateways/:id route (one parameter name per path position).
  const DeviceParams = Type.Object({ id: Id, device: Id }, { additionalProperties: false });
  app.patch<{ Params: Static<typeof DeviceParams>; Body: Static<typeof RegistryPatchBody> }>(
    '/api/v1/gateways/:id/devices/:device',
    { config: role('technician'), schema: { summary: 'Set the name, lifeline kind or location of one gateway’s device', tags: ['registry'], params: DeviceParams, body: RegistryPatchBody } },
    async (req) => {
      const dev = await resolveDevice(store, req.params.device, req.params.id);
      await store.registry.updateDevice(dev.gateway, dev.id, req.body);
      return (await store.registry.listDevices()).find((x) => x.gateway === dev.gateway && x.id === dev.id);
    },
  );

  const GatewayQuery = Type.Object({ gateway: Type.Optional(Id) }, { additionalProperties: false });
  app.patch<{ Params: Static<typeof StringId>; Querystring: Static<typeof GatewayQuery>; Body: Static<typeof RegistryPatchBody> }>(
    '/api/v1/devices/:id',
    {
      config: role('technician'),
      schema: { summary: 'Set a device’s name, lifeline kind or location (409 if two gateways use the id: add ?gateway= or use /gateways/{gateway}/devices/{id})', tags: ['registry'], params: StringId, querystring: GatewayQuery, body: RegistryPatchBody },
    },
    async (req) => {
      const dev = await resolveDevice(store, req.params.id, req.query.gateway);
      await store.registry.updateDevice(dev.gateway, dev.id, req.body);
      return (await store.registry.listDevices()).find((x) => x.gateway === dev.gateway && x.id === dev.id);
    },
  );

  app.get(
    '/api/v1/devices.geojson',
    { config: { ...role('viewer'), produces: 'application/geo+json' }, schema: { summary: 'Devices with a location as a GeoJSON FeatureCollection (WGS-84), with status, for the CIM platform', tags: ['registry'] } },
    async (_req, reply) => {
      const devices = await devicesWithStatus();
      reply.type('application/geo+json');
      return {
        type: 'FeatureCollection',
        features: devices
          .filter((x) => x.location)
          .map((x) => ({
            type: 'Feature',
            id: `${x.gateway}/${x.id}`,
            geometry: { type: 'Point', coordinates: [x.location!.lon, x.location!.lat] },
            properties: {
              id: x.id, name: x.name ?? null, gateway: x.gateway, profile: x.profile, kind: x.kind, district: x.location!.district ?? null,
              gridUnit: x.location!.gridUnit ?? null, online: x.online, lastReadingTs: x.lastReadingTs, completeness24h: x.completeness24h,
              activeAlarms: x.activeAlarms, maxLevel: x.maxLevel, sameIdOn: x.sameIdOn,
            },
          })),
      };
    },
  );

  app.get('/api/v1/summary', { config: role('viewer'), schema: { summary: 'Lifeline status by district and kind: devices, online, active alarms by level', tags: ['registry'] } }, async () => {
    const devices = await devicesWithStatus();
    const by = new Map<string, { district: string; kind: string; devices: number; online: number; activeAlarms: number; maxLevel: number }>();
    for (const x of devices) {
      const key = `${x.location?.district ?? '(none)'}\0${x.kind ?? '(none)'}`;
      let e = by.get(key);
      if (!e) by.set(key, (e = { district: x.location?.district ?? '(none)', kind: x.kind ?? '(none)', devices: 0, online: 0, activeAlarms: 0, maxLevel: 0 }));
      e.devices++;
      if (x.online) e.online++;
      e.activeAlarms += x.activeAlarms;
      e.maxLevel = Math.max(e.maxLevel, x.maxLevel);
    }
    return [...by.values()].sort((a, b) => a.district.localeCompare(b.district) || a.kind.localeCompare(b.kind));
  });

  // ---- readings

  const DeviceId = { gateway: Type.Optional({ ...Id, description: 'the device’s gateway; needed only when two gateways use the device id' }), device: Type.String({ minLength: 1, maxLength: 128 }) };
  const ReadingsQuery = Type.Object(
    {
      ...DeviceId,
      point: Type.String({ minLength: 1, maxLength: 128 }),
      ...TimeRange,
      step: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EPOCH_MS, description: 'bucket width in ms: answer per-bucket {ts, min, max, mean, count} instead of raw rows' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'raw rows at most (default 10,000)' })),
    },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof ReadingsQuery> }>(
    '/api/v1/readings',
    {
      config: role('viewer'),
      schema: { summary: 'Readings of one point: raw [{ts, value}] time-ordered, or with step per-bucket [{ts, min, max, mean, count}]', tags: ['readings'], querystring: ReadingsQuery },
    },
    async (req) => {
      const { from, to } = range(req.query);
      const { point, step } = req.query;
      const { gateway, id: device } = await resolvePoint(store, req.query);
      if (step === undefined) return store.telemetry.readings({ gateway, device, point, from, to, limit: req.query.limit ?? 10_000 });
      if (req.query.limit !== undefined) badRequest('limit: applies to raw readings only; with step the bucket count is (to − from) / step');
      const buckets = Math.floor((to - from) / step) + 1;
      if (buckets > d.maxBuckets)
        badRequest(`step: ${step} ms over ${to - from} ms would make ${buckets} buckets; the most is ${d.maxBuckets}, so step must be at least ${Math.ceil((to - from + 1) / d.maxBuckets)} ms`);
      return store.telemetry.downsample({ gateway, device, point, from, to, step });
    },
  );

  const CsvQuery = Type.Object({ ...DeviceId, point: Type.String({ minLength: 1, maxLength: 128 }), ...TimeRange }, { additionalProperties: false });
  app.get<{ Querystring: Static<typeof CsvQuery> }>(
    '/api/v1/readings.csv',
    {
      config: { ...role('viewer'), produces: 'text/csv' },
      schema: { summary: 'CSV export of one point over a time range (default: the last 24 h; at most 31 days): ts,time,value', tags: ['readings'], querystring: CsvQuery },
    },
    async (req, reply) => {
      const { from, to } = range(req.query, DAY);
      if (to - from > 31 * DAY) badRequest(`to − from: at most 31 days per export, got ${((to - from) / DAY).toFixed(1)} days`);
      const { point } = req.query;
      const { gateway, id: device } = await resolvePoint(store, req.query);
      const chunk = 50_000;
      async function* rows(): AsyncGenerator<string> {
        yield 'ts,time,value\n';
        let cursor = from;
        let skip = 0; // rows at `cursor` already sent
        for (;;) {
          const page = await store.telemetry.readings({ gateway, device, point, from: cursor, to, limit: chunk + skip });
          const fresh = page.slice(skip);
          if (!fresh.length) return;
          yield fresh.map((r) => `${r.ts},${isoTime(r.ts)},${Number.isNaN(r.value) ? '' : r.value}\n`).join('');
          if (page.length < chunk + skip) return;
          const last = page[page.length - 1].ts;
          skip = last === cursor ? skip + fresh.length : page.filter((r) => r.ts === last).length;
          cursor = last;
        }
      }
      reply.type('text/csv; charset=utf-8').header('content-disposition', attachment(`${gateway}-${device}-${point}-${from}-${to}.csv`));
      return reply.send(Readable.from(rows()));
    },
  );

  // ---- alarms

  const AlarmQuery = Type.Object(
    {
      state: csvList(`states: ${alarmStates.join(', ')}`),
      level: csvList('levels 0..4 (1 blue … 4 red)'),
      minLevel: Type.Optional(Type.Integer({ minimum: 0, maximum: 4 })),
      kind: csvList(`lifeline kinds: ${lifelineKinds.join(', ')}`),
      district: csvList('districts'),
      gateway: Type.Optional(Id),
      device: Type.Optional(Id),
      active: Type.Optional(Type.Boolean({ description: 'true: only active_unacked and active_acked' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'default 500' })),
    },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof AlarmQuery> }>(
    '/api/v1/alarms',
    { config: role('viewer'), schema: { summary: 'Alarms (current state), newest first, filtered by state, level, kind, district, gateway, device', tags: ['alarms'], querystring: AlarmQuery } },
    async (req) => {
      const q = req.query;
      const state = (q.active ? ['active_unacked', 'active_acked'] : list('state', q.state, alarmStates)) as AlarmState[] | undefined;
      const level = list('level', q.level, ['0', '1', '2', '3', '4'])?.map(Number);
      return store.alarms.listAlarms({ state, level, minLevel: q.minLevel, kind: list('kind', q.kind), district: list('district', q.district), gateway: q.gateway, device: q.device, limit: q.limit ?? 500 });
    },
  );

  app.get<{ Params: Static<typeof NumericId> }>(
    '/api/v1/alarms/:id',
    { config: role('viewer'), schema: { summary: 'One alarm with its full transition history, comments and commands', tags: ['alarms'], params: NumericId } },
    async (req) => {
      const alarm = (await store.alarms.getAlarm(req.params.id)) ?? notFound('alarm', req.params.id);
      const [history, comments, commands] = await Promise.all([store.alarms.alarmHistory(alarm.id), store.alarms.listComments(alarm.id), store.commands.listCommands({ alarm: alarm.id, limit: 100 })]);
      return { ...alarm, history, comments, commands: commands.map((c) => commandView(c, req.identity!.role)) };
    },
  );

  const AckBody = Type.Object({ comment: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof NumericId>; Body: Static<typeof AckBody> | undefined }>(
    '/api/v1/alarms/:id/ack',
    {
      config: role('operator'),
      schema: { summary: 'Acknowledge an alarm: recorded, then sent to its gateway over the downlink (the state changes when the gateway reports it)', tags: ['alarms'], params: NumericId, body: AckBody },
    },
    async (req, reply) => {
      const alarm = (await store.alarms.getAlarm(req.params.id)) ?? notFound('alarm', req.params.id);
      if (alarm.state !== 'active_unacked' && alarm.state !== 'cleared_unacked')
        throw new LifelineError(ErrorCodes.Conflict, `alarm ${alarm.id} is ${alarm.state}; only active_unacked or cleared_unacked alarms can be acknowledged`);
      const user = req.identity!.name;
      if (req.body?.comment) await store.alarms.addComment({ alarm: alarm.id, ts: Date.now(), user, text: req.body.comment });
      // The cloud's own alarms (a gateway's batches refused, …) are acknowledged here: their gateway does not know them.
      if (isCloudAlarm(alarm)) return reply.code(200).send({ alarm: alarm.id, state: await d.cloudAlarms.ack(alarm, user) });
      const command = await d.commands.submit({ gateway: alarm.gateway, type: 'alarm_ack', alarm: alarm.id, body: { alarmId: alarm.alarmId, user, ...(req.body?.comment ? { comment: req.body.comment } : {}) }, requestedBy: user });
      return reply.code(202).send({ command: commandView(command, req.identity!.role) });
    },
  );

  const ShelveBody = Type.Object(
    {
      durationMs: Type.Integer({ minimum: 60_000, maximum: 7 * DAY, description: 'how long, 1 min … 7 days' }),
      reason: Type.String({ minLength: 1, maxLength: 500 }),
    },
    { additionalProperties: false },
  );
  app.post<{ Params: Static<typeof NumericId>; Body: Static<typeof ShelveBody> }>(
    '/api/v1/alarms/:id/shelve',
    { config: role('operator'), schema: { summary: 'Shelve an alarm for a while, with a reason: recorded, then sent to its gateway', tags: ['alarms'], params: NumericId, body: ShelveBody } },
    async (req, reply) => {
      const alarm = (await store.alarms.getAlarm(req.params.id)) ?? notFound('alarm', req.params.id);
      if (alarm.state === 'normal') throw new LifelineError(ErrorCodes.Conflict, `alarm ${alarm.id} is normal; there is nothing to shelve`);
      const user = req.identity!.name;
      const until = Date.now() + req.body.durationMs;
      await store.alarms.addComment({ alarm: alarm.id, ts: Date.now(), user, text: `shelved until ${new Date(until).toISOString()}: ${req.body.reason}` });
      const command = await d.commands.submit({ gateway: alarm.gateway, type: 'alarm_shelve', alarm: alarm.id, body: { alarmId: alarm.alarmId, user, until, reason: req.body.reason }, requestedBy: user });
      return reply.code(202).send({ command: commandView(command, req.identity!.role) });
    },
  );

  const CommentBody = Type.Object({ text: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof NumericId>; Body: Static<typeof CommentBody> }>(
    '/api/v1/alarms/:id/comments',
    { config: role('operator'), schema: { summary: 'Comment on an alarm', tags: ['alarms'], params: NumericId, body: CommentBody } },
    async (req, reply) => {
      const alarm = (await store.alarms.getAlarm(req.params.id)) ?? notFound('alarm', req.params.id);
      return reply.code(201).send(await store.alarms.addComment({ alarm: alarm.id, ts: Date.now(), user: req.identity!.name, text: req.body.text }));
    },
  );

  const CommandQuery = Type.Object({ gateway: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }, { additionalProperties: false });
  app.get<{ Querystring: Static<typeof CommandQuery> }>(
    '/api/v1/commands',
    { config: role('operator'), schema: { summary: 'Commands sent to gateways (the audit trail), newest first, with their answers; secrets redacted, config bodies and config errors for technician and above', tags: ['alarms', 'config'], querystring: CommandQuery } },
    async (req) => (await store.commands.listCommands({ gateway: req.query.gateway, limit: req.query.limit ?? 100 })).map((c) => commandView(c, req.identity!.role)),
  );

  // ---- config

  const validateConfig = d.gatewayConfigSchema
    ? new Ajv({ allErrors: true, strict: false, useDefaults: true }).compile(d.gatewayConfigSchema)
    : undefined;

  app.get<{ Params: Static<typeof StringId> }>(
    '/api/v1/gateways/:id/config',
    { config: role('technician'), schema: { summary: 'A gateway’s running config, the desired one, and its last answer (secrets redacted)', tags: ['config'], params: StringId } },
    async (req) => {
      if (!(await store.registry.getGateway(req.params.id))) notFound('gateway', req.params.id);
      const state = await store.commands.getConfig(req.params.id);
      const command = state.desiredCommand ? await store.commands.getCommand(state.desiredCommand) : undefined;
      return { ...configView(state), pending: command?.status === 'pending' };
    },
  );

  app.put<{ Params: Static<typeof StringId>; Body: Record<string, unknown> }>(
    '/api/v1/gateways/:id/config',
    {
      config: role('technician'),
      schema: {
        summary: 'Push a desired config: checked with the gateway config schema and the push rules (every error listed), recorded, sent to the gateway; the login and buffer may be left out (or [redacted]): the gateway keeps its own',
        tags: ['config'],
        params: StringId,
        body: Type.Object({}, { additionalProperties: true, description: 'a whole gateway config (edge/schema/gateway.schema.json)' }),
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      if (!(await store.registry.getGateway(id))) notFound('gateway', id);
      if (!validateConfig) throw httpError(503, 'CONFIG_SCHEMA_MISSING', 'this cloud was started without the gateway config schema; config pushes are off');
      // The push rules the gateway applies too (shared/src/config-push.ts): the buffer stays, the login stays
      // (left out or [redacted]: the gateway keeps its own), no path outside the gateway's data directory.
      const { running } = await store.commands.getConfig(id);
      const issues: { path: string; message: string }[] = pushedConfigIssues(req.body, running);
      // Validated as the gateway will hold it (what it keeps filled in, defaults added); the stored config is what was sent.
      const config = req.body;
      const checked = structuredClone(mergePushedConfig(config, running)) as Record<string, unknown>;
      // A gateway that has not reported its config keeps its buffer too; only the schema needs a stand-in for it.
      checked.buffer ??= { path: 'kept-by-the-gateway.db' };
      if (!validateConfig(checked)) {
        for (const e of validateConfig.errors ?? []) {
          const extra = e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : '';
          issues.push({ path: pointerToPath(e.instancePath), message: `${e.message ?? 'is invalid'}${extra}` });
        }
      }
      const gw = (checked.gateway as { id?: unknown } | undefined)?.id;
      if (gw !== undefined && gw !== id) issues.push({ path: 'gateway.id', message: `must be this gateway's id ${JSON.stringify(id)}, got ${JSON.stringify(gw)}` });
      if (issues.length) {
        throw new LifelineError(ErrorCodes.ConfigInvalid, `config has ${issues.length} error(s): ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, { details: issues });
      }
      const user = req.identity!.name;
      const command = await d.commands.submit({ gateway: id, type: 'config', alarm: null, body: { config }, requestedBy: user });
      await store.commands.setDesiredConfig(id, config, user, command.id, Date.now());
      return reply.code(202).send({ command: commandView(command, req.identity!.role) });
    },
  );

  // ---- live stream

  // Open streams end when the server closes (else close would wait for them).
  const streams = new Set<import('node:http').ServerResponse>();
  app.addHook('onClose', async () => {
    for (const res of streams) res.end();
  });

  const LiveQuery = Type.Object(
    { gateway: Type.Optional(Id), device: Type.Optional(Id), readings: Type.Optional(Type.Boolean({ description: 'include readings (default true)' })) },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof LiveQuery> }>(
    '/api/v1/live',
    {
      config: { ...role('viewer'), produces: 'text/event-stream' },
      schema: { summary: 'Server-Sent Events: `readings` ({gateway, readings[]}) and `alarm` / `event` (event-lane items) as they are committed', tags: ['live'], querystring: LiveQuery },
    },
    async (req, reply) => {
      const q = req.query;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': lifeline live stream\n\n');
      let dropped = 0;
      const send = (event: string, data: unknown) => {
        // A slow reader loses messages; it never holds up ingest.
        if (res.writableLength > 1_000_000) return void dropped++;
        res.write(`event: ${event}\ndata: ${JSON.stringify(event === 'readings' ? data : redactSecrets(data))}\n\n`);
      };
      const unsubscribe = d.live.subscribe((msg: LiveMessage) => {
        if (q.gateway && msg.gateway !== q.gateway) return;
        if (msg.type === 'readings') {
          if (q.readings === false) return;
          const rs = q.device ? msg.readings.filter((r) => r.device === q.device) : msg.readings;
          if (rs.length) send('readings', { gateway: msg.gateway, readings: rs.map((r) => ({ ...r, value: Number.isFinite(r.value) ? r.value : null })) });
        } else {
          for (const e of msg.events) if (!q.device || e.device === q.device) send(e.kind === 'alarm' ? 'alarm' : 'event', { gateway: msg.gateway, ...e });
        }
      });
      const beat = setInterval(() => res.write(`: keep-alive${dropped ? ` (dropped ${dropped})` : ''}\n\n`), 15_000);
      streams.add(res);
      req.raw.on('close', () => {
        clearInterval(beat);
        unsubscribe();
        streams.delete(res);
      });
    },
  );

  // ---- enrolment

  const EnrolmentBody = Type.Object(
    {
      note: Type.Optional(Type.String({ maxLength: 500 })),
      ttlMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_080, description: 'default 60' })),
      gateway: Type.Optional(Type.String({ pattern: GATEWAY_ID_PATTERN, description: 'an existing, non-revoked gateway this token replaces (a swapped box); without it the token enrols a new gateway only' })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof EnrolmentBody> | undefined }>(
    '/api/v1/enrolments',
    { config: role('technician'), schema: { summary: 'Create a one-time enrolment token: for a new gateway, or with gateway for replacing that existing one', tags: ['enrolment'], body: EnrolmentBody } },
    async (req, reply) => reply.code(201).send(await d.enrolment.createToken(req.identity!.name, (req.body?.ttlMinutes ?? 60) * 60_000, req.body?.note ?? null, req.body?.gateway)),
  );

  const EnrollBody = Type.Object(
    {
      token: Type.String({ minLength: 8, maxLength: 128 }),
      gateway: Type.Optional(Type.String({ pattern: GATEWAY_ID_PATTERN, description: 'wanted gateway id (default: the token’s gateway, or generated); a new id unless the token was issued for this gateway' })),
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      csr: Type.Optional(Type.String({ minLength: 100, maxLength: 8192, description: 'PEM certificate signing request (CN = gateway id), for clouds with a CA' })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof EnrollBody> }>(
    '/api/v1/enroll',
    {
      config: { rateLimit: { max: d.rateLimit?.enrollPerMinute ?? 10, timeWindow: 60_000 } },
      schema: { summary: 'Spend a one-time enrolment token: answers the gateway id and its MQTT username and password (no bearer token; rate-limited). A token enrols a new id, or only the gateway it was issued for', tags: ['enrolment'], body: EnrollBody },
    },
    async (req) => d.enrolment.enroll(req.body.token, { gateway: req.body.gateway, name: req.body.name, csr: req.body.csr }),
  );

  // ---- admin: tokens and webhooks

  const TokenBody = Type.Object(
    { name: Type.String({ minLength: 1, maxLength: 128 }), role: Type.Union(roles.map((r) => Type.Literal(r)) as TSchema[]) },
    { additionalProperties: false },
  );
  app.get('/api/v1/tokens', { config: role('admin'), schema: { summary: 'API tokens (names, roles, revocation; never the secrets)', tags: ['admin'] } }, async () => store.access.listTokens());
  app.post<{ Body: { name: string; role: Role } }>(
    '/api/v1/tokens',
    { config: role('admin'), schema: { summary: 'Create an API token; the secret is in this answer only', tags: ['admin'], body: TokenBody } },
    async (req, reply) => {
      const { token, record } = await d.auth.create(req.body.name, req.body.role, req.identity!.name);
      return reply.code(201).send({ ...record, token });
    },
  );
  app.delete<{ Params: Static<typeof NumericId> }>(
    '/api/v1/tokens/:id',
    { config: role('admin'), schema: { summary: 'Revoke an API token', tags: ['admin'], params: NumericId } },
    async (req, reply) => {
      if (!(await d.auth.revoke(req.params.id))) notFound('active token', req.params.id);
      return reply.code(204).send();
    },
  );

  const WebhookBody = Type.Object(
    {
      url: Type.String({ pattern: '^https?://', maxLength: 2000 }),
      minLevel: Type.Optional(Type.Integer({ minimum: 0, maximum: 4, description: 'only transitions at this level or above (default 0: all)' })),
      secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256, description: 'HMAC key (default: generated and answered once)' })),
    },
    { additionalProperties: false },
  );
  app.get('/api/v1/webhooks', { config: role('admin'), schema: { summary: 'Webhooks with their delivery figures (secrets never listed)', tags: ['admin'] } }, async () =>
    (await store.webhooks.listWebhooks()).map(({ secret: _secret, ...w }) => ({ ...w, stats: d.webhooks?.stats(w.id) ?? null })),
  );
  app.post<{ Body: Static<typeof WebhookBody> }>(
    '/api/v1/webhooks',
    { config: role('admin'), schema: { summary: 'Subscribe a URL to alarm transitions (HMAC-signed POSTs, retried with backoff)', tags: ['admin'], body: WebhookBody } },
    async (req, reply) => {
      try {
        new URL(req.body.url);
      } catch {
        badRequest(`url: not a URL, got ${JSON.stringify(req.body.url)}`);
      }
      const w = await store.webhooks.addWebhook({ url: req.body.url, secret: req.body.secret ?? randomBytes(24).toString('base64url'), minLevel: req.body.minLevel ?? 0, createdBy: req.identity!.name, createdAt: Date.now() });
      await d.webhooks?.reload();
      return reply.code(201).send(w);
    },
  );
  app.delete<{ Params: Static<typeof NumericId> }>(
    '/api/v1/webhooks/:id',
    { config: role('admin'), schema: { summary: 'Delete a webhook', tags: ['admin'], params: NumericId } },
    async (req, reply) => {
      if (!(await store.webhooks.deleteWebhook(req.params.id))) notFound('webhook', req.params.id);
      await d.webhooks?.reload();
      return reply.code(204).send();
    },
  );
}
