/**
 * The HTTP API (fastify) and the operator console's built files (cloud/console/, built by `pnpm install`).
 *
 *   request ─▶ onRequest: security headers (helmet: CSP, frame, nosniff, referrer) on every answer
 *           ─▶ onRequest: identify the bearer token (cached store lookup)
 *             failed check ─▶ rate limiter (per IP) ─▶ 429 when exceeded
 *           ─▶ preParsing: 401 / 403 by the route's role (before any body is read)
 *           ─▶ body parser: JSON nested deeper than 64 levels refused on the text (input.ts)
 *           ─▶ preValidation: control characters in params, query and body refused (input.ts)
 *           ─▶ schema validation (querystring, params, body; unknown fields refused; integers bounded)
 *           ─▶ handler (routes/*.ts, one plugin per group) ─▶ store / command center / live hub
 *   any error ─▶ one error handler: LifelineError codes and fastify errors mapped to HTTP, JSON {error, message, details?}
 *
 * Every route and its least role are listed in docs/api.md and in the
 * OpenAPI document at /api/v1/openapi.json.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import helmet from '@fastify/helmet';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, isLifelineError, type ErrorCode } from '@lifeline/shared';
import type { Logger } from 'pino';
import fastifyStatic from '@fastify/static';
import type { Store } from '../store/store.js';
import { TokenAuth, roleAllows, type Identity, type Role } from './auth.js';
import { collectRoutes, openApiDocument } from './openapi.js';
import { registerRoutes } from './routes/index.js';
import { tileOrigin, type ConsoleSettings } from './routes/console.js';
import { httpError } from './http-error.js';
import { storeUnavailable } from '../store/unavailable.js';
import { withQueryTimeout } from '../store/query-budget.js';
import { VISIBLE_PATTERN, invisibleMessage, limitJsonDepth, refuseControlChars, refuseNonFinite, requireBoundedIntegers } from './input.js';
import { LiveHub } from '../live.js';
import { CommandCenter } from '../command-center.js';
import { Enrolment } from '../enrol.js';
import { CloudAlarms } from '../cloud-alarms.js';
import { Maintenance } from '../maintenance.js';
import type { WebhookDispatcher } from '../webhooks.js';

/** HTTP status of each error code: the one place that maps them. */
const httpStatus: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.RequestInvalid]: 400,
  [ErrorCodes.ConfigInvalid]: 400,
  [ErrorCodes.PayloadInvalid]: 400,
  [ErrorCodes.Unauthorized]: 401,
  [ErrorCodes.Forbidden]: 403,
  [ErrorCodes.NotFound]: 404,
  [ErrorCodes.Conflict]: 409,
  [ErrorCodes.RateLimited]: 429,
  [ErrorCodes.StoreUnavailable]: 503,
};

/** Fastify's own error codes that deserve a clearer word. */
const fastifyCodes: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ErrorCodes.RequestInvalid,
  FST_ERR_CTP_EMPTY_JSON_BODY: ErrorCodes.RequestInvalid,
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ErrorCodes.RequestInvalid,
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Minimum role for the route; absent = public. */
    role?: Role;
  }
  interface FastifyRequest {
    /** The caller, when a valid bearer token came with the request. */
    identity?: Identity;
  }
}

export interface ApiOptions {
  store: Store;
  auth: TokenAuth;
  log: Logger;
  /** Facts for the health route (e.g. ingest counters). */
  health?: () => Record<string, unknown>;
  live?: LiveHub;
  commands?: CommandCenter;
  enrolment?: Enrolment;
  webhooks?: WebhookDispatcher;
  /** JSON Schema of the gateway config (`gatewayConfigJsonSchema` from @lifeline/shared/config, generated into shared/schema); without it config pushes are refused. */
  gatewayConfigSchema?: object;
  /** The cloud's own alarms (acknowledged here, not by a gateway); default: on `store`. */
  cloudAlarms?: CloudAlarms;
  /** Maintenance windows applied to alarms as they are shown; default: on `store`. */
  maintenance?: Maintenance;
  /** Called after a gateway is revoked (the broker drops its connections). */
  onRevoke?: (gateway: string) => void;
  /** Failed token checks allowed per IP and minute (default 30); enrolment attempts per IP and minute (default 10). */
  rateLimit?: { authFailuresPerMinute?: number; enrollPerMinute?: number };
  /** Most buckets a downsampled query may return (default 10,000). */
  maxBuckets?: number;
  /** Largest request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Longest each database query of a request may wait for its answer, ms (default 30000; store/query-budget.ts). */
  queryTimeoutMs?: number;
  /** The console's map settings (the city's tile service); its origin joins the CSP's img-src. */
  console?: ConsoleSettings;
  /** The built console (default cloud/console/dist). */
  consoleDir?: string;
}

