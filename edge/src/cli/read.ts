/**
 * `lifeline read`: read every point of one device once, through the same read
 * plan and decoder the agent uses, and print what a technician checks on site.
 *
 *   Modbus profile ─▶ planReads ─▶ one request per block ─▶ decodePoint ─▶ table (name, value, unit, raw registers) | JSON lines
 *   meter profile  ─▶ planMeterReads ─▶ one request per DI (DL/T 645) or one 901F (CJ/T 188) ─▶ decode ─▶ same table, raw bytes
 *
 * A comm failure prints one line (what, where, likely cause) and exits 1.
 */
import type { Command } from 'commander';
import { ErrorCodes, LifelineError, Quality, isLifelineError } from '@lifeline/shared';
import type { MeterProfile, Point, Profile } from '@lifeline/devices';
import { checkOneLink, commFailure, intIn, linkOptions, once, openLink, openMeterLink, parseBaud, type LinkArgs } from './field.js';
import { summary } from './commands.js';
import { parseTable, rawRead, type RawTable } from './raw.js';

interface ReadOpts extends LinkArgs {
  unit?: number;
  address?: string;
  /** A shipped profile's name or a file; `device test` passes the profile its config loaded. */
  profile?: string | Readonly<Profile>;
  json?: boolean;
}

/** The --raw options of read. */
interface RawFlags {
  raw?: boolean;
  register?: number;
  count?: number;
  table?: RawTable;
  poll?: number;
}

