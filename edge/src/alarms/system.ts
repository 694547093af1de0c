/**
 * The alarm feature of the agent: the manager, the actions it drives, the
 * control channel of the CLI and the clock that expires shelvings.
 *
 *   Detection ─onCondition─▶ AlarmManager ─onChange─▶ ActionEngine ─▶ outputs (GPIO | Modbus | simulated)
 *                                │   ▲
 *              AlarmStore ◀──────┘   └── ControlServer ◀── `lifeline alarms ack|shelve` (Unix socket)
 *              (buffer's SQLite)     └── ack / shelve from the cloud (sync downlink)
 *              EdgeBuffer event lane ◀─ transitions, ahead of telemetry
 */
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import type { GatewayConfig } from '../config/schema.js';
import type { EdgeBuffer } from '../buffer/buffer.js';
import { AlarmStore } from './store.js';
import type { Extension } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import { GpioOutput, ModbusOutput, SimulatedOutput, gpioAvailability, type OutputBackend } from '../actions/backends.js';
import type { OutputConfig } from '../actions/config.js';
import { ActionEngine } from '../actions/engine.js';
import { LinkPointWriter, type PointWriter, type PointWriterConfig } from '../actions/point-writer.js';
import { resolveAlarmsConfig, type ResolvedAlarmsConfig } from './config.js';
import { ControlServer, controlSocketPath, type ControlRequest, type ControlResponse } from './control.js';
import { bufferSink } from './journal.js';
import { AlarmManager } from './manager.js';

/**
 * The part of a loaded config the alarm feature reads (a LoadedConfig is one):
 * its sections, the gateway id and buffer path (the control socket's default
 * place), and for the default point writer the buses and profiles.
 */
export interface AlarmSystemConfig extends PointWriterConfig {
  readonly config: Readonly<Pick<GatewayConfig, 'gateway' | 'buffer' | 'alarms' | 'outputs' | 'actions' | 'buses'>>;
}

/** Options for tests and benches. */
export interface AlarmSystemOptions {
  /** Clock of operator actions and expiries (default Date.now). */
  clock?: () => number;
  /** Makes output backends (default: GPIO through onoff, simulated when absent; Modbus through `pointWriter`). */
  backendFor?: (o: OutputConfig, initial: boolean) => OutputBackend;
  /** Writes Modbus outputs (default: LinkPointWriter over the config's buses). */
  pointWriter?: PointWriter;
  /** Serve the CLI's control socket (default true). */
  control?: boolean;
  /** How often expiries are checked, ms (default 1000). */
  tickMs?: number;
  /** The agent's snapshot for the `status` control request (without one, `status` is refused). */
  status?: () => Record<string, unknown>;
}

const MAX_TEST_MS = 3_600_000;

/** Alarms and actions of one gateway, as an agent feature. */
export class AlarmSystem implements Extension {
  readonly config: ResolvedAlarmsConfig;
  readonly store: AlarmStore;
  readonly manager: AlarmManager;
  readonly actions: ActionEngine;
  /** Path of the control socket. */
  readonly socketPath: string;
  private control?: ControlServer;
  private timer?: NodeJS.Timeout;
  private writer?: PointWriter;

