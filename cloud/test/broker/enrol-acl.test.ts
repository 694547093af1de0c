/**
 * Enrolment and the embedded broker's per-gateway ACL: a one-time token buys
 * a gateway id and MQTT credentials; the gateway may publish only under its
 * own uplink and status topics and read only its own downlink; a revoked
 * gateway is dropped and refused at its next connect.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe } from '../../src/index.js';
import { testCloud, type TestCloud } from '../api/helpers.js';
import { waitFor } from '../../../test/helpers.js';

let t: TestCloud;
beforeAll(async () => {
  t = await testCloud({ brokerAllowAnonymous: false });
});
afterAll(async () => t.close());

async function enrol(gateway?: string): Promise<{ gateway: string; mqtt: { url: string; username: string; password: string } }> {
  const e = await t.call('POST', '/api/v1/enrolments', { as: 'technician', body: { note: 'test box', ttlMinutes: 5 } });
  expect(e.status).toBe(201);
  const r = await t.call('POST', '/api/v1/enroll', { as: null, body: { token: e.json.token, ...(gateway ? { gateway } : {}), name: 'test box' } });
  expect(r.status).toBe(200);
  return r.json;
}

function connect(opts: { username?: string; password?: string }) {
  return mqtt.connectAsync(t.cloud.brokerUrl, { ...opts, reconnectPeriod: 0, connectTimeout: 3000, clientId: `test-${Math.random().toString(16).slice(2)}` });
}

describe('topic ACL rules', () => {
  it('pins a gateway to its own subtree', () => {
    const gw = { kind: 'gateway' as const, gateway: 'gw-a' };
    expect(mayPublish(gw, 'lifeline/gw-a/up/telemetry')).toBe(true);
    expect(mayPublish(gw, 'lifeline/gw-a/status')).toBe(true);
    expect(mayPublish(gw, 'lifeline/gw-b/up/telemetry')).toBe(false);
    expect(mayPublish(gw, 'lifeline/gw-a/down/ack')).toBe(false);
    expect(mayPublish(gw, 'lifeline/gw-a/up/')).toBe(false);
    expect(mayPublish(gw, 'lifeline/gw-ab/up/x')).toBe(false);
    expect(maySubscribe(gw, 'lifeline/gw-a/down/#')).toBe(true);
    expect(maySubscribe(gw, 'lifeline/gw-a/down/ack')).toBe(true);
    expect(maySubscribe(gw, 'lifeline/+/down/#')).toBe(false);
    expect(maySubscribe(gw, 'lifeline/gw-b/down/#')).toBe(false);
    expect(maySubscribe(gw, '#')).toBe(false);
    expect(maySubscribe(gw, 'lifeline/gw-a/up/#')).toBe(false);
    expect(mayPublish({ kind: 'service' }, 'lifeline/gw-b/down/ack')).toBe(true);
  });
});

describe('enrolment', () => {
  it('spends a token once; an unknown token is refused', async () => {
    const e = await t.call('POST', '/api/v1/enrolments', { as: 'technician', body: {} });
    const first = await t.call('POST', '/api/v1/enroll', { as: null, body: { token: e.json.token, gateway: 'gw-once' } });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ gateway: 'gw-once', mqtt: { url: t.cloud.brokerUrl, username: 'gw-once' } });
    expect(first.json.mqtt.password.length).toBeGreaterThanOrEqual(24);
    const again = await t.call('POST', '/api/v1/enroll', { as: null, body: { token: e.json.token, gateway: 'gw-twice' } });
    expect(again.status).toBe(401);
    expect(again.json.message).toMatch(/already used/);
    expect((await t.call('POST', '/api/v1/enroll', { as: null, body: { token: 'enr_madeup-token' } })).status).toBe(401);
    expect((await t.call('POST', '/api/v1/enroll', { as: null, body: { token: e.json.token, gateway: 'bad/id' } })).status).toBe(400);
    // The registry knows the new gateway.
    expect((await t.call('GET', '/api/v1/gateways/gw-once', { as: 'viewer' })).json).toMatchObject({ id: 'gw-once', name: null, revokedAt: null });
  });

  it('generates an id when none is asked for', async () => {
    expect((await enrol()).gateway).toMatch(/^gw-[0-9a-f]{8}$/);
  });
});

describe('the embedded broker with enrolled gateways', () => {
  it('refuses anonymous and wrong logins', async () => {
    await expect(connect({})).rejects.toThrow(/Not authorized|Bad username|refused/i);
    const a = await enrol('gw-pw');
    await expect(connect({ username: a.mqtt.username, password: 'wrong' })).rejects.toThrow(/Bad username|Not authorized|refused/i);
  });

  it('lets a gateway publish only as itself and read only its own commands', async () => {
    const a = await enrol('gw-acl-a');
    const b = await enrol('gw-acl-b');
    const ca = await connect({ username: a.mqtt.username, password: a.mqtt.password });
    const cb = await connect({ username: b.mqtt.username, password: b.mqtt.password });
    // A spy with the cloud's service login sees what really reaches the broker.
    const spy = await connect(t.cloud.authority.service);
    const seen: string[] = [];
    spy.on('message', (topic) => seen.push(topic));
    await spy.subscribeAsync('lifeline/#', { qos: 1 });

    // B may not read A's commands: the SUBACK says failure (128), which mqtt.js reports as an error.
    await expect(cb.subscribeAsync('lifeline/gw-acl-a/down/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    const [own] = await cb.subscribeAsync('lifeline/gw-acl-b/down/#', { qos: 1 });
    expect(own.qos).toBe(1);

    await ca.publishAsync('lifeline/gw-acl-a/status', JSON.stringify({ gateway: 'gw-acl-a', online: true }), { qos: 1 });
    await waitFor(() => seen.includes('lifeline/gw-acl-a/status'), 3000, 'A’s own status');
    // A publishing as B: the broker drops A's connection and the message never arrives.
    const closed = new Promise<void>((r) => ca.once('close', () => r()));
    ca.publish('lifeline/gw-acl-b/up/telemetry', Buffer.from([1, 2, 3]), { qos: 1 });
    await closed;
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).not.toContain('lifeline/gw-acl-b/up/telemetry');

    // The cloud's commands to B reach B; B's subscription to A's commands got nothing.
    const got: string[] = [];
    cb.on('message', (topic) => got.push(topic));
    await spy.publishAsync('lifeline/gw-acl-b/down/cmd', 'x', { qos: 1 });
    await spy.publishAsync('lifeline/gw-acl-a/down/cmd', 'y', { qos: 1 });
    await waitFor(() => got.includes('lifeline/gw-acl-b/down/cmd'), 3000, 'B’s command');
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual(['lifeline/gw-acl-b/down/cmd']);
    await Promise.all([cb.endAsync(), spy.endAsync(), ca.endAsync(true)]);
  });

  it('drops a revoked gateway and refuses its next connect; only an admin’s reinstatement and a token for it let it back', async () => {
    const g = await enrol('gw-revoke');
    const c = await connect({ username: g.mqtt.username, password: g.mqtt.password });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    const r = await t.call('POST', '/api/v1/gateways/gw-revoke/revoke');
    expect(r.json).toEqual({ gateway: 'gw-revoke', revoked: true });
    await closed;
    await expect(connect({ username: g.mqtt.username, password: g.mqtt.password })).rejects.toThrow(/Bad username|Not authorized|refused/i);
    expect((await t.call('GET', '/api/v1/gateways/gw-revoke', { as: 'viewer' })).json.revokedAt).toBeGreaterThan(0);

    // A token for a new box cannot take the revoked id back.
    const fresh = await t.call('POST', '/api/v1/enrolments', { as: 'technician', body: {} });
    const taken = await t.call('POST', '/api/v1/enroll', { as: null, body: { token: fresh.json.token, gateway: 'gw-revoke' } });
    expect([taken.status, taken.json.message]).toEqual([409, expect.stringMatching(/gw-revoke is revoked; an admin must reinstate it/)]);
    // Reinstated, the old login stays refused: reinstatement issues no credentials.
    expect((await t.call('POST', '/api/v1/gateways/gw-revoke/reinstate')).json).toEqual({ gateway: 'gw-revoke', reinstated: true });
    await expect(connect({ username: g.mqtt.username, password: g.mqtt.password })).rejects.toThrow(/Bad username|Not authorized|refused/i);
    const replace = await t.call('POST', '/api/v1/enrolments', { as: 'technician', body: { gateway: 'gw-revoke' } });
    expect(replace.status).toBe(201);
    const again = await t.call('POST', '/api/v1/enroll', { as: null, body: { token: replace.json.token } });
    expect(again.json.gateway).toBe('gw-revoke');
    const c2 = await connect({ username: again.json.mqtt.username, password: again.json.mqtt.password });
    expect(c2.connected).toBe(true);
    await c2.endAsync();
    await c.endAsync(true);
  });
});

describe('enrolment with a certificate signing request', () => {
  const csr = `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(120)}\n-----END CERTIFICATE REQUEST-----`;

  it('hands the CSR to the cloud’s issuer and returns the certificate with the credentials', async () => {
    const asked: { gateway: string; csr: string }[] = [];
    const c = await testCloud({ certificateIssuer: { issue: async (gateway, csrPem) => (asked.push({ gateway, csr: csrPem }), { certificatePem: `CERT for ${gateway}`, caPem: 'CA' }) } });
    try {
      const e = await c.call('POST', '/api/v1/enrolments', { as: 'technician', body: {} });
      const r = await c.call('POST', '/api/v1/enroll', { as: null, body: { token: e.json.token, gateway: 'gw-cert', csr } });
      expect(r.status).toBe(200);
      expect(r.json.certificate).toEqual({ certificatePem: 'CERT for gw-cert', caPem: 'CA' });
      expect(asked).toEqual([{ gateway: 'gw-cert', csr }]);
    } finally {
      await c.close();
    }
  });

  it('refuses a CSR when the cloud has no CA, without spending the token', async () => {
    const e = await t.call('POST', '/api/v1/enrolments', { as: 'technician', body: {} });
    const r = await t.call('POST', '/api/v1/enroll', { as: null, body: { token: e.json.token, csr } });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/no certificate authority/);
    expect((await t.call('POST', '/api/v1/enroll', { as: null, body: { token: e.json.token } })).status).toBe(200);
  });
});
