/**
 * How each kind of receiver is told, to the format its vendor documents, and
 * what counts as delivered. One request per call; the dispatcher (webhooks.ts)
 * owns retries and the outbox.
 *
 *   NotificationPayload + WebhookRecord ─▶ requestFor(kind) ─▶ fetch ─▶ answered(kind) ─▶ ok | error (recorded, retried)
 *
 * A robot answers HTTP 200 even when it refuses a message (bad key, bad sign,
 * rate limit): its JSON `errcode` decides, and a non-zero one is a failure with
 * its `errmsg` kept as the reason.
 */
import { createHmac } from 'node:crypto';
import type { SmsTemplate, WebhookRecord } from '../store/webhook-store.js';
import { alarmMarkdown, alarmText, alarmTitle, digestMarkdown, digestText, digestTitle, levelName, type NotificationPayload } from './messages.js';

/** An HTTP request to make. */
export interface OutRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** The outcome of one attempt. */
export type Outcome = { ok: true; status: number } | { ok: false; status: number | null; error: string };

/** The signature a generic webhook receiver computes to check a delivery. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * DingTalk's signed-URL parameters: sign = urlencode(base64(HMAC-SHA256(secret, timestamp + "\n" + secret))).
 * https://open.dingtalk.com/document/robots/customize-robot-security-settings (加签)
 */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return encodeURIComponent(createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64'));
}

/** `{phone}` … `{cause}` replaced, each value escaped by `escape`. */
export function fillTemplate(template: string, values: Record<string, string>, escape: (v: string) => string): string {
  return template.replace(/\{(phone|text|level|gateway|device|cause)\}/g, (_m, k: string) => escape(values[k] ?? ''));
}

/** How a value goes into a body of this content type. */
function bodyEscape(contentType: string): (v: string) => string {
  if (/json/i.test(contentType)) return (v) => JSON.stringify(v).slice(1, -1);
  if (/x-www-form-urlencoded/i.test(contentType)) return encodeURIComponent;
  return (v) => v;
}

/** The SMS gateway request for one number. */
export function smsRequest(url: string, t: SmsTemplate, p: NotificationPayload): OutRequest {
  const values =
    p.type === 'alarm.digest'
      ? { phone: p.phone ?? '', text: digestText(p), level: '', gateway: '', device: '', cause: '' }
      : { phone: p.phone ?? '', text: alarmText(p), level: levelName(p.transition.level), gateway: p.gateway, device: p.site?.name ?? p.transition.device, cause: p.transition.cause };
  const req: OutRequest = { url: fillTemplate(url, values, encodeURIComponent), method: t.method, headers: { ...t.headers } };
  if (t.method !== 'GET') {
    req.headers['content-type'] = t.contentType;
    req.body = fillTemplate(t.body, values, bodyEscape(t.contentType));
  }
  return req;
}

/** The request for `p` to `hook`; `deliveryId` is the outbox key (stable across retries), `now` epoch ms. */
export function requestFor(hook: WebhookRecord, p: NotificationPayload, deliveryId: string, now: number): OutRequest {
  switch (hook.kind) {
    case 'webhook': {
      // The body generic receivers have always had (type, gateway, transition); an escalation says so, a digest is its summary.
      const { phone: _phone, ...digest } = p.type === 'alarm.digest' ? p : { phone: undefined };
      const event = p.type === 'alarm.digest' ? p.type : p.escalation ? 'alarm.escalation' : p.type;
      const body = JSON.stringify(
        p.type === 'alarm.digest' ? digest : { type: event, gateway: p.gateway, transition: p.transition, ...(p.escalation ? { escalation: p.escalation } : {}) },
      );
      const ts = String(now);
      return {
        url: hook.url, method: 'POST', body,
        headers: {
          'content-type': 'application/json', 'x-lifeline-event': event, 'x-lifeline-delivery': deliveryId,
          'x-lifeline-timestamp': ts, 'x-lifeline-signature': signWebhook(hook.secret, ts, body),
        },
      };
    }
    case 'wecom':
      // WeCom group robot, markdown message (content ≤ 4096 bytes): https://developer.work.weixin.qq.com/document/path/91770
      return { url: hook.url, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ msgtype: 'markdown', markdown: { content: p.type === 'alarm.digest' ? digestMarkdown(p) : alarmMarkdown(p) } }) };
    case 'dingtalk': {
      // DingTalk custom robot, markdown message: https://open.dingtalk.com/document/robots/custom-robot-access
      // With a signing secret, timestamp (ms) and sign go on the URL; DingTalk refuses a timestamp over an hour off.
      const url = hook.secret ? `${hook.url}&timestamp=${now}&sign=${dingtalkSign(hook.secret, now)}` : hook.url;
      return { url, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ msgtype: 'markdown', markdown: p.type === 'alarm.digest' ? { title: digestTitle(p), text: digestMarkdown(p) } : { title: alarmTitle(p), text: alarmMarkdown(p) } }) };
    }
    case 'sms':
      return smsRequest(hook.url, hook.sms!, p);
  }
}

/** Whether an answer means delivered: any 2xx, and for the robots also `errcode` 0. */
export function answered(kind: WebhookRecord['kind'], status: number, text: string): Outcome {
  if (status < 200 || status > 299) return { ok: false, status, error: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}` };
  if (kind !== 'wecom' && kind !== 'dingtalk') return { ok: true, status };
  let a: { errcode?: unknown; errmsg?: unknown };
  try {
    a = JSON.parse(text) as typeof a;
  } catch {
    return { ok: false, status, error: `not the robot's JSON answer: ${JSON.stringify(text.slice(0, 200))}` };
  }
  if (a.errcode === 0) return { ok: true, status };
  return { ok: false, status, error: `errcode ${String(a.errcode)}: ${String(a.errmsg ?? '')}` };
}

/** Make one attempt. `signal` aborts it (timeout, shutdown). */
export async function send(hook: WebhookRecord, p: NotificationPayload, deliveryId: string, signal: AbortSignal): Promise<Outcome> {
  const r = requestFor(hook, p, deliveryId, Date.now());
  try {
    const res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body, signal });
    return answered(hook.kind, res.status, await res.text().catch(() => ''));
  } catch (err) {
    return { ok: false, status: null, error: (err as Error).message };
  }
}

/** A robot URL for listing: the key or token shortened to its last four characters (it is the robot's password). */
export function redactedUrl(hook: Pick<WebhookRecord, 'kind' | 'url'>): string {
  if (hook.kind !== 'wecom' && hook.kind !== 'dingtalk') return hook.url;
  return hook.url.replace(/([?&](?:key|access_token)=)([^&]*)/g, (_m, k: string, v: string) => `${k}…${v.slice(-4)}`);
}
