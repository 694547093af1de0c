/** Admin routes: API tokens and webhooks. */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { roles, type Role } from '../auth.js';
import { NumericId, badRequest, notFound, role } from './params.js';
import type { RouteDeps } from './deps.js';

export const adminRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  const { store } = d;
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
      const w = await store.webhooks.addWebhook({ kind: 'webhook', sms: null, url: req.body.url, secret: req.body.secret ?? randomBytes(24).toString('base64url'), minLevel: req.body.minLevel ?? 0, createdBy: req.identity!.name, createdAt: Date.now() });
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
};
