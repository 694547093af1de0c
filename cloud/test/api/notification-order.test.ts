/**
 * One alarm's raise and clear reach each receiver in that order, whatever the
 * receiver did in between: a WeCom robot that refuses the raise once (its rate
 * limit, errcode 45009) while the lamp post clears a second later, or an SMS
 * gateway down for longer than the retries last (an hour: every row dead), then
 * back and requeued by an admin. Receivers are stand-ins on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmTransition } from '@lifeline/shared';
import { testCloud, type TestCloud } from './helpers.js';
import { waitFor } from '../../../test/helpers.js';

/** What a receiver got: the transition's seq and state (generic webhook) or the SMS text. */
interface Got { path: string; body: string }
async function receiver(answer: (g: Got) => [number, string]): Promise<{ url: string; got: Got[]; server: Server }> {
  const got: Got[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const g = { path: new URL(req.url!, 'http://x').pathname, body };
      const [status, text] = answer(g);
      if (status < 300) got.push(g); // what the receiver took: what reached the duty officer
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, server };
}

const TS = Date.UTC(2026, 11, 7, 13, 0, 0);
const ALARM = 'lamp-gh-07/leakage_current/threshold';
const raise = (seq: number): AlarmTransition => ({
  kind: 'alarm', seq, alarmId: ALARM, device: 'lamp-gh-07', point: 'leakage_current', ts: TS + seq * 1000,
  from: 'normal', to: 'active_unacked', level: 4, detector: 'threshold', cause: 'leakage_current 32 mA ≥ red (I) high limit 30 mA', value: 32,
});
const clear = (seq: number): AlarmTransition => ({ ...raise(seq), from: 'active_unacked', to: 'cleared_unacked', cause: 'leakage_current back under 30 mA', value: 12 });

/** The transitions a generic webhook got, as `seq:to`. */
const told = (got: Got[]) => got.filter((g) => g.path === '/hook').map((g) => `${JSON.parse(g.body).transition.seq}:${JSON.parse(g.body).transition.to}`);
/** The SMS texts a phone got, as 报警 / 恢复 words. */
const texted = (got: Got[]) => got.filter((g) => g.path === '/sms').map((g) => JSON.parse(g.body).content as string);

let t: TestCloud;
beforeAll(async () => {
  // A first retry 1.5 s out: long enough that the clear is queued while the raise waits for it.
  t = await testCloud({ webhooks: { baseDelayMs: 1500, jitter: 0, maxAttempts: 3, pollMs: 100 }, alarms: { watch: false } });
});
afterAll(async () => t.close());

describe('the order of one alarm’s transitions at each receiver', () => {
  it('a raise refused once still reaches the receiver before the clear queued while it waited', async () => {
    let refusals = 1;
    const r = await receiver(() => (refusals-- > 0 ? [503, 'busy'] : [204, '']));
    try {
      const hook = await t.call('POST', '/api/v1/webhooks', { body: { url: `${r.url}/hook`, secret: 'a-very-secret-key-123' } });
      expect(hook.status).toBe(201);
      await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-order', epoch: 1, firstSeq: 1, lastSeq: 1, events: [raise(1)] });
      await waitFor(async () => (await t.cloud.store.notifications.list({ receiverId: hook.json.id, limit: 5 }))[0]?.lastError != null, 5000, 'the raise refused once');
      await t.cloud.store.telemetry.commitEvents({ gateway: 'gw-order', epoch: 1, firstSeq: 2, lastSeq: 2, events: [clear(2)] });
      await waitFor(() => r.got.length === 2, 10_000, 'both transitions delivered');
      expect(told(r.got)).toEqual(['1:active_unacked', '2:cleared_unacked']);
      await t.call('DELETE', `/api/v1/webhooks/${hook.json.id}`);
    } finally {
      r.server.close();
    }
  }, 30_000);
});

describe('an SMS gateway down longer than the retries last, then back', () => {
  let quick: TestCloud;
  beforeAll(async () => {
    quick = await testCloud({ webhooks: { baseDelayMs: 50, maxAttempts: 3, pollMs: 100 }, alarms: { watch: false } });
  });
  afterAll(async () => quick.close());

  it('every row dies; one admin request requeues the receiver’s dead rows and each phone gets raise then clear, once each', async () => {
    let up = false;
    const r = await receiver(() => (up ? [200, '{"code":"OK"}'] : [502, 'bad gateway']));
    try {
      const sms = await quick.call('POST', '/api/v1/webhooks', {
        body: { kind: 'sms', url: `${r.url}/sms`, minLevel: 3, sms: { body: '{"mobile":"{phone}","content":"{text}"}', phones: ['13800000001', '13900000002'] } },
      });
      expect(sms.status).toBe(201);
      const id = sms.json.id as number;
      await quick.cloud.store.telemetry.commitEvents({ gateway: 'gw-sms', epoch: 1, firstSeq: 1, lastSeq: 1, events: [raise(1)] });
      await quick.cloud.store.telemetry.commitEvents({ gateway: 'gw-sms', epoch: 1, firstSeq: 2, lastSeq: 2, events: [clear(2)] });
      const dead = async () => (await quick.call('GET', `/api/v1/notifications?status=dead&receiver=${id}`, { as: 'operator' })).json as unknown[];
      await waitFor(async () => (await dead()).length === 4, 10_000, 'raise and clear dead for both phones');
      expect(r.got).toEqual([]);

      up = true;
      expect((await quick.call('POST', '/api/v1/notifications/retry', { body: { receiver: id }, as: 'operator' })).status).toBe(403);
      const back = await quick.call('POST', '/api/v1/notifications/retry', { body: { receiver: id } });
      expect([back.status, back.json]).toEqual([200, { receiver: id, requeued: 4 }]);
      await waitFor(() => r.got.length === 4, 10_000, 'four texts');
      await waitFor(async () => (await quick.call('GET', `/api/v1/notifications?status=delivered&receiver=${id}`)).json.length === 4, 5000, 'four rows delivered');
      for (const phone of ['13800000001', '13900000002']) {
        const texts = texted(r.got.filter((g) => JSON.parse(g.body).mobile === phone));
        expect(texts.map((x) => (x.includes('恢复') ? 'clear' : 'raise'))).toEqual(['raise', 'clear']);
      }
      // Nothing dead is left to requeue: a second request sends nothing more.
      expect((await quick.call('POST', '/api/v1/notifications/retry', { body: { receiver: id } })).json).toEqual({ receiver: id, requeued: 0 });
      await new Promise((res) => setTimeout(res, 300));
      expect(r.got).toHaveLength(4);

      const unknown = await quick.call('POST', '/api/v1/notifications/retry', { body: { receiver: 999_999 } });
      expect([unknown.status, unknown.json.message]).toEqual([404, 'no receiver 999999']);
      const bad = await quick.call('POST', '/api/v1/notifications/retry', { body: { receiver: 'sms' } });
      expect([bad.status, bad.json.message]).toEqual([400, 'body.receiver: must be integer']);
    } finally {
      r.server.close();
    }
  }, 40_000);
});
