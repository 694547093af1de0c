/**
 * Maintenance routes: put a gateway, a device or a point out of service for a
 * while with a reason, list the windows, end one early. Operator, like shelving:
 * a window changes how alarms are shown and who is told (webhooks), which is the
 * control room's call; a technician in the field holds operator rights too.
 * Windows are applied by the cloud (maintenance.ts), so they work for any
 * gateway and for the cloud's own alarms.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ErrorCodes, LifelineError, didYouMean } from '@lifeline/shared';
import { maintenanceStatus, type MaintenanceWindow } from '../../store/store.js';
import { EpochMs, hasVisible } from '../input.js';
import { DAY, Id, NumericId, badRequest, notFound, resolveDevice, resolvePoint, role, some } from './params.js';
import type { RouteDeps } from './deps.js';

/** Longest a window may reach ahead of now: longer work is planned again, not forgotten in service. */
export const MAX_MAINTENANCE_AHEAD_MS = 30 * DAY;
/** How far in the past `from` may be (clocks of a browser and the cloud differ a little). */
const FROM_SLACK_MS = 60_000;

const iso = (ms: number) => new Date(ms).toISOString();

export const maintenanceRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  const { store, maintenance } = d;
  const view = (w: MaintenanceWindow) => ({ ...w, status: maintenanceStatus(w, maintenance.clock()) });

  const CreateBody = Type.Object(
    {
      gateway: Id,
      device: Type.Optional(Id),
      point: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
      from: Type.Optional(EpochMs('epoch ms it starts (default: now)')),
      until: EpochMs('epoch ms it ends by itself, at most 30 days ahead'),
      reason: Type.String({ minLength: 1, maxLength: 500 }),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof CreateBody> }>(
    '/api/v1/maintenance',
    {
      config: role('operator'),
      schema: { summary: 'Put a gateway, a device or a point out of service for a window, with a reason: its alarms show out_of_service and send no webhooks', tags: ['maintenance'], body: CreateBody },
    },
    async (req, reply) => {
      const b = req.body;
      const now = maintenance.clock();
      const reason = b.reason.trim();
      if (!hasVisible(reason)) badRequest(`reason: must say why, got ${JSON.stringify(b.reason)}`);
      if (b.point !== undefined && b.device === undefined) badRequest(`point: a point belongs to a device; add device=<id> (got point ${JSON.stringify(b.point)} without one)`);
      const from = b.from ?? now;
      if (from < now - FROM_SLACK_MS) badRequest(`from: must not be in the past, got ${from} (${iso(from)}; now ${iso(now)})`);
      if (b.until <= from) badRequest(`until: must be after from (${iso(from)}), got ${b.until} (${iso(b.until)})`);
      if (b.until > now + MAX_MAINTENANCE_AHEAD_MS) badRequest(`until: at most 30 days ahead (${iso(now + MAX_MAINTENANCE_AHEAD_MS)}), got ${b.until} (${iso(b.until)})`);
      if (!(await store.registry.getGateway(b.gateway))) {
        const ids = (await store.registry.listGateways()).map((g) => g.id);
        throw new LifelineError(ErrorCodes.NotFound, `no gateway ${JSON.stringify(b.gateway)}${didYouMean(b.gateway, ids)}; known gateways: ${some(ids)}`);
      }
      if (b.point !== undefined) await resolvePoint(store, { gateway: b.gateway, device: b.device!, point: b.point });
      else if (b.device !== undefined) await resolveDevice(store, b.device, b.gateway);
      const w = await store.maintenance.addWindow({ gateway: b.gateway, device: b.device ?? null, point: b.point ?? null, from, until: b.until, reason, createdBy: req.identity!.name, createdAt: now });
      maintenance.invalidate();
      return reply.code(201).send(view(w));
    },
  );

  const ListQuery = Type.Object(
    {
      active: Type.Optional(Type.Boolean({ description: 'true: only windows in force now; false: only those not in force (upcoming or over)' })),
      gateway: Type.Optional(Id),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'default 500' })),
    },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/maintenance',
    { config: role('viewer'), schema: { summary: 'Maintenance windows, newest start first, each with its status (upcoming, active, over)', tags: ['maintenance'], querystring: ListQuery } },
    async (req) => {
      const q = req.query;
      const status = q.active === undefined ? undefined : q.active ? (['active'] as const) : (['upcoming', 'over'] as const);
      const ws = await store.maintenance.listWindows({ at: maintenance.clock(), status: status && [...status], gateway: q.gateway, limit: q.limit ?? 500 });
      return ws.map(view);
    },
  );

  app.delete<{ Params: Static<typeof NumericId> }>(
    '/api/v1/maintenance/:id',
    { config: role('operator'), schema: { summary: 'End a maintenance window early (recorded: endedAt, endedBy); its alarms show their real state again', tags: ['maintenance'], params: NumericId } },
    async (req) => {
      const w = (await store.maintenance.getWindow(req.params.id)) ?? notFound('maintenance window', req.params.id);
      const ended = await store.maintenance.endWindow(w.id, maintenance.clock(), req.identity!.name);
      if (!ended) {
        const over = w.endedAt !== null ? `was ended at ${iso(w.endedAt)} by ${w.endedBy}` : `ran its course until ${iso(w.until)}`;
        throw new LifelineError(ErrorCodes.Conflict, `maintenance window ${w.id} is over: it ${over}`);
      }
      maintenance.invalidate();
      return view(ended);
    },
  );
};
