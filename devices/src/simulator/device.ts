/**
 * One simulated device of any profile: every point's current value, refreshed
 * from the signal model, plus (Modbus) the register image a request reads,
 * plus the behaviours a test injected.
 *
 *   request ─▶ refresh() (at most every refreshMs) ─▶ signal ─▶ behaviours' transformValue
 *                                                           ─▶ values[] ─▶ register image (Modbus)
 *
 * The servers (tcp-server.ts, serial.ts) only read `values` and the image, so
 * a device is protocol-neutral and the same device can be served over TCP and
 * a pty.
 */
import { prng } from '@lifeline/shared';
import { decodeRegisters, registerCount, writeRegisters, type DeviceIdObject } from '@lifeline/shared/protocols';
import type { AnyPoint, ModbusPoint, ModbusProfile, Profile, RegisterTable } from '../profile.js';
import { behaviourFrom, type Behaviour, type BehaviourSpec, type SimAction, type SimFraming, type SimRequest } from './behaviours.js';
import { isNight, signalValue } from './signal.js';
import { bridgeBurst } from './bridge-vibration.js';

export type { Behaviour, BehaviourSpec } from './behaviours.js';

/** Options of a simulated device. */
export interface SimDeviceOptions {
  /** Seed of its random source (default: the unit id), so runs are reproducible. */
  seed?: number;
  /** Clock (epoch ms); tests pass a fake one. */
  now?: () => number;
  /**
   * What a Modbus device answers to function 43/14 (read device identification). Default: vendor
   * and product code from its profile (`vendor`, `model`) and revision `V1.0`; false: the device
   * does not implement it and answers exception 01 (illegal function), as many field units do.
   */
  identification?: false | DeviceIdObject[];
  /**
   * Meter address: 12 digits (DL/T 645) or 14 digits (CJ/T 188), as printed
   * on the meter. Default: the unit id, zero-padded (unit 7 → 000000000007).
   */
  address?: string;
}

/**
 * The accelerometer burst a device with a profile `burst:` block records: a
 * fresh one each time a master starts reading the block (a read of its first
 * register), from the simulated deck's modes at the temperature point's value.
 */
export class BurstRecorder {
  /** Damage: the first mode's frequency drops by this share (0.02 = 2 %); tests set it. */
  stiffnessLoss = 0;
  /** Bursts recorded so far. */
  recorded = 0;
  /** True mode frequencies of the burst the block holds now, Hz. */
  frequencies: number[] = [];

  constructor(
    private readonly dev: SimulatedDevice,
    readonly burst: NonNullable<ModbusProfile['burst']>,
    private readonly rand: () => number,
  ) {}

  /** Record a new burst into the block. */
  record(): void {
    const b = this.burst;
    const table = b.table ?? 'holding';
    const sim = b.sim ?? { modes: [{ frequencyHz: 2 }] };
    const temperatureC = sim.temperature === undefined ? 15 : this.dev.valueOf(sim.temperature);
    const out = bridgeBurst({
      modes: sim.modes,
      temperatureC,
      stiffnessLoss: this.stiffnessLoss,
      sampleRateHz: b.sampleRateHz,
      seconds: b.samples / b.sampleRateHz,
      noise: sim.noise,
      seed: Math.floor(this.rand() * 2 ** 31),
    });
    const regs = this.dev.tables[table];
    const img = this.dev.bytes[table];
    for (let i = 0; i < b.samples; i++) {
      const raw = Math.max(-32768, Math.min(32767, Math.round(out.samples[i] / b.scale)));
      const a = b.address + i;
      regs[a] = raw & 0xffff;
      img[2 * a] = regs[a] >> 8;
      img[2 * a + 1] = regs[a] & 0xff;
    }
    this.frequencies = out.frequencies;
    this.recorded++;
  }
}

/** A device the simulators serve. */
export class SimulatedDevice {
  /** Current value of each point (in its unit), by index in `profile.points`. */
  readonly values: Float64Array;
  /** Modbus register image: one entry per register (0/1 per coil or input bit). Empty for meters. */
  readonly tables: Record<RegisterTable, Uint16Array>;
  /** Big-endian byte image of the register tables: an FC3/FC4 reply is one copy from here. */
  readonly bytes: { holding: Buffer; input: Buffer };
  /** Per table, 1 where a point maps the register (for profiles with `gapReads: exception`). */
  readonly mapped: Record<RegisterTable, Uint8Array>;
  /** Meter address (DL/T 645: 12 digits, CJ/T 188: 14 digits); the zero-padded unit for Modbus. */
  readonly address: string;
  /** Injected behaviours, applied in order. */
  behaviours: Behaviour[] = [];
  /** Refresh the values at most this often, ms. */
  refreshMs = 100;
  /** Requests this device answered or refused. */
  served = 0;
  /** The accelerometer burst it records, when its profile has a `burst:` block. */
  readonly burst?: BurstRecorder;
  /** Its answer to Modbus function 43/14, ids ascending; null: it answers illegal function. */
  readonly identification: DeviceIdObject[] | null;

