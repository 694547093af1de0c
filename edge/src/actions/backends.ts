/**
 * Output backends: the one small interface every switchable thing implements.
 *
 *     ActionEngine ─set(on)─▶ GpioOutput      (onoff, sysfs GPIO: relays, sirens, beacons)
 *                          ├▶ ModbusOutput    (PointWriter: a coil or register of a field device)
 *                          └▶ SimulatedOutput (no GPIO on this machine, or test mode: records
 *                                              what would have been switched)
 */
import { createRequire } from 'node:module';
import type { PointWriter } from './point-writer.js';

/** Something the gateway can switch on and off. */
export interface OutputBackend {
  /** `gpio`, `modbus`, `simulated` (no GPIO here) or `test` (test mode). */
  readonly kind: string;
  /** True when `set` returns a promise the device confirms later (Modbus); false for a synchronous line. */
  readonly async: boolean;
  /** Switches. Synchronous backends throw on failure; asynchronous ones reject. */
  set(on: boolean): void | Promise<void>;
  /** Releases the backend; the output keeps its last state. */
  close(): void | Promise<void>;
}

/** One recorded switching of a simulated output. */
export interface SimulatedSwitch {
  on: boolean;
  /** Epoch ms. */
  ts: number;
  /** performance.now() at the switching: the latency bench measures with it. */
  hr: number;
}

/**
 * Records what would have been switched. Used when GPIO is absent (CI, a laptop)
 * and for outputs in test mode; tests and the bench assert on `switched`.
 */
export class SimulatedOutput implements OutputBackend {
  /** Every switching, oldest first (the last 10,000). */
  readonly switched: SimulatedSwitch[] = [];
  readonly async = false;
  constructor(
    readonly kind: 'simulated' | 'test',
    /** State it starts in (what a real output would be initialised to). */
    public state: boolean,
  ) {}

  set(on: boolean): void {
    this.state = on;
    this.switched.push({ on, ts: Date.now(), hr: performance.now() });
    if (this.switched.length > 10_000) this.switched.splice(0, 1000);
  }

  close(): void {}
}

/** The part of onoff's Gpio the backend uses. */
export interface GpioLine {
  writeSync(value: 0 | 1): void;
}

/** Constructor of onoff's Gpio, as far as the backend needs it. */
export type GpioClass = new (pin: number, direction: 'high' | 'low') => GpioLine;

/** Is sysfs GPIO usable here? Loads onoff lazily (it needs a native module). */
export function gpioAvailability(): { ok: true; Gpio: GpioClass } | { ok: false; reason: string } {
  let Gpio: (GpioClass & { accessible?: boolean }) | undefined;
  try {
    Gpio = (createRequire(import.meta.url)('onoff') as { Gpio: GpioClass & { accessible?: boolean } }).Gpio;
  } catch (e) {
    return { ok: false, reason: `onoff failed to load (${(e as Error).message.split('\n')[0]})` };
  }
  if (!Gpio.accessible) return { ok: false, reason: 'onoff reports no accessible GPIO (/sys/class/gpio is missing or not writable)' };
  return { ok: true, Gpio };
}

/** A GPIO line driven through onoff; `activeLow` inverts it. */
export class GpioOutput implements OutputBackend {
  readonly kind = 'gpio';
  readonly async = false;
  private readonly line: GpioLine;
  constructor(
    Gpio: GpioClass,
    readonly pin: number,
    private readonly activeLow: boolean,
    initial: boolean,
  ) {
    // 'high' / 'low' make the line an output at that level at once: no glitch at start.
    this.line = new Gpio(pin, initial !== activeLow ? 'high' : 'low');
  }

  set(on: boolean): void {
    this.line.writeSync(on !== this.activeLow ? 1 : 0);
  }

  // Never unexport: the line would float; it keeps its level until the next start.
  close(): void {}
}

/** A writable point of a field device (a coil, or a holding register) as an output. */
export class ModbusOutput implements OutputBackend {
  readonly kind = 'modbus';
  readonly async = true;
  constructor(
    private readonly writer: PointWriter,
    readonly device: string,
    readonly point: string,
    private readonly onValue: number,
    private readonly offValue: number,
  ) {}

  async set(on: boolean): Promise<void> {
    await this.writer.writePoint(this.device, this.point, on ? this.onValue : this.offValue);
  }

  close(): void {}
}
