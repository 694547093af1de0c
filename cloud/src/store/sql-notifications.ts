/** The notification outbox in SQL both engines speak (the claim differs: PostgreSQL skips locked rows). */
import type { Sql } from './sql.js';
import { listOf, listParam } from './sql-common.js';
import type { NotificationFilter, NotificationRecord, NotificationStatus, NotificationStore } from './notification-store.js';

type Row = {
  id: number; idem_key: string; receiver: number; payload: string; status: string; attempts: number; next_at: number; created_at: number;
  last_error: string | null; delivered_at: number | null; dead_at: number | null;
};

const cols = 'id, idem_key, receiver, payload, status, attempts, next_at, created_at, last_error, delivered_at, dead_at';

function recordOf(r: Row): NotificationRecord {
  return {
    id: r.id, key: r.idem_key, receiverId: r.receiver, payload: r.payload, status: r.status as NotificationStatus, attempts: r.attempts, nextAt: r.next_at,
    createdAt: r.created_at, lastError: r.last_error, deliveredAt: r.delivered_at, deadAt: r.dead_at,
  };
}

export class SqlNotifications implements NotificationStore {
  constructor(private readonly sql: Sql) {}

  async enqueue(n: { key: string; receiverId: number; payload: string; at: number; thread?: string }): Promise<boolean> {
    const changed = await this.sql.run(
      `INSERT INTO notifications(idem_key, receiver, payload, status, attempts, next_at, created_at, thread) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT(idem_key) DO NOTHING`,
      [n.key, n.receiverId, n.payload, n.at, n.at, n.thread ?? null],
    );
    return changed > 0;
  }

  async claim(at: number, limit: number, leaseMs: number, busy: number[] = []): Promise<NotificationRecord[]> {
    // SQLite has one writer (this process), so the subquery and update cannot interleave with another claim;
    // PostgreSQL workers each lock the rows they pick and skip the ones another is picking.
    // A row whose thread has an older row pending waits for it, claimed or not (e.thread = NULL matches nothing).
    const lock = this.sql.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    const rows = await this.sql.all<Row>(
      `UPDATE notifications SET attempts = attempts + 1, next_at = ?
       WHERE id IN (SELECT n.id FROM notifications n WHERE n.status = 'pending' AND n.next_at <= ? AND n.receiver NOT IN ${listOf(this.sql.dialect)}
                      AND NOT EXISTS (SELECT 1 FROM notifications e WHERE e.thread = n.thread AND e.status = 'pending' AND e.id < n.id)
                    ORDER BY n.next_at, n.id LIMIT ?${lock})
       RETURNING ${cols}`,
      [at + leaseMs, at, listParam(this.sql.dialect, busy), limit],
    );
    return rows.map(recordOf).sort((a, b) => a.id - b.id);
  }

  async delivered(id: number, at: number): Promise<boolean> {
    return (await this.sql.run(`UPDATE notifications SET status = 'delivered', delivered_at = ? WHERE id = ? AND status = 'pending'`, [at, id])) > 0;
  }

  async retry(id: number, error: string, nextAt: number): Promise<boolean> {
    return (await this.sql.run(`UPDATE notifications SET next_at = ?, last_error = ? WHERE id = ? AND status = 'pending'`, [nextAt, error, id])) > 0;
  }

  async dead(id: number, error: string, at: number): Promise<boolean> {
    return (await this.sql.run(`UPDATE notifications SET status = 'dead', last_error = ?, dead_at = ? WHERE id = ? AND status = 'pending'`, [error, at, id])) > 0;
  }

  async requeue(id: number, at: number): Promise<NotificationRecord | undefined> {
    // The last error stays until the next attempt tells a new one: an admin sees why it died while it waits.
    const r = await this.sql.get<Row>(
      `UPDATE notifications SET status = 'pending', attempts = 0, next_at = ?, dead_at = NULL WHERE id = ? AND status = 'dead' RETURNING ${cols}`,
      [at, id],
    );
    return r && recordOf(r);
  }

  async requeueReceiver(receiverId: number, at: number): Promise<number> {
    return this.sql.run(`UPDATE notifications SET status = 'pending', attempts = 0, next_at = ?, dead_at = NULL WHERE receiver = ? AND status = 'dead'`, [at, receiverId]);
  }

  async get(id: number): Promise<NotificationRecord | undefined> {
    const r = await this.sql.get<Row>(`SELECT ${cols} FROM notifications WHERE id = ?`, [id]);
    return r && recordOf(r);
  }

  async list(f: NotificationFilter): Promise<NotificationRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.status) where.push('status = ?'), params.push(f.status);
    if (f.receiverId !== undefined) where.push('receiver = ?'), params.push(f.receiverId);
    const rows = await this.sql.all<Row>(`SELECT ${cols} FROM notifications ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`, [...params, f.limit]);
    return rows.map(recordOf);
  }
}
