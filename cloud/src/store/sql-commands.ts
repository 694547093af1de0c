/** The command store in SQL both engines speak: downlink commands and their answers, gateway configs. */
import type { Sql } from './sql.js';
import type { CommandRecord, CommandStore, GatewayConfigState } from './command-store.js';
import { json, whereOf } from './sql-common.js';

type CommandRow = {
  id: number; gateway: string; type: string; alarm: number | null; body: string; requested_by: string; requested_at: number;
  status: string; answer: string | null; answered_at: number | null;
};

const commandCols = 'id, gateway, type, alarm, body, requested_by, requested_at, status, answer, answered_at';

function commandRecord(r: CommandRow): CommandRecord {
  return {
    id: r.id, gateway: r.gateway, type: r.type, alarm: r.alarm, body: JSON.parse(r.body) as Record<string, unknown>, requestedBy: r.requested_by,
    requestedAt: r.requested_at, status: r.status as CommandRecord['status'], answer: json(r.answer) as CommandRecord['answer'], answeredAt: r.answered_at,
  };
}

export class SqlCommands implements CommandStore {
  constructor(private readonly sql: Sql) {}

  async addCommand(c: Omit<CommandRecord, 'id' | 'status' | 'answer' | 'answeredAt'>): Promise<CommandRecord> {
    const r = await this.sql.get<{ id: number }>(
      "INSERT INTO commands(gateway, type, alarm, body, requested_by, requested_at, status) VALUES (?, ?, ?, ?, ?, ?, 'pending') RETURNING id",
      [c.gateway, c.type, c.alarm, JSON.stringify(c.body), c.requestedBy, c.requestedAt],
    );
    return { ...c, id: r!.id, status: 'pending', answer: null, answeredAt: null };
  }

  async answerCommand(id: number, ok: boolean, answer: Record<string, unknown>, at: number): Promise<boolean> {
    return (
      (await this.sql.run("UPDATE commands SET status = ?, answer = ?, answered_at = ? WHERE id = ? AND status = 'pending'", [
        ok ? 'done' : 'failed', JSON.stringify(answer), at, id,
      ])) > 0
    );
  }

  async listCommands(q: { gateway?: string; alarm?: number; limit: number; type?: string }): Promise<CommandRecord[]> {
    const conds: [string, unknown][] = [];
    if (q.gateway !== undefined) conds.push(['gateway = ?', q.gateway]);
    if (q.alarm !== undefined) conds.push(['alarm = ?', q.alarm]);
    if (q.type !== undefined) conds.push(['type = ?', q.type]);
    const { where, params } = whereOf(conds);
    const rows = await this.sql.all<CommandRow>(`SELECT ${commandCols} FROM commands ${where} ORDER BY id DESC LIMIT ?`, [...params, q.limit]);
    return rows.map(commandRecord);
  }

  async getCommand(id: number): Promise<CommandRecord | undefined> {
    const r = await this.sql.get<CommandRow>(`SELECT ${commandCols} FROM commands WHERE id = ?`, [id]);
    return r && commandRecord(r);
  }

  async getConfig(gateway: string): Promise<GatewayConfigState> {
    const r = await this.sql.get<{
      running: string | null; running_ts: number | null; desired: string | null; desired_ts: number | null; desired_by: string | null;
      desired_command: number | null; answer: string | null; answer_ts: number | null;
    }>('SELECT running, running_ts, desired, desired_ts, desired_by, desired_command, answer, answer_ts FROM gateway_config WHERE gateway = ?', [gateway]);
    return {
      gateway,
      running: json(r?.running ?? null),
      runningTs: r?.running_ts ?? null,
      desired: json(r?.desired ?? null),
      desiredTs: r?.desired_ts ?? null,
      desiredBy: r?.desired_by ?? null,
      desiredCommand: r?.desired_command ?? null,
      answer: json(r?.answer ?? null) as GatewayConfigState['answer'],
      answerTs: r?.answer_ts ?? null,
    };
  }

  /** Set some columns of a gateway's config row, creating the row first. */
  private async setConfig(gateway: string, set: string, params: unknown[]): Promise<void> {
    await this.sql.run('INSERT INTO gateway_config(gateway) VALUES (?) ON CONFLICT(gateway) DO NOTHING', [gateway]);
    await this.sql.run(`UPDATE gateway_config SET ${set} WHERE gateway = ?`, [...params, gateway]);
  }

  async setDesiredConfig(gateway: string, config: unknown, by: string, command: number, at: number): Promise<void> {
    await this.setConfig(gateway, 'desired = ?, desired_ts = ?, desired_by = ?, desired_command = ?', [JSON.stringify(config), at, by, command]);
  }

  async setRunningConfig(gateway: string, config: unknown, at: number): Promise<void> {
    await this.setConfig(gateway, 'running = ?, running_ts = ?', [JSON.stringify(config), at]);
  }

  async setConfigAnswer(gateway: string, answer: Record<string, unknown>, at: number): Promise<void> {
    await this.setConfig(gateway, 'answer = ?, answer_ts = ?', [JSON.stringify(answer), at]);
  }
}
