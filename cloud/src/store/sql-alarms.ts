/**
 * The alarm store in SQL both engines speak. Alarm rows are written by the
 * telemetry store as transitions commit (sql-telemetry.ts); this reads them,
 * joined with their device's kind and district, and keeps comments.
 */
import type { AlarmState, LaneEvent } from '@lifeline/shared';
import type { Sql } from './sql.js';
import type { AlarmComment, AlarmFilter, AlarmInfo, AlarmStore } from './alarm-store.js';

type AlarmRow = {
  id: number; gateway: string; alarm_id: string; device: string; point: string; detector: string; level: number; state: string;
  since: number; cause: string; value: number | null; raised_at: number | null; raised_cause: string | null; kind: string | null; district: string | null; points: string | null;
};

const alarmSelect = `SELECT a.id, a.gateway, a.alarm_id, a.device, a.point, a.detector, a.level, a.state, a.since, a.cause, a.value,
    a.raised_at, a.raised_cause, d.kind, d.district, d.points FROM alarms a LEFT JOIN devices d ON d.gateway = a.gateway AND d.id = a.device`;

/** The label of an alarm's point from its device's points (JSON as the registry keeps it); parsed once per device list. */
function pointLabel(r: AlarmRow, parsed: Map<string, { name: string; label?: string }[]>): string | null {
  if (!r.points) return null;
  let points = parsed.get(r.points);
  if (!points) parsed.set(r.points, (points = JSON.parse(r.points) as { name: string; label?: string }[]));
  return points.find((p) => p.name === r.point)?.label ?? null;
}

function alarmInfo(r: AlarmRow, parsed = new Map<string, { name: string; label?: string }[]>()): AlarmInfo {
  return {
    id: r.id, gateway: r.gateway, alarmId: r.alarm_id, device: r.device, point: r.point, detector: r.detector, level: r.level,
    state: r.state as AlarmState, since: r.since, cause: r.cause, value: r.value, raisedAt: r.raised_at, raisedCause: r.raised_cause, kind: r.kind, district: r.district,
    pointLabel: pointLabel(r, parsed),
  };
}

export class SqlAlarms implements AlarmStore {
  constructor(private readonly sql: Sql) {}

  async listAlarms(f: AlarmFilter): Promise<AlarmInfo[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const inList = (col: string, values: unknown[] | undefined) => {
      if (!values?.length) return;
      where.push(`${col} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    };
    inList('a.state', f.state);
    inList('a.level', f.level);
    inList('d.kind', f.kind);
    inList('d.district', f.district);
    if (f.minLevel !== undefined) where.push('a.level >= ?'), params.push(f.minLevel);
    if (f.gateway) where.push('a.gateway = ?'), params.push(f.gateway);
    if (f.device) where.push('a.device = ?'), params.push(f.device);
    const rows = await this.sql.all<AlarmRow>(`${alarmSelect} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.since DESC, a.id DESC LIMIT ?`, [...params, f.limit]);
    const parsed = new Map<string, { name: string; label?: string }[]>();
    return rows.map((r) => alarmInfo(r, parsed));
  }

  async getAlarm(id: number): Promise<AlarmInfo | undefined> {
    const r = await this.sql.get<AlarmRow>(`${alarmSelect} WHERE a.id = ?`, [id]);
    return r && alarmInfo(r);
  }

  async findAlarm(gateway: string, alarmId: string): Promise<AlarmInfo | undefined> {
    const r = await this.sql.get<AlarmRow>(`${alarmSelect} WHERE a.gateway = ? AND a.alarm_id = ?`, [gateway, alarmId]);
    return r && alarmInfo(r);
  }

  async alarmHistory(id: number): Promise<LaneEvent[]> {
    const rows = await this.sql.all<{ body: string }>(
      'SELECT e.body FROM alarms a JOIN events e ON e.gateway = a.gateway AND e.alarm_id = a.alarm_id WHERE a.id = ? ORDER BY e.ts, e.epoch, e.seq',
      [id],
    );
    return rows.map((r) => JSON.parse(r.body) as LaneEvent);
  }

  async addComment(c: Omit<AlarmComment, 'id'>): Promise<AlarmComment> {
    const r = await this.sql.get<{ id: number }>('INSERT INTO alarm_comments(alarm, ts, user_name, body) VALUES (?, ?, ?, ?) RETURNING id', [c.alarm, c.ts, c.user, c.text]);
    return { id: r!.id, ...c };
  }

  async listComments(alarm: number): Promise<AlarmComment[]> {
    const rows = await this.sql.all<{ id: number; alarm: number; ts: number; user_name: string; body: string }>(
      'SELECT id, alarm, ts, user_name, body FROM alarm_comments WHERE alarm = ? ORDER BY ts, id',
      [alarm],
    );
    return rows.map((r) => ({ id: r.id, alarm: r.alarm, ts: r.ts, user: r.user_name, text: r.body }));
  }
}
