/**
 * Every route in the OpenAPI document, every path and query parameter and
 * every top-level body field, fed the values that used to give 500s (numbers
 * past 2^53, NUL and other control characters, broken encodings, huge
 * strings) and bodies nested thousands deep: each answer is a 4xx (or a 2xx
 * when the value is merely odd), never a 5xx. Control characters are refused
 * with a 400 that names the field and shows the value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { testCloud, type TestCloud } from './helpers.js';
import { TEST_DATABASE_URL } from '../store/pg.js';
import { requireService } from '../../../test/helpers.js';

type Param = { name: string; in: 'path' | 'query'; required: boolean; schema: { type?: string } };
type Op = { parameters: Param[]; requestBody?: { content: { 'application/json': { schema: { properties?: Record<string, unknown> } } } } };

const engines: [string, () => Promise<{ t: TestCloud; drop: () => Promise<void> }>][] = [
  ['SQLite', async () => ({ t: await testCloud(), drop: async () => undefined })],
  [
    // PostgreSQL refuses NUL in text and numbers past BIGINT: where the 500s came from.
    'PostgreSQL',
    async () => {
      await requireService('PostgreSQL', '127.0.0.1', 5432);
      const schema = `fuzz_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      const drop = async () => {
        const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      };
      return { t: await testCloud({ databaseUrl: TEST_DATABASE_URL, databaseSchema: schema }), drop };
    },
  ],
];

/** Values that once reached a database or a recursion; already percent-encoded where `raw`. */
const bad: { value: string; raw?: boolean; control?: boolean }[] = [
  { value: '99999999999999999999999' },
  { value: '-99999999999999999999999' },
  { value: '9007199254740993' },
  { value: '8640000000000001' },
  { value: '1e400' },
  { value: 'Infinity' },
  { value: 'NaN' },
  { value: '-1' },
  { value: '1.5' },
  { value: ' ' },
  { value: 'x'.repeat(5000) },
  { value: "'; DROP TABLE gateways; --" },
  { value: '../../etc/passwd' },
  { value: '\u0000', control: true },
  { value: 'a\u0000b', control: true },
  { value: '\u001b[31mred', control: true },
  { value: 'line\nbreak', control: true },
  { value: 'del\u007f', control: true },
  { value: '%ED%A0%80', raw: true }, // a UTF-16 surrogate in UTF-8: not valid UTF-8
  { value: '%FF%FE', raw: true },
  { value: '%', raw: true },
  { value: '%00', raw: true, control: true },
];

/** A plausible value for a parameter, so the one under test is the only odd one. */
function base(p: Param, path: string): string {
  if (p.name === 'device') return 'd1';
  if (p.name === 'point') return 'p';
  if (p.schema.type === 'integer') return path.includes('alarms') ? '1' : '2';
  return 'gw-z';
}

function url(path: string, params: Param[], override?: { name: string; value: string }): string {
  const enc = (p: Param) => (override?.name === p.name ? override.value : encodeURIComponent(base(p, path)));
  let u = path;
  for (const p of params.filter((x) => x.in === 'path')) u = u.replace(`{${p.name}}`, enc(p));
  const q = params.filter((x) => x.in === 'query' && (x.required || x.name === override?.name)).map((p) => `${p.name}=${enc(p)}`);
  return q.length ? `${u}?${q.join('&')}` : u;
}

const bodyOf = (method: string) => (method === 'GET' || method === 'DELETE' ? undefined : {});

