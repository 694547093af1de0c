/**
 * Accelerometer bursts over Modbus, reduced on the gateway to a few readings.
 *
 *     every burst period: link ─FC3/FC4 pages of ≤ 125 registers─▶ int16 × scale ─▶ Float64Array
 *                         ─▶ ModalAnalyzer ─▶ readings: <prefix>acceleration_rms, <prefix>acceleration_peak,
 *                                                        natural_frequency_1..n
 *                         ─▶ BurstKeeper (raw burst kept only around alarms)
 *
 * Why a paged register block: the RS-485 MEMS vibration sensors and small
 * dynamic loggers used on municipal girder bridges record a burst into their
 * own memory and expose it as a block of holding registers (the gateway reads
 * it between bursts); the 24-bit dynamic acquisition units of large cable
 * bridges stream over Ethernet in each vendor's own format instead, which
 * would be a driver of its own. A 6,000-sample burst is 48 reads of 125
 * registers: ≈ 1.3 s at 115200 baud, ≈ 14 s at 9600 baud, well inside a
 * 10-minute cycle, and the bus stays shared with the slow points (one
 * request in flight: each page waits its turn like any other read).
 */
import { ErrorCodes, LifelineError, Quality, type Reading } from '@lifeline/shared';
import type { ModbusRequest } from '@lifeline/shared/protocols';
import { burstPointNames, isModbusProfile, type Profile } from '@lifeline/devices';
import type { ModalAnalyzer } from '../detect/modal.js';
import type { ModbusLink } from '../links/link.js';
import type { DeviceInstance } from '../config/schema.js';

/** Where a device keeps its burst and how to scale it. */
export interface BurstPlan {
  /** Modbus unit id. */
  unit: number;
  /** Table of the sample block (default holding: FC3; input: FC4). */
  table?: 'holding' | 'input';
  /** First sample register (0-based). */
  address: number;
  /** Samples in a burst (registers, int16 each). */
  samples: number;
  /** Unit per LSB (e.g. 0.0001: int16 carries ±3.2767 m/s2). */
  scale: number;
  /** Registers per read (default 125, the Modbus maximum). */
  pageSize?: number;
  /** Reply timeout per page, ms (default: the link's). */
  timeoutMs?: number;
}

/** Reads one burst, page after page; rejects with the link's error (timeout, exception, link down) naming the page. */
export async function readBurst(link: ModbusLink, plan: BurstPlan): Promise<Float64Array> {
  const page = Math.min(125, plan.pageSize ?? 125);
  if (!Number.isInteger(plan.samples) || plan.samples < 1) throw new RangeError(`burst.samples: must be a positive integer, got ${plan.samples}`);
  if (plan.address + plan.samples > 65536) throw new RangeError(`burst: registers ${plan.address}..${plan.address + plan.samples - 1} run past 65535`);
  const out = new Float64Array(plan.samples);
  const functionCode = plan.table === 'input' ? 4 : 3;
  for (let at = 0; at < plan.samples; at += page) {
    const quantity = Math.min(page, plan.samples - at);
    const req: ModbusRequest = { functionCode, address: plan.address + at, quantity };
    await new Promise<void>((resolve, reject) => {
      link.submit(
        plan.unit,
        req,
        (err, frame, start, end) => {
          if (err) {
            reject(new LifelineError(err.code, `burst page at register ${req.address} (${quantity} registers): ${err.message}`, { cause: err }));
            return;
          }
          // PDU: function, byte count, registers big-endian.
          if (end - start < 2 + 2 * quantity) {
            reject(new LifelineError(ErrorCodes.FrameInvalid, `burst page at register ${req.address}: reply carries ${(end - start - 2) >> 1} registers, asked ${quantity}`));
            return;
          }
          for (let i = 0; i < quantity; i++) {
            const hi = frame[start + 2 + 2 * i];
            const lo = frame[start + 3 + 2 * i];
            const raw = ((hi << 8) | lo) << 16 >> 16; // int16
            out[at + i] = raw * plan.scale;
          }
          resolve();
        },
        plan.timeoutMs,
      );
    });
  }
  return out;
}

/** Names of the readings a burst becomes. */
export interface BurstReadingNames {
  /** Point for the RMS (default acceleration_rms). */
  rms?: string;
  /** Point for the peak (default acceleration_peak). */
  peak?: string;
  /** Prefix of the frequency points, numbered from 1 (default natural_frequency_). */
  frequency?: string;
}

/** The readings one analysed burst becomes, all stamped with the burst's start. */
export function burstReadings(device: string, ts: number, samples: Float64Array, analyzer: ModalAnalyzer, names: BurstReadingNames = {}): Reading[] {
  const r = analyzer.analyze(samples);
  const out: Reading[] = [
    { device, point: names.rms ?? 'acceleration_rms', ts, value: r.rms, quality: Quality.Good },
    { device, point: names.peak ?? 'acceleration_peak', ts, value: r.peak, quality: Quality.Good },
  ];
  r.frequencies.forEach((f, i) => out.push({ device, point: `${names.frequency ?? 'natural_frequency_'}${i + 1}`, ts, value: f, quality: Quality.Good }));
  return out;
}

/** A device's burst as the agent reads it: the profile's block with the instance's overrides. */
export interface DeviceBurst extends BurstPlan {
  sampleRateHz: number;
  periodMs: number;
  modes: number;
}

/** The burst a device instance reads, or undefined (no `burst:` block in its profile, or `burst.enabled: false`). */
export function deviceBurst(instance: Pick<DeviceInstance, 'unit' | 'burst'>, profile: Readonly<Profile>): DeviceBurst | undefined {
  if (!isModbusProfile(profile) || !profile.burst || instance.burst?.enabled === false || instance.unit === undefined) return undefined;
  const b = profile.burst;
  return {
    unit: instance.unit,
    table: b.table ?? 'holding',
    address: b.address,
    samples: b.samples,
    scale: b.scale,
    pageSize: Math.min(125, profile.maxRegistersPerRequest ?? 125),
    sampleRateHz: b.sampleRateHz,
    periodMs: instance.burst?.periodMs ?? b.periodMs,
    modes: instance.burst?.modes ?? b.modes ?? 3,
  };
}

/** The points a device's bursts become ([] without a burst). */
export function deviceBurstPoints(instance: Pick<DeviceInstance, 'unit' | 'burst'>, profile: Readonly<Profile>): string[] {
  const b = deviceBurst(instance, profile);
  return b ? burstPointNames(b.modes) : [];
}
