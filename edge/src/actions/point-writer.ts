/**
 * Writes to field devices: the interface actions call, and its implementation
 * over the agent's Modbus links (edge/src/links).
 *
 *     ModbusOutput / point_write command ─writePoint(device, point, value)─▶ PointWriter
 *         LinkPointWriter: profile point ─▶ table/address/encoding ─▶ FC5 (coil) / FC6 / FC16 (holding)
 *             ─▶ request(link, unit, req) on the bus's link
 *             ─▶ read back: FC1 (coil) / FC3 (holding) ─▶ the profile's decode ─▶ within resolution? ─▶ { readBack }
 *                                                                      else WRITE_NOT_CONFIRMED (both values)
 *
 * Swappable: anything with `writePoint` will do (tests use a fake). The link of a
 * bus comes from `linkFor` when given (the poller's own link: writes then share the
 * bus with polling, which a serial bus requires: one request in flight). Without
 * it, a Modbus TCP bus gets a link of its own (a second connection, which a Modbus
 * TCP server accepts); RTU and RTU-over-TCP buses are refused, since a second
 * opener of a serial line or serial server would garble the bus.
 */
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { encodeRegisters, registerCount, type ModbusRequest } from '@lifeline/shared/protocols';
import type { Point as ModbusPoint, Profile } from '@lifeline/devices';
import type { LoadedConfig } from '../config/load.js';
import type { Bus, GatewayConfig } from '../config/schema.js';
import { createLink, request, type ModbusLink } from '../links/index.js';
import type { Logger } from '../log.js';
import { decodePoint } from '../poller/decode.js';

/** What a confirmed write read back. */
export interface PointWriteResult {
  /** The point's value read from the device after the write, in the point's unit. */
  readBack: number;
}

/** Writes a value (in the point's unit) to a writable point of a device. */
export interface PointWriter {
  /**
   * Resolves once the device confirmed the write (with what was read back, when
   * the writer reads back); rejects with a LifelineError otherwise.
   */
  writePoint(device: string, point: string, value: number): Promise<PointWriteResult | void>;
  /** Closes what the writer opened. */
  close(): Promise<void>;
}

/** The part of a loaded config the writer reads: the buses and each device's profile (a LoadedConfig is one). */
export interface PointWriterConfig extends Pick<LoadedConfig, 'profiles'> {
  readonly config: Readonly<Pick<GatewayConfig, 'buses'>>;
}

interface Target {
  bus: Readonly<Bus>;
  unit: number;
  profile: Readonly<Profile>;
}

/** PointWriter over the Modbus links of the gateway's buses. */
export class LinkPointWriter implements PointWriter {
  private readonly targets = new Map<string, Target>();
  /** Links this writer opened itself (closed by close()). */
  private readonly own = new Map<string, ModbusLink>();

  constructor(
    loaded: PointWriterConfig,
    private readonly opts: { linkFor?: (bus: Readonly<Bus>) => ModbusLink | undefined; log?: Logger } = {},
  ) {
    for (const bus of loaded.config.buses) {
      for (const d of bus.devices) {
        const profile = loaded.profiles.get(d.id);
        // Meters (addressed by address, not unit) have no writable points.
        if (profile && d.unit !== undefined) this.targets.set(d.id, { bus, unit: d.unit, profile });
      }
    }
  }

