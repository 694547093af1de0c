/**
 * The fuzz targets of the HTTP API (bench/_fuzz-targets.ts): bodies posted to every
 * route that takes one, the first byte picking the route, the rest the body.
 *
 *   api_bodies       through fastify's inject: framing, hooks, schema, handler, error handler
 *   api_body_checks  in-process, no HTTP: the checks every body passes before a handler,
 *                    in the server's order (~N× faster; handlers are api_bodies' part)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FuzzTarget } from './_fuzz-engine.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** An HTTP answer the API gives by design to a bad body. */
export class HttpRefusal extends Error {}

type JsonSchema = { type?: string; properties?: Record<string, { type?: string }> };
interface BodyRoute {
  method: string;
  /** The route as registered (`/api/v1/gateways/:id/config`). */
  route: string;
  /** With its path parameters filled in. */
  url: string;
  params: Record<string, string>;
  schema: JsonSchema;
}

/**
 * A cloud on a fresh SQLite file, one gateway with one device known, and every
 * route that takes a body (from its OpenAPI document) with a seed body each.
 */
type Inject = (o: { method: string; url: string; payload?: string; headers?: Record<string, string> }) => Promise<{ statusCode: number; body: string; json: () => unknown }>;

async function openCloud(): Promise<{ app: { inject: Inject }; routes: BodyRoute[]; seeds: Uint8Array[]; close: () => Promise<void> }> {
  const { startCloud } = await import('../cloud/src/index.js');
  const { pino } = await import('pino');
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-fuzz-api-'));
  const cloud = await startCloud({ log: pino({ level: 'silent' }), port: 0, dbPath: join(dir, 'cloud.db'), adminToken: 'fuzz-admin-token', brokerPort: 0, rateLimit: { authFailuresPerMinute: 1e9, enrollPerMinute: 1e9 } });
  await cloud.store.registry.saveGatewayStatus({ gateway: 'gw-z', online: true, ts: Date.now(), devices: [{ id: 'd1', profile: 'flood-gauge', points: [{ name: 'p', unit: 'm' }] }] });
  const doc = (await cloud.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema: { type?: string } }[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
  };
  const routes: BodyRoute[] = [];
  const seeds: Uint8Array[] = [];
  for (const [path, byMethod] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(byMethod)) {
      const schema = op.requestBody?.content['application/json']?.schema;
      if (!schema) continue;
      const params: Record<string, string> = {};
      for (const p of op.parameters ?? []) if (p.in === 'path') params[p.name] = p.name === 'device' ? 'd1' : p.schema.type === 'integer' ? '1' : 'gw-z';
      const url = path.replace(/\{(\w+)\}/g, (_, n: string) => params[n]);
      const i = routes.push({ method: method.toUpperCase(), route: path.replace(/\{(\w+)\}/g, ':$1'), url, params, schema }) - 1;
      const body: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) body[k] = { integer: 1, number: 1.5, boolean: true, array: [], object: {} }[v.type ?? ''] ?? 'x';
      seeds.push(Uint8Array.from([i, ...utf8.encode(JSON.stringify(body))]), Uint8Array.from([i, ...utf8.encode('{}')]));
    }
  }
  const close = async () => {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { app: cloud.app as unknown as { inject: Inject }, routes, seeds, close };
}

/**
 * Bodies through fastify's inject with the admin token (the server's own framing,
 * hooks, schema, handler and error handler). A 4xx is a refusal; a 5xx, or an
 * answer that is not JSON with a message, is a crash.
 */
