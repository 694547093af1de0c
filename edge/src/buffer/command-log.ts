/**
 * The audit log of commands from the cloud: a command is handled once per id
 * (its answer is stored and returned again on a resend), and each answer is
 * synced to disk, like alarm transitions.
 */
import { durably, type Db } from './database.js';
import type { CommandRecord } from './types.js';

/** Handled commands and their answers. */
export class CommandLog {
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      answer: db.prepare('SELECT answer FROM commands WHERE id = ?'),
      record: db.prepare('INSERT OR REPLACE INTO commands(id, ts, type, by_, body, answer) VALUES (?, ?, ?, ?, ?, ?)'),
      latest: db.prepare('SELECT * FROM commands ORDER BY ts DESC, id DESC LIMIT ?'),
    };
  }

  /** The stored answer to a command already handled, if any. */
  answer(id: string): unknown {
    const r = this.stmt.answer.get(id) as { answer: string } | undefined;
    return r ? (JSON.parse(r.answer) as unknown) : undefined;
  }

  /** Records a handled command and its answer, synced to disk. */
  record(c: CommandRecord): void {
    durably(this.db, () => this.stmt.record.run(c.id, c.ts, c.type, c.by, JSON.stringify(c.body), JSON.stringify(c.answer)));
  }

  /** Newest first. */
  latest(limit: number): CommandRecord[] {
    return (this.stmt.latest.all(limit) as { id: string; ts: number; type: string; by_: string; body: string; answer: string }[]).map((r) => ({
      id: r.id,
      ts: r.ts,
      type: r.type,
      by: r.by_,
      body: JSON.parse(r.body) as unknown,
      answer: JSON.parse(r.answer) as unknown,
    }));
  }
}
