/**
 * The downlink carrier of commands: publishes what the CommandCenter recorded
 * to the gateway's command topic and takes the gateway's answer.
 *
 *   API ─▶ CommandCenter.submit (store: audit) ─▶ onCommand ─▶ CommandChannel.publish ─▶ lifeline/<gw>/down/cmd
 *   lifeline/<gw>/up/reply ─▶ schema + addressee checks ─▶ CommandCenter.answer (store) ─▶ sendCommand's promise
 *
 * Commands are idempotent by id (the store's command id), so the channel sends
 * a pending command again on start and every `resendMs` until it is answered
 * or too old; a gateway that already ran it answers from its own log.
 * The channel authenticates the answer by its topic: only the gateway a
 * command was sent to can answer it.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { CommandAnswerSchema, ErrorCodes, LifelineError, gatewayOfTopic, parseJsonIssues, topics, type Command, type CommandAnswer, type CommandRequest } from '@lifeline/shared';
import type { CommandCenter } from '../command-center.js';
import type { CommandRecord, Store } from '../store/store.js';

export interface CommandChannelOptions {
  url: string;
  username?: string;
  password?: string;
  /** Commands, and the registry for each gateway's clock offset (instants go out on the gateway's clock). */
  store: Pick<Store, 'commands' | 'registry'>;
  center: CommandCenter;
  log: Logger;
  /** How long sendCommand waits for an answer (default 30 s); the command stays pending after. */
  timeoutMs?: number;
  /** Pending commands are sent again this often (default 60 s)… */
  resendMs?: number;
  /** …until they are this old (default 24 h). */
  maxAgeMs?: number;
  /** A point write arriving later than this after it was asked is refused by the gateway (default 5 min). */
  pointWriteTtlMs?: number;
}

/** What a command channel did, for health checks and tests. */
export interface CommandChannelCounters {
  sent: number;
  resent: number;
  answers: number;
  /** Answers refused: malformed, from the wrong gateway, or for an unknown command. */
  refused: number;
}

/**
 * The wire form of a recorded command. The gateway compares `untilTs` and `expiresAt` with its own clock
 * (wire-protocol.md), so they go out on it: cloud time − `clockOffsetMs` (cloud minus gateway, from its status).
 * Uncorrected, a gateway a year ahead refused every point write as expired and ended a shelve at once, and one
 * a year behind kept a one-hour shelve a year and carried out a write that arrived days late.
 */
export function wireCommand(c: CommandRecord, ttl: { pointWriteTtlMs: number }, clockOffsetMs = 0): Command {
  const common = { id: String(c.id), gateway: c.gateway, ts: c.requestedAt, by: c.requestedBy };
  const b = c.body as Record<string, unknown>;
  const onGatewayClock = (cloudTs: number) => Math.max(0, Math.round(cloudTs - clockOffsetMs));
  switch (c.type) {
    case 'alarm_ack':
      return { ...common, type: 'alarm_ack', alarmId: String(b.alarmId) };
    case 'alarm_shelve':
      return { ...common, type: 'alarm_shelve', alarmId: String(b.alarmId), untilTs: onGatewayClock(Number(b.untilTs ?? b.until)) };
    case 'config':
      return { ...common, type: 'config', config: b.config as Record<string, never> };
    case 'point_write': {
      // The API stamps expiresAt into the body, so the API's state and the gateway's refusal use the same instant.
      const expiresAt = typeof b.expiresAt === 'number' ? b.expiresAt : c.requestedAt + ttl.pointWriteTtlMs;
      return { ...common, type: 'point_write', device: String(b.device), point: String(b.point), value: Number(b.value), expiresAt: onGatewayClock(expiresAt) };
    }
    default:
      throw new LifelineError(ErrorCodes.RequestInvalid, `command type: unknown type ${JSON.stringify(c.type)}`);
  }
}

export class CommandChannel {
  readonly counters: CommandChannelCounters = { sent: 0, resent: 0, answers: 0, refused: 0 };
  private client?: MqttClient;
  private timer?: NodeJS.Timeout;
  private readonly waiters = new Map<number, { resolve: (a: CommandAnswer) => void; timer: NodeJS.Timeout }>();
  private unsubscribe?: () => void;

  constructor(private readonly opts: CommandChannelOptions) {}

