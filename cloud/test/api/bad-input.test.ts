/**
 * Bad input is an answer: malformed JSON, oversized bodies, unknown fields,
 * wrong types, bad time ranges, a huge step: each a 4xx with a JSON error
 * naming the problem, never a 500 and never a hang.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from './helpers.js';

let t: TestCloud;
beforeAll(async () => {
  t = await testCloud();
  await t.cloud.store.telemetry.commitTelemetry({ gateway: 'gw-b', firstSeq: 1, lastSeq: 3, readings: [1, 2, 3].map((i) => ({ device: 'd1', point: 'p', ts: 1_700_000_000_000 + i * 1000, value: i })) });
  await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-b', firstSeq: 1, lastSeq: 1, events: [{ kind: 'alarm', seq: 1, alarmId: 'd1/p/threshold', device: 'd1', point: 'p', ts: 1, from: 'normal', to: 'active_unacked', level: 4, detector: 'threshold', cause: 'high', value: 3 }] });
});
afterAll(async () => t.close());

async function expect4xx(r: Promise<{ status: number; json: any; text: string }>, status: number, error: string, mentions?: RegExp) {
  const res = await r;
  expect({ status: res.status, error: res.json?.error }).toEqual({ status, error });
  expect(typeof res.json.message).toBe('string');
  if (mentions) expect(res.json.message).toMatch(mentions);
  return res;
}

describe('bad input', () => {
  it('malformed JSON, an empty JSON body, a wrong content type', async () => {
    await expect4xx(t.call('POST', '/api/v1/alarms/1/comments', { as: 'operator', raw: '{"text": "x"', headers: { 'content-type': 'application/json' } }), 400, 'REQUEST_INVALID', /JSON/i);
    await expect4xx(t.call('POST', '/api/v1/alarms/1/comments', { as: 'operator', raw: '', headers: { 'content-type': 'application/json' } }), 400, 'REQUEST_INVALID');
    await expect4xx(t.call('POST', '/api/v1/alarms/1/comments', { as: 'operator', raw: 'text=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('an oversized body (over 1 MiB)', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(1_100_000) });
    await expect4xx(t.call('POST', '/api/v1/alarms/1/comments', { as: 'operator', raw: big, headers: { 'content-type': 'application/json' } }), 413, 'BODY_TOO_LARGE');
  });

  it('unknown fields in a body or a query, and wrong types', async () => {
    const r = await expect4xx(t.call('POST', '/api/v1/alarms/1/comments', { as: 'operator', body: { text: 'ok', colour: 'red' } }), 400, 'REQUEST_INVALID', /colour/);
    expect(r.json.details).toEqual([{ path: 'body', message: 'must NOT have additional properties (colour)' }]);
    await expect4xx(t.call('GET', '/api/v1/readings?device=d1&point=p&colour=red', { as: 'viewer' }), 400, 'REQUEST_INVALID', /colour/);
    await expect4xx(t.call('GET', '/api/v1/readings?device=d1&point=p&from=yesterday', { as: 'viewer' }), 400, 'REQUEST_INVALID', /from/);
    await expect4xx(t.call('POST', '/api/v1/alarms/1/shelve', { as: 'operator', body: { durationMs: 'long', reason: 7 } }), 400, 'REQUEST_INVALID', /durationMs/);
    await expect4xx(t.call('POST', '/api/v1/alarms/abc/comments', { as: 'operator', body: { text: 'x' } }), 400, 'REQUEST_INVALID', /id/);
    await expect4xx(t.call('PATCH', '/api/v1/gateways/gw-b', { as: 'technician', body: { location: { lon: 200, lat: 22 } } }), 400, 'REQUEST_INVALID', /lon/);
    await expect4xx(t.call('GET', '/api/v1/alarms?state=burning,active_acked', { as: 'viewer' }), 400, 'REQUEST_INVALID', /"burning" not one of/);
  });

  it('bad time ranges', async () => {
    await expect4xx(t.call('GET', '/api/v1/readings?device=d1&point=p&from=2000&to=1000', { as: 'viewer' }), 400, 'REQUEST_INVALID', /from \(2000\) is after to \(1000\)/);
    await expect4xx(t.call('GET', '/api/v1/readings?device=d1&point=p&from=-5', { as: 'viewer' }), 400, 'REQUEST_INVALID', /from/);
    await expect4xx(t.call('GET', '/api/v1/readings.csv?device=d1&point=p&from=0&to=9999999999999', { as: 'viewer' }), 400, 'REQUEST_INVALID', /31 days/);
  });

  it('a step that would return millions of buckets, and a zero step', async () => {
    const huge = await expect4xx(t.call('GET', `/api/v1/readings?device=d1&point=p&from=0&to=${Date.now()}&step=1`, { as: 'viewer' }), 400, 'REQUEST_INVALID', /buckets; the most is 10000/);
    expect(huge.json.message).toMatch(/step must be at least \d+ ms/);
    await expect4xx(t.call('GET', '/api/v1/readings?device=d1&point=p&from=0&to=1000&step=0', { as: 'viewer' }), 400, 'REQUEST_INVALID', /step/);
  });

  it('unknown ids and unknown routes are 404 JSON; a conflicting action is 409', async () => {
    await expect4xx(t.call('GET', '/api/v1/alarms/424242', { as: 'viewer' }), 404, 'NOT_FOUND', /alarm 424242/);
    await expect4xx(t.call('GET', '/api/v1/nothing-here', { as: 'viewer' }), 404, 'NOT_FOUND');
    // The edge's alarm, by id: on a slow machine the cloud's own watch may have raised one (gateway silent) that sorts first.
    const alarm = (await t.call('GET', '/api/v1/alarms', { as: 'viewer' })).json.find((a: { alarmId: string }) => a.alarmId === 'd1/p/threshold');
    expect((await t.call('POST', `/api/v1/alarms/${alarm.id}/ack`, { as: 'operator', body: {} })).status).toBe(202);
    // Still active_unacked until the gateway reports the ack: a second request is accepted too (idempotent on the edge).
    await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-b', firstSeq: 2, lastSeq: 2, events: [{ kind: 'alarm', seq: 2, alarmId: 'd1/p/threshold', device: 'd1', point: 'p', ts: 2, from: 'active_unacked', to: 'active_acked', level: 4, detector: 'threshold', cause: 'acknowledged', value: null, user: 'test-operator' }] });
    await expect4xx(t.call('POST', `/api/v1/alarms/${alarm.id}/ack`, { as: 'operator', body: {} }), 409, 'CONFLICT', /active_acked/);
  });

  it('a slow or stalled body does not hang the server for others', async () => {
    const { request } = await import('node:http');
    const url = new URL(t.cloud.apiUrl);
    // Announce a body and send half of it, then leave the connection open.
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: '/api/v1/alarms/1/comments', headers: { authorization: `Bearer ${t.tokens.operator}`, 'content-type': 'application/json', 'content-length': '100' } });
    req.on('error', () => undefined);
    req.write('{"text": "half');
    const other = await t.call('GET', '/api/v1/health', { as: null });
    expect(other.status).toBe(200);
    req.destroy();
  });
});
