/**
 * Downlink commands on the gateway: check, run once, answer, audit.
 *
 *   lifeline/<gw>/down/cmd ─▶ JSON + schema ─▶ addressed to us? expired? seen before? ─▶ target
 *                                                                      │ (seen: the stored answer again)
 *   lifeline/<gw>/up/reply ◀─ answer ◀─ buffer.recordCommand (audit, synced) + event lane `command_*`
 *
 * The channel authenticates the sender: the broker lets only the cloud publish
 * on a gateway's command topic (docs/operations.md). The handler never throws:
 * anything wrong with a command is an answer.
 */
import { createHash } from 'node:crypto';
import { CommandSchema, isLifelineError, parseJsonIssues, type Command, type CommandAnswer, type ValidationIssue } from '@lifeline/shared';
import type { EdgeBuffer } from '../buffer/buffer.js';
import type { Logger } from '../log.js';

/** What commands act on; the agent supplies it. */
export interface CommandTarget {
  /** Acknowledge an alarm; `changed: false` when there was nothing to acknowledge. */
  ackAlarm(alarmId: string, user: string): { changed: boolean; message: string };
  shelveAlarm(alarmId: string, untilTs: number, user: string): { changed: boolean; message: string };
  /** Write a point; resolves with the value read back when the writer reads back. */
  writePoint(device: string, point: string, value: number): Promise<{ readBack: number } | void>;
  /**
   * Validate a whole config and save it when valid; `restart`, if given, is run
   * once the answer is sent (the agent restarts on the new config). Issues list every problem.
   */
  applyConfig(config: unknown, command?: { id: string; by: string }): Promise<{ ok: true; restart?: () => void; running: unknown } | { ok: false; errors: ValidationIssue[] }>;
  /** The config the gateway runs now (for its hash). */
  runningConfig(): unknown;
}

/** Hash of a config's canonical JSON (keys sorted), as reported in answers and the status. */
export function configHash(config: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canon(config))).digest('hex').slice(0, 32);
}

/** `readBack` for an answer when it is a number JSON can carry (a BCD register with a bad nibble decodes to NaN). */
function readBackOf(v: unknown): Pick<CommandAnswer, 'readBack'> {
  return typeof v === 'number' && Number.isFinite(v) ? { readBack: v } : {};
}

export class CommandHandler {
  private reply: (answer: CommandAnswer) => Promise<void> = async () => {};
  /** Commands handled (not counting repeats), repeats answered, malformed ignored. */
  readonly counters = { handled: 0, repeats: 0, malformed: 0 };