  constructor(
    private readonly loaded: AlarmSystemConfig,
    private readonly buffer: EdgeBuffer,
    private readonly log: Logger,
    private readonly opts: AlarmSystemOptions = {},
  ) {
    const { config } = loaded;
    const cfg = config;
    this.config = resolveAlarmsConfig(cfg.alarms);
    this.socketPath = controlSocketPath(config.gateway.id, config.buffer.path, this.config.controlSocket);
    this.store = new AlarmStore(buffer.alarmTables(), this.config.logKeep);
    this.manager = new AlarmManager({ gateway: config.gateway.id, config: this.config, store: this.store, sink: bufferSink(buffer), clock: opts.clock, log });
    const gpio = (cfg.outputs ?? []).some((o) => o.gpio && !o.test) ? gpioAvailability() : undefined;
    const simulated: string[] = [];
    const backendFor =
      opts.backendFor ??
      ((o: OutputConfig, initial: boolean): OutputBackend => {
        if (o.test) return new SimulatedOutput('test', initial);
        if (o.gpio) {
          if (gpio?.ok) return new GpioOutput(gpio.Gpio, o.gpio.pin, o.gpio.activeLow ?? false, initial);
          simulated.push(o.name);
          return new SimulatedOutput('simulated', initial);
        }
        return new ModbusOutput(this.pointWriter, o.modbus!.device, o.modbus!.point, o.modbus!.on ?? 1, o.modbus!.off ?? 0);
      });
    this.actions = new ActionEngine({
      outputs: cfg.outputs ?? [],
      actions: cfg.actions ?? [],
      store: this.store,
      alarms: () => this.manager.records(),
      subscribe: (l) => this.manager.onChange(l),
      backendFor,
      clock: opts.clock,
      log,
    });
    this.reportGpio = () => {
      if (!simulated.length || gpio?.ok !== false) return;
      const message = `GPIO is not available: ${gpio.reason}. Outputs ${simulated.join(', ')} are SIMULATED: their switching is recorded, nothing physical is switched`;
      // A warning, not an error: a laptop, CI or a container has no GPIO, and the cloud is told (event below).
      log.warn({ outputs: simulated, reason: gpio.reason }, message);
      buffer.appendEvent(Date.now(), 'event', { kind: 'event', type: 'outputs_simulated', message, details: { outputs: simulated.join(','), reason: gpio.reason } });
    };
    for (const o of cfg.outputs ?? []) if (o.test) log.warn({ output: o.name }, 'output in test mode: its switching is recorded, the hardware is never switched');
  }

  private readonly reportGpio: () => void;

  /** The writer of Modbus outputs; share it for other writes (downlink commands), it is closed at stop. */
  get pointWriter(): PointWriter {
    this.writer ??= this.opts.pointWriter ?? new LinkPointWriter(this.loaded, { log: this.log });
    return this.writer;
  }

  async start(): Promise<void> {
    // The manager first: it queues transitions a crash left unqueued before anything else takes their seq.
    this.manager.start();
    this.actions.start();
    this.reportGpio();
    if (this.opts.control !== false) {
      this.control = new ControlServer(this.socketPath, (req) => this.handle(req), this.log);
      await this.control.start();
    }
    this.timer = setInterval(() => {
      try {
        this.manager.tick();
      } catch (err) {
        this.log.error({ err }, 'alarm tick failed; continuing');
      }
    }, this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.control?.stop();
    await this.actions.stop();
    await this.writer?.close();
  }

  /** Answers one control-channel request (the CLI; the same calls serve the cloud downlink). */
  handle(req: ControlRequest): ControlResponse {
    const m = this.manager;
    const user = (u: unknown) => {
      if (typeof u !== 'string' || u.length === 0 || u.length > 128) throw new LifelineError(ErrorCodes.RequestInvalid, `user: must be a name of 1..128 characters, got ${JSON.stringify(u)}`);
      return u;
    };
    switch (req.op) {
      case 'list':
        return { ok: true, alarms: m.list(), flooding: m.flooding };
      case 'ack': {
        const r = m.ack(m.resolveId(String(req.id)), user(req.user));
        return { ok: true, ...r };
      }
      case 'shelve': {
        const r = m.shelve(m.resolveId(String(req.id)), Number(req.untilTs), user(req.user));
        return { ok: true, ...r };
      }
      case 'unshelve': {
        const r = m.unshelve(m.resolveId(String(req.id)), user(req.user));
        return { ok: true, ...r };
      }
      case 'outputs':
        return { ok: true, outputs: this.actions.status() };
      case 'status':
        if (!this.opts.status) throw new LifelineError(ErrorCodes.NotFound, 'this process serves alarms only: no agent status');
        return { ok: true, ...this.opts.status() };
      case 'test-output': {
        const ms = Number(req.forMs);
        if (!(ms > 0 && ms <= MAX_TEST_MS)) throw new LifelineError(ErrorCodes.RequestInvalid, `for: must be up to 1h, got ${req.forMs} ms`);
        if (!this.actions.status().some((s) => s.name === req.name)) throw new LifelineError(ErrorCodes.NotFound, `no output named ${JSON.stringify(req.name)}`);
        const output = this.actions.test(req.name, ms, user(req.user));
        return { ok: true, message: `${req.name}: on for ${ms} ms (test)`, output };
      }
      default:
        throw new LifelineError(ErrorCodes.RequestInvalid, `unknown control op ${JSON.stringify((req as { op: unknown }).op)}`);
    }
  }
}
