/** The maintenance store in SQL both engines speak. */
import type { Sql } from './sql.js';
import type { MaintenanceFilter, MaintenanceStatus, MaintenanceStore, MaintenanceWindow } from './maintenance-store.js';

type WindowRow = {
  id: number; gateway: string; device: string | null; point: string | null; from_ts: number; until_ts: number; reason: string;
  created_by: string; created_at: number; ended_at: number | null; ended_by: string | null;
};

const select = 'SELECT id, gateway, device, point, from_ts, until_ts, reason, created_by, created_at, ended_at, ended_by FROM maintenance';

/** Each status as SQL over one `at` parameter (maintenanceStatus in maintenance-store.ts, said again). */
const statusSql: Record<MaintenanceStatus, string> = {
  active: '(ended_at IS NULL AND from_ts <= ? AND until_ts > ?)',
  upcoming: '(ended_at IS NULL AND from_ts > ?)',
  over: '(ended_at IS NOT NULL OR until_ts <= ?)',
};

function windowOf(r: WindowRow): MaintenanceWindow {
  return {
    id: r.id, scope: r.device === null ? 'gateway' : r.point === null ? 'device' : 'point', gateway: r.gateway, device: r.device, point: r.point,
    from: r.from_ts, until: r.until_ts, reason: r.reason, createdBy: r.created_by, createdAt: r.created_at, endedAt: r.ended_at, endedBy: r.ended_by,
  };
}

export class SqlMaintenance implements MaintenanceStore {
  constructor(private readonly sql: Sql) {}

  async addWindow(w: Omit<MaintenanceWindow, 'id' | 'scope' | 'endedAt' | 'endedBy'>): Promise<MaintenanceWindow> {
    const r = await this.sql.get<WindowRow>(
      `INSERT INTO maintenance(gateway, device, point, from_ts, until_ts, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       RETURNING id, gateway, device, point, from_ts, until_ts, reason, created_by, created_at, ended_at, ended_by`,
      [w.gateway, w.device, w.point, w.from, w.until, w.reason, w.createdBy, w.createdAt],
    );
    return windowOf(r!);
  }

  async getWindow(id: number): Promise<MaintenanceWindow | undefined> {
    const r = await this.sql.get<WindowRow>(`${select} WHERE id = ?`, [id]);
    return r && windowOf(r);
  }

  async listWindows(f: MaintenanceFilter): Promise<MaintenanceWindow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.status?.length) {
      where.push(`(${f.status.map((s) => statusSql[s]).join(' OR ')})`);
      for (const s of f.status) params.push(...(s === 'active' ? [f.at, f.at] : [f.at]));
    }
    if (f.gateway !== undefined) where.push('gateway = ?'), params.push(f.gateway);
    const rows = await this.sql.all<WindowRow>(`${select} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY from_ts DESC, id DESC LIMIT ?`, [...params, f.limit]);
    return rows.map(windowOf);
  }

  async endWindow(id: number, at: number, by: string): Promise<MaintenanceWindow | undefined> {
    // Only a window not over yet: ending twice, or ending one that ran its course, changes nothing.
    const n = await this.sql.run('UPDATE maintenance SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL AND until_ts > ?', [at, by, id, at]);
    return n > 0 ? this.getWindow(id) : undefined;
  }
}
