/**
 * Who an enrolment token may make: a new gateway, or only the gateway it was
 * issued for; a revoked gateway comes back only by an admin's reinstatement;
 * a refused attempt keeps the token; enrolment never renames a gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from './helpers.js';

let t: TestCloud;
beforeAll(async () => {
  t = await testCloud();
});
afterAll(async () => t.close());

async function token(body: Record<string, unknown> = {}): Promise<string> {
  const r = await t.call('POST', '/api/v1/enrolments', { as: 'technician', body });
  expect([r.status, r.text]).toEqual([201, expect.any(String)]);
  return r.json.token;
}

const enroll = (body: Record<string, unknown>) => t.call('POST', '/api/v1/enroll', { as: null, body });

async function enrolled(gateway: string, name?: string): Promise<string> {
  const r = await enroll({ token: await token(), gateway, ...(name ? { name } : {}) });
  expect(r.status).toBe(200);
  return r.json.mqtt.password;
}

describe('enrolment and existing gateways', () => {
  it('refuses a token for a new box on a revoked gateway: no credentials, no rename, still revoked, token kept', async () => {
    await enrolled('gw-a', 'real box');
    const before = await t.cloud.store.access.findMqttCredential('gw-a');
    expect((await t.call('POST', '/api/v1/gateways/gw-a/revoke')).status).toBe(200);

    const tok = await token({ note: 'for a new box' });
    const r = await enroll({ token: tok, gateway: 'gw-a', name: 'impostor' });
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ error: 'CONFLICT', message: expect.stringContaining('gateway gw-a is revoked; an admin must reinstate it') });
    expect(r.text).not.toContain('password');
    const gw = (await t.call('GET', '/api/v1/gateways/gw-a', { as: 'viewer' })).json;
    expect(gw).toMatchObject({ name: 'real box', revokedAt: expect.any(Number) });
    expect(await t.cloud.store.access.findMqttCredential('gw-a')).toEqual({ ...before, revokedAt: gw.revokedAt });
    // The token was not spent by the refused attempt.
    expect((await enroll({ token: tok, gateway: 'gw-a-new' })).status).toBe(200);
  });

  it('refuses a token for a new box on an existing gateway, naming the id, and keeps the token', async () => {
    const pw = await enrolled('gw-b');
    const tok = await token();
    const r = await enroll({ token: tok, gateway: 'gw-b' });
    expect([r.status, r.json.message]).toEqual([409, 'gateway gw-b already exists; ask for a token issued for gw-b to replace it']);
    // gw-b's login is untouched.
    const { verifyPassword } = await import('../../src/enrol.js');
    const c = (await t.cloud.store.access.findMqttCredential('gw-b'))!;
    expect(await verifyPassword(pw, c.salt, c.hash)).toBe(true);
    expect((await enroll({ token: tok })).json.gateway).toMatch(/^gw-[0-9a-f]{8}$/);
  });

  it('replaces a gateway with a token issued for it: that gateway only, its name kept, the old login gone', async () => {
    const old = await enrolled('gw-c', 'pump house');
    const created = await t.call('POST', '/api/v1/enrolments', { as: 'technician', body: { gateway: 'gw-c', note: 'swapped box' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ gateway: 'gw-c', token: expect.stringMatching(/^enr_/) });

    const wrong = await enroll({ token: created.json.token, gateway: 'gw-d' });
    expect([wrong.status, wrong.json.message]).toEqual([403, expect.stringMatching(/^gateway: this token was issued to replace gw-c; it cannot enrol gw-d/)]);
    expect((await t.call('GET', '/api/v1/gateways/gw-d', { as: 'viewer' })).status).toBe(404);

    // Without a gateway in the body the token's gateway is used; the name asked for does not rename it.
    const r = await enroll({ token: created.json.token, name: 'renamed?' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ gateway: 'gw-c', mqtt: { username: 'gw-c' } });
    expect((await t.call('GET', '/api/v1/gateways/gw-c', { as: 'viewer' })).json.name).toBe('pump house');
    const { verifyPassword } = await import('../../src/enrol.js');
    const c = (await t.cloud.store.access.findMqttCredential('gw-c'))!;
    expect(await verifyPassword(old, c.salt, c.hash)).toBe(false);
    expect(await verifyPassword(r.json.mqtt.password, c.salt, c.hash)).toBe(true);
    expect((await enroll({ token: created.json.token })).status).toBe(401);
  });

  it('makes replace-tokens only for known, non-revoked gateways', async () => {
    const unknown = await t.call('POST', '/api/v1/enrolments', { as: 'technician', body: { gateway: 'gw-nowhere' } });
    expect([unknown.status, unknown.json.message]).toEqual([404, expect.stringContaining('no gateway "gw-nowhere" to replace')]);
    await enrolled('gw-e');
    await t.call('POST', '/api/v1/gateways/gw-e/revoke');
    for (const as of ['technician', 'admin'] as const) {
      const r = await t.call('POST', '/api/v1/enrolments', { as, body: { gateway: 'gw-e' } });
      expect([r.status, r.json.message]).toEqual([409, expect.stringContaining('gateway gw-e is revoked')]);
    }
    expect((await t.call('POST', '/api/v1/enrolments', { as: 'technician', body: { gateway: 'bad/id' } })).status).toBe(400);
  });

  it('refuses a replace-token issued before a revocation until an admin reinstates the gateway', async () => {
    await enrolled('gw-f');
    const tok = await token({ gateway: 'gw-f' });
    await t.call('POST', '/api/v1/gateways/gw-f/revoke');
    expect((await enroll({ token: tok })).status).toBe(409);
    const re = await t.call('POST', '/api/v1/gateways/gw-f/reinstate');
    expect(re.json).toEqual({ gateway: 'gw-f', reinstated: true });
    expect((await t.call('GET', '/api/v1/gateways/gw-f', { as: 'viewer' })).json.revokedAt).toBeNull();
    // Reinstatement issues no login: the old credential stays revoked until the token is spent.
    expect((await t.cloud.store.access.findMqttCredential('gw-f'))!.revokedAt).toBeGreaterThan(0);
    expect((await enroll({ token: tok })).status).toBe(200);
    expect((await t.cloud.store.access.findMqttCredential('gw-f'))!.revokedAt).toBeNull();
  });

  it('reinstates only known gateways; a second reinstatement changes nothing', async () => {
    expect((await t.call('POST', '/api/v1/gateways/gw-unknown/reinstate')).status).toBe(404);
    await enrolled('gw-g');
    expect((await t.call('POST', '/api/v1/gateways/gw-g/reinstate')).json).toEqual({ gateway: 'gw-g', reinstated: false });
  });

  it('answers a bad token with 401 and a clear message', async () => {
    const r = await enroll({ token: 'enr_not-a-real-token' });
    expect(r.json).toEqual({ error: 'UNAUTHORIZED', message: 'token: unknown, expired or already used enrolment token' });
    expect(r.status).toBe(401);
  });
});
