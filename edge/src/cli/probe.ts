/**
 * `lifeline probe`: read a few registers and show what they can mean, so nobody
 * decodes a float four ways by hand or guesses a byte order.
 *
 *   --unit N --register A [--count n] ─▶ one read (FC3, or FC4 with --table input)
 *        ─▶ interpretations: every type × byte order (ABCD/CDAB/BADC/DCBA, as in the profiles) × offset
 *        └─ --expect V (the display's value) ─▶ matchExpected: type, order, scale best first
 *
 * Exit 0 with a table (or --json); 1 when the device does not answer or, with --expect,
 * nothing matches; 2 for bad arguments.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ErrorCodes, LifelineError } from '@lifeline/shared/errors';
import { checkOneLink, commFailure, intIn, linkOptions, once, openLink, parseBaud, type LinkArgs } from './field.js';
import { selfName, summary } from './commands.js';
import { interpretations, matchExpected, tolerance, type Interpretation, type Match } from './interpret.js';

interface ProbeOpts extends LinkArgs {
  unit: number;
  register: number;
  count?: number;
  table?: 'holding' | 'input';
  expect?: string;
  json?: boolean;
}

/** What probe found, as --json prints it. */
export interface ProbeResult {
  unit: number;
  table: 'holding' | 'input';
  register: number;
  registers: number[];
  interpretations: Interpretation[];
  expect?: string;
  matches?: Match[];
}

/** Register `probe` on the program. */
export function registerProbe(program: Command): void {
  linkOptions(
    program
      .command('probe')
      .description(summary('probe'))
      .requiredOption('--unit <id>', 'unit id (1..247; 0..255 on TCP)', once('--unit', intIn(0, 255)))
      .requiredOption('--register <address>', "first register, protocol address from 0 (the manual's 40101 is holding 100)", once('--register', intIn(0, 65535)))
      .option('--count <n>', 'registers to read (default 2, or 4 with --expect: room for float64)', once('--count', intIn(1, 16)))
      .option('--table <t>', 'holding (FC3, the default) or input (FC4)', once('--table', (t) => {
        if (t !== 'holding' && t !== 'input') throw new InvalidArgumentError(`must be holding or input, got ${JSON.stringify(t)}`);
        return t;
      }))
      .option('--expect <value>', 'the value the device shows (its display, its manual): probe names the type, byte order and scale that give it')
      .option('--json', 'one JSON object: registers, interpretations and (with --expect) matches, best first')
      .addHelpText(
        'after',
        `\nExample: the display shows 123.456 m; the manual says the level is at holding 100:\n  ${selfName()} probe --serial /dev/ttyUSB0 --baud 9600 --unit 1 --register 100 --expect 123.456\n` +
          'The first match is what the profile needs (type, order, scale).\n',
      ),
  ).action(async (opts: ProbeOpts & { baud?: string }, cmd: Command) => {
    const args: ProbeOpts = { ...opts, table: opts.table ?? 'holding', baud: parseBaud(cmd, opts.baud) };
    checkOneLink(cmd, args);
    if (args.expect !== undefined && !Number.isFinite(Number(args.expect))) cmd.error(`error: --expect must be a number, got ${JSON.stringify(args.expect)}`, { exitCode: 2 });
    const count = args.count ?? (args.expect !== undefined ? 4 : 2);
    if (args.register + count > 65536) cmd.error(`error: --register ${args.register} + --count ${count} runs past register 65535`, { exitCode: 2 });
    const registers = await readRegisters(args, count);
    const result: ProbeResult = { unit: args.unit, table: args.table ?? 'holding', register: args.register, registers, interpretations: interpretations(registers) };
    if (args.expect !== undefined) {
      result.expect = args.expect;
      result.matches = matchExpected(registers, args.expect);
    }
    console.log(args.json ? JSON.stringify(result) : formatProbe(result));
    if (result.matches && !result.matches.length) {
      throw new LifelineError(
        ErrorCodes.DeviceException,
        `no type, byte order and scale gives ${args.expect} from ${args.table} ${args.register}: check the address (manuals count from 1 or from 40001: try --register ${Math.max(0, args.register - 1)}), the table (--table input), or the unit`,
      );
    }
  });
}

/**
 * One read of `count` registers; a comm failure throws one explained error. Without an explicit
 * --count, a device that refuses the read past the end of its map (illegal data address) is asked
 * again for fewer registers, down to one.
 */
async function readRegisters(a: ProbeOpts, count: number): Promise<number[]> {
  const { request } = await import('../links/link.js');
  const { isLifelineError } = await import('@lifeline/shared/errors');
  const tries = a.count !== undefined ? [count] : [count, 2, 1].filter((n, i, all) => n <= count && all.indexOf(n) === i);
  const link = await openLink(a);
  try {
    for (let i = 0; ; i++) {
      try {
        const res = await request(link, a.unit, { functionCode: a.table === 'input' ? 4 : 3, address: a.register, quantity: tries[i] });
        if (!res || (res.functionCode !== 3 && res.functionCode !== 4)) throw new LifelineError(ErrorCodes.FrameInvalid, 'no register reply');
        return Array.from({ length: res.count }, (_, j) => (res.data[2 * j] << 8) | res.data[2 * j + 1]);
      } catch (err) {
        const pastEnd = isLifelineError(err, ErrorCodes.DeviceException) && (err.details as { exceptionCode?: number } | undefined)?.exceptionCode === 2;
        if (!pastEnd || i === tries.length - 1) throw err;
      }
    }
  } catch (err) {
    throw commFailure(err, link);
  } finally {
    await link.close();
  }
}

const hex = (w: number) => `0x${w.toString(16).toUpperCase().padStart(4, '0')}`;
/** Integers in full; other values to 7 significant digits (a float32's precision), huge and tiny ones as exponents. */
const show = (v: number | null) => {
  if (v === null) return 'n/a';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  return a >= 1e9 || a < 1e-4 ? v.toExponential(3) : String(Number(v.toPrecision(7)));
};

/** The registers, every reading side by side (one row per offset and type, one column per order), then the matches. */
export function formatProbe(r: ProbeResult): string {
  const lines = [`unit ${r.unit} ${r.table} ${r.register}..${r.register + r.registers.length - 1}: ${r.registers.map(hex).join(' ')}`];
  const rows: string[][] = [['register', 'type', 'ABCD', 'CDAB', 'BADC', 'DCBA']];
  const seen = new Map<string, string[]>();
  for (const i of r.interpretations) {
    const key = `${i.offset}/${i.type}`;
    let row = seen.get(key);
    if (!row) {
      row = [String(r.register + i.offset), i.type, '', '', '', ''];
      seen.set(key, row);
      rows.push(row);
    }
    const col = i.order ? 2 + ['ABCD', 'CDAB', 'BADC', 'DCBA'].indexOf(i.order) : 2;
    row[col] = show(i.value);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) lines.push(row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
  if (r.matches) {
    if (!r.matches.length) lines.push(`no match for ${r.expect}`);
    else {
      lines.push(`matches for ${r.expect} (±${tolerance(r.expect!)}), best first:`);
      for (const m of r.matches) {
        lines.push(`  type: ${m.type}${m.order ? `, order: ${m.order}` : ''}${m.scale !== 1 ? `, scale: ${m.scale}` : ''}    → ${show(m.value)}${m.error >= 0.05 ? ` (off by ${m.error} of the last digit)` : ''}`);
      }
    }
  }
  return lines.join('\n');
}
