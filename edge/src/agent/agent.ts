/**
 * The gateway agent: features wired through one event bus. It only wires;
 * each arrow is a feature of its own folder.
 *
 *   BusPoller / MeterPoller / Sl651Listener ─readings─▶ Detection ─▶ AlarmManager ─▶ outputs (GPIO, Modbus writes)
 *   BurstScheduler (accelerometer bursts over the pollers' links) ─readings─┘      └─ raise ─▶ BurstKeeper
 *   Lighting (lamp schedules, the gateway's own clock) ─────────────▶ Modbus writes
 *        │                                  │ transitions (alarm_log + event lane)
 *        └──readings, comm──▶ Recorder ─▶ buffer ──▶ Sync ─▶ MQTT ─▶ cloud
 *
 * Detection sees each poll batch before it is buffered, so an alarm never
 * waits on disk or network.
 */
import { ErrorCodes, LifelineError, topics, type GatewayStatusMessage } from '@lifeline/shared';
import type { LoadedConfig } from '../config/load.js';
import { EdgeBuffer } from '../buffer/buffer.js';
import { BusPoller } from '../poller/poller.js';
import { MeterPoller } from '../poller/meter-poller.js';
import { isMeterBus, isSl651Bus } from '../config/schema.js';
import { Sl651Listener } from '../poller/sl651-listener.js';
import { Sync } from '../sync/sync.js';
import { Recorder } from '../sync/recorder.js';
import { createTransport } from '../sync/transport.js';
import { CommandHandler } from '../sync/command-handler.js';
import { agentCommandTarget, type ConfigCommandMeta } from '../sync/command-target.js';
import type { Logger } from '../log.js';
import { AlarmSystem } from '../alarms/system.js';
import { Detection, processClockSteps } from '../alarms/detection.js';
import { effectiveDetectors } from '../detect/profile-defaults.js';
import { LinkPointWriter } from '../actions/point-writer.js';
import { EventBus, type Extension } from '../events/event-bus.js';
import { Lighting } from '../lighting/lighting.js';
import { defaultTimeZone } from '../lighting/config.js';
import { BurstScheduler } from '../poller/burst-scheduler.js';
import { BurstKeeper } from '../buffer/bursts.js';
import { dataDirOf } from '../sync/command-target.js';
import { join } from 'node:path';
import type { AgentStatus } from './status.js';

export class Agent {
  readonly events: EventBus;
  readonly buffer: EdgeBuffer;
  readonly sync: Sync;
  /** Alarm manager, actions and the CLI's control channel; `alarms.manager.ack/shelve` serve the cloud downlink. */
  readonly alarms: AlarmSystem;
  /** Lamp schedules, when the config has a lighting section. */
  readonly lighting?: Lighting;
  /** Accelerometer bursts of the devices whose profile records them (bridge monitors). */
  readonly bursts: BurstScheduler;
  private readonly recorder: Recorder;
  private readonly extensions: Extension[] = [];
  private readonly pollers: Map<string, BusPoller | MeterPoller | Sl651Listener>;
  private readonly commands: CommandHandler;
  private readonly startedAt = Date.now();
  private stopped = false;

