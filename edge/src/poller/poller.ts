/**
 * The poller owns intervals and read plans. For each device it runs the plan
 * on the device's bus every poll interval and hands the decoded readings to
 * the event bus.
 *
 *   timer ─▶ read plan ─▶ link (Modbus request) ─▶ decode ─▶ bus.emit('readings')
 */
import modbusSerial from 'modbus-serial';
import type { Reading } from '@lifeline/shared';
import type { Profile } from '@lifeline/devices';
import type { Bus, DeviceInstance } from '../config/schema.js';
import type { EventBus, Extension } from '../agent/event-bus.js';
import type { Logger } from '../log.js';
import { planReads, type ReadBlock } from './plan.js';
import { decodeBlock } from './decode.js';

// modbus-serial is CommonJS; under NodeNext its default export is the module object.
const ModbusRTU = modbusSerial.default;

interface PolledDevice {
  instance: DeviceInstance;
  plan: ReadBlock[];
  pollMs: number;
  ok: boolean;
  timer?: NodeJS.Timeout;
}

type ReadResult = { data: number[] | boolean[] };

/** Polls the devices of one Modbus TCP bus. */
export class BusPoller implements Extension {
  private client = new ModbusRTU();
  private devices: PolledDevice[] = [];
  private stopped = false;
  private connecting?: Promise<void>;

  constructor(
    private readonly bus: Bus,
    private readonly profiles: ReadonlyMap<string, Readonly<Profile>>,
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.client.setTimeout(this.bus.timeoutMs);
    this.devices = this.bus.devices.map((instance) => {
      const profile = this.profiles.get(instance.id)!;
      return { instance, plan: planReads(profile), pollMs: instance.pollMs ?? profile.defaultPollMs, ok: true };
    });
    for (const d of this.devices) this.schedule(d, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.devices) clearTimeout(d.timer);
    await new Promise<void>((resolve) => (this.client.isOpen ? this.client.close(() => resolve()) : resolve()));
  }

  private schedule(d: PolledDevice, delay: number): void {
    if (this.stopped) return;
    d.timer = setTimeout(() => void this.poll(d), delay);
  }

  private async connect(): Promise<void> {
    if (this.client.isOpen) return;
    this.connecting ??= this.client
      .connectTCP(this.bus.host, { port: this.bus.port })
      .then(() => this.log.info({ host: this.bus.host, port: this.bus.port }, 'bus connected'))
      .finally(() => (this.connecting = undefined));
    await this.connecting;
  }

  private read(unit: number, block: ReadBlock): Promise<ReadResult> {
    const c = this.client as unknown as Record<string, (u: number, a: number, n: number, cb: (e: Error | null, r: ReadResult) => void) => void>;
    const fn = { coil: 'writeFC1', discrete: 'writeFC2', holding: 'writeFC3', input: 'writeFC4' }[block.table];
    return new Promise((resolve, reject) => c[fn].call(this.client, unit, block.start, block.count, (err, res) => (err ? reject(err) : resolve(res))));
  }

  private async poll(d: PolledDevice): Promise<void> {
    const started = Date.now();
    const readings: Reading[] = [];
    try {
      await this.connect();
      for (const block of d.plan) {
        const res = await this.read(d.instance.unit, block);
        const words = (res.data as (number | boolean)[]).map((v) => Number(v));
        decodeBlock(d.instance.id, block, words, Date.now(), readings);
      }
      if (!d.ok) {
        d.ok = true;
        this.log.info({ device: d.instance.id }, 'device answering again');
        this.events.emit('comm', { device: d.instance.id, ok: true, ts: Date.now() });
      }
      this.events.emit('readings', readings);
    } catch (err) {
      if (d.ok) {
        d.ok = false;
        this.log.warn({ device: d.instance.id, err: (err as Error).message }, 'device not answering');
        this.events.emit('comm', { device: d.instance.id, ok: false, error: (err as Error).message, ts: Date.now() });
      }
    }
    // Keep the cadence: the next poll is due pollMs after this one started.
    this.schedule(d, Math.max(0, d.pollMs - (Date.now() - started)));
  }
}
