/**
 * Alarm routing: rules (who is told of which alarm, quiet hours,
 * de-duplication, escalation) and daily digests per receiver. Reading is for
 * operators (the duty officers who must know who else is told; rules hold
 * receiver ids, never a secret); writing is for admins, who own the receivers.
 * A rule body is checked whole and every error listed (field and value), like
 * a gateway config push; the receivers it names must exist, and a receiver a
 * rule names cannot be deleted until the rule no longer names it.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ErrorCodes, LifelineError, type ValidationIssue } from '@lifeline/shared';
import { DEFAULT_TIME_ZONE, DigestBody, RuleBody, knownZone, ruleIssues, ruleSpec, type RuleBodyInput } from '../../notify/rules.js';
import { NumericId, badRequest, notFound, role } from './params.js';
import type { RouteDeps } from './deps.js';

export const ruleRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  const { store } = d;
  const reload = async () => d.webhooks?.reload();

  /** The body checked against the rule schema and the receivers that exist; every problem in one 400. */
  const checked = async (body: unknown) => {
    const ids = new Set((await store.webhooks.listWebhooks()).map((w) => w.id));
    const issues: ValidationIssue[] = ruleIssues(body, ids);
    if (issues.length) throw new LifelineError(ErrorCodes.ConfigInvalid, `rule has ${issues.length} error(s): ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, { details: issues });
    return ruleSpec(body as RuleBodyInput);
  };
  // The schema is checked in the handler (every error listed), not by fastify (the first only); OpenAPI still shows it.
  const bodyDoc = Type.Object({}, { additionalProperties: true, description: `an alarm rule: ${JSON.stringify(Object.keys(RuleBody.properties))} (docs/alarms.md)` });

  app.get('/api/v1/rules', { config: role('operator'), schema: { summary: 'Alarm routing rules: match, receivers, quiet hours, de-duplication, escalation', tags: ['notifications'] } }, async () =>
    store.routing.listRules(),
  );
  app.get<{ Params: Static<typeof NumericId> }>(
    '/api/v1/rules/:id',
    { config: role('operator'), schema: { summary: 'One alarm routing rule', tags: ['notifications'], params: NumericId } },
    async (req) => (await store.routing.getRule(req.params.id)) ?? notFound('rule', req.params.id),
  );
  app.post<{ Body: unknown }>(
    '/api/v1/rules',
    { config: role('admin'), schema: { summary: 'Add an alarm routing rule (every error listed; the receivers must exist)', tags: ['notifications'], body: bodyDoc } },
    async (req, reply) => {
      const rule = await store.routing.addRule(await checked(req.body), req.identity!.name, Date.now());
      await reload();
      return reply.code(201).send(rule);
    },
  );
  app.put<{ Params: Static<typeof NumericId>; Body: unknown }>(
    '/api/v1/rules/:id',
    { config: role('admin'), schema: { summary: 'Replace an alarm routing rule', tags: ['notifications'], params: NumericId, body: bodyDoc } },
    async (req) => {
      if (!(await store.routing.getRule(req.params.id))) notFound('rule', req.params.id);
      const rule = (await store.routing.updateRule(req.params.id, await checked(req.body), req.identity!.name, Date.now())) ?? notFound('rule', req.params.id);
      await reload();
      return rule;
    },
  );
  app.delete<{ Params: Static<typeof NumericId> }>(
    '/api/v1/rules/:id',
    { config: role('admin'), schema: { summary: 'Delete an alarm routing rule (its receivers go back to their minLevel alone if no other rule names them)', tags: ['notifications'], params: NumericId } },
    async (req, reply) => {
      if (!(await store.routing.deleteRule(req.params.id))) notFound('rule', req.params.id);
      await reload();
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/digests', { config: role('operator'), schema: { summary: 'Receivers that get a daily digest, and when', tags: ['notifications'] } }, async () => store.routing.listDigests());
  app.put<{ Params: Static<typeof NumericId>; Body: Static<typeof DigestBody> }>(
    '/api/v1/webhooks/:id/digest',
    { config: role('admin'), schema: { summary: 'Send this receiver a daily digest of the last 24 h at a local time', tags: ['notifications'], params: NumericId, body: DigestBody } },
    async (req) => {
      if (!(await store.webhooks.getWebhook(req.params.id))) notFound('webhook', req.params.id);
      const timeZone = req.body.timeZone ?? DEFAULT_TIME_ZONE;
      if (!knownZone(timeZone)) badRequest(`timeZone: not a time zone (an IANA name, e.g. ${DEFAULT_TIME_ZONE}), got ${JSON.stringify(timeZone)}`);
      const digest = { receiverId: req.params.id, at: req.body.at, timeZone, createdBy: req.identity!.name, createdAt: Date.now() };
      await store.routing.setDigest(digest);
      return digest;
    },
  );
  app.delete<{ Params: Static<typeof NumericId> }>(
    '/api/v1/webhooks/:id/digest',
    { config: role('admin'), schema: { summary: 'Stop a receiver\'s daily digest', tags: ['notifications'], params: NumericId } },
    async (req, reply) => {
      if (!(await store.routing.deleteDigest(req.params.id))) notFound('digest of webhook', req.params.id);
      return reply.code(204).send();
    },
  );
};