  constructor(
    private readonly gateway: string,
    private readonly buffer: EdgeBuffer,
    private readonly target: CommandTarget,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Where answers go (sync sets it). */
  setReply(reply: (answer: CommandAnswer) => Promise<void>): void {
    this.reply = reply;
  }

  /** Hash of the running config. */
  runningHash(): string {
    return configHash(this.target.runningConfig());
  }

  /** Handles one command message; resolves with the answer sent (undefined if the message was not a command). */
  async handle(payload: Uint8Array | string): Promise<CommandAnswer | undefined> {
    const { value: raw, issues } = parseJsonIssues(CommandSchema, typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
    if (raw === undefined) {
      this.counters.malformed++;
      this.log.warn('refused a command that is not JSON');
      return undefined;
    }
    if (issues.length) {
      const id = (raw as { id?: unknown })?.id;
      this.counters.malformed++;
      this.log.warn({ issues: issues.slice(0, 5) }, 'refused a malformed command');
      // Answer when the id is readable, so the sender is not left waiting.
      if (typeof id === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(id) && (raw as { gateway?: unknown }).gateway === this.gateway) {
        return this.finish(raw as Command, { ok: false, status: 'rejected', message: 'malformed command', errors: issues }, false);
      }
      return undefined;
    }
    const cmd = raw as Command;
    if (cmd.gateway !== this.gateway) {
      this.counters.malformed++;
      this.log.warn({ id: cmd.id, addressee: cmd.gateway }, 'ignored a command addressed to another gateway');
      return undefined;
    }
    const seen = this.buffer.commandAnswer(cmd.id) as CommandAnswer | undefined;
    if (seen) {
      this.counters.repeats++;
      const again = { ...seen, duplicate: true };
      await this.send(again);
      return again;
    }
    const now = this.clock();
    if (cmd.expiresAt !== undefined && now > cmd.expiresAt) {
      return this.finish(cmd, { ok: false, status: 'expired', message: `arrived ${now - cmd.expiresAt} ms after it expired; not carried out` });
    }
    try {
      switch (cmd.type) {
        case 'alarm_ack': {
          const r = this.target.ackAlarm(cmd.alarmId, cmd.by);
          return this.finish(cmd, { ok: true, status: 'done', message: r.message });
        }
        case 'alarm_shelve': {
          const r = this.target.shelveAlarm(cmd.alarmId, cmd.untilTs, cmd.by);
          return this.finish(cmd, { ok: true, status: 'done', message: r.message });
        }
        case 'point_write': {
          const r = await this.target.writePoint(cmd.device, cmd.point, cmd.value);
          if (!r) return this.finish(cmd, { ok: true, status: 'done', message: `wrote ${cmd.value} to ${cmd.device}.${cmd.point}` });
          return this.finish(cmd, { ok: true, status: 'done', message: `wrote ${cmd.value} to ${cmd.device}.${cmd.point}; read back ${r.readBack}`, ...readBackOf(r.readBack) });
        }
        case 'config': {
          const r = await this.target.applyConfig(cmd.config, { id: cmd.id, by: cmd.by });
          if (!r.ok) return this.finish(cmd, { ok: false, status: 'rejected', message: `config rejected: ${r.errors.length} error(s); the gateway keeps running its current config`, errors: r.errors });
          const answer = await this.finish(
            cmd,
            { ok: true, status: 'done', message: 'config applied; the agent restarts on it and rolls back by itself if it loses the cloud or a bus' },
            true,
            configHash(r.running),
          );
          r.restart?.();
          return answer;
        }
      }
    } catch (err) {
      const message = isLifelineError(err) ? err.message : (err as Error).message ?? String(err);
      // A refusal of the request itself (unknown alarm, bad shelve time) changes nothing: rejected.
      const rejected = isLifelineError(err) && ['REQUEST_INVALID', 'NOT_FOUND', 'CONFLICT'].includes(err.code);
      // A write the device took but holds differently: the answer carries what it holds.
      const held = isLifelineError(err, 'WRITE_NOT_CONFIRMED') ? readBackOf((err.details as { readBack?: unknown } | undefined)?.readBack) : {};
      return this.finish(cmd, { ok: false, status: rejected ? 'rejected' : 'failed', message, ...held });
    }
  }

  private async finish(cmd: Command, a: Pick<CommandAnswer, 'ok' | 'status' | 'message' | 'errors' | 'readBack'>, audit = true, runningHash = this.runningHash()): Promise<CommandAnswer> {
    const answer: CommandAnswer = { id: cmd.id, gateway: this.gateway, ts: this.clock(), ...a, running: { hash: runningHash } };
    if (!answer.errors) delete answer.errors;
    if (audit) {
      this.counters.handled++;
      const { id, type, by } = cmd;
      this.buffer.recordCommand({ id, ts: answer.ts, type, by, body: cmd, answer });
      this.buffer.appendEvent(answer.ts, 'event', {
        kind: 'event',
        type: `command_${answer.status}`,
        message: `${type} ${id} by ${by}: ${answer.message}`.slice(0, 4000),
        details: { id, command: type, by, ok: answer.ok },
      });
    }
    this.log.info({ id: cmd.id, type: cmd.type, by: cmd.by, status: answer.status }, answer.message);
    await this.send(answer);
    return answer;
  }

  private async send(answer: CommandAnswer): Promise<void> {
    try {
      await this.reply(answer);
    } catch (err) {
      // The cloud asks again (same id) if it missed the answer; the stored answer is sent then.
      this.log.warn({ id: answer.id, err: (err as Error).message }, 'could not send a command answer');
    }
  }
}
