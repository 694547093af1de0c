/**
 * Every route is in the OpenAPI document and every documented route exists;
 * every route is tested with every role: 401 without a token or with a refused
 * one (two messages), 403 below its role, let through at or above it.
 * Failed token checks are rate-limited per client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesOfTree, testCloud, type TestCloud } from './helpers.js';

const order = ['viewer', 'operator', 'technician', 'admin'] as const;
let t: TestCloud;
let doc: { paths: Record<string, Record<string, { 'x-role': string; summary: string; security: unknown[] }>> };

beforeAll(async () => {
  t = await testCloud();
  const r = await t.call('GET', '/api/v1/openapi.json', { as: null });
  expect(r.status).toBe(200);
  doc = r.json;
});
afterAll(async () => t.close());

function documented(): { method: string; path: string; url: string; role: string }[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      // A concrete URL: numeric ids for alarms, tokens, webhooks, notifications; names elsewhere.
      url: path.replace(/\{id\}/g, /alarms|tokens|webhooks|notifications/.test(path) ? '999999' : 'gw-none'),
      role: op['x-role'],
    })),
  );
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3 and lists exactly the /api routes the server has', () => {
    expect((doc as unknown as { openapi: string }).openapi).toMatch(/^3\./);
    const served = routesOfTree(t.cloud.app.printRoutes({ commonPrefix: false }))
      .filter((r) => r.split(' ')[1].startsWith('/api/'))
      .map((r) => r.replace(/:([A-Za-z0-9_]+)/g, '{$1}'))
      .sort();
    const inDoc = documented().map((r) => `${r.method} ${r.path}`).sort();
    expect(served.length).toBeGreaterThan(25);
    expect(inDoc).toEqual(served);
    for (const ops of Object.values(doc.paths)) for (const op of Object.values(ops)) expect(op.summary.length).toBeGreaterThan(10);
  });

  it('is matched by docs/api.md: every route named there with its role', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    for (const r of documented()) {
      const esc = `${r.method} ${r.path}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const m = new RegExp('`' + esc + '(?:\\?[^`]*)?` \\((\\w+)').exec(text);
      expect([r.method, r.path, m?.[1]]).toEqual([r.method, r.path, r.role]);
    }
  });

  it('marks only health, openapi.json and enroll public', () => {
    expect(documented().filter((r) => r.role === 'public').map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'GET /api/v1/health',
      'GET /api/v1/openapi.json',
      'POST /api/v1/enroll',
    ]);
  });
});

describe('every route and its role', () => {
  it('refuses each protected route without a token and with a refused one: 401, JSON, saying which', async () => {
    for (const r of documented().filter((x) => x.role !== 'public')) {
      const none = await t.call(r.method, r.url, { as: null, body: r.method === 'GET' || r.method === 'DELETE' ? undefined : {} });
      expect([r.method, r.url, none.status, none.json?.error, none.json?.message]).toEqual([r.method, r.url, 401, 'UNAUTHORIZED', 'no bearer token: send Authorization: Bearer <token>']);
      const wrong = await t.call(r.method, r.url, { as: null, headers: { authorization: 'Bearer not-a-token' } });
      expect([r.url, wrong.status, wrong.json?.message]).toEqual([r.url, 401, 'token refused: unknown or revoked']);
    }
  });

  it('answers every role on every route: 403 below the route’s role, past auth at or above it', async () => {
    let checked = 0;
    for (const r of documented().filter((x) => x.role !== 'public')) {
      const need = order.indexOf(r.role as (typeof order)[number]);
      expect(need, `${r.path} has role ${r.role}`).toBeGreaterThanOrEqual(0);
      const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : {};
      for (const [i, as] of order.entries()) {
        const res = await t.call(r.method, r.url, { as, body });
        if (i < need) {
          expect([r.method, r.url, as, res.status, res.json?.error, res.json?.message]).toEqual([r.method, r.url, as, 403, 'FORBIDDEN', `this needs the ${r.role} role; the token has ${as}`]);
        } else {
          // Past auth the request may still be a 400 or 404 for the fake ids and empty bodies, never a 5xx.
          expect([r.method, r.url, as, res.status < 500, res.status !== 401 && res.status !== 403]).toEqual([r.method, r.url, as, true, true]);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('gives the new routes the roles the issue asks for', () => {
    const roleOf = (m: string, p: string) => documented().find((r) => r.method === m && r.path === p)?.role;
    expect(roleOf('POST', '/api/v1/gateways/{id}/reinstate')).toBe('admin');
    expect(roleOf('POST', '/api/v1/gateways/{id}/revoke')).toBe('admin');
    expect(roleOf('POST', '/api/v1/enrolments')).toBe('technician');
    expect(roleOf('GET', '/api/v1/commands')).toBe('operator');
    expect(roleOf('GET', '/api/v1/gateways/{id}/config')).toBe('technician');
  });

  it('needs no token for health and openapi.json', async () => {
    expect((await t.call('GET', '/api/v1/health', { as: null })).json).toMatchObject({ status: 'ok' });
  });
});

describe('tokens', () => {
  it('creates a token shown once, stores only its hash, and revokes it', async () => {
    const created = await t.call('POST', '/api/v1/tokens', { body: { name: 'grafana', role: 'viewer' } });
    expect(created.status).toBe(201);
    const secret = created.json.token as string;
    const use = () => fetch(`${t.cloud.apiUrl}/api/v1/devices`, { headers: { authorization: `Bearer ${secret}` } });
    expect((await use()).status).toBe(200);
    const listed = await t.call('GET', '/api/v1/tokens');
    expect(listed.text).not.toContain(secret);
    expect(listed.json.find((x: { name: string }) => x.name === 'grafana')).toMatchObject({ role: 'viewer', revokedAt: null });
    expect((await t.call('DELETE', `/api/v1/tokens/${created.json.id}`)).status).toBe(204);
    expect((await use()).status).toBe(401);
    expect((await t.call('DELETE', `/api/v1/tokens/${created.json.id}`)).status).toBe(404);
    // A role that does not exist is refused by the schema.
    expect((await t.call('POST', '/api/v1/tokens', { body: { name: 'x', role: 'root' } })).status).toBe(400);
  });
});

describe('rate-limited token checks', () => {
  it('answers 429 after too many failed checks from one client, while good tokens still work', async () => {
    const c = await testCloud({ rateLimit: { authFailuresPerMinute: 5, enrollPerMinute: 3 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await c.call('GET', '/api/v1/devices', { as: null, headers: { authorization: `Bearer guess-${i}` } })).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
      const limited = await c.call('GET', '/api/v1/alarms', { as: null, headers: { authorization: 'Bearer guess-9' } });
      expect(limited.json).toMatchObject({ error: 'RATE_LIMITED' });
      expect((await c.call('GET', '/api/v1/devices', { as: 'viewer' })).status).toBe(200);
      // Enrolment attempts too: guessing enrolment tokens is as limited.
      const tries: number[] = [];
      for (let i = 0; i < 5; i++) tries.push((await c.call('POST', '/api/v1/enroll', { as: null, body: { token: `enr_guess-${i}` } })).status);
      expect(tries).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await c.close();
    }
  });
});
