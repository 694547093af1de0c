/**
 * Read plans: coalesce a device's points into the fewest Modbus requests.
 *
 *   profile points ──per table, sorted by address──▶ blocks ──▶ one FC1/2/3/4 request each
 *
 * Rules, in order of precedence:
 *   1. A block reads one table (coils, discrete inputs, holding or input registers).
 *   2. A block never exceeds the device's limit (profile `maxRegistersPerRequest`
 *      / `maxBitsPerRequest`, lowered further by the instance's options;
 *      Modbus itself allows 125 registers and 2000 bits).
 *   3. Two neighbouring points share a block only if the unused registers
 *      between them are at most `maxGap`: reading a few dead registers is
 *      cheaper than another transaction (see {@link rtuBreakEvenGap}). A device
 *      whose profile says `gapReads: exception` refuses unmapped registers, so
 *      its blocks never bridge a gap.
 *   4. Among the plans with the fewest requests, the one reading the fewest
 *      registers wins (a greedy scan gets the count right but may read more
 *      dead registers than needed, so the planner solves it exactly, O(n²) per table).
 * A point is never split across requests: a 32-bit value read in two halves
 * could tear between two samples.
 */
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { registerCount } from '@lifeline/shared/protocols';
import type { ModbusProfile, Point, RegisterTable } from '@lifeline/devices';

/** One Modbus read request and the points it serves. */
export interface ReadBlock {
  table: RegisterTable;
  /** Function code that reads the table: 1 coils, 2 discrete inputs, 3 holding, 4 input registers. */
  functionCode: 1 | 2 | 3 | 4;
  /** First register / coil address. */
  start: number;
  /** Registers (or bits) to read. */
  count: number;
  /** Points in this block, each with its offset from `start`, by address. */
  points: { point: Point; offset: number }[];
}

/** Limits of one device instance (the gateway config may set them; the profile's own limits still apply). */
export interface PlanOptions {
  /** Max registers per FC3/FC4 request (Modbus allows 125; some devices less). */
  maxRegisters?: number;
  /** Max bits per FC1/FC2 request (Modbus allows 2000). */
  maxBits?: number;
  /** Unused registers worth reading to save a request (default: the profile's, else 8). */
  maxGap?: number;
  /** Unused bits worth reading to save a request (default 256: 32 bytes cost less than a transaction). */
  maxBitGap?: number;
}

/** Default `maxGap` where neither the profile nor the instance sets one. */
export const DEFAULT_MAX_GAP = 8;
/** Default `maxBitGap`. */
export const DEFAULT_MAX_BIT_GAP = 256;

const TABLE_ORDER: readonly RegisterTable[] = ['coil', 'discrete', 'holding', 'input'];
const FUNCTION: Record<RegisterTable, 1 | 2 | 3 | 4> = { coil: 1, discrete: 2, holding: 3, input: 4 };

/** The limits that apply to one device: instance options within the profile's limits. */
export function planLimits(profile: Readonly<ModbusProfile>, opts: PlanOptions = {}): Required<PlanOptions> {
  const maxRegisters = Math.min(opts.maxRegisters ?? 125, profile.maxRegistersPerRequest ?? 125, 125);
  const maxBits = Math.min(opts.maxBits ?? 2000, profile.maxBitsPerRequest ?? 2000, 2000);
  const strict = profile.gapReads === 'exception';
  return {
    maxRegisters,
    maxBits,
    maxGap: strict ? 0 : (opts.maxGap ?? profile.maxGap ?? DEFAULT_MAX_GAP),
    maxBitGap: strict ? 0 : (opts.maxBitGap ?? DEFAULT_MAX_BIT_GAP),
  };
}

/** Plan the reads of every point of a Modbus profile. */
export function planReads(profile: Readonly<ModbusProfile>, opts: PlanOptions = {}): ReadBlock[] {
  return planPoints(profile.points, planLimits(profile, opts));
}

/**
 * Plan the reads of some points (e.g. the ones due now) under the given
 * limits. Throws CONFIG_INVALID when a point cannot fit in one request.
 */
export function planPoints(points: readonly Point[], limits: Required<PlanOptions>): ReadBlock[] {
  const blocks: ReadBlock[] = [];
  for (const table of TABLE_ORDER) {
    const bits = table === 'coil' || table === 'discrete';
    const limit = bits ? limits.maxBits : limits.maxRegisters;
    const maxGap = bits ? limits.maxBitGap : limits.maxGap;
    const pts = points.filter((p) => p.table === table).sort((a, b) => a.address - b.address);
    if (pts.length === 0) continue;
    const size = pts.map((p) => (bits ? 1 : registerCount(p.type)));
    pts.forEach((p, i) => {
      if (size[i] > limit) {
        throw new LifelineError(ErrorCodes.ConfigInvalid, `point ${p.name}: a ${p.type} needs ${size[i]} registers but the device reads at most ${limit} per request`);
      }
    });
    blocks.push(...cover(table, pts, size, limit, maxGap));
  }
  return blocks;
}

/**
 * Exact cover of sorted points by blocks: fewest blocks, then fewest
 * registers. best[i] is the cheapest plan for points[0..i); a block may take
 * points[j..i) when its span fits the limit and no gap inside exceeds maxGap.
 */
function cover(table: RegisterTable, pts: Point[], size: number[], limit: number, maxGap: number): ReadBlock[] {
  const n = pts.length;
  const blocksTo = new Array<number>(n + 1).fill(Infinity);
  const regsTo = new Array<number>(n + 1).fill(Infinity);
  const from = new Array<number>(n + 1).fill(-1);
  blocksTo[0] = 0;
  regsTo[0] = 0;
  for (let i = 1; i <= n; i++) {
    const end = pts[i - 1].address + size[i - 1];
    // Walk the block's first point j back from i-1 while the block stays legal.
    for (let j = i - 1; j >= 0; j--) {
      if (j < i - 1) {
        const gap = pts[j + 1].address - (pts[j].address + size[j]);
        if (gap > maxGap) break;
      }
      const span = end - pts[j].address;
      if (span > limit) break;
      const b = blocksTo[j] + 1;
      const r = regsTo[j] + span;
      if (b < blocksTo[i] || (b === blocksTo[i] && r < regsTo[i])) {
        blocksTo[i] = b;
        regsTo[i] = r;
        from[i] = j;
      }
    }
  }
  const out: ReadBlock[] = [];
  for (let i = n; i > 0; i = from[i]) {
    const j = from[i];
    const start = pts[j].address;
    const count = pts[i - 1].address + size[i - 1] - start;
    out.push({ table, functionCode: FUNCTION[table], start, count, points: pts.slice(j, i).map((point) => ({ point, offset: point.address - start })) });
  }
  return out.reverse();
}

/**
 * Unused registers worth reading on a serial line rather than sending
 * another request: the line time of one more transaction (8-byte request,
 * 5 bytes of reply overhead, two 3.5-character silences and the slave's
 * turnaround) over the 2 characters a register costs.
 * 9600 baud 8E1 with a 5 ms turnaround → 12 registers.
 */
export function rtuBreakEvenGap(baud: number, turnaroundMs = 5, bitsPerChar = 11): number {
  const charMs = (bitsPerChar * 1000) / baud;
  const silenceMs = baud > 19200 ? 1.75 : 3.5 * charMs;
  const overheadChars = 8 + 5 + (2 * silenceMs + turnaroundMs) / charMs;
  return Math.floor(overheadChars / 2);
}
