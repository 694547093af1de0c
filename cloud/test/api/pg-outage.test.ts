/**
 * The city's API while its PostgreSQL is away: restarted (connections cut, then
 * refused) or gone silent (a failover to a host that does not answer). The cloud
 * talks to the machine's PostgreSQL through a TCP proxy the test controls. An
 * operator's request must answer 503 STORE_UNAVAILABLE naming the cause, with
 * Retry-After, soon; never "internal error", never a request that hangs until
 * the database is back; and everything answers as before once it is.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from './helpers.js';
import { TEST_DATABASE_URL } from '../store/pg.js';
import { requireService } from '../../../test/helpers.js';

/** Forwards to PostgreSQL; `refuse` closes every connection at once, `silent` takes them and forwards nothing. */
class DbProxy {
  mode: 'pass' | 'refuse' | 'silent' = 'pass';
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((c) => this.accept(c));
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Drop every connection open now (a server restart does that). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise((r) => this.server.close(r));
  }

  private accept(c: net.Socket): void {
    if (this.mode === 'refuse') return void c.destroy();
    const up = net.connect(new URL(TEST_DATABASE_URL).port ? Number(new URL(TEST_DATABASE_URL).port) : 5432, '127.0.0.1');
    for (const s of [c, up]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    c.on('data', (d) => this.mode === 'pass' && up.write(d));
    up.on('data', (d) => this.mode === 'pass' && c.write(d));
    c.on('close', () => up.destroy());
    up.on('close', () => c.destroy());
  }
}

const schema = `t_outage_${process.pid}`;
let proxy: DbProxy;
let t: TestCloud;

beforeAll(async () => {
  await requireService('PostgreSQL', '127.0.0.1', 5432);
  proxy = new DbProxy();
  await proxy.start();
  const url = new URL(TEST_DATABASE_URL);
  url.host = `127.0.0.1:${proxy.port}`;
  t = await testCloud({ databaseUrl: url.toString(), databaseSchema: schema, apiQueryTimeoutMs: 3000 });
}, 60_000);

afterAll(async () => {
  proxy.mode = 'pass';
  await t?.close();
  await proxy?.close();
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
});

/** A request that gives up after 40 s, so a hang fails the test rather than timing it out. */
async function get(path: string, as: 'viewer' | 'operator' = 'viewer') {
  const res = await fetch(`${t.cloud.apiUrl}${path}`, { headers: { authorization: `Bearer ${t.tokens[as]}` }, signal: AbortSignal.timeout(40_000) });
  return { status: res.status, json: (await res.json()) as { error: string; message: string }, retryAfter: res.headers.get('retry-after') };
}

describe('PostgreSQL away under the API', () => {
  it('restarted: connections cut then refused is a 503 naming the cause, not a 500', async () => {
    expect((await get('/api/v1/gateways')).status).toBe(200);
    proxy.mode = 'refuse';
    proxy.cutAll();
    for (const path of ['/api/v1/gateways', '/api/v1/alarms', '/api/v1/summary']) {
      const r = await get(path);
      expect([path, r.status, r.json.error, r.retryAfter]).toEqual([path, 503, 'STORE_UNAVAILABLE', '5']);
      expect(r.json.message).toMatch(/^database unavailable: .+; retry in a few seconds$/);
      expect(r.json.message).not.toContain(String(proxy.port)); // the database's address is not told
    }
    proxy.mode = 'pass';
    expect((await get('/api/v1/gateways')).status).toBe(200);
  }, 60_000);

  it('gone silent: requests answer 503 once the connect timeout passes, and 200 when it is back', async () => {
    proxy.mode = 'silent';
    proxy.cutAll(); // the pool's clients are gone; every new connection is taken and never answered
    const answers = await Promise.all(['/api/v1/gateways', '/api/v1/alarms', '/api/v1/devices'].map((p) => get(p)));
    for (const r of answers) {
      expect([r.status, r.json.error]).toEqual([503, 'STORE_UNAVAILABLE']);
      expect(r.json.message).toMatch(/^database unavailable: (Connection terminated|timeout)/);
    }
    proxy.mode = 'pass';
    proxy.cutAll();
    expect((await get('/api/v1/gateways')).status).toBe(200);
  }, 90_000);

  it('gone silent with the pool’s connections still open: a request answers 503 once its query budget passes, not after TCP gives up', async () => {
    // Open connections in the pool, idle: what a busy API has when the database host stops answering.
    await Promise.all(['/api/v1/gateways', '/api/v1/alarms', '/api/v1/devices', '/api/v1/summary'].map((p) => get(p)));
    proxy.mode = 'silent';
    const answers = await Promise.all(['/api/v1/gateways', '/api/v1/alarms', '/api/v1/devices'].map((p) => get(p)));
    for (const r of answers) {
      expect([r.status, r.json.error, r.retryAfter]).toEqual([503, 'STORE_UNAVAILABLE', '5']);
      expect(r.json.message).toMatch(/^database unavailable: (no answer within the request's query budget|Connection terminated)/);
    }
    proxy.mode = 'pass';
    proxy.cutAll();
    expect((await get('/api/v1/gateways')).status).toBe(200);
  }, 90_000);
});
