/** The webhook store in SQL both engines speak. */
import type { Sql } from './sql.js';
import type { WebhookRecord, WebhookStore } from './webhook-store.js';

export class SqlWebhooks implements WebhookStore {
  constructor(private readonly sql: Sql) {}

  async addWebhook(w: Omit<WebhookRecord, 'id'>): Promise<WebhookRecord> {
    const r = await this.sql.get<{ id: number }>('INSERT INTO webhooks(url, secret, min_level, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id', [
      w.url, w.secret, w.minLevel, w.createdBy, w.createdAt,
    ]);
    return { id: r!.id, ...w };
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    const rows = await this.sql.all<{ id: number; url: string; secret: string; min_level: number; created_by: string; created_at: number }>(
      'SELECT id, url, secret, min_level, created_by, created_at FROM webhooks ORDER BY id',
    );
    return rows.map((r) => ({ id: r.id, url: r.url, secret: r.secret, minLevel: r.min_level, createdBy: r.created_by, createdAt: r.created_at }));
  }

  async deleteWebhook(id: number): Promise<boolean> {
    return (await this.sql.run('DELETE FROM webhooks WHERE id = ?', [id])) > 0;
  }
}
