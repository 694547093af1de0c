/**
 * Alarm routes: list and read (viewer; shown out_of_service under a maintenance window); acknowledge, shelve and comment
 * (operator). An ack or shelve is recorded, then sent to the gateway as a
 * command; the cloud's own alarms are acknowledged here.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ErrorCodes, LifelineError, alarmStates, lifelineKinds, type AlarmState } from '@lifeline/shared';
import { isCloudAlarm } from '../../cloud-alarms.js';
import { PeopleText } from '../input.js';
import { commandView } from '../views.js';
import { DAY, Id, NumericId, csvList, list, notFound, role } from './params.js';
import type { RouteDeps } from './deps.js';

export const alarmRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  const { store } = d;
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
      // As shown: an alarm under a maintenance window is out_of_service (maintenance.ts).
      return d.maintenance.listAlarms({ state, level, minLevel: q.minLevel, kind: list('kind', q.kind), district: list('district', q.district), gateway: q.gateway, device: q.device, limit: q.limit ?? 500 });
    },
  );

  app.get<{ Params: Static<typeof NumericId> }>(
    '/api/v1/alarms/:id',
    { config: role('viewer'), schema: { summary: 'One alarm with its full transition history, comments and commands', tags: ['alarms'], params: NumericId } },
    async (req) => {
      const alarm = (await store.alarms.getAlarm(req.params.id)) ?? notFound('alarm', req.params.id);
      const [history, comments, commands] = await Promise.all([store.alarms.alarmHistory(alarm.id), store.alarms.listComments(alarm.id), store.commands.listCommands({ alarm: alarm.id, limit: 100 })]);
      return { ...(await d.maintenance.show(alarm)), history, comments, commands: commands.map((c) => commandView(c, req.identity!.role)) };
    },
  );

  const AckBody = Type.Object({ comment: Type.Optional(PeopleText(2000)) }, { additionalProperties: false });
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
      reason: PeopleText(500),
    },
    { additionalProperties: false },
  );
  app.post<{ Params: Static<typeof NumericId>; Body: Static<typeof ShelveBody> }>(
    '/api/v1/alarms/:id/shelve',
    { config: role('operator'), schema: { summary: 'Shelve an alarm for a while, with a reason: recorded, then sent to its gateway', tags: ['alarms'], params: NumericId, body: ShelveBody } },
    async (req, reply) => {
      const alarm = (await store.alarms.getAlarm(req.params.id)) ?? notFound('alarm', req.params.id);
      if (alarm.state === 'normal') throw new LifelineError(ErrorCodes.Conflict, `alarm ${alarm.id} is normal; there is nothing to shelve`);
      // The gateway does not know the cloud's own alarms: a shelve command would only fail there.
      if (isCloudAlarm(alarm)) {
        throw new LifelineError(ErrorCodes.Conflict, `alarm ${alarm.id} (${alarm.alarmId}) is raised by the cloud, not by gateway ${alarm.gateway}; to silence it for a while, put the gateway or device in a maintenance window (POST /api/v1/maintenance)`);
      }
      const user = req.identity!.name;
      const until = Date.now() + req.body.durationMs;
      await store.alarms.addComment({ alarm: alarm.id, ts: Date.now(), user, text: `shelved until ${new Date(until).toISOString()}: ${req.body.reason}` });
      const command = await d.commands.submit({ gateway: alarm.gateway, type: 'alarm_shelve', alarm: alarm.id, body: { alarmId: alarm.alarmId, user, until, reason: req.body.reason }, requestedBy: user });
      return reply.code(202).send({ command: commandView(command, req.identity!.role) });
    },
  );

  const CommentBody = Type.Object({ text: PeopleText(2000) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof NumericId>; Body: Static<typeof CommentBody> }>(
    '/api/v1/alarms/:id/comments',
    { config: role('operator'), schema: { summary: 'Comment on an alarm', tags: ['alarms'], params: NumericId, body: CommentBody } },
    async (req, reply) => {
      const alarm = (await store.alarms.getAlarm(req.params.id)) ?? notFound('alarm', req.params.id);
      return reply.code(201).send(await store.alarms.addComment({ alarm: alarm.id, ts: Date.now(), user: req.identity!.name, text: req.body.text }));
    },
  );
};