  constructor(
    readonly loaded: LoadedConfig,
    private readonly log: Logger,
    opts: {
      /** A config command from the cloud was validated and saved; restart on it. */
      onConfig?: (next: LoadedConfig, meta: ConfigCommandMeta) => void;
      /** How the last pushed config fared, for the status message. */
      configApply?: () => GatewayStatusMessage['configApply'];
      /** Whether this config is a pushed one still on trial. */
      onTrial?: () => boolean;
    } = {},
  ) {
    const { config } = loaded;
    this.events = new EventBus(log);
    // SL 651 stations stamp their own observations: a step of this box's clock does not move them.
    const selfStamped = new Set(config.buses.filter(isSl651Bus).flatMap((b) => b.devices.map((d) => d.id)));
    this.buffer = new EdgeBuffer(config.buffer.path, {
      diskBudgetBytes: config.buffer.diskBudgetBytes,
      gateway: config.gateway.id,
      clockExempt: selfStamped,
      onDisk: (d) =>
        d.deleted
          ? log.error(
              { path: config.buffer.path },
              'the buffer file was deleted or replaced under the running agent: it writes on into the deleted file, which is lost (unsent readings, alarm states) when the agent stops; restart it once the backlog has gone out to start a new buffer',
            )
          : d.full
          ? log.error({ path: config.buffer.path, code: d.lastError }, `the buffer's disk is full or failing (${d.lastError}): telemetry is thinned, then dropped and counted; check free space and whether the file system went read-only`)
          : log.warn({ path: config.buffer.path, droppedReadings: d.droppedReadings }, `the buffer's disk takes writes again; ${d.droppedReadings} reading(s) could not be stored`),
    });
    const foreign = this.buffer.foreign;
    if (foreign)
      log.error(
        { path: config.buffer.path, ...foreign },
        `the buffer file was written by gateway ${foreign.gateway}, not ${config.gateway.id} (a card moved between boxes?): set aside as ${foreign.movedTo}, unsent; run it with that gateway's config to deliver it (docs/operations.md)`,
      );
    const transport = createTransport(config.sync.transport, {
      url: config.sync.url,
      clientId: `lifeline-${config.gateway.id}`,
      username: config.sync.username,
      password: config.sync.password,
      tls: config.sync.tls,
      keepaliveS: config.sync.keepaliveS,
      will: { topic: topics.status(config.gateway.id), payload: JSON.stringify({ gateway: config.gateway.id, online: false }), retain: true },
    });
    // Writes (Modbus outputs, point-write commands) share each bus's polling link: a serial
    // bus carries one request at a time. Before the poller has opened it, a write fails and
    // the output retries.
    const pollers = new Map<string, BusPoller | MeterPoller | Sl651Listener>(
      config.buses.map((bus) => {
        // SL 651 stations report to the gateway: a listener instead of a poller.
        if (isSl651Bus(bus)) return [bus.name, new Sl651Listener(bus, loaded.profiles, this.events, log.child({ bus: bus.name }), { timeZone: config.gateway.timeZone ?? defaultTimeZone })];
        const Poller = isMeterBus(bus) ? MeterPoller : BusPoller;
        return [bus.name, new Poller(bus, loaded.profiles, this.events, log.child({ bus: bus.name }))];
      }),
    );
    const linkFor = (bus: { name: string }) => {
      const poller = pollers.get(bus.name);
      if (!(poller instanceof BusPoller)) return undefined; // meters have nothing to write or burst
      if (!poller.busLink) throw new LifelineError(ErrorCodes.LinkDown, `bus ${bus.name} is not open yet`);
      return poller.busLink;
    };
    const pointWriter = new LinkPointWriter(loaded, { log: log.child({ part: 'writes' }), linkFor });
    this.pollers = pollers;
    const commands = new CommandHandler(config.gateway.id, this.buffer, agentCommandTarget({ loaded, alarms: () => this.alarms, log, onConfig: opts.onConfig, pointWriter, onTrial: opts.onTrial }), log.child({ part: 'commands' }));
    this.commands = commands;
    this.sync = new Sync(loaded, this.buffer, transport, log.child({ part: 'sync' }), { window: config.sync.window, maxBatchBytes: config.sync.maxBatchBytes, commands, configApply: opts.configApply });
    // Order matters: alarms restore (and queue what a crash left unqueued) before anything
    // else writes events; detection runs on a poll batch before the buffer stores it.
    this.alarms = new AlarmSystem(loaded, this.buffer, log.child({ part: 'alarms' }), { pointWriter, status: () => ({ ...this.status() }) });
    this.extensions.push(this.alarms);
    const { restoreGraceMs, commLoss } = this.alarms.config;
    const detection = { detectors: effectiveDetectors(config, loaded.profiles), restoreGraceMs, commLoss };
    this.extensions.push(new Detection(detection, this.events, this.alarms.manager, log.child({ part: 'detect' }), { steps: processClockSteps, selfStamped }));
    this.recorder = new Recorder(this.events, this.buffer);
    this.extensions.push(this.recorder);
    this.extensions.push(...pollers.values());
    // Bursts share each bus's polling link (a serial bus carries one request at a time); the raw
    // samples are kept on disk only around an alarm of their device.
    // An agent built in code on an in-memory buffer has no data directory to keep files in.
    const keeper = config.buffer.path === ':memory:' && !loaded.dataDir && !loaded.file ? undefined : new BurstKeeper({ dir: join(dataDirOf(loaded), 'bursts') });
    const busOf = new Map(config.buses.flatMap((bus) => bus.devices.map((d) => [d.id, bus.name] as const)));
    const lost = (device: string) => {
      const poller = pollers.get(busOf.get(device) ?? '');
      return poller instanceof BusPoller && poller.stats().some((s) => s.device === device && s.lost);
    };
    this.bursts = new BurstScheduler(config.buses, loaded.profiles, this.events, log.child({ part: 'bursts' }), {
      keeper,
      linkFor,
      answering: (device) => this.recorder.answering.has(device) && !lost(device),
    });
    if (this.bursts.size) {
      this.alarms.manager.onChange((alarm, entry) => {
        if (entry.from === 'normal' && entry.to !== 'normal') keeper?.alarm(alarm.device);
      });
      this.extensions.push(this.bursts);
    }
    // After the pollers: the lamps are written over their links (a write before a link is open is retried).
    if (config.lighting) {
      // Validation requires a location for sun events; clock-only schedules never read it.
      const { lon = 0, lat = 0 } = config.gateway.location ?? {};
      const site = { lon, lat, zone: config.gateway.timeZone ?? defaultTimeZone };
      this.lighting = new Lighting(config.lighting, site, loaded.profiles, pointWriter, log.child({ part: 'lighting' }));
      this.extensions.push(this.lighting);
    }
    this.extensions.push(this.sync);
  }

