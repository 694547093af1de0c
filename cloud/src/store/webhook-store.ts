/** The webhooks concern of the cloud store: receivers of alarm notifications (generic webhooks, group robots, SMS gateways). */

/**
 * How a receiver is told (receivers in ../notify/receivers.ts):
 * - `webhook`: our JSON, HMAC-signed with `secret` (X-Lifeline-Signature);
 * - `wecom`: a WeCom (企业微信) group robot URL, markdown message;
 * - `dingtalk`: a DingTalk (钉钉) custom robot URL, markdown message, signed URL when `secret` is set;
 * - `sms`: an SMS gateway over HTTP, one request per phone number from `sms`'s template.
 */
export type ReceiverKind = 'webhook' | 'wecom' | 'dingtalk' | 'sms';

/** The kinds, for validation and docs. */
export const receiverKinds: readonly ReceiverKind[] = ['webhook', 'wecom', 'dingtalk', 'sms'];

/** An SMS gateway's request: `url` and `body` hold placeholders ({phone}, {text}, {level}, {gateway}, {device}, {cause}). */
export interface SmsTemplate {
  method: 'POST' | 'PUT' | 'GET';
  /** Content type of the body; placeholders are escaped for it (JSON string, form field, or as is). Default application/json. */
  contentType: string;
  /** Request body (ignored for GET). */
  body: string;
  /** Extra headers (the gateway's API key, say); never listed. */
  headers: Record<string, string>;
  /** One request per number. */
  phones: string[];
}

/** A receiver of alarm transitions. */
export interface WebhookRecord {
  id: number;
  kind: ReceiverKind;
  /** Where to send; for wecom and dingtalk the robot URL, whose key / access_token is never listed whole. */
  url: string;
  /** webhook: HMAC key; dingtalk: the robot's signing secret (SEC…), '' when unsigned; '' for the others. Never listed. */
  secret: string;
  /** Only transitions at or above this level (0 = all). */
  minLevel: number;
  /** The SMS template (kind sms only), else null. */
  sms: SmsTemplate | null;
  createdBy: string;
  createdAt: number;
}

/** Receiver subscriptions. */
export interface WebhookStore {
  addWebhook(w: Omit<WebhookRecord, 'id'>): Promise<WebhookRecord>;
  listWebhooks(): Promise<WebhookRecord[]>;
  getWebhook(id: number): Promise<WebhookRecord | undefined>;
  deleteWebhook(id: number): Promise<boolean>;
}
