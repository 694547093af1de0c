/**
 * The notification outbox, as people check it: was the duty group told, what
 * is still being retried, what died and why. Listing is for operators: they
 * are the ones on duty who must know a WeCom group or an SMS did not get
 * through (and phone up instead); rows carry the alarm, never a secret, and
 * phone numbers shortened. Requeueing a dead one is for admins, who own the
 * receivers and fix what made it die (a changed robot key, a gateway's quota).
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { notificationStatuses, type NotificationRecord, type NotificationStatus } from '../../store/store.js';
import type { NotificationPayload } from '../../notify/messages.js';
import { RowId } from '../input.js';
import { NumericId, notFound, role } from './params.js';
import type { RouteDeps } from './deps.js';

/** `13812345678` → `138****5678`: enough to tell numbers apart, not to call them. */
export function maskPhone(p: string): string {
  return p.length > 7 ? `${p.slice(0, p.length - 8)}****${p.slice(-4)}` : '****';
}

function view(r: NotificationRecord) {
  const p = JSON.parse(r.payload) as NotificationPayload;
  const row = {
    id: r.id, receiverId: r.receiverId, status: r.status, attempts: r.attempts, nextAt: r.status === 'pending' ? r.nextAt : null,
    createdAt: r.createdAt, deliveredAt: r.deliveredAt, deadAt: r.deadAt, lastError: r.lastError, key: r.key, type: p.type,
    ...(p.phone ? { phone: maskPhone(p.phone) } : {}),
  };
  if (p.type === 'alarm.digest') return { ...row, date: p.date, raised: p.raised, active: p.active };
  const t = p.transition;
  return {
    ...row, gateway: p.gateway, alarmId: t.alarmId, device: t.device, level: t.level, from: t.from, to: t.to, ts: t.ts,
    ...(p.escalation ? { escalation: p.escalation } : {}),
  };
}

export const notificationRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  const { store } = d;
  const ListQuery = Type.Object(
    {
      status: Type.Optional(Type.Union(notificationStatuses.map((s) => Type.Literal(s)) as TSchema[], { description: notificationStatuses.join(' | ') })),
      receiver: Type.Optional(RowId),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default 100' })),
    },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/notifications',
    { config: role('operator'), schema: { summary: 'The notification outbox, newest first: pending, delivered or dead, with attempts and the last error', tags: ['notifications'], querystring: ListQuery } },
    async (req) =>
      (await store.notifications.list({ status: req.query.status as NotificationStatus | undefined, receiverId: req.query.receiver, limit: req.query.limit ?? 100 })).map(view),
  );
  const ReceiverBody = Type.Object({ receiver: RowId }, { additionalProperties: false });
  app.post<{ Body: Static<typeof ReceiverBody> }>(
    '/api/v1/notifications/retry',
    {
      config: role('admin'),
      schema: { summary: 'Requeue every dead notification of one receiver (back after an outage): due at once, oldest first, attempts from zero', tags: ['notifications'], body: ReceiverBody },
    },
    async (req) => {
      const { receiver } = req.body;
      if (!(await store.webhooks.getWebhook(receiver))) notFound('receiver', receiver);
      const requeued = await store.notifications.requeueReceiver(receiver, Date.now());
      if (requeued) d.webhooks?.kick();
      return { receiver, requeued };
    },
  );
  app.post<{ Params: Static<typeof NumericId> }>(
    '/api/v1/notifications/:id/retry',
    { config: role('admin'), schema: { summary: 'Requeue a dead notification: due at once, attempts from zero', tags: ['notifications'], params: NumericId } },
    async (req) => {
      const back = await store.notifications.requeue(req.params.id, Date.now());
      if (!back) {
        const r = await store.notifications.get(req.params.id);
        if (!r) notFound('notification', req.params.id);
        throw new LifelineError(ErrorCodes.Conflict, `notification ${r.id}: only a dead one is requeued, it is ${r.status}`);
      }
      d.webhooks?.kick();
      return view(back);
    },
  );
};