/** One point as read. */
export interface PointReading {
  point: string;
  value: number | null;
  unit: string;
  /** Modbus: the raw registers (or the bit) the value came from; meters: the value's bytes, hex. */
  raw: number[] | string;
  /** Modbus: where the value lives. */
  table?: string;
  address?: number;
  type?: string;
  /** DL/T 645: the data identifier read. */
  di?: string;
  /** CJ/T 188: the field of the 901F reply. */
  field?: string;
  /** Why a meter gave no good value (FF-filled field, unit of another quantity...). */
  note?: string;
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
      .description(summary('read'))
      .option('--unit <id>', 'Modbus devices: unit id (1..247; 0..255 on TCP)', intIn(0, 255))
      .option('--address <digits>', 'meters: address printed on the meter, 12 digits (DL/T 645) or 14 (CJ/T 188); AA pairs are wildcards')
      .option('--profile <name|file>', 'shipped profile name or path to a profile file', once('--profile'))
      .option('--raw', 'no profile: read --count registers or bits from --register of --table, like mbpoll')
      .option('--register <address>', 'with --raw: first register or bit, from 0', once('--register', intIn(0, 65535)))
      .option('--count <n>', 'with --raw: how many (default 1)', once('--count', intIn(1, 125)))
      .option('--table <t>', 'with --raw: holding (default), input, coil or discrete', once('--table', parseTable))
      .option('--poll <ms>', 'with --raw: read again every <ms> until Ctrl-C', once('--poll', intIn(10, 3_600_000)))
      .option('--json', 'one JSON object per point instead of a table')
      .addHelpText(
        'after',
        '\nMeters (DL/T 645, CJ/T 188 profiles): --address instead of --unit; --serial for the RS-485 adapter, or\n' +
          '--tcp / --rtu-over-tcp host:port for a transparent serial server. Baud and parity default to the profile\'s (2400 8E1).\n',
      ),
    'baud rate (default 9600; meters: the profile\'s)',
  ).action(async (opts: ReadOpts & RawFlags & { baud?: string }, cmd: Command) => {
    const args: ReadOpts = { ...opts, baud: parseBaud(cmd, opts.baud) };
    checkOneLink(cmd, args);
    if (opts.raw) {
      if (opts.profile !== undefined || args.unit === undefined || opts.register === undefined) cmd.error('error: --raw takes --unit and --register (and no --profile)', { exitCode: 2 });
      return rawRead({ ...args, unit: args.unit, register: opts.register, count: opts.count ?? 1, table: opts.table ?? 'holding', poll: opts.poll, json: opts.json });
    }
    if (opts.register !== undefined || opts.count !== undefined || opts.table !== undefined || opts.poll !== undefined) cmd.error('error: --register, --count, --table and --poll go with --raw', { exitCode: 2 });
    if (args.profile === undefined) cmd.error("error: required option '--profile <name|file>' not specified (or --raw for registers without a profile)", { exitCode: 2 });
    if ((args.unit === undefined) === (args.address === undefined)) {
      cmd.error('error: give --unit <id> for a Modbus device or --address <digits> for a meter', { exitCode: 2 });
    }
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
  const [{ loadProfile, isModbusProfile }, { registerCount }, { planReads }, { decodePoint, qualityOf }, { request }] = await Promise.all([
    import('@lifeline/devices'),
    import('@lifeline/shared/protocols'),
    import('../poller/plan.js'),
    import('../poller/decode.js'),
    import('../links/link.js'),
  ]);
  if (a.profile === undefined) throw new LifelineError(ErrorCodes.ConfigInvalid, '--profile: required (or --raw for registers without a profile)');
  const profile = typeof a.profile === 'string' ? loadProfile(a.profile) : a.profile;
  if (profile.protocol === 'sl651') {
    throw new LifelineError(ErrorCodes.ConfigInvalid, `--profile: ${profile.id} is an SL 651 station: it reports to the gateway (bus link sl651-listen) and cannot be polled`);
  }
  if (!isModbusProfile(profile)) {
    if (a.address === undefined) throw new LifelineError(ErrorCodes.ConfigInvalid, `--address: profile ${profile.id} is a ${profile.protocol} meter: give its address, not --unit`);
    return readMeter(a, profile, a.address);
  }
  if (a.unit === undefined) throw new LifelineError(ErrorCodes.ConfigInvalid, `--unit: profile ${profile.id} is a Modbus device: give its unit id, not --address`);
  const unit = a.unit;
  const link = await openLink(a);
  const fc = { coil: 1, discrete: 2, holding: 3, input: 4 } as const;
  const rows: PointReading[] = [];
  try {
    for (const block of planReads(profile)) {
      const req = { functionCode: fc[block.table], address: block.start, quantity: block.count };
      let words: number[];
      try {
        words = wordsOf(await request(link, unit, req));
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

/** Read every point of a meter once: same plan and decoder as the agent's MeterPoller. */
async function readMeter(a: ReadOpts, profile: Readonly<MeterProfile>, address: string): Promise<PointReading[]> {
  const digits = profile.protocol === 'cjt188' ? 14 : 12;
  const addr = address.replace(/\s+/g, '').toUpperCase();
  if (!new RegExp(`^([0-9]{2}|AA){${digits / 2}}$`).test(addr)) {
    throw new LifelineError(ErrorCodes.ConfigInvalid, `--address: a ${profile.protocol} meter has a ${digits}-digit address (AA pairs are wildcards), got ${JSON.stringify(address)}`);
  }
  const { planMeterReads } = await import('../poller/meter-plan.js');
  const link = await openMeterLink(a, profile.protocol, profile.serial);
  const rows: PointReading[] = [];
  const whereOf = (p: MeterPoint): Omit<PointReading, 'value' | 'raw'> =>
    'di' in p ? { point: p.name, unit: p.unit, di: p.di.toUpperCase() } : { point: p.name, unit: p.unit, field: p.field };
  try {
    for (const read of planMeterReads(profile, addr)) {
      let values;
      try {
        values = read.decode(await link.request(read.req));
      } catch (err) {
        if (isLifelineError(err, ErrorCodes.DeviceException)) {
          const why = commFailure(err, link).message.replace(/^[A-Z_]+: /, '');
          const short = err.message.replace(/^[A-Z_]+: meter \S+ (\([^)]*\): )?/, '');
          for (const p of read.points) rows.push({ ...whereOf(p), value: null, raw: '', error: short, detail: why });
          continue;
        }
        throw commFailure(err, link);
      }
      for (const v of values) {
        const { point, unit, ...rest } = whereOf(v.point);
        const row: PointReading = { point, value: Number.isFinite(v.value) ? v.value : null, unit, raw: v.raw, ...rest };
        if (v.quality !== undefined) row.quality = v.quality === Quality.Bad ? 'bad' : 'uncertain';
        if (v.note) row.note = v.note;
        rows.push(row);
      }
    }
  } finally {
    await link.close();
  }
  return rows;
}

type MeterPoint = MeterProfile['points'][number];

/** The registers (or bits, as 0/1) of a read reply, as the decoder takes them. */
export function wordsOf(res: Awaited<ReturnType<typeof import('../links/link.js').request>>): number[] {
  if (!res) throw new Error('no reply');
  if (res.functionCode === 1 || res.functionCode === 2) return res.bits.map(Number);
  if (res.functionCode === 3 || res.functionCode === 4) return Array.from({ length: res.count }, (_, i) => (res.data[2 * i] << 8) | res.data[2 * i + 1]);
  return [];
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
    r.error
      ? r.error
      : typeof r.raw === 'string'
        ? r.raw + (r.note ? ` (${r.note})` : '')
        : r.table === 'coil' || r.table === 'discrete'
          ? r.raw.join(' ')
          : r.raw.map((w) => '0x' + w.toString(16).toUpperCase().padStart(4, '0')).join(' '),
  ]);
  const head = ['point', 'value', 'unit', 'raw'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 3 ? x : i === 1 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