  /** Devices that have answered a poll since the agent started (the apply check watches it). */
  get answering(): ReadonlySet<string> {
    return this.recorder.answering;
  }

  /** The snapshot `lifeline status` prints (answered on the control socket). */
  status(): AgentStatus {
    const { config } = this.loaded;
    const now = Date.now();
    const buses = config.buses.map((bus) => {
      const poller = this.pollers.get(bus.name);
      const stats = poller && !(poller instanceof Sl651Listener) ? new Map(poller.stats().map((s) => [s.device, s])) : new Map();
      return {
        name: bus.name,
        link: bus.link,
        devices: bus.devices.map((d) => {
          const s = stats.get(d.id);
          const seen = this.recorder.devices.get(d.id);
          return {
            id: d.id,
            profile: d.profile,
            online: seen?.online ?? (s ? (s.polls > 0 ? !s.lost : null) : null),
            lastGoodTs: seen?.lastGoodTs ?? null,
            polls: s?.polls ?? 0,
            failures: s?.failures ?? 0,
            failedPolls: s?.failedPolls ?? 0,
            lastPollMs: s ? Math.round(s.lastPollMs * 10) / 10 : 0,
            lastError: s?.lastError ?? '',
            values: [...(this.recorder.latest.get(d.id)?.values() ?? [])].map((r) => ({ point: r.point, value: Number.isFinite(r.value) ? r.value : null, ts: r.ts, ...(r.quality ? { quality: r.quality } : {}) })),
          };
        }),
      };
    });
    return {
      gateway: config.gateway.id,
      pid: process.pid,
      startedAt: this.startedAt,
      now,
      config: { file: this.loaded.file ?? null, hash: this.commands.runningHash() },
      buses,
      buffer: { path: config.buffer.path, telemetry: this.buffer.backlog('telemetry'), events: this.buffer.backlog('events'), diskBytes: this.buffer.diskBytes(), inMemory: this.buffer.inMemory, disk: this.buffer.diskState() },
      sync: {
        url: config.sync.url,
        connected: this.sync.connected,
        error: this.sync.transportError ?? null,
        unacked: this.sync.unacked(),
        lastAckAt: this.sync.lastAckAt,
        clockOffsetMs: this.sync.clockOffsetMs,
      },
      alarms: this.alarms.manager.list().filter((a) => a.state !== 'normal'),
      memory: (({ rss, heapUsed, heapTotal, external, arrayBuffers }) => ({ rss, heapUsed, heapTotal, external, arrayBuffers }))(process.memoryUsage()),
    };
  }

  async start(): Promise<void> {
    for (const e of this.extensions) await e.start();
    this.log.info({ gateway: this.loaded.config.gateway.id, devices: this.loaded.profiles.size, broker: this.loaded.config.sync.url }, 'agent started');
  }

  /** Stop sync, set the outputs' fail-safe states, stop polling, then close the database. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Sync first, then the outputs (their fail-safe writes need the bus links still open), then the rest.
    const order = [this.sync, this.alarms, ...[...this.extensions].reverse().filter((e) => e !== this.sync && e !== this.alarms)];
    for (const e of order) {
      try {
        await e.stop();
      } catch (err) {
        this.log.error({ err }, 'stopping a feature failed');
      }
    }
    this.buffer.close();
    this.log.info('agent stopped');
  }
}