  private readonly rand: () => number;
  private readonly now: () => number;
  private readonly startTs: number;
  private lastRefresh = -Infinity;
  private readonly watchers = new Set<(b: Behaviour) => void>();
  private readonly pointIndex = new Map<string, number>();

  constructor(
    readonly profile: Readonly<Profile>,
    readonly unit: number,
    seedOrOptions: number | SimDeviceOptions = {},
    now?: () => number,
  ) {
    const opts: SimDeviceOptions = typeof seedOrOptions === 'number' ? { seed: seedOrOptions, now } : { now, ...seedOrOptions };
    this.rand = prng(opts.seed ?? unit);
    this.now = opts.now ?? Date.now;
    this.startTs = this.now();
    const digits = profile.protocol === 'cjt188' ? 14 : 12;
    this.address = opts.address ?? String(unit).padStart(digits, '0');
    this.identification =
      opts.identification === false
        ? null
        : [...(opts.identification ?? [{ id: 0, value: profile.vendor }, { id: 1, value: profile.model }, { id: 2, value: 'V1.0' }])].sort((a, b) => a.id - b.id);
    this.values = new Float64Array(profile.points.length);
    profile.points.forEach((p: AnyPoint, i) => this.pointIndex.set(p.name, i));

    const size: Record<RegisterTable, number> = { coil: 0, discrete: 0, holding: 0, input: 0 };
    if (profile.protocol === 'modbus') {
      for (const p of profile.points) size[p.table] = Math.max(size[p.table], p.address + (p.type === 'bit' ? 1 : registerCount(p.type)));
      if (profile.burst) size[profile.burst.table ?? 'holding'] = Math.max(size[profile.burst.table ?? 'holding'], profile.burst.address + profile.burst.samples);
    }
    this.tables = { coil: new Uint16Array(size.coil), discrete: new Uint16Array(size.discrete), holding: new Uint16Array(size.holding), input: new Uint16Array(size.input) };
    this.bytes = { holding: Buffer.alloc(size.holding * 2), input: Buffer.alloc(size.input * 2) };
    this.mapped = { coil: new Uint8Array(size.coil), discrete: new Uint8Array(size.discrete), holding: new Uint8Array(size.holding), input: new Uint8Array(size.input) };
    if (profile.protocol === 'modbus') {
      for (const p of profile.points) this.mapped[p.table].fill(1, p.address, p.address + (p.type === 'bit' ? 1 : registerCount(p.type)));
      const b = profile.burst;
      if (b) {
        this.mapped[b.table ?? 'holding'].fill(1, b.address, b.address + b.samples);
        this.burst = new BurstRecorder(this, b, this.rand);
      }
    }
    this.refresh(true);
    this.burst?.record();
  }

  /** Whether the profile's Modbus tables have unmapped registers a strict device refuses to read. */
  get strictGaps(): boolean {
    return this.profile.protocol === 'modbus' && this.profile.gapReads === 'exception';
  }

  /** Make the device misbehave (or hold a value) from its next answer on. */
  inject(b: BehaviourSpec | Behaviour): this {
    const behaviour = isSpec(b) ? behaviourFrom(b, this.rand) : b;
    if (isSpec(b) && b.kind === 'frozen') {
      // Freeze at the value served now, not at the next signal sample.
      const i = this.pointIndex.get(b.point);
      if (i !== undefined) behaviour.transformValue!(this.profile.points[i], this.valueOf(this.profile.points[i]));
    }
    this.behaviours.push(behaviour);
    this.lastRefresh = -Infinity;
    if (behaviour.forMs !== undefined) setTimeout(() => this.remove(behaviour), behaviour.forMs).unref();
    for (const w of this.watchers) w(behaviour);
    return this;
  }

  /** Remove injected behaviours (of one kind, or all). */
  clear(kind?: string): this {
    this.behaviours = kind ? this.behaviours.filter((b) => b.kind !== kind) : [];
    this.lastRefresh = -Infinity;
    return this;
  }

  /** Remove one behaviour. */
  remove(b: Behaviour): this {
    this.behaviours = this.behaviours.filter((x) => x !== b);
    this.lastRefresh = -Infinity;
    return this;
  }

  /** The first injected behaviour of this kind, if any. */
  behaviour(kind: string): Behaviour | undefined {
    return this.behaviours.find((b) => b.kind === kind);
  }