/** The bearer token of a request, or undefined when it sends none. */
function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  return token || undefined;
}

/** Where `pnpm install` (cloud's `build:console`) puts the built console. */
export const consoleDist = join(dirname(fileURLToPath(import.meta.url)), '../../console/dist');

/**
 * The console loads its script, styles and fonts from this origin and talks
 * only to this API: nothing inline, nothing from elsewhere, never in a frame.
 * img-src: data: and blob: for the map's and charts' canvases, plus the city's
 * tile service when one is configured. Helmet's other defaults stay (nosniff,
 * COOP/CORP same-origin, no X-Powered-By).
 */
function helmetOptions(tiles?: string) {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:', ...(tiles ? [tileOrigin(tiles)] : [])],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        // The alarm sound is made by the Web Audio API, no file; nothing else plays.
        mediaSrc: ["'none'"],
        baseUri: ["'none'"],
        // The sign-in form is handled by script; were it ever submitted, the token must not land in a URL.
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' as const },
    referrerPolicy: { policy: 'no-referrer' as const },
    // Plain HTTP here; HSTS belongs to the TLS proxy in front (docs/operations.md).
    strictTransportSecurity: false,
  };
}

/** How every route's schemas are compiled (exported for bench/_fuzz-targets.ts, which compiles them the same way). */
// strictNumbers: an Infinity in a JSON body is not a number (a coerced one is caught by refuseNonFinite).
export const AJV_OPTIONS = { removeAdditional: false, coerceTypes: true, allErrors: true, strictNumbers: true } as const;