  /**
   * Writes, then reads the point back over the same link: a device may take a
   * write and hold another value (clamped, wrapped, a local override), and only
   * the read-back says what the lamp or valve does now.
   */
  async writePoint(device: string, pointName: string, value: number): Promise<PointWriteResult> {
    const t = this.targets.get(device);
    if (!t) throw new LifelineError(ErrorCodes.NotFound, `write: no device ${JSON.stringify(device)} on this gateway`);
    const point = t.profile.protocol === 'modbus' ? t.profile.points.find((p) => p.name === pointName) : undefined;
    if (!point || point.access !== 'rw' || (point.table !== 'coil' && point.table !== 'holding')) {
      throw new LifelineError(ErrorCodes.RequestInvalid, `write ${device}.${pointName}: not a writable coil or holding register of ${t.profile.id}`);
    }
    if (!Number.isFinite(value)) throw new LifelineError(ErrorCodes.RequestInvalid, `write ${device}.${pointName}: value must be a finite number, got ${value}`);
    // A coil is on or off: 7 would read back as 1 and look like a failed write.
    if (point.table === 'coil' && value !== 0 && value !== 1) {
      throw new LifelineError(ErrorCodes.RequestInvalid, `write ${device}.${pointName}: a coil takes 0 or 1, got ${value}`);
    }
    let req: ModbusRequest;
    if (point.table === 'coil') req = { functionCode: 5, address: point.address, value: value !== 0 };
    else {
      const raw = (value - (point.offset ?? 0)) / (point.scale ?? 1);
      const words = encodeRegisters(point.type === 'float32' || point.type === 'float64' ? raw : Math.round(raw), point.type, point.order);
      req = registerCount(point.type) === 1 ? { functionCode: 6, address: point.address, value: words[0] } : { functionCode: 16, address: point.address, values: words };
    }
    let readBack: number;
    try {
      const link = this.link(t.bus);
      await request(link, t.unit, req);
      readBack = await this.readBack(link, t.unit, point);
    } catch (e) {
      this.opts.log?.warn({ device, point: pointName, value, err: (e as Error).message }, 'Modbus write failed');
      throw e instanceof LifelineError ? e : new LifelineError(ErrorCodes.LinkDown, `write ${device}.${pointName} = ${value}: ${(e as Error).message}`, { cause: e });
    }
    if (!(Math.abs(readBack - value) <= tolerance(point, value))) {
      throw new LifelineError(ErrorCodes.WriteNotConfirmed, `write ${device}.${pointName}: wrote ${value}, read back ${readBack}`, { details: { written: value, readBack } });
    }
    return { readBack };
  }

  /** The point's value now, read with FC1 (coil) or FC3 (holding) and decoded as the poller decodes it. */
  private async readBack(link: ModbusLink, unit: number, point: ModbusPoint): Promise<number> {
    if (point.table === 'coil') {
      const r = await request(link, unit, { functionCode: 1, address: point.address, quantity: 1 });
      if (r?.functionCode !== 1) throw new LifelineError(ErrorCodes.FrameInvalid, `read-back of coil ${point.address}: no coil reply`);
      return r.bits[0] ? 1 : 0;
    }
    const count = registerCount(point.type);
    const r = await request(link, unit, { functionCode: 3, address: point.address, quantity: count });
    if (r?.functionCode !== 3) throw new LifelineError(ErrorCodes.FrameInvalid, `read-back of holding ${point.address}: no register reply`);
    const words = Array.from({ length: count }, (_, i) => (r.data[2 * i] << 8) | r.data[2 * i + 1]);
    return decodePoint(point, words, 0);
  }

  private link(bus: Readonly<Bus>): ModbusLink {
    const shared = this.opts.linkFor?.(bus);
    if (shared) return shared;
    let l = this.own.get(bus.name);
    if (!l) {
      if (bus.link !== 'tcp') {
        throw new LifelineError(ErrorCodes.LinkDown, `write on bus ${bus.name}: a ${bus.link} bus is written through the poller's link, which is not available here`);
      }
      l = createLink(bus, { onDown: (reason) => this.opts.log?.warn({ bus: bus.name, reason }, 'write link down; reopening') });
      this.own.set(bus.name, l);
    }
    return l;
  }

  async close(): Promise<void> {
    await Promise.all([...this.own.values()].map((l) => l.close()));
    this.own.clear();
  }
}

/**
 * How far a read-back may be from the written value and still confirm it: half
 * a step of the point's scale for integer registers (the writer rounds to the
 * step), float32's or float64's precision for floats, nothing for a coil.
 */
function tolerance(point: ModbusPoint, value: number): number {
  if (point.table === 'coil') return 0;
  const step = Math.abs(point.scale ?? 1);
  const ulp = point.type === 'float32' ? 2 ** -23 : point.type === 'float64' ? 2 ** -52 : 0;
  return (ulp ? ulp * Math.max(1, Math.abs(value)) : step / 2) + 1e-9 * Math.max(1, Math.abs(value));
}

/** A LinkPointWriter with links of its own only (the first version's constructor: config and logger). */
export class ModbusPointWriter extends LinkPointWriter {
  constructor(loaded: PointWriterConfig, log?: Logger) {
    super(loaded, { log });
  }
}