  /** Be told when a behaviour is injected (servers watch for `disconnect`). Returns the unsubscribe. */
  watch(fn: (b: Behaviour) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** The behaviours' verdict on a request: the first action wins; undefined means answer normally. */
  actionFor(req: SimRequest): SimAction | undefined {
    for (const b of this.behaviours) {
      const a = b.onRequest?.(req);
      if (a) return a;
    }
    return undefined;
  }

  /** Extra reply delay the behaviours ask for, ms. */
  delayFor(req: SimRequest): number {
    let ms = 0;
    for (const b of this.behaviours) if (b.delayMs) ms += b.delayMs(req);
    return ms;
  }

  /** Let the behaviours touch the reply frame `buf[start, end)`. */
  transformReply(buf: Uint8Array, start: number, end: number, framing: SimFraming): void {
    for (const b of this.behaviours) b.transformReply?.(buf, start, end, framing);
  }

  /** A point by name. */
  point(name: string): AnyPoint | undefined {
    const i = this.pointIndex.get(name);
    return i === undefined ? undefined : this.profile.points[i];
  }

  /** Current value of a point (by object or name), in its unit, as a master would read it. */
  valueOf(point: AnyPoint | string): number {
    const p = typeof point === 'string' ? this.point(point) : point;
    if (!p) throw new Error(`profile ${this.profile.id} has no point ${JSON.stringify(point)}`);
    if (this.profile.protocol !== 'modbus') return this.values[this.pointIndex.get(p.name)!];
    const mp = p as ModbusPoint;
    // Decode through the same code the gateway uses, to keep both sides honest.
    const raw = decodeRegisters(this.tables[mp.table], mp.address, mp.type, mp.order);
    return raw * (mp.scale ?? 1) + (mp.offset ?? 0);
  }

  /** Recompute every point from the signal model and behaviours (at most every refreshMs unless forced). */
  refresh(force = false): void {
    const ts = this.now();
    if (!force && ts - this.lastRefresh < this.refreshMs) return;
    this.lastRefresh = ts;
    const night = isNight(ts);
    const points = this.profile.points;
    const bs = this.behaviours;
    let finished = false;
    for (let i = 0; i < points.length; i++) {
      const point = points[i];
      let value = signalValue(point, ts, this.startTs, this.rand, night);
      for (let k = 0; k < bs.length; k++) {
        const t = bs[k].transformValue;
        if (t) value = t(point, value);
        if (bs[k].done) finished = true;
      }
      this.store(i, value);
    }
    if (finished) this.behaviours = this.behaviours.filter((b) => !b.done);
  }

  /** Store a value (in the point's unit) for point index `i`, encoding it into the register image. */
  private store(i: number, value: number): void {
    this.values[i] = value;
    if (this.profile.protocol !== 'modbus') return;
    const point = this.profile.points[i];
    const raw = (value - (point.offset ?? 0)) / (point.scale ?? 1);
    const table = this.tables[point.table];
    writeRegisters(table, point.address, raw, point.type, point.order);
    if (point.table === 'holding' || point.table === 'input') {
      const img = this.bytes[point.table];
      const end = point.address + registerCount(point.type);
      for (let a = point.address; a < end; a++) {
        img[2 * a] = table[a] >> 8;
        img[2 * a + 1] = table[a] & 0xff;
      }
    }
  }

  /** Store a value (in the point's unit) for a point: it holds until the next refresh. */
  write(point: AnyPoint, value: number): void {
    const i = this.pointIndex.get(point.name);
    if (i !== undefined) this.store(i, value);
  }

  /** Number of points. */
  get pointCount(): number {
    return this.profile.points.length;
  }
}

/** A spec is plain data; a handler has at least one hook function. */
function isSpec(b: BehaviourSpec | Behaviour): b is BehaviourSpec {
  const h = b as Behaviour;
  return (
    typeof h.onRequest !== 'function' &&
    typeof h.transformValue !== 'function' &&
    typeof h.transformReply !== 'function' &&
    typeof h.delayMs !== 'function'
  );
}

/**
 * A master wrote into a table: keep the written points at their new values
 * (the signal model no longer drives them), as a real device would.
 */
export function applyWrite(dev: SimulatedDevice, table: RegisterTable, address: number, words: ArrayLike<number>): void {
  const t = dev.tables[table];
  for (let i = 0; i < words.length; i++) t[address + i] = words[i];
  if (table === 'holding') {
    for (let i = 0; i < words.length; i++) {
      dev.bytes.holding[2 * (address + i)] = words[i] >> 8;
      dev.bytes.holding[2 * (address + i) + 1] = words[i] & 0xff;
    }
  }
  if (dev.profile.protocol !== 'modbus') return;
  for (const point of dev.profile.points) {
    if (point.table !== table) continue;
    const end = point.address + (point.type === 'bit' ? 1 : registerCount(point.type));
    if (point.address < address + words.length && end > address) {
      dev.behaviours = dev.behaviours.filter((b) => b.point !== point.name);
      dev.inject({ kind: 'fixed', point: point.name, value: dev.valueOf(point) });
    }
  }
}
