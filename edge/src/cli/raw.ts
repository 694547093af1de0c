/**
 * Raw Modbus access, like mbpoll: `lifeline read --raw` (registers, coils, discrete
 * inputs; `--poll` repeats until Ctrl-C) and `lifeline write` (FC5/6/15/16).
 *
 *   read --raw --unit N --register A [--count n] [--table t] [--poll ms] ─▶ FC1/2/3/4 ─▶ one line per register (or bit)
 *   write --unit N --register A v [v...]  ─▶ FC6 (one value) | FC16 (several)
 *   write --unit N --coil A 0|1 [...]     ─▶ FC5 | FC15
 *
 * No profile: addresses are protocol addresses from 0, values are raw 16-bit words
 * (0..65535, or -32768..-1 written as their two's complement) or bits.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ErrorCodes, LifelineError } from '@lifeline/shared/errors';
import { checkOneLink, commFailure, intIn, linkOptions, once, openLink, parseBaud, type LinkArgs } from './field.js';
import { summary } from './commands.js';

/** The tables a raw read can address. */
export type RawTable = 'holding' | 'input' | 'coil' | 'discrete';
const FC: Record<RawTable, 1 | 2 | 3 | 4> = { coil: 1, discrete: 2, holding: 3, input: 4 };

/** commander parser of --table. */
export function parseTable(t: string): RawTable {
  if (t === 'holding' || t === 'input' || t === 'coil' || t === 'discrete') return t;
  throw new InvalidArgumentError(`must be holding, input, coil or discrete, got ${JSON.stringify(t)}`);
}

/** Options of a raw read. */
export interface RawReadOpts extends LinkArgs {
  unit: number;
  register: number;
  count: number;
  table: RawTable;
  poll?: number;
  json?: boolean;
}

/** One raw read: words (registers) or 0/1 (bits). */
export interface RawReading {
  at: string;
  unit: number;
  table: RawTable;
  address: number;
  values: number[];
}

/** `[100]: 2274 (0x08E2)` lines, or one JSON object per read. */
export function formatRaw(r: RawReading, json = false): string {
  if (json) return JSON.stringify(r);
  const bits = r.table === 'coil' || r.table === 'discrete';
  const lines = r.values.map((v, i) => `[${r.address + i}]: ${bits ? v : `${v}  (0x${v.toString(16).toUpperCase().padStart(4, '0')}, int16 ${(v << 16) >> 16})`}`);
  return [`-- ${r.at} unit ${r.unit} ${r.table} ${r.address}..${r.address + r.values.length - 1}`, ...lines].join('\n');
}

/** Reads once, or every --poll ms until Ctrl-C (then exit 0). */
export async function rawRead(a: RawReadOpts): Promise<void> {
  const { request } = await import('../links/link.js');
  const link = await openLink(a);
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGINT', onSignal);
  try {
    do {
      const started = Date.now();
      let res;
      try {
        res = await request(link, a.unit, { functionCode: FC[a.table], address: a.register, quantity: a.count });
      } catch (err) {
        if (a.poll === undefined) throw err;
        console.error(commFailure(err, link).message); // polling goes on, as mbpoll does
      }
      if (res) {
        const values =
          res.functionCode === 1 || res.functionCode === 2
            ? Array.from(res.bits, Number).slice(0, a.count)
            : res.functionCode === 3 || res.functionCode === 4
              ? Array.from({ length: res.count }, (_, i) => (res.data[2 * i] << 8) | res.data[2 * i + 1])
              : [];
        console.log(formatRaw({ at: new Date(started).toISOString(), unit: a.unit, table: a.table, address: a.register, values }, a.json));
      }
      if (a.poll !== undefined && !stop) await new Promise((r) => setTimeout(r, Math.max(0, started + a.poll! - Date.now())));
    } while (a.poll !== undefined && !stop);
  } catch (err) {
    throw commFailure(err, link);
  } finally {
    process.removeListener('SIGINT', onSignal);
    await link.close();
  }
}

/** A register value: 0..65535, or -32768..-1 as its two's complement; 0x prefix allowed. */
export function parseWord(text: string): number {
  const n = /^0x[0-9a-f]{1,4}$/i.test(text) ? parseInt(text, 16) : /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= -32768 && n <= 65535)) throw new LifelineError(ErrorCodes.ConfigInvalid, `value ${JSON.stringify(text)}: a register holds 0..65535 (or -32768..-1, or 0x0000..0xFFFF)`);
  return n & 0xffff;
}

/** A coil value: 0/1, on/off, true/false. */
export function parseBit(text: string): boolean {
  const t = text.toLowerCase();
  if (['1', 'on', 'true'].includes(t)) return true;
  if (['0', 'off', 'false'].includes(t)) return false;
  throw new LifelineError(ErrorCodes.ConfigInvalid, `value ${JSON.stringify(text)}: a coil is 0 or 1 (on/off)`);
}

interface WriteOpts extends LinkArgs {
  unit: number;
  register?: number;
  coil?: number;
}

/** Register `write` on the program. */
export function registerWrite(program: Command): void {
  linkOptions(
    program
      .command('write')
      .description(summary('write'))
      .argument('<values...>', 'register values (0..65535, -32768..-1, 0x1F) or coil states (0/1, on/off)')
      .requiredOption('--unit <id>', 'unit id (1..247; 0..255 on TCP)', once('--unit', intIn(0, 255)))
      .option('--register <address>', 'first holding register, from 0: one value FC6, several FC16', once('--register', intIn(0, 65535)))
      .option('--coil <address>', 'first coil, from 0: one value FC5, several FC15', once('--coil', intIn(0, 65535))),
  ).action(async (values: string[], opts: WriteOpts & { baud?: string }, cmd: Command) => {
    const a: WriteOpts = { ...opts, baud: parseBaud(cmd, opts.baud) };
    checkOneLink(cmd, a);
    if ((a.register === undefined) === (a.coil === undefined)) cmd.error('error: give exactly one of --register <address> or --coil <address>', { exitCode: 2 });
    const { request } = await import('../links/link.js');
    const address = (a.register ?? a.coil)!;
    const req =
      a.coil !== undefined
        ? values.length === 1
          ? ({ functionCode: 5, address, value: parseBit(values[0]) } as const)
          : ({ functionCode: 15, address, values: values.map(parseBit) } as const)
        : values.length === 1
          ? ({ functionCode: 6, address, value: parseWord(values[0]) } as const)
          : ({ functionCode: 16, address, values: values.map(parseWord) } as const);
    const link = await openLink(a);
    try {
      await request(link, a.unit, req);
    } catch (err) {
      throw commFailure(err, link);
    } finally {
      await link.close();
    }
    console.log(`unit ${a.unit}: wrote ${a.coil !== undefined ? 'coil' : 'holding'} ${address}${values.length > 1 ? `..${address + values.length - 1}` : ''} = ${values.join(' ')} (FC${req.functionCode})`);
  });
}
