/**
 * The HTTP API (fastify) and the dashboard's static files.
 *
 *   GET /api/v1/health            no auth
 *   GET /api/v1/devices           viewer
 *   GET /api/v1/readings          viewer
 *   GET /                         dashboard (asks for a token, then calls the API)
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, isLifelineError, type ErrorCode } from '@lifeline/shared';
import type { Logger } from 'pino';
import fastifyStatic from '@fastify/static';
import { createRequire } from 'node:module';
import type { Store } from '../store/store.js';
import { TokenAuth, roleAllows, type Role } from './auth.js';

/** HTTP status of each error code: the one place that maps them. */
const httpStatus: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.RequestInvalid]: 400,
  [ErrorCodes.ConfigInvalid]: 400,
  [ErrorCodes.PayloadInvalid]: 400,
  [ErrorCodes.Unauthorized]: 401,
  [ErrorCodes.Forbidden]: 403,
  [ErrorCodes.NotFound]: 404,
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Minimum role for the route; absent = public. */
    role?: Role;
  }
}

export interface ApiOptions {
  store: Store;
  auth: TokenAuth;
  log: Logger;
  /** Facts for the health route (e.g. ingest counters). */
  health?: () => Record<string, unknown>;
}

const dashboardDir = join(dirname(fileURLToPath(import.meta.url)), '../dashboard');

export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Requests are not logged one by one; warnings and errors are.
    loggerInstance: opts.log.child({}, { level: 'warn' }) as unknown as FastifyBaseLogger,
    bodyLimit: 1_048_576,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: true } },
  });

  app.setErrorHandler((err, req, reply) => {
    if (isLifelineError(err)) {
      const status = httpStatus[err.code] ?? 500;
      return reply.code(status).send({ error: err.code, message: err.message });
    }
    const e = err as { validation?: unknown; statusCode?: number; message: string; code?: string };
    if (e.validation) return reply.code(400).send({ error: ErrorCodes.RequestInvalid, message: e.message });
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: e.code ?? 'BAD_REQUEST', message: e.message });
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: ErrorCodes.NotFound, message: `no route ${req.method} ${req.url}` }));

  // Every route but the public ones needs a bearer token with enough role.
  app.addHook('onRequest', async (req: FastifyRequest, reply) => {
    const need = req.routeOptions.config?.role;
    if (!need) return;
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const who = opts.auth.check(token);
    if (!who) return reply.code(401).send({ error: ErrorCodes.Unauthorized, message: 'send Authorization: Bearer <token>' });
    if (!roleAllows(who.role, need))
      return reply.code(403).send({ error: ErrorCodes.Forbidden, message: `this needs the ${need} role; the token has ${who.role}` });
  });

  app.get('/api/v1/health', async () => ({ status: 'ok', time: Date.now(), ...(opts.health?.() ?? {}) }));

  app.get('/api/v1/devices', { config: { role: 'viewer' } }, async () => opts.store.listDevices());

  app.get<{ Querystring: { device: string; point: string; from?: number; to?: number; limit?: number } }>(
    '/api/v1/readings',
    {
      config: { role: 'viewer' },
      schema: {
        querystring: {
          type: 'object',
          required: ['device', 'point'],
          additionalProperties: false,
          properties: {
            device: { type: 'string', minLength: 1, maxLength: 128 },
            point: { type: 'string', minLength: 1, maxLength: 128 },
            from: { type: 'integer', minimum: 0, description: 'epoch ms, inclusive (default: 1 h ago)' },
            to: { type: 'integer', minimum: 0, description: 'epoch ms, inclusive (default: now)' },
            limit: { type: 'integer', minimum: 1, maximum: 100000, default: 10000 },
          },
        },
      },
    },
    async (req) => {
      const to = req.query.to ?? Date.now();
      const from = req.query.from ?? to - 3_600_000;
      if (from > to) throw Object.assign(new Error(`from (${from}) is after to (${to})`), { statusCode: 400, code: ErrorCodes.RequestInvalid });
      return opts.store.readings({ device: req.query.device, point: req.query.point, from, to, limit: req.query.limit ?? 10000 });
    },
  );

  const page = readFileSync(join(dashboardDir, 'index.html'));
  // uPlot draws the dashboard's charts; served from its package, not copied.
  const uplotDist = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
  await app.register(fastifyStatic, { root: uplotDist, prefix: '/assets/', decorateReply: false });
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(page));

  return app;
}
