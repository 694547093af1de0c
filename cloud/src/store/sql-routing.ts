/** The routing store in SQL both engines speak: rules and digests as JSON specs, and two reads of the event lane. */
import type { AlarmTransition } from '@lifeline/shared';
import type { Sql } from './sql.js';
import type { AlarmRule, DigestSubscription, LaneAlarm, RoutingStore, RuleSpec } from './routing-store.js';

type RuleRow = { id: number; body: string; created_by: string; created_at: number; updated_by: string; updated_at: number };
type DigestRow = { receiver: number; at_local: string; time_zone: string; created_by: string; created_at: number };
type EventRow = { gateway: string; epoch: number; body: string };

const ruleCols = 'id, body, created_by, created_at, updated_by, updated_at';

function ruleOf(r: RuleRow): AlarmRule {
  return { ...(JSON.parse(r.body) as RuleSpec), id: Number(r.id), createdBy: r.created_by, createdAt: Number(r.created_at), updatedBy: r.updated_by, updatedAt: Number(r.updated_at) };
}

const laneAlarm = (r: EventRow): LaneAlarm => ({ gateway: r.gateway, epoch: Number(r.epoch), transition: JSON.parse(r.body) as AlarmTransition });

export class SqlRouting implements RoutingStore {
  constructor(private readonly sql: Sql) {}

  async addRule(spec: RuleSpec, by: string, at: number): Promise<AlarmRule> {
    const r = await this.sql.get<RuleRow>(
      `INSERT INTO alarm_rules(name, body, created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING ${ruleCols}`,
      [spec.name, JSON.stringify(spec), by, at, by, at],
    );
    return ruleOf(r!);
  }

  async updateRule(id: number, spec: RuleSpec, by: string, at: number): Promise<AlarmRule | undefined> {
    const r = await this.sql.get<RuleRow>(`UPDATE alarm_rules SET name = ?, body = ?, updated_by = ?, updated_at = ? WHERE id = ? RETURNING ${ruleCols}`, [
      spec.name, JSON.stringify(spec), by, at, id,
    ]);
    return r && ruleOf(r);
  }

  async deleteRule(id: number): Promise<boolean> {
    return (await this.sql.run('DELETE FROM alarm_rules WHERE id = ?', [id])) > 0;
  }

  async getRule(id: number): Promise<AlarmRule | undefined> {
    const r = await this.sql.get<RuleRow>(`SELECT ${ruleCols} FROM alarm_rules WHERE id = ?`, [id]);
    return r && ruleOf(r);
  }

  async listRules(): Promise<AlarmRule[]> {
    return (await this.sql.all<RuleRow>(`SELECT ${ruleCols} FROM alarm_rules ORDER BY id`)).map(ruleOf);
  }

  async setDigest(d: DigestSubscription): Promise<void> {
    await this.sql.run(
      `INSERT INTO receiver_digests(receiver, at_local, time_zone, created_by, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(receiver) DO UPDATE SET at_local = excluded.at_local, time_zone = excluded.time_zone, created_by = excluded.created_by, created_at = excluded.created_at`,
      [d.receiverId, d.at, d.timeZone, d.createdBy, d.createdAt],
    );
  }

  async deleteDigest(receiverId: number): Promise<boolean> {
    return (await this.sql.run('DELETE FROM receiver_digests WHERE receiver = ?', [receiverId])) > 0;
  }

  async listDigests(): Promise<DigestSubscription[]> {
    const rows = await this.sql.all<DigestRow>('SELECT receiver, at_local, time_zone, created_by, created_at FROM receiver_digests ORDER BY receiver');
    return rows.map((r) => ({ receiverId: Number(r.receiver), at: r.at_local, timeZone: r.time_zone, createdBy: r.created_by, createdAt: Number(r.created_at) }));
  }

  async markQueued(gateway: string, epoch: number, firstSeq: number, lastSeq: number): Promise<void> {
    if (firstSeq === 1) {
      await this.sql.run(
        `INSERT INTO notify_marks(gateway, epoch, up_to) VALUES (?, ?, ?) ON CONFLICT(gateway, epoch) DO UPDATE SET up_to = excluded.up_to WHERE notify_marks.up_to < excluded.up_to`,
        [gateway, epoch, lastSeq],
      );
      return;
    }
    await this.sql.run('UPDATE notify_marks SET up_to = ? WHERE gateway = ? AND epoch = ? AND up_to >= ? AND up_to < ?', [lastSeq, gateway, epoch, firstSeq - 1, lastSeq]);
  }

  async lagging(limit: number): Promise<{ gateway: string; epoch: number; mark: number; committed: number }[]> {
    const rows = await this.sql.all<{ gateway: string; epoch: number; mark: number | null; up_to: number }>(
      `SELECT c.gateway, c.epoch, m.up_to AS mark, c.up_to FROM committed c LEFT JOIN notify_marks m ON m.gateway = c.gateway AND m.epoch = c.epoch
       WHERE c.lane = 'events' AND c.up_to > COALESCE(m.up_to, 0) ORDER BY c.gateway, c.epoch LIMIT ?`,
      [limit],
    );
    return rows.map((r) => ({ gateway: r.gateway, epoch: Number(r.epoch), mark: Number(r.mark ?? 0), committed: Number(r.up_to) }));
  }

  async alarmsInLane(gateway: string, epoch: number, mark: number, upTo: number, limit: number): Promise<LaneAlarm[]> {
    const rows = await this.sql.all<EventRow>(
      `SELECT gateway, epoch, body FROM events WHERE gateway = ? AND epoch = ? AND seq > ? AND seq <= ? AND kind = 'alarm' ORDER BY seq LIMIT ?`,
      [gateway, epoch, mark, upTo, limit],
    );
    return rows.map(laneAlarm);
  }

  async setMark(gateway: string, epoch: number, upTo: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO notify_marks(gateway, epoch, up_to) VALUES (?, ?, ?) ON CONFLICT(gateway, epoch) DO UPDATE SET up_to = excluded.up_to WHERE notify_marks.up_to < excluded.up_to`,
      [gateway, epoch, upTo],
    );
  }

  async alarmsBetween(from: number, to: number, limit: number): Promise<LaneAlarm[]> {
    const rows = await this.sql.all<EventRow>(`SELECT gateway, epoch, body FROM events WHERE ts >= ? AND ts < ? AND kind = 'alarm' ORDER BY ts, gateway, epoch, seq LIMIT ?`, [from, to, limit]);
    return rows.map(laneAlarm);
  }
}
