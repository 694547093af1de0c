/**
 * The gateway agent: features wired through one event bus.
 *
 *   BusPoller ─readings─▶ Detection ─alarm─▶ buffer.appendEvent
 *        │                                        │
 *        └──readings──▶ buffer.append ─────────▶ Sync ─▶ MQTT ─▶ cloud
 *
 * Detection sees each poll batch before it is buffered, so an alarm never
 * waits on disk or network.
 */
import { topics } from '@lifeline/shared';
import type { LoadedConfig } from '../config/load.js';
import { EdgeBuffer } from '../buffer/buffer.js';
import { BusPoller } from '../poller/poller.js';
import { Sync } from '../sync/sync.js';
import { MqttTransport } from '../sync/transport.js';
import type { Logger } from '../log.js';
import { Detection } from './detection.js';
import { EventBus, type Extension } from './event-bus.js';

export class Agent {
  readonly events: EventBus;
  readonly buffer: EdgeBuffer;
  readonly sync: Sync;
  private readonly extensions: Extension[] = [];
  private stopped = false;

  constructor(
    readonly loaded: LoadedConfig,
    private readonly log: Logger,
  ) {
    const { config } = loaded;
    this.events = new EventBus(log);
    this.buffer = new EdgeBuffer(config.buffer.path);
    const transport = new MqttTransport({
      url: config.sync.url,
      clientId: `lifeline-${config.gateway.id}`,
      username: config.sync.username,
      password: config.sync.password,
      will: { topic: topics.status(config.gateway.id), payload: JSON.stringify({ gateway: config.gateway.id, online: false }), retain: true },
    });
    this.sync = new Sync(loaded, this.buffer, transport, log.child({ part: 'sync' }));
    // Order matters: detection runs on a poll batch before the buffer stores it.
    this.extensions.push(new Detection(loaded, this.events));
    this.extensions.push({
      start: () => {
        this.events.on('readings', (batch) => this.buffer.append(batch));
        this.events.on('alarm', (a) => {
          // Until the alarm manager owns ISA-18.2 states, a level change maps to the
          // plain active / cleared transitions (escalation stays active).
          const from = a.previous === 0 ? 'normal' : 'active_unacked';
          const to = a.level === 0 ? 'cleared_unacked' : 'active_unacked';
          this.buffer.appendEvent(a.ts, 'alarm', {
            kind: 'alarm', alarmId: a.detector, device: a.device, point: a.point, from, to,
            level: a.level, detector: a.detector.split('/').pop(), cause: a.cause, value: Number.isFinite(a.value) ? a.value : null,
          });
          log.warn(a, 'alarm level changed');
        });
        this.events.on('comm', (c) =>
          this.buffer.appendEvent(c.ts, 'comm', {
            kind: 'event', type: c.ok ? 'device_online' : 'device_offline', device: c.device,
            message: c.ok ? `${c.device} answering again` : `${c.device} not answering: ${c.error ?? 'no reply'}`,
          }),
        );
      },
      stop: () => {},
    });
    for (const bus of config.buses) this.extensions.push(new BusPoller(bus, loaded.profiles, this.events, log.child({ bus: bus.name })));
    this.extensions.push(this.sync);
  }

  async start(): Promise<void> {
    for (const e of this.extensions) await e.start();
    this.log.info({ gateway: this.loaded.config.gateway.id, devices: this.loaded.profiles.size, broker: this.loaded.config.sync.url }, 'agent started');
  }

  /** Stop polling first, then let sync close, then close the database. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const e of [...this.extensions].reverse()) {
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
