/**
 * One simulated device: the register image of a profile, refreshed from the
 * signal model, plus behaviours a test can inject (frozen value, spike,
 * exception, silence).
 */
import { decodeRegisters, encodeRegisters, registerCount } from '../datatypes.js';
import type { Point, Profile, RegisterTable } from '../profile.js';
import { prng, signalValue } from './signal.js';

/** Something a test makes a simulated device do. */
export type Behaviour =
  /** Stop answering (a dead slave). */
  | { kind: 'silent' }
  /** Answer every request with this Modbus exception code. */
  | { kind: 'exception'; code: number }
  /** Keep the point at this value (in its unit). */
  | { kind: 'fixed'; point: string; value: number }
  /** Freeze the point at its current value (a stuck sensor). */
  | { kind: 'frozen'; point: string }
  /** Delay every answer by this many ms. */
  | { kind: 'slow'; delayMs: number };

const TABLE_SIZE = 65536;

export class SimulatedDevice {
  readonly tables: Record<RegisterTable, Uint16Array>;
  behaviours: Behaviour[] = [];
  private readonly rand: () => number;
  private readonly startTs: number;
  private lastRefresh = -Infinity;
  private frozen = new Map<string, number>();
  /** Refresh the register image at most this often. */
  refreshMs = 100;

  constructor(
    readonly profile: Readonly<Profile>,
    readonly unit: number,
    seed = unit,
    private readonly now: () => number = Date.now,
  ) {
    this.rand = prng(seed);
    this.startTs = now();
    const size = Math.min(TABLE_SIZE, Math.max(...profile.points.map((p) => p.address + 4)) + 1);
    this.tables = { coil: new Uint16Array(size), discrete: new Uint16Array(size), holding: new Uint16Array(size), input: new Uint16Array(size) };
    this.refresh(true);
  }

  /** Make the device misbehave (or hold a value) from its next answer on. */
  inject(b: Behaviour): this {
    this.behaviours.push(b);
    this.lastRefresh = -Infinity;
    return this;
  }

  /** Remove injected behaviours (of one kind, or all). */
  clear(kind?: Behaviour['kind']): this {
    this.behaviours = kind ? this.behaviours.filter((b) => b.kind !== kind) : [];
    this.lastRefresh = -Infinity;
    return this;
  }

  /** The behaviour of this kind, if injected. */
  behaviour<K extends Behaviour['kind']>(kind: K): Extract<Behaviour, { kind: K }> | undefined {
    return this.behaviours.find((b) => b.kind === kind) as Extract<Behaviour, { kind: K }> | undefined;
  }

  /** Current value of a point in its unit. */
  valueOf(point: Point): number {
    const raw = this.readRaw(point);
    return raw * (point.scale ?? 1) + (point.offset ?? 0);
  }

  private readRaw(point: Point): number {
    const t = this.tables[point.table];
    // Decode through the same code the gateway uses, to keep both sides honest.
    return decodeRegisters(t, point.address, point.type, point.order);
  }

  /** Recompute every point from the signal model (unless frozen or fixed). */
  refresh(force = false): void {
    const ts = this.now();
    if (!force && ts - this.lastRefresh < this.refreshMs) return;
    this.lastRefresh = ts;
    for (const point of this.profile.points) {
      let value: number;
      const fixed = this.behaviours.find((b) => b.kind === 'fixed' && b.point === point.name) as { value: number } | undefined;
      const isFrozen = this.behaviours.some((b) => b.kind === 'frozen' && b.point === point.name);
      if (fixed) value = fixed.value;
      else if (isFrozen) {
        if (!this.frozen.has(point.name)) this.frozen.set(point.name, this.valueOf(point));
        value = this.frozen.get(point.name)!;
      } else {
        this.frozen.delete(point.name);
        value = signalValue(point, ts, this.startTs, this.rand);
      }
      this.write(point, value);
    }
  }

  /** Store a value (in the point's unit) into the register image. */
  write(point: Point, value: number): void {
    const raw = (value - (point.offset ?? 0)) / (point.scale ?? 1);
    const words = encodeRegisters(point.type === 'float32' || point.type === 'float64' ? raw : Math.round(raw), point.type, point.order);
    this.tables[point.table].set(words.slice(0, registerCount(point.type)), point.address);
  }
}

/**
 * A master wrote into a table: keep the written points at their new values
 * (the signal model no longer drives them), as a real device would.
 */
export function applyWrite(dev: SimulatedDevice, table: RegisterTable, address: number, words: ArrayLike<number>): void {
  dev.tables[table].set(Array.from(words), address);
  for (const point of dev.profile.points) {
    if (point.table !== table) continue;
    const end = point.address + registerCount(point.type);
    if (point.address < address + words.length && end > address) {
      dev.behaviours = dev.behaviours.filter((b) => !('point' in b && b.point === point.name));
      dev.inject({ kind: 'fixed', point: point.name, value: dev.valueOf(point) });
    }
  }
}
