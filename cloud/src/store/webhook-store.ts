/** The webhooks concern of the cloud store: subscribers to alarm transitions. */

/** A subscriber to alarm transitions. */
export interface WebhookRecord {
  id: number;
  url: string;
  /** HMAC key; returned once at creation, never listed. */
  secret: string;
  /** Only transitions at or above this level (0 = all). */
  minLevel: number;
  createdBy: string;
  createdAt: number;
}

/** Webhook subscriptions. */
export interface WebhookStore {
  addWebhook(w: Omit<WebhookRecord, 'id'>): Promise<WebhookRecord>;
  listWebhooks(): Promise<WebhookRecord[]>;
  deleteWebhook(id: number): Promise<boolean>;
}