export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Requests are not logged one by one; warnings and errors are.
    loggerInstance: opts.log.child({}, { level: 'warn' }) as unknown as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit ?? 1_048_576,
    ajv: { customOptions: AJV_OPTIONS },
    // A slow client may not hold a request open for ever.
    requestTimeout: 30_000,
    forceCloseConnections: true,
  });

  // First of the hooks: the token check's queries and the handler's run under the request's query budget.
  const queryTimeoutMs = opts.queryTimeoutMs ?? 30_000;
  app.addHook('onRequest', (_req, _reply, done) => withQueryTimeout(queryTimeoutMs, done));

  app.setErrorHandler((thrown, req, reply) => {
    // A database restarting, unreachable or out of disk: a 503 naming why, not "internal error".
    const err = storeUnavailable(thrown) ?? thrown;
    if (isLifelineError(err)) {
      const status = httpStatus[err.code] ?? 500;
      if (status >= 500) req.log.error({ err }, 'request failed');
      if (status === 503) reply.header('retry-after', '5');
      return reply.code(status).send({ error: err.code, message: err.message.replace(/^[A-Z_]+: /, ''), ...(err.details ? { details: err.details } : {}) });
    }
    const e = err as { validation?: { keyword?: string; instancePath: string; message?: string; params?: Record<string, unknown> }[]; validationContext?: string; statusCode?: number; message: string; code?: string; details?: unknown };
    if (e.validation) {
      const details = e.validation.map((v) => {
        const extra = v.params?.additionalProperty ? ` (${String(v.params.additionalProperty)})` : v.params?.allowedValues ? ` (${(v.params.allowedValues as unknown[]).join(', ')})` : '';
        const message = v.keyword === 'pattern' && v.params?.pattern === VISIBLE_PATTERN ? invisibleMessage(req.body, v.instancePath) : (v.message ?? 'is invalid');
        return { path: `${e.validationContext ?? ''}${v.instancePath.replace(/\//g, '.')}`, message: `${message}${extra}` };
      });
      return reply.code(400).send({ error: ErrorCodes.RequestInvalid, message: details.map((d) => `${d.path}: ${d.message}`).join('; '), details });
    }
    if (e.statusCode && e.statusCode < 500)
      return reply.code(e.statusCode).send({ error: (e.code && fastifyCodes[e.code]) ?? e.code ?? 'BAD_REQUEST', message: e.message, ...(e.details ? { details: e.details } : {}) });
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: ErrorCodes.NotFound, message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  await app.register(helmet, helmetOptions(opts.console?.tileUrl));

  // Rate limits: failed token checks and enrolment attempts, per client address.
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) =>
      httpError(429, ErrorCodes.RateLimited, `too many attempts; retry in ${Math.ceil(ctx.ttl / 1000)} s`),
  });
  const authFailureLimit = app.rateLimit({
    max: opts.rateLimit?.authFailuresPerMinute ?? 30,
    timeWindow: 60_000,
    keyGenerator: (req) => `auth:${req.ip}`,
  });

  // Identify first (onRequest), refuse later (preParsing): the limiter sits between.
  app.addHook('onRequest', async (req: FastifyRequest, reply) => {
    const need = req.routeOptions.config?.role;
    if (!need) return;
    req.identity = await opts.auth.check(bearerToken(req));
    if (!req.identity) await authFailureLimit.call(app, req, reply);
  });
  app.addHook('preParsing', async (req, reply) => {
    const need = req.routeOptions.config?.role;
    if (!need || reply.sent) return;
    const who = req.identity;
    // Same status either way; the words tell a missing header from a dead token.
    if (!who)
      return reply.code(401).send({ error: ErrorCodes.Unauthorized, message: bearerToken(req) === undefined ? 'no bearer token: send Authorization: Bearer <token>' : 'token refused: unknown or revoked' });
    if (!roleAllows(who.role, need))
      return reply.code(403).send({ error: ErrorCodes.Forbidden, message: `this needs the ${need} role; the token has ${who.role}` });
  });

  // Bad input is refused before any handler: deep JSON, control characters, integers past 2^53 (input.ts).
  limitJsonDepth(app);
  app.addHook('preValidation', refuseControlChars);
  app.addHook('preHandler', refuseNonFinite);
  requireBoundedIntegers(app);

  const routes = collectRoutes(app);
  const live = opts.live ?? new LiveHub(opts.log);
  await registerRoutes(app, {
    ...opts,
    live,
    commands: opts.commands ?? new CommandCenter(opts.store, opts.log),
    enrolment: opts.enrolment ?? new Enrolment(opts.store, null),
    cloudAlarms: opts.cloudAlarms ?? new CloudAlarms(opts.store),
    maintenance: opts.maintenance ?? new Maintenance(opts.store),
    maxBuckets: opts.maxBuckets ?? 10_000,
  });

  app.get('/api/v1/health', { schema: { summary: 'Liveness, ingest counters and how many gateways have batches refused (status degraded; no token needed)', tags: ['system'] } }, async () => {
    // A gateway whose batches are refused loses data while the cloud runs fine: health says so (which ones: GET /gateways).
    const faulty = (await opts.store.registry.listGateways()).filter((g) => g.sync.faulty).length;
    return { status: faulty ? 'degraded' : 'ok', time: Date.now(), gateways: { faulty }, ...(opts.health?.() ?? {}) };
  });
  let doc: Record<string, unknown> | undefined;
  app.get('/api/v1/openapi.json', { schema: { summary: 'This API as an OpenAPI 3 document (no token needed)', tags: ['system'] } }, async () => {
    doc ??= openApiDocument(routes, { title: 'Lifeline cloud API', version: '1' });
    return doc;
  });

  // The console: one page and its hashed assets (cloud/console/, built by `pnpm install`).
  const dist = opts.consoleDir ?? consoleDist;
  if (existsSync(join(dist, 'index.html'))) {
    const page = readFileSync(join(dist, 'index.html'));
    await app.register(fastifyStatic, { root: join(dist, 'assets'), prefix: '/assets/', decorateReply: false, immutable: true, maxAge: '365d' });
    app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page));
  } else {
    app.get('/', async (_req, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The operator console is not built: run `pnpm install` (or `pnpm --filter @lifeline/cloud build:console`).\n'));
  }

  return app;
}
