/**
 * Registry routes: gateways and devices with their status, a technician's
 * edits, and a gateway's revocation and reinstatement (admin).
 *
 *   GET   /gateways, /gateways/:id, /devices, /devices.geojson, /summary     viewer
 *   PATCH /gateways/:id, /gateways/:id/devices/:device, /devices/:id         technician
 *   POST  /gateways/:id/revoke, /gateways/:id/reinstate                      admin
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { lifelineKinds } from '@lifeline/shared';
import { Id, StringId, csvList, list, notFound, resolveDevice, role } from './params.js';
import { deviceFields, devicesAsColumns, devicesWithFields, devicesWithStatus, gatewaysWithStatus, type DeviceField } from './registry-status.js';
import type { RouteDeps } from './deps.js';

export const registryRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  const { store } = d;
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

  app.get('/api/v1/gateways', { config: role('viewer'), schema: { summary: 'Gateways with status: online, last seen, backlog depth and age, clock offset, 24 h completeness', tags: ['registry'] } }, async () =>
    gatewaysWithStatus(store),
  );

  app.get<{ Params: Static<typeof StringId> }>(
    '/api/v1/gateways/:id',
    { config: role('viewer'), schema: { summary: 'One gateway with status and its devices', tags: ['registry'], params: StringId } },
    async (req) => {
      const [g] = await gatewaysWithStatus(store, req.params.id);
      if (!g) notFound('gateway', req.params.id);
      return { ...g, deviceList: (await devicesWithStatus(store)).filter((x) => x.gateway === g.id) };
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

  const DevicesQuery = Type.Object(
    {
      fields: csvList(`fields to answer (default all): ${deviceFields.join(', ')}`),
      format: Type.Optional(Type.Union([Type.Literal('objects'), Type.Literal('columns')], { description: 'objects (default): a list of devices; columns: {count, columns: {field: [value per device]}}, location as lon, lat, district, gridUnit' })),
    },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof DevicesQuery> }>(
    '/api/v1/devices',
    { config: role('viewer'), schema: { summary: 'Devices: registry (profile, kind, location, points) and status; ?fields= for fewer (a map needs id,gateway,name,kind,location,online), ?format=columns for one array per field', tags: ['registry'], querystring: DevicesQuery } },
    async (req) => {
      const fields = list('fields', req.query.fields, deviceFields) as DeviceField[] | undefined;
      return req.query.format === 'columns' ? devicesAsColumns(store, fields) : devicesWithFields(store, fields);
    },
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
      const devices = await devicesWithStatus(store);
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
    const devices = await devicesWithStatus(store);
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
};
