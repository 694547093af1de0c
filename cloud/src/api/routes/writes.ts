/**
 * Point writes from the operations centre: an operator sets a lamp, a valve or
 * a pump through its gateway, with a reason; the gateway writes, reads the
 * point back and answers; every write stays in the commands table (the audit).
 *
 *   POST …/points/:point/write ─▶ resolvePoint (404 naming what exists) ─▶ CommandCenter.submit
 *       (type point_write, body {device, point, value, reason, expiresAt}) ─▶ downlink ─▶ gateway
 *   gateway: write ─▶ read back ─▶ answer {ok, status, readBack} ─▶ store.commands.answerCommand
 *   GET /writes ─▶ point_write commands, newest first, each with its state (writeState)
 *
 * No migration: the commands table holds a write (type, body, status, answer).
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { CommandRecord } from '../../store/store.js';
import { commandView, type CommandView } from '../views.js';
import { PeopleText } from '../input.js';
import { Id, resolveDevice, resolvePoint, role } from './params.js';
import type { RouteDeps } from './deps.js';
import type { Role } from '../auth.js';

/** What the API shows of a point write. */
export const writeStates = ['pending', 'confirmed', 'unverified', 'failed', 'expired'] as const;
/**
 * `pending`: sent, no answer yet, not past expiresAt; `confirmed`: the gateway
 * wrote and read the value back; `unverified`: the gateway says done but sent no
 * read-back (a gateway from before read-back); `failed`: refused (unknown or
 * read-only point), the write failed, or the read-back differs; `expired`: no
 * answer by expiresAt, or the gateway got it too late and did not carry it out.
 */
export type WriteState = (typeof writeStates)[number];

/** A write's state, from its command record and the time now. */
export function writeState(c: CommandRecord, now = Date.now()): WriteState {
  const a = c.answer;
  if (!a) {
    const expiresAt = c.body.expiresAt;
    return typeof expiresAt === 'number' && now > expiresAt ? 'expired' : 'pending';
  }
  if (a.status === 'expired') return 'expired';
  if (a.ok !== true) return 'failed';
  return typeof a.readBack === 'number' ? 'confirmed' : 'unverified';
}

/** A point write as the API shows it: the command (redacted as every command is) and its state. */
export type WriteView = CommandView & { state: WriteState };

export function writeView(c: CommandRecord, r: Role, now = Date.now()): WriteView {
  return { ...commandView(c, r), state: writeState(c, now) };
}

export const writeRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  const { store } = d;

  const WriteParams = Type.Object({ id: Id, device: Id, point: Id }, { additionalProperties: false });
  const WriteBody = Type.Object(
    {
      value: Type.Number({ description: 'in the point’s unit (a coil takes 0 or 1); finite' }),
      reason: PeopleText(500, 'why, for the audit'),
    },
    { additionalProperties: false },
  );
  app.post<{ Params: Static<typeof WriteParams>; Body: Static<typeof WriteBody> }>(
    '/api/v1/gateways/:id/devices/:device/points/:point/write',
    {
      config: role('operator'),
      schema: {
        summary: 'Write a point (lamp on/off, dimming, valve, pump) with a reason: recorded, sent to the gateway, which writes, reads back and answers; see GET /writes for its state',
        tags: ['writes'],
        params: WriteParams,
        body: WriteBody,
      },
    },
    async (req, reply) => {
      const { id: gateway, device, point } = req.params;
      // 404 naming the gateway's devices, or the device's points (what it reports and what it has sent).
      const dev = await resolvePoint(store, { device, point, gateway });
      const user = req.identity!.name;
      // Stamped here so the state the API shows and the gateway's refusal use the same instant.
      const expiresAt = Date.now() + d.commands.pointWriteTtlMs;
      const command = await d.commands.submit({
        gateway: dev.gateway,
        type: 'point_write',
        alarm: null,
        body: { device: dev.id, point, value: req.body.value, reason: req.body.reason, expiresAt },
        requestedBy: user,
      });
      return reply.code(202).send({ command: writeView(command, req.identity!.role) });
    },
  );

  const WriteQuery = Type.Object(
    { gateway: Type.Optional(Id), device: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default 100' })) },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof WriteQuery> }>(
    '/api/v1/writes',
    {
      config: role('operator'),
      schema: { summary: 'Point writes, newest first: who, what (device, point, value), when, why, and how it ended (pending, confirmed, unverified, failed, expired)', tags: ['writes'], querystring: WriteQuery },
    },
    async (req) => {
      const { gateway, device } = req.query;
      const limit = req.query.limit ?? 100;
      const dev = device !== undefined ? await resolveDevice(store, device, gateway) : undefined;
      // The device is inside the body: read a wider window of the gateway's writes and keep its own.
      const rows = await store.commands.listCommands({ type: 'point_write', gateway: dev?.gateway ?? gateway, limit: dev ? 10_000 : limit });
      const now = Date.now();
      return rows.filter((c) => !dev || c.body.device === dev.id).slice(0, limit).map((c) => writeView(c, req.identity!.role, now));
    },
  );
};