  async start(): Promise<void> {
    const { opts } = this;
    this.client = await mqtt.connectAsync(opts.url, {
      clientId: `lifeline-commands-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      username: opts.username,
      password: opts.password,
      reconnectPeriod: 1000,
      clean: true,
    });
    this.client.on('error', (err) => opts.log.warn({ err: err.message }, 'command channel mqtt error'));
    this.client.on('message', (topic, payload) => {
      this.onReply(topic, payload).catch((err) => opts.log.error({ err }, 'handling a command answer failed'));
    });
    await this.client.subscribeAsync(topics.replyAll, { qos: 1 });
    this.unsubscribe = opts.center.onCommand((_gw, cmd) => this.publish(cmd, false));
    await this.resendPending();
    this.timer = setInterval(() => void this.resendPending().catch((err) => opts.log.warn({ err }, 'resending pending commands failed')), opts.resendMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    for (const w of this.waiters.values()) clearTimeout(w.timer);
    this.waiters.clear();
    await this.client?.endAsync();
  }

  /**
   * Record a command (audit), send it to the gateway and wait for its answer.
   * Rejects with DEVICE_TIMEOUT if no answer comes within timeoutMs (the command
   * stays pending and is sent again; a late answer is still recorded).
   */
  async sendCommand(gateway: string, command: CommandRequest): Promise<CommandAnswer> {
    const { type, by, ...rest } = command as CommandRequest & { by: string };
    const body: Record<string, unknown> = { ...rest };
    delete body.expiresAt;
    const pending: ((id: number) => void)[] = [];
    const answer = new Promise<CommandAnswer>((resolve, reject) => {
      const wait = (id: number) => {
        const timer = setTimeout(() => {
          this.waiters.delete(id);
          reject(new LifelineError(ErrorCodes.DeviceTimeout, `command ${id} to ${gateway}: no answer within ${this.opts.timeoutMs ?? 30_000} ms; it stays pending and is sent again`));
        }, this.opts.timeoutMs ?? 30_000);
        this.waiters.set(id, { resolve, timer });
      };
      pending.push(wait);
    });
    // Register the waiter before the carrier publishes, so a fast answer is not missed.
    const record = await this.opts.center.submit({ gateway, type, alarm: null, body, requestedBy: by });
    for (const w of pending) w(record.id);
    if (type === 'config') await this.opts.store.commands.setDesiredConfig(gateway, body.config, by, record.id, Date.now());
    return answer;
  }

  /** Publish a recorded command to its gateway. */
  async publish(cmd: CommandRecord, resend: boolean): Promise<void> {
    if (!this.client) throw new Error('command channel not started');
    const offset = (await this.opts.store.registry.getGateway(cmd.gateway))?.clockOffsetMs ?? 0;
    const wire = wireCommand(cmd, { pointWriteTtlMs: this.opts.pointWriteTtlMs ?? 300_000 }, offset);
    await this.client.publishAsync(topics.commands(cmd.gateway), JSON.stringify(wire), { qos: 1 });
    if (resend) this.counters.resent++;
    else this.counters.sent++;
  }

  private async resendPending(): Promise<void> {
    const now = Date.now();
    const maxAge = this.opts.maxAgeMs ?? 86_400_000;
    const resendAfter = this.opts.resendMs ?? 60_000;
    for (const c of await this.opts.store.commands.listCommands({ limit: 1000 })) {
      if (c.status !== 'pending' || now - c.requestedAt > maxAge || now - c.requestedAt < resendAfter / 2) continue;
      await this.publish(c, true).catch((err) => this.opts.log.warn({ err: (err as Error).message, command: c.id }, 'resend failed'));
    }
  }

  private async onReply(topic: string, payload: Buffer): Promise<void> {
    const gateway = gatewayOfTopic(topic);
    if (!gateway || topic !== topics.reply(gateway)) return;
    const { value: a, issues } = parseJsonIssues(CommandAnswerSchema, payload.toString('utf8'));
    const answer = a as CommandAnswer;
    const id = Number(answer?.id);
    if (issues.length || answer.gateway !== gateway || !Number.isSafeInteger(id)) {
      this.counters.refused++;
      this.opts.log.warn({ gateway, issues: issues.slice(0, 5), claimed: answer?.gateway }, 'refused a malformed or misaddressed command answer');
      return;
    }
    const cmd = await this.opts.store.commands.getCommand(id);
    if (!cmd || cmd.gateway !== gateway) {
      this.counters.refused++;
      this.opts.log.warn({ gateway, id }, 'refused an answer to a command this gateway was not sent');
      return;
    }
    const running = answer.ok && cmd.type === 'config' ? (await this.opts.store.commands.getConfig(gateway)).desired : undefined;
    await this.opts.center.answer(gateway, id, {
      ok: answer.ok,
      status: answer.status,
      message: `${answer.status}: ${answer.message}`,
      ...(answer.errors ? { errors: answer.errors } : {}),
      ...(answer.readBack !== undefined ? { readBack: answer.readBack } : {}),
      ...(running !== undefined ? { running } : {}),
    });
    this.counters.answers++;
    const w = this.waiters.get(id);
    if (w) {
      clearTimeout(w.timer);
      this.waiters.delete(id);
      w.resolve(answer);
    }
  }
}
