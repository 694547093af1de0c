/**
 * Read plans: coalesce a device's points into the fewest Modbus requests.
 * Points in one table whose addresses are close are read in one block; a gap
 * of up to `maxGap` unused registers is cheaper to read than a new request.
 */
import { registerCount, type Point, type Profile, type RegisterTable } from '@lifeline/devices';

/** One Modbus read request and the points it serves. */
export interface ReadBlock {
  table: RegisterTable;
  /** First register / coil address. */
  start: number;
  /** Registers (or bits) to read. */
  count: number;
  /** Points in this block, each with its offset from `start`. */
  points: { point: Point; offset: number }[];
}

export interface PlanOptions {
  /** Max registers per request (Modbus allows 125; some devices less). */
  maxRegisters?: number;
  /** Max bits per coil/discrete request (Modbus allows 2000). */
  maxBits?: number;
  /** Unused registers worth reading to avoid another request. */
  maxGap?: number;
}

/** Plan the reads of every point of a profile. */
export function planReads(profile: Readonly<Profile>, opts: PlanOptions = {}): ReadBlock[] {
  const maxRegisters = opts.maxRegisters ?? profile.maxRegistersPerRequest ?? 125;
  const maxBits = opts.maxBits ?? 2000;
  const maxGap = opts.maxGap ?? 8;
  const blocks: ReadBlock[] = [];
  const tables: RegisterTable[] = ['coil', 'discrete', 'holding', 'input'];
  for (const table of tables) {
    const bits = table === 'coil' || table === 'discrete';
    const limit = bits ? maxBits : maxRegisters;
    const points = profile.points.filter((p) => p.table === table).sort((a, b) => a.address - b.address);
    let block: ReadBlock | undefined;
    for (const point of points) {
      const size = bits ? 1 : registerCount(point.type);
      const end = point.address + size;
      if (block && point.address - (block.start + block.count) <= (bits ? maxGap * 16 : maxGap) && end - block.start <= limit) {
        block.count = Math.max(block.count, end - block.start);
        block.points.push({ point, offset: point.address - block.start });
      } else {
        block = { table, start: point.address, count: size, points: [{ point, offset: 0 }] };
        blocks.push(block);
      }
    }
  }
  return blocks;
}
