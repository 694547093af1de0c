/**
 * Raw accelerometer bursts kept around alarms, bounded. Every burst passes
 * through a small in-memory ring (the bursts before an alarm); when a detector
 * of the device raises, the ring and the next `after` bursts are written as
 * files, and the oldest files go once the folder holds more than `maxFiles`.
 *
 *     burst ─▶ ring (last `before`) ──alarm raised──▶ <dir>/<device>/<ts>.f32 (+ the next `after`)
 *                                                      └─ beyond maxFiles: oldest deleted
 *
 * File format: little-endian float32 samples, nothing else; the name carries the
 * burst's start (epoch ms) and the sample rate (`1796600000000-100hz.f32`), so
 * any tool (numpy.fromfile(dtype='<f4')) reads it. 6,000 samples = 24 kB.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Options of a burst keeper. */
export interface BurstKeeperOptions {
  /** Folder the files go in (one sub-folder per device), inside the agent's data directory. */
  dir: string;
  /** Bursts kept in memory and written when an alarm is raised (default 3: 30 min before at 10-minute bursts). */
  before?: number;
  /** Bursts written after a raise (default 3). */
  after?: number;
  /** Files kept per device; the oldest go first (default 200: ≈ 5 MB of 6,000-sample bursts). */
  maxFiles?: number;
}

interface Held {
  ts: number;
  rateHz: number;
  samples: Float32Array;
}

/** Keeps raw bursts around alarms, per device, bounded in memory and on disk. */
export class BurstKeeper {
  private readonly ring = new Map<string, Held[]>();
  private readonly pending = new Map<string, number>();
  private readonly before: number;
  private readonly after: number;
  private readonly maxFiles: number;

  constructor(private readonly opts: BurstKeeperOptions) {
    this.before = opts.before ?? 3;
    this.after = opts.after ?? 3;
    this.maxFiles = opts.maxFiles ?? 200;
  }

  /** Offers one burst: held in the ring, and written at once while an alarm's `after` count runs. */
  add(device: string, ts: number, rateHz: number, samples: ArrayLike<number>): void {
    const held: Held = { ts, rateHz, samples: Float32Array.from(samples) };
    const left = this.pending.get(device) ?? 0;
    if (left > 0) {
      this.write(device, held);
      this.pending.set(device, left - 1);
      return;
    }
    const ring = this.ring.get(device) ?? [];
    ring.push(held);
    if (ring.length > this.before) ring.shift();
    this.ring.set(device, ring);
  }

  /** An alarm of `device` was raised: write what the ring holds and the next `after` bursts. */
  alarm(device: string): void {
    for (const h of this.ring.get(device) ?? []) this.write(device, h);
    this.ring.set(device, []);
    this.pending.set(device, this.after);
  }

  /** Files kept for a device, oldest first. */
  files(device: string): string[] {
    try {
      return readdirSync(join(this.opts.dir, safe(device)))
        .filter((f) => f.endsWith('.f32'))
        .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
    } catch {
      return [];
    }
  }

  private write(device: string, h: Held): void {
    const dir = join(this.opts.dir, safe(device));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const le = new DataView(new ArrayBuffer(h.samples.length * 4));
    h.samples.forEach((v, i) => le.setFloat32(i * 4, v, true));
    writeFileSync(join(dir, `${h.ts}-${h.rateHz}hz.f32`), new Uint8Array(le.buffer), { mode: 0o600 });
    const files = this.files(device);
    for (const f of files.slice(0, Math.max(0, files.length - this.maxFiles))) rmSync(join(dir, f), { force: true });
  }
}

/** A device id as a folder name: never a path out of the data directory. */
function safe(device: string): string {
  return device.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
}
