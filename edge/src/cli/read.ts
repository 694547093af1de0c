/**
 * `lifeline read`: read every point of one device once, through the same read
 * plan and decoder the agent uses, and print what a technician checks on site.
 *
 *   profile ─▶ planReads ─▶ one request per block ─▶ decodePoint ─▶ table (name, value, unit, raw registers) | JSON lines
 *
 * A comm failure prints one line (what, where, likely cause) and exits 1.
 */
import type { Command } from 'commander';
import { ErrorCodes, LifelineError, Quality, isLifelineError } from '@lifeline/shared';
import type { Point } from '@lifeline/devices';
import { checkOneLink, commFailure, intIn, linkOptions, openLink, parseBaud, type LinkArgs } from './field.js';

interface ReadOpts extends LinkArgs {
  unit: number;
  profile: string;
  json?: boolean;
}

/** One point as read. */
export interface PointReading {
  point: string;
  value: number | null;
  unit: string;
  /** Raw registers (or the bit) the value came from. */
  raw: number[];
  table: string;
  address: number;
  type: string;
  /** Present when not Good. */
  quality?: 'uncertain' | 'bad';
  /** Why there is no value (the device refused the read), short. */
  error?: string;
  /** The whole story: what, where, likely cause. */
  detail?: string;
}

/** Register `read` on the program. */
export function registerRead(program: Command): void {
  linkOptions(
    program
      .command('read')
      .description('read every point of one device once and print name, value, unit and raw registers')
      .requiredOption('--unit <id>', 'Modbus unit id (1..247; 0..255 on TCP)', intIn(0, 255))
      .requiredOption('--profile <name|file>', 'shipped profile name or path to a profile file')
      .option('--json', 'one JSON object per point instead of a table'),
    'baud rate (default 9600)',
  ).action(async (opts: ReadOpts & { baud?: string }, cmd: Command) => {
    const args: ReadOpts = { ...opts, baud: parseBaud(cmd, opts.baud) };
    checkOneLink(cmd, args);
    const rows = await readDevice(args);
    if (args.json) for (const r of rows) console.log(JSON.stringify(r));
    else console.log(formatTable(rows));
    const refused = rows.filter((r) => r.error);
    if (refused.length) {
      throw new LifelineError(ErrorCodes.DeviceException, `${refused.length} of ${rows.length} point(s) not read: ${refused[0].detail}`);
    }
  });
}

/** Read every point of the profile from one unit. Comm failures throw one explained error. */
export async function readDevice(a: ReadOpts): Promise<PointReading[]> {
  const [{ loadProfile, isModbusProfile, registerCount }, { planReads }, { decodePoint, qualityOf }, { request }] = await Promise.all([
    import('@lifeline/devices'),
    import('../poller/plan.js'),
    import('../poller/decode.js'),
    import('../links/link.js'),
  ]);
  const profile = loadProfile(a.profile);
  if (!isModbusProfile(profile)) {
    throw new LifelineError(ErrorCodes.ProfileInvalid, `profile ${profile.id} speaks ${profile.protocol}; lifeline read reads Modbus profiles`);
  }
  const link = await openLink(a);
  const fc = { coil: 1, discrete: 2, holding: 3, input: 4 } as const;
  const rows: PointReading[] = [];
  try {
    for (const block of planReads(profile)) {
      const req = { functionCode: fc[block.table], address: block.start, quantity: block.count };
      let words: number[];
      try {
        const res = await request(link, a.unit, req);
        if (!res) throw new Error('no reply');
        words =
          res.functionCode === 1 || res.functionCode === 2
            ? res.bits.map(Number)
            : res.functionCode === 3 || res.functionCode === 4
              ? Array.from({ length: res.count }, (_, i) => (res.data[2 * i] << 8) | res.data[2 * i + 1])
              : [];
      } catch (err) {
        if (isLifelineError(err, ErrorCodes.DeviceException)) {
          const why = commFailure(err, link).message.replace(/^[A-Z_]+: /, '');
          const d = err.details as { exceptionCode?: number; exceptionName?: string } | undefined;
          const short = d?.exceptionCode !== undefined ? `exception 0x${d.exceptionCode.toString(16).toUpperCase().padStart(2, '0')} ${d.exceptionName}` : why;
          for (const { point } of block.points) rows.push({ ...where(point), value: null, raw: [], error: short, detail: why });
          continue;
        }
        throw commFailure(err, link);
      }
      for (const { point, offset } of block.points) {
        const size = block.table === 'coil' || block.table === 'discrete' ? 1 : registerCount(point.type);
        const value = decodePoint(point, words, offset);
        const q = qualityOf(point, value);
        const row: PointReading = { ...where(point), value: Number.isFinite(value) ? shortest(point, value) : null, raw: words.slice(offset, offset + size) };
        if (q !== Quality.Good) row.quality = q === Quality.Bad ? 'bad' : 'uncertain';
        rows.push(row);
      }
    }
  } finally {
    await link.close();
  }
  // Profile order, not plan order: the technician compares against the manual.
  const order = new Map(profile.points.map((p, i) => [p.name, i]));
  return rows.sort((x, y) => order.get(x.point)! - order.get(y.point)!);
}

function where(point: Point): Omit<PointReading, 'value' | 'raw'> {
  return { point: point.name, unit: point.unit, table: point.table, address: point.address, type: point.type };
}

/** A float32 printed with the fewest digits that give back the same float32 (0.32, not 0.3199999928474426). */
function shortest(point: Point, value: number): number {
  if (point.type !== 'float32' || (point.scale ?? 1) !== 1 || point.offset) return value;
  for (let p = 1; p <= 9; p++) {
    const v = Number(value.toPrecision(p));
    if (Math.fround(v) === Math.fround(value)) return v;
  }
  return value;
}

/** The table a person reads: aligned columns, raw registers in hex. */
export function formatTable(rows: PointReading[]): string {
  const cells = rows.map((r) => [
    r.point,
    r.value === null ? (r.error ? 'refused' : 'NaN') : String(r.value) + (r.quality ? ` (${r.quality})` : ''),
    r.unit,
    r.error ? r.error : r.table === 'coil' || r.table === 'discrete' ? r.raw.join(' ') : r.raw.map((w) => '0x' + w.toString(16).toUpperCase().padStart(4, '0')).join(' '),
  ]);
  const head = ['point', 'value', 'unit', 'raw'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 3 ? x : i === 1 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