describe.each(engines)('on %s', (_engine, make) => {
  let t: TestCloud;
  let drop: () => Promise<void>;
  let ops: { method: string; path: string; op: Op }[];

  beforeAll(async () => {
    ({ t, drop } = await make());
    await t.cloud.store.registry.saveGatewayStatus({ gateway: 'gw-z', online: true, ts: Date.now(), devices: [{ id: 'd1', profile: 'flood-gauge', points: [{ name: 'p', unit: 'm' }] }] });
    await t.cloud.store.telemetry.commitTelemetry({ gateway: 'gw-z', firstSeq: 1, lastSeq: 1, readings: [{ device: 'd1', point: 'p', ts: 1_700_000_000_000, value: 1 }] });
    await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-z', firstSeq: 1, lastSeq: 1, events: [{ kind: 'alarm', seq: 1, alarmId: 'd1/p/threshold', device: 'd1', point: 'p', ts: 1, from: 'normal', to: 'active_unacked', level: 4, detector: 'threshold', cause: 'high', value: 3 }] });
    const doc = (await t.call('GET', '/api/v1/openapi.json', { as: null })).json as { paths: Record<string, Record<string, Op>> };
    ops = Object.entries(doc.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
  });
  afterAll(async () => {
    await t.close();
    await drop();
  });

  describe('fuzzed parameters', () => {
    it('never answer 5xx; control characters are a 400 naming the field and the value', async () => {
      let tried = 0;
      let controlChecked = 0;
      for (const { method, path, op } of ops) {
        for (const p of op.parameters) {
          for (const b of bad) {
            const value = b.raw ? b.value : encodeURIComponent(b.value);
            const u = url(path, op.parameters, { name: p.name, value });
            const r = await t.call(method, u, { body: bodyOf(method) });
            tried++;
            expect([method, u, r.status < 500]).toEqual([method, u, true]);
            if (r.status >= 400) expect([u, typeof r.json?.message]).toEqual([u, 'string']);
            if (b.control && r.status !== 404) {
              controlChecked++;
              expect([u, r.status, r.json.message]).toEqual([u, 400, expect.stringMatching(new RegExp(`^${p.in === 'path' ? 'params' : 'query'}\\.${p.name}: control character U\\+00[0-9A-F]{2} is not allowed, got "`))]);
            }
          }
        }
      }
      expect(tried).toBeGreaterThan(300);
      expect(controlChecked).toBeGreaterThan(100);
    });

    it('refuses a time past what a Date holds, naming the field', async () => {
      const r = await t.call('GET', '/api/v1/readings?device=d1&point=p&to=99999999999999999999999', { as: 'viewer' });
      expect([r.status, r.json.message]).toEqual([400, 'querystring.to: must be <= 8640000000000000']);
      expect((await t.call('GET', '/api/v1/readings?device=d1&point=p&to=8640000000000000', { as: 'viewer' })).status).toBe(200);
      expect((await t.call('GET', '/api/v1/alarms/99999999999999999999999', { as: 'viewer' })).json.message).toBe(`params.id: must be <= ${Number.MAX_SAFE_INTEGER}`);
      for (const v of ['Infinity', '1e400']) {
        const r2 = await t.call('GET', `/api/v1/readings?device=d1&point=p&limit=${v}`, { as: 'viewer' });
        expect([r2.status, r2.json.message]).toEqual([400, 'querystring.limit: must be a finite number, got Infinity']);
      }
    });
  });

  describe('fuzzed bodies', () => {
    const values: unknown[] = [1e23, -1e23, 1.5, -1, 0, '', '\u0000', 'x'.repeat(5000), null, true, [], {}, [[[[1]]]], { $ref: '#' }, { __proto__x: 1 }];

    it('never answer 5xx for odd values in any body field', async () => {
      let tried = 0;
      for (const { method, path, op } of ops) {
        const props = Object.keys(op.requestBody?.content['application/json'].schema.properties ?? {});
        for (const key of props.length ? props : ['anything']) {
          for (const v of values) {
            const u = url(path, op.parameters);
            const r = await t.call(method, u, { body: method === 'GET' || method === 'DELETE' ? undefined : { [key]: v } });
            tried++;
            expect([method, u, key, v, r.status < 500]).toEqual([method, u, key, v, true]);
          }
        }
      }
      expect(tried).toBeGreaterThan(100);
    });

    it('refuses NUL in a body string with a 400 naming the field', async () => {
      const r = await t.call('POST', '/api/v1/alarms/1/comments', { as: 'operator', body: { text: 'a\u0000b' } });
      expect([r.status, r.json.message]).toEqual([400, 'body.text: control character U+0000 is not allowed, got "a\\u0000b"']);
      // Free text keeps its line breaks.
      expect((await t.call('POST', '/api/v1/alarms/1/comments', { as: 'operator', body: { text: 'two\nlines' } })).status).toBe(201);
    });

    it('refuses a body nested deeper than 64 levels on every route that takes one, before anything recurses', async () => {
      const deepArray = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      const deepObject = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
      let tried = 0;
      for (const { method, path, op } of ops.filter((o) => o.method !== 'GET' && o.method !== 'DELETE')) {
        for (const raw of [deepArray, deepObject]) {
          const r = await t.call(method, url(path, op.parameters), { raw, headers: { 'content-type': 'application/json' } });
          expect([method, path, r.status, r.json?.message]).toEqual([method, path, 400, 'body nested deeper than 64 levels']);
          tried++;
        }
      }
      expect(tried).toBeGreaterThan(20);
    });

    it('counts depth exactly: 64 levels are parsed, 65 are refused', async () => {
      const nest = (n: number) => `${'{"a":'.repeat(n - 1)}{"b":"[{not a bracket}]"}${'}'.repeat(n - 1)}`;
      const at = await t.call('PUT', '/api/v1/gateways/gw-z/config', { as: 'technician', raw: nest(64), headers: { 'content-type': 'application/json' } });
      expect([at.status, at.json.error]).toEqual([400, 'CONFIG_INVALID']);
      const over = await t.call('PUT', '/api/v1/gateways/gw-z/config', { as: 'technician', raw: nest(65), headers: { 'content-type': 'application/json' } });
      expect([over.status, over.json.message]).toEqual([400, 'body nested deeper than 64 levels']);
    });
  });
});
