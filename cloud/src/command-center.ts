/**
 * Commands to gateways (alarm acknowledge / shelve, desired config): recorded
 * in the store first (the audit trail), then handed to whoever carries them
 * over the downlink through `onCommand`. The gateway's answer comes back
 * through `answer`, which records it (and, for a config, what it now runs).
 *
 *   API ─▶ CommandCenter.submit ─▶ store.commands.addCommand ─▶ onCommand listeners ─▶ MQTT downlink (sync)
 *   MQTT uplink (sync) ─▶ CommandCenter.answer ─▶ store.commands.answerCommand (+ setConfigAnswer / setRunningConfig)
 */
import type { Logger } from 'pino';
import type { CommandRecord, Store } from './store/store.js';

/** What a downlink carrier receives: the recorded command. */
export type GatewayCommand = CommandRecord;

/** Called for every new command; may be async, never awaited by the API. */
export type CommandListener = (gateway: string, command: GatewayCommand) => void | Promise<void>;

/** A gateway's answer to a command. */
export interface CommandAnswer {
  ok: boolean;
  /** Why it failed, or what it did. */
  message?: string;
  /** For a config command: every problem the gateway found. */
  errors?: { path: string; message: string }[];
  /** For a config command: the config the gateway runs now. */
  running?: unknown;
  /** How the gateway says it ended (`done`, `rejected`, `failed`, `expired`), when it says. */
  status?: string;
  /** For a point write: the value the gateway read back from the device. */
  readBack?: number;
}

/** How long a point write may take to reach the gateway before it refuses it as expired (default 5 min). */
export const DEFAULT_POINT_WRITE_TTL_MS = 300_000;

export class CommandCenter {
  private readonly listeners = new Set<CommandListener>();

  /** A point write's expiresAt is its request time plus this (the API stamps it into the body). */
  readonly pointWriteTtlMs: number;

  constructor(private readonly store: Pick<Store, 'commands'>, private readonly log: Logger, opts: { pointWriteTtlMs?: number } = {}) {
    this.pointWriteTtlMs = opts.pointWriteTtlMs ?? DEFAULT_POINT_WRITE_TTL_MS;
  }

  /** Register the downlink carrier (the sync side wires MQTT here). Returns an unsubscribe. */
  onCommand(listener: CommandListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Record a command and hand it to the carriers. */
  async submit(c: Omit<CommandRecord, 'id' | 'status' | 'answer' | 'answeredAt' | 'requestedAt'>): Promise<GatewayCommand> {
    const cmd = await this.store.commands.addCommand({ ...c, requestedAt: Date.now() });
    for (const l of this.listeners) {
      // A carrier's failure leaves the command pending; it is never the API caller's error.
      Promise.resolve()
        .then(() => l(cmd.gateway, cmd))
        .catch((err: unknown) => this.log.error({ err, command: cmd.id }, 'command carrier failed'));
    }
    return cmd;
  }

  /** Record a gateway's answer; false if the command is unknown or already answered. */
  async answer(gateway: string, commandId: number, a: CommandAnswer): Promise<boolean> {
    const cmd = await this.store.commands.getCommand(commandId);
    if (!cmd || cmd.gateway !== gateway) return false;
    const at = Date.now();
    const body: Record<string, unknown> = {
      ok: a.ok,
      ...(a.status ? { status: a.status } : {}),
      ...(a.message ? { message: a.message } : {}),
      ...(a.errors ? { errors: a.errors } : {}),
      ...(a.readBack !== undefined ? { readBack: a.readBack } : {}),
    };
    const done = await this.store.commands.answerCommand(commandId, a.ok, body, at);
    if (done && cmd.type === 'config') {
      await this.store.commands.setConfigAnswer(gateway, { command: commandId, ...body }, at);
      if (a.ok && a.running !== undefined) await this.store.commands.setRunningConfig(gateway, a.running, at);
    }
    return done;
  }
}
