/**
 * The OpenAPI 3 document, built from the routes themselves: every /api route
 * must carry a summary, and its role, querystring, params and body schemas
 * become the operation. Registering an /api route without a summary throws
 * at start, so the document cannot silently miss a route.
 *
 *   app.addHook('onRoute') ─▶ collect { method, url, schema, role } ─▶ openApiDocument() ─▶ GET /api/v1/openapi.json
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

/** One collected route. */
export interface ApiRoute {
  method: string;
  url: string;
  role?: string;
  schema: {
    summary?: string;
    description?: string;
    tags?: readonly string[];
    querystring?: unknown;
    params?: unknown;
    body?: unknown;
    response?: Record<string, unknown>;
  };
  /** Content type of a non-JSON answer (CSV, GeoJSON, SSE). */
  produces?: string;
}

declare module 'fastify' {
  interface FastifySchema {
    /** One line for the OpenAPI document; required on every /api route. */
    summary?: string;
    description?: string;
    tags?: readonly string[];
  }
  interface FastifyContextConfig {
    /** Content type of a non-JSON answer, for the OpenAPI document. */
    produces?: string;
  }
}

/** Collect /api routes as they are registered (call before registering them). */
export function collectRoutes(app: FastifyInstance): ApiRoute[] {
  const routes: ApiRoute[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    if (!r.url.startsWith('/api/')) return;
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD');
    const schema = (r.schema ?? {}) as ApiRoute['schema'];
    if (!schema.summary) throw new Error(`route ${methods.join(',')} ${r.url} has no schema.summary (it would be missing from the OpenAPI document)`);
    const config = (r.config ?? {}) as { role?: string; produces?: string };
    for (const method of methods) routes.push({ method, url: r.url, role: config.role, schema, produces: config.produces });
  });
  return routes;
}

/** `/api/v1/alarms/:id/ack` → `/api/v1/alarms/{id}/ack` */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

type JsonSchema = { type?: string; properties?: Record<string, JsonSchema & { description?: string }>; required?: string[] };

function plain(schema: unknown): JsonSchema {
  // TypeBox's symbol keys drop out of JSON.
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

function parameters(where: 'query' | 'path', schema: unknown): unknown[] {
  if (!schema) return [];
  const s = plain(schema);
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    ...(p.description ? { description: p.description } : {}),
    schema: p,
  }));
}

/** The OpenAPI 3.0 document of the collected routes. */
export function openApiDocument(routes: ApiRoute[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = openApiPath(r.url);
    const responses: Record<string, unknown> = {};
    for (const [code, schema] of Object.entries(r.schema.response ?? {})) responses[code] = { description: `${code}`, content: { 'application/json': { schema: plain(schema) } } };
    if (!Object.keys(responses).some((c) => c.startsWith('2')))
      responses['200'] = { description: 'OK', content: { [r.produces ?? 'application/json']: { schema: {} } } };
    responses['400'] ??= { $ref: '#/components/responses/Error' };
    if (r.role) {
      responses['401'] = { $ref: '#/components/responses/Error' };
      responses['403'] = { $ref: '#/components/responses/Error' };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.schema.summary,
      ...(r.schema.description ? { description: r.schema.description } : {}),
      tags: r.schema.tags ?? [],
      'x-role': r.role ?? 'public',
      security: r.role ? [{ bearer: [] }] : [],
      parameters: [...parameters('path', r.schema.params), ...parameters('query', r.schema.querystring)],
      ...(r.schema.body ? { requestBody: { required: true, content: { 'application/json': { schema: plain(r.schema.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      ...info,
      description: 'Lifeline cloud API. Every route but health, openapi.json and enroll needs `Authorization: Bearer <token>`; `x-role` names the least role (viewer < operator < technician < admin).',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: {
        Error: {
          description: 'An error: the code names the kind, the message names the field and the bad value.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['error', 'message'],
                properties: { error: { type: 'string' }, message: { type: 'string' }, details: {} },
              },
            },
          },
        },
      },
    },
  };
}
