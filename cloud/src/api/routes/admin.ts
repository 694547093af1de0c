/** Admin routes: API tokens and alarm receivers (webhooks, WeCom / DingTalk robots, SMS gateways). */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { roles, type Role } from '../auth.js';
import { receiverKinds, type ReceiverKind, type SmsTemplate, type WebhookRecord } from '../../store/store.js';
import { redactedUrl } from '../../notify/receivers.js';
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
      kind: Type.Optional(Type.Union(receiverKinds.map((k) => Type.Literal(k)) as TSchema[], { description: `receiver kind: ${receiverKinds.join(', ')} (default webhook)` })),
      url: Type.String({ pattern: '^https?://', maxLength: 2000 }),
      minLevel: Type.Optional(Type.Integer({ minimum: 0, maximum: 4, description: 'only transitions at this level or above (default 0: all)' })),
      secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256, description: 'webhook: HMAC key (default: generated and answered once); dingtalk: the robot\'s signing secret (SEC…), optional' })),
      sms: Type.Optional(
        Type.Object(
          {
            method: Type.Optional(Type.Union([Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('GET')], { description: 'default POST' })),
            contentType: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'default application/json' })),
            body: Type.Optional(Type.String({ maxLength: 4000, description: 'request body with {phone} {text} {level} {gateway} {device} {cause}' })),
            headers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }), Type.String({ maxLength: 1000 }), { description: 'extra headers (an API key); never listed' })),
            phones: Type.Array(Type.String({ pattern: '^\\+?[0-9]{5,20}$' }), { minItems: 1, maxItems: 50 }),
          },
          { additionalProperties: false, description: 'kind sms only: the SMS gateway request, one per phone number' },
        ),
      ),
    },
    { additionalProperties: false },
  );
  app.get('/api/v1/webhooks', { config: role('admin'), schema: { summary: 'Receivers with their delivery figures (secrets, robot keys and SMS headers never listed)', tags: ['admin'] } }, async () =>
    (await store.webhooks.listWebhooks()).map((w) => ({ ...listed(w), stats: d.webhooks?.stats(w.id) ?? null })),
  );
  app.post<{ Body: Static<typeof WebhookBody> }>(
    '/api/v1/webhooks',
    {
      config: role('admin'),
      schema: { summary: 'Subscribe a receiver to alarm transitions: a signed webhook, a WeCom or DingTalk group robot, or an SMS gateway', tags: ['admin'], body: WebhookBody },
    },
    async (req, reply) => {
      const b = req.body;
      const kind = (b.kind ?? 'webhook') as ReceiverKind;
      checkReceiver(kind, b);
      const secret = kind === 'webhook' ? (b.secret ?? randomBytes(24).toString('base64url')) : (b.secret ?? '');
      const sms: SmsTemplate | null = b.sms
        ? { method: b.sms.method ?? 'POST', contentType: b.sms.contentType ?? 'application/json', body: b.sms.body ?? '', headers: b.sms.headers ?? {}, phones: b.sms.phones }
        : null;
      const w = await store.webhooks.addWebhook({ kind, sms, url: b.url, secret, minLevel: b.minLevel ?? 0, createdBy: req.identity!.name, createdAt: Date.now() });
      await d.webhooks?.reload();
      return reply.code(201).send(w);
    },
  );
  app.delete<{ Params: Static<typeof NumericId> }>(
    '/api/v1/webhooks/:id',
    { config: role('admin'), schema: { summary: 'Delete a webhook', tags: ['admin'], params: NumericId } },
    async (req, reply) => {
      const naming = (await store.routing.listRules()).filter((r) => [...r.receivers, ...(r.escalation?.steps.flatMap((s) => s.receivers) ?? [])].includes(req.params.id));
      if (naming.length) throw new LifelineError(ErrorCodes.Conflict, `webhook ${req.params.id}: named by rule(s) ${naming.map((r) => `${r.id} ${JSON.stringify(r.name)}`).join(', ')}; change or delete them first`);
      if (!(await store.webhooks.deleteWebhook(req.params.id))) notFound('webhook', req.params.id);
      await store.routing.deleteDigest(req.params.id);
      await d.webhooks?.reload();
      return reply.code(204).send();
    },
  );
};

/** A receiver as listed: no secret, the robot key shortened, SMS header values hidden. */
function listed(w: WebhookRecord) {
  const { secret, ...rest } = w;
  return {
    ...rest, url: redactedUrl(w), signed: secret !== '',
    sms: w.sms && { ...w.sms, headers: Object.fromEntries(Object.keys(w.sms.headers).map((k) => [k, '…'])) },
  };
}

/** What the schema cannot say: each kind's URL, secret and template, refused with the field and value named. */
function checkReceiver(kind: ReceiverKind, b: { url: string; secret?: string; sms?: { method?: string; body?: string } }): void {
  let url: URL;
  try {
    url = new URL(b.url);
  } catch {
    badRequest(`url: not a URL, got ${JSON.stringify(b.url)}`);
  }
  if (kind !== 'sms' && b.sms) badRequest(`sms: only for kind sms, got kind ${JSON.stringify(kind)}`);
  if (kind === 'wecom') {
    if (!url.searchParams.get('key')) badRequest(`url: a WeCom robot URL ends in ?key=… (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…), got ${JSON.stringify(b.url)}`);
    if (b.secret !== undefined) badRequest('secret: a WeCom robot takes none (its key is in the url)');
  }
  if (kind === 'dingtalk') {
    if (!url.searchParams.get('access_token')) badRequest(`url: a DingTalk robot URL has ?access_token=… (https://oapi.dingtalk.com/robot/send?access_token=…), got ${JSON.stringify(b.url)}`);
    if (url.searchParams.has('sign') || url.searchParams.has('timestamp')) badRequest(`url: give the robot URL without timestamp and sign (they are made per message from secret), got ${JSON.stringify(b.url)}`);
    if (b.secret !== undefined && !b.secret.startsWith('SEC')) badRequest(`secret: a DingTalk signing secret starts with SEC, got ${JSON.stringify(b.secret.slice(0, 6) + '…')}`);
  }
  if (kind === 'sms') {
    if (!b.sms) badRequest('sms: required for kind sms (method, contentType, body, headers, phones)');
    if (b.secret !== undefined) badRequest('secret: an SMS gateway takes none (put its key in sms.headers)');
    const method = b.sms.method ?? 'POST';
    const where = method === 'GET' ? b.url : `${b.url} ${b.sms.body ?? ''}`;
    if (!where.includes('{phone}')) badRequest(`sms: {phone} must appear in ${method === 'GET' ? 'url' : 'url or sms.body'}, or every message goes to no one`);
    if (!where.includes('{text}')) badRequest(`sms: {text} must appear in ${method === 'GET' ? 'url' : 'url or sms.body'}, or the message says nothing`);
  }
}
