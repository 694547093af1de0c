/**
 * `lifeline decode`: decode a frame a technician captured with a serial
 * sniffer. Spaces, 0x prefixes and a leading FE wake-up preamble are fine.
 *
 *   "68 25 04 …" ─parseHex─▶ bytes ─describeFrame(protocol)─▶ fields + values   (same codecs as the gateway)
 *
 * An invalid frame exits 1 with the exact reason (checksum expected vs found,
 * length, terminator).
 */
import { Argument, type Command } from 'commander';
import { SL651_PUBLISHED_FRAMES, describeFrame, parseHex, type DescribeProtocol, type FrameDescription } from '@lifeline/shared/protocols';
import { summary } from './commands.js';

const PROTOCOLS: readonly DescribeProtocol[] = ['modbus-rtu', 'modbus-tcp', 'cjt188', 'dlt645', 'sl651'];

/**
 * The example in `decode --help`: a published SL 651 timed report (32H) of river station
 * 0011223344 (rain 4 mm, level 10.49 m, 10.99 V), CRC A421; edge/test/field/cli-decode.test.ts decodes it.
 */
export const SL651_HELP_EXAMPLE = SL651_PUBLISHED_FRAMES.timed32;

/** Register `decode` on the program. */
export function registerDecode(program: Command): void {
  program
    .command('decode')
    .description(summary('decode'))
    .requiredOption('--protocol <name>', `one of ${PROTOCOLS.join(', ')}`)
    .addArgument(new Argument('<hex...>', 'frame bytes in hex, e.g. 01 03 02 0C 91 7C E8 (quote it or give bytes as separate words)'))
    .option('--json', 'print the decoded frame as one JSON object')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  lifeline decode --protocol modbus-rtu 01 03 02 0C 91 7C E8',
        '  lifeline decode --protocol dlt645 FE FE 68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16',
        `  lifeline decode --protocol sl651 ${SL651_HELP_EXAMPLE}`,
        '    (SL 651-2014: HEX/BCD frames start 7E 7E; ASCII frames start 01 (SOH), given as hex bytes too)',
      ].join('\n'),
    )
    .action((hex: string[], opts: { protocol: string; json?: boolean }, cmd: Command) => {
      if (!PROTOCOLS.includes(opts.protocol as DescribeProtocol)) {
        cmd.error(`error: option '--protocol <name>' must be one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(opts.protocol)}`, { exitCode: 2 });
      }
      const bytes = parseHex(hex.join(' '));
      const d = describeFrame(opts.protocol as DescribeProtocol, bytes);
      console.log(opts.json ? JSON.stringify(d) : formatDescription(d, bytes.length));
    });
}

/** Fields in wire order, then the values they carry, then notes. */
export function formatDescription(d: FrameDescription, length: number): string {
  const lines = [`${d.protocol} frame, ${length} bytes`];
  const w = Math.max(...d.fields.map((f) => f.name.length));
  const vw = Math.max(...d.fields.map((f) => String(f.value).length));
  for (const f of d.fields) lines.push(`  ${f.name.padEnd(w)}  ${String(f.value).padEnd(vw)}${f.raw ? `  [${f.raw}]` : ''}`.trimEnd());
  if (d.values?.length) {
    lines.push('values');
    const nw = Math.max(...d.values.map((v) => v.name.length));
    for (const v of d.values) lines.push(`  ${v.name.padEnd(nw)}  ${v.value === null ? 'n/a' : String(v.value)}${v.unit ? ` ${v.unit}` : ''}`);
  }
  for (const n of d.notes ?? []) lines.push(`note: ${n}`);
  return lines.join('\n');
}
