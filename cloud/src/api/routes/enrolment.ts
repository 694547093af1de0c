/**
 * Enrolment routes: a technician creates a one-time token (for a new gateway,
 * or to replace one); the box spends it, without a bearer token, rate-limited.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { GATEWAY_ID_PATTERN } from '../../enrol.js';
import { role } from './params.js';
import type { RouteDeps } from './deps.js';

export const enrolmentRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
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
};
