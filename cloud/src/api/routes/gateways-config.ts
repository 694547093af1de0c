/**
 * Commands and configs: the audit trail of commands (operator), a gateway's
 * configs and a config push (technician). A push is refused here for what
 * the gateway would refuse (push rules, schema, its id) before it is sent.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { ErrorCodes, LifelineError, mergePushedConfig, pushedConfigIssues, pointerToPath } from '@lifeline/shared';
import { httpError } from '../http-error.js';
import { commandView, configView } from '../views.js';
import { Id, StringId, notFound, role } from './params.js';
import type { RouteDeps } from './deps.js';

export const gatewayConfigRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  const { store } = d;
  const CommandQuery = Type.Object({ gateway: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }, { additionalProperties: false });
  app.get<{ Querystring: Static<typeof CommandQuery> }>(
    '/api/v1/commands',
    { config: role('operator'), schema: { summary: 'Commands sent to gateways (the audit trail), newest first, with their answers; secrets redacted, config bodies and config errors for technician and above', tags: ['alarms', 'config'], querystring: CommandQuery } },
    async (req) => (await store.commands.listCommands({ gateway: req.query.gateway, limit: req.query.limit ?? 100 })).map((c) => commandView(c, req.identity!.role)),
  );

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
        body: Type.Object({}, { additionalProperties: true, description: 'a whole gateway config (shared/schema/gateway.schema.json)' }),
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
};
