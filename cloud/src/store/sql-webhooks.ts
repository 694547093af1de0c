/** The webhook store in SQL both engines speak. */
import type { Sql } from './sql.js';
import type { ReceiverKind, SmsTemplate, WebhookRecord, WebhookStore } from './webhook-store.js';

type Row = { id: number; kind: string; url: string; secret: string; min_level: number; sms: string | null; created_by: string; created_at: number };

const select = 'SELECT id, kind, url, secret, min_level, sms, created_by, created_at FROM webhooks';

function recordOf(r: Row): WebhookRecord {
  return {
    id: r.id, kind: r.kind as ReceiverKind, url: r.url, secret: r.secret, minLevel: r.min_level, sms: r.sms === null ? null : (JSON.parse(r.sms) as SmsTemplate),
    createdBy: r.created_by, createdAt: r.created_at,
  };
}

export class SqlWebhooks implements WebhookStore {
  constructor(private readonly sql: Sql) {}

  async addWebhook(w: Omit<WebhookRecord, 'id'>): Promise<WebhookRecord> {
    const r = await this.sql.get<{ id: number }>('INSERT INTO webhooks(kind, url, secret, min_level, sms, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id', [
      w.kind, w.url, w.secret, w.minLevel, w.sms === null ? null : JSON.stringify(w.sms), w.createdBy, w.createdAt,
    ]);
    return { id: r!.id, ...w };
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    return (await this.sql.all<Row>(`${select} ORDER BY id`)).map(recordOf);
  }

  async getWebhook(id: number): Promise<WebhookRecord | undefined> {
    const r = await this.sql.get<Row>(`${select} WHERE id = ?`, [id]);
    return r && recordOf(r);
  }

  async deleteWebhook(id: number): Promise<boolean> {
    return (await this.sql.run('DELETE FROM webhooks WHERE id = ?', [id])) > 0;
  }
}