export function apiBodies(): FuzzTarget {
  let close: (() => Promise<void>) | undefined;
  let routes: BodyRoute[] = [];
  let inject: (o: { method: string; url: string; payload: string }) => Promise<{ statusCode: number; body: string }>;
  const t: FuzzTarget = {
    name: 'api_bodies',
    seeds: [],
    refused: (e) => e instanceof HttpRefusal,
    open: async () => {
      const c = await openCloud();
      ({ close, routes } = c);
      t.seeds.push(...c.seeds);
      inject = (o) => c.app.inject({ ...o, headers: { authorization: 'Bearer fuzz-admin-token', 'content-type': 'application/json' } });
    },
    close: async () => close?.(),
    run: async (b) => {
      if (b.length === 0 || routes.length === 0) throw new HttpRefusal('empty');
      const op = routes[b[0] % routes.length];
      const r = await inject({ method: op.method, url: op.url, payload: text.decode(b.subarray(1)) });
      let json: { message?: unknown } | undefined;
      try {
        json = JSON.parse(r.body) as { message?: unknown };
      } catch {
        json = undefined;
      }
      if (r.statusCode >= 500 || (r.statusCode >= 400 && typeof json?.message !== 'string')) {
        throw new Error(`${op.method} ${op.url} answered ${r.statusCode}: ${r.body.slice(0, 300)}`);
      }
      if (r.statusCode >= 400) throw new HttpRefusal(`${r.statusCode} ${String(json!.message)}`);
      return r.statusCode;
    },
  };
  return t;
}

type Validate = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };

/**
 * The same bodies in-process, through what the server runs on a body before its
 * handler, in its order (cloud/src/api/input.ts, server.ts): fastify's JSON parser
 * behind the depth limit (depthLimitedJsonParser), refuseControlChars, the route's
 * body schema compiled by fastify's own compiler (@fastify/ajv-compiler) with the
 * server's AJV_OPTIONS (coercion included), refuseNonFinite. A refusal is a 4xx
 * error (statusCode) or a failed schema; anything else thrown is a crash. The
 * schemas are the OpenAPI document's (TypeBox's, symbol keys dropped).
 */
export function apiBodyChecks(): FuzzTarget {
  let routes: (BodyRoute & { validate: Validate })[] = [];
  let parse: (body: string) => unknown;
  let refuseControlChars: (req: never) => Promise<void>;
  let refuseNonFinite: (req: never) => Promise<void>;
  const t: FuzzTarget = {
    name: 'api_body_checks',
    seeds: [],
    refused: (e) => e instanceof HttpRefusal || (typeof (e as { statusCode?: unknown })?.statusCode === 'number' && (e as { statusCode: number }).statusCode < 500),
    open: async () => {
      const c = await openCloud();
      t.seeds.push(...c.seeds);
      await c.close();
      const input = await import('../cloud/src/api/input.js');
      const { AJV_OPTIONS } = await import('../cloud/src/api/server.js');
      ({ refuseControlChars, refuseNonFinite } = input as never);
      // Fastify's default JSON parser answers through a callback, synchronously.
      const fromCloud = createRequire(join(root, 'cloud/package.json'));
      const Fastify = fromCloud('fastify') as (o?: object) => { getDefaultJsonParser: (p: string, c: string) => Parameters<typeof input.depthLimitedJsonParser>[0] };
      const parser = input.depthLimitedJsonParser(Fastify().getDefaultJsonParser('error', 'error'));
      parse = (body) => {
        let out: { err: unknown; value: unknown } | undefined;
        parser({} as never, body, (err, value) => (out = { err, value }));
        if (!out) throw new Error('the JSON parser did not answer synchronously');
        if (out.err) throw out.err;
        return out.value;
      };
      const buildValidator = (createRequire(fromCloud.resolve('fastify'))('@fastify/ajv-compiler') as () => (ext: object, o: object) => (r: object) => Validate)();
      const compile = buildValidator({}, { customOptions: AJV_OPTIONS, plugins: [] });
      routes = c.routes.map((r) => ({ ...r, validate: compile({ schema: r.schema, method: r.method, url: r.route, httpPart: 'body' }) }));
    },
    run: async (b) => {
      if (b.length === 0 || routes.length === 0) throw new HttpRefusal('empty');
      const r = routes[b[0] % routes.length];
      const req = { params: { ...r.params }, query: {}, body: parse(Buffer.from(b.buffer, b.byteOffset + 1, b.byteLength - 1).toString('utf8')) };
      await refuseControlChars(req as never);
      if (!r.validate(req.body)) throw new HttpRefusal((r.validate.errors ?? []).map((e) => `body${e.instancePath}: ${e.message}`).join('; '));
      await refuseNonFinite(req as never);
      return req.body;
    },
  };
  return t;
}
