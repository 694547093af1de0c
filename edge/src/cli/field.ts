/**
 * What the field commands (read, scan) share: the link options a technician
 * types, opening the link they describe, and turning a comm failure into one
 * line that says what failed, where, and the likely cause.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ErrorCodes, LifelineError, isLifelineError } from '@lifeline/shared/errors';
import type { LinkHooks, ModbusLink } from '../links/link.js';

/** Link options as parsed from the command line. */
export interface LinkArgs {
  tcp?: { host: string; port: number };
  rtuOverTcp?: { host: string; port: number };
  serial?: string;
  baud?: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
  timeout?: number;
}

/** `host:port` → parts (commander argument parser). */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new InvalidArgumentError(`expected host:port with a port 1..65535, got ${JSON.stringify(text)}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** An integer in [min, max] (commander argument parser). */
export function intIn(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || n < min || n > max) throw new InvalidArgumentError(`must be an integer ${min}..${max}, got ${JSON.stringify(text)}`);
    return n;
  };
}

/** A value option given at most once (commander argument parser): a second one is refused, not silently preferred. */
export function once<T = string>(flag: string, parse: (text: string) => T = (t) => t as T): (text: string, previous: T | undefined) => T {
  return (text, previous) => {
    if (previous !== undefined) throw new InvalidArgumentError(`${flag} given twice (${JSON.stringify(String(previous))} and ${JSON.stringify(text)}): give it once`);
    return parse(text);
  };
}

/** `none|even|odd` (commander argument parser). */
export function parseParity(text: string): 'none' | 'even' | 'odd' {
  const p = text.toLowerCase();
  if (p === 'none' || p === 'even' || p === 'odd') return p;
  if (p === 'n' || p === 'e' || p === 'o') return ({ n: 'none', e: 'even', o: 'odd' } as const)[p];
  throw new InvalidArgumentError(`must be none, even or odd, got ${JSON.stringify(text)}`);
}

/** The --baud value as a number (undefined when absent); exits 2 naming the bad value. */
export function parseBaud(cmd: Command, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return intIn(300, 921600)(text);
  } catch (e) {
    cmd.error(`error: option '--baud <n>' argument ${JSON.stringify(text)} is invalid. ${(e as Error).message}`, { exitCode: 2 });
  }
}

/** Add the link options to a command. */
export function linkOptions(cmd: Command, baudHelp = 'baud rate (default 9600)'): Command {
  return cmd
    .option('--tcp <host:port>', 'Modbus TCP device or gateway', parseHostPort)
    .option('--rtu-over-tcp <host:port>', 'serial server or 4G DTU passing RTU frames', parseHostPort)
    .option('--serial <path>', 'serial port of the RS-485 adapter, e.g. /dev/ttyUSB0')
    .option('--baud <n>', baudHelp)
    .option('--parity <p>', 'none, even or odd (default even, the Modbus default)', parseParity)
    .option('--data-bits <n>', '7 or 8 (default 8)', intIn(7, 8))
    .option('--stop-bits <n>', '1 or 2 (default 1)', intIn(1, 2))
    .option('--timeout <ms>', 'reply timeout per request, ms', intIn(10, 60000));
}

/** Check exactly one of --tcp, --rtu-over-tcp, --serial was given; exits 2 otherwise. */
export function checkOneLink(cmd: Command, a: LinkArgs): void {
  const given = [a.tcp && '--tcp', a.rtuOverTcp && '--rtu-over-tcp', a.serial && '--serial'].filter(Boolean);
  if (given.length !== 1) cmd.error(`error: give exactly one of --tcp, --rtu-over-tcp or --serial${given.length ? ` (got ${given.join(' and ')})` : ''}`, { exitCode: 2 });
  if (a.tcp && (a.baud !== undefined || a.parity !== undefined)) cmd.error('error: --baud and --parity apply to --serial and --rtu-over-tcp, not --tcp', { exitCode: 2 });
}

/** A link for these arguments (`baud` overrides the --baud option, for `scan --baud auto`). */
export async function openLink(a: LinkArgs, over: { baud?: number; parity?: 'none' | 'even' | 'odd'; timeout?: number; window?: number } = {}, hooks: LinkHooks = {}): Promise<ModbusLink> {
  const { ModbusTcpLink, RtuLink, SerialStream, SocketStream } = await import('../links/index.js');
  const timeoutMs = over.timeout ?? a.timeout ?? 1000;
  if (a.tcp) return new ModbusTcpLink({ ...a.tcp, timeoutMs, window: over.window ?? 1, hooks });
  const line = { baud: over.baud ?? a.baud ?? 9600, parity: over.parity ?? a.parity ?? 'even', dataBits: a.dataBits ?? 8, stopBits: a.stopBits ?? 1 } as const;
  const stream = a.serial ? new SerialStream({ path: a.serial, ...line }) : new SocketStream(a.rtuOverTcp!.host, a.rtuOverTcp!.port, Math.max(1000, timeoutMs), 'rtu-over-tcp');
  return new RtuLink({ kind: a.serial ? 'rtu' : 'rtu-over-tcp', stream, ...line, timeoutMs, hooks });
}

/**
 * A meter link for these arguments: a serial port, or a serial server (`--tcp` or `--rtu-over-tcp`:
 * both pass the meter's frames as they are). `line` holds the profile's serial defaults (meters: 2400 8E1).
 */
export async function openMeterLink(
  a: LinkArgs,
  protocol: 'dlt645' | 'cjt188',
  defaults: { baud?: number; parity?: 'none' | 'even' | 'odd'; dataBits?: number; stopBits?: number } = {},
): Promise<import('../links/meter.js').MeterLink> {
  const { MeterLink, SerialStream, SocketStream } = await import('../links/index.js');
  const line = {
    baud: a.baud ?? defaults.baud ?? 2400,
    parity: a.parity ?? defaults.parity ?? 'even',
    dataBits: a.dataBits ?? ((defaults.dataBits ?? 8) as 7 | 8),
    stopBits: a.stopBits ?? ((defaults.stopBits ?? 1) as 1 | 2),
  } as const;
  const timeoutMs = a.timeout ?? 1000;
  const server = a.tcp ?? a.rtuOverTcp;
  return server
    ? new MeterLink({ kind: 'meter-over-tcp', protocol, stream: new SocketStream(server.host, server.port, Math.max(1000, timeoutMs), 'meter-over-tcp'), ...line, timeoutMs })
    : new MeterLink({ kind: 'meter', protocol, stream: new SerialStream({ path: a.serial!, ...line }), ...line, timeoutMs });
}

/** What commFailure needs of a link: its kind and where it goes. */
export type LinkLike = Pick<ModbusLink, 'where'> & { readonly kind: ModbusLink['kind'] | 'meter' | 'meter-over-tcp' };

/** Likely causes of a comm failure of a meter link. */
function meterCause(err: LifelineError): string | undefined {
  const m = err.message;
  switch (err.code) {
    case ErrorCodes.DeviceTimeout:
      if (/partial reply/.test(m)) return 'the reply was cut short: baud rate or parity mismatch (meters usually run 2400 8E1), or noise on the line';
      return 'wrong meter address, baud rate or parity (meters usually run 2400 8E1); A/B wires swapped; or the meter is unpowered (try the wildcard address AAAAAAAAAAAA with one meter on the line)';
    case ErrorCodes.FrameInvalid:
      if (/checksum|terminator|length/.test(m)) return 'garbled reply: baud rate or parity mismatch, or noise (check termination and grounding)';
      if (/address: expected/.test(m)) return 'another meter answered: a wildcard address reached a different meter';
      if (/meter type: expected/.test(m)) return 'the meter type differs from the profile\'s meterType: check the profile';
      return 'the reply is not what this profile expects: wrong protocol or profile for this meter';
    case ErrorCodes.DeviceException:
      return 'the meter refused the read: it does not have this data (check the profile against the meter\'s manual)';
    case ErrorCodes.LinkDown:
      return /ECONNREFUSED/.test(m) ? 'nothing listens there: wrong port, or the serial server is off' : undefined;
    default:
      return undefined;
  }
}

/** Likely causes of a comm failure, by error code and link kind, for a person at the cabinet. */
export function likelyCause(err: LifelineError, link: LinkLike): string {
  const serial = link.kind !== 'tcp';
  const m = err.message;
  const meter = link.kind === 'meter' || link.kind === 'meter-over-tcp' ? meterCause(err) : undefined;
  if (meter) return meter;
  switch (err.code) {
    case ErrorCodes.DeviceTimeout:
      if (/partial reply/.test(m)) return 'the reply was cut short: baud rate or parity mismatch, or noise on the line (check termination and shield)';
      return serial
        ? 'wrong unit id, baud rate or parity; A/B wires swapped; or the device is unpowered (try `lifeline scan --baud auto`)'
        : 'wrong unit id for this gateway, or the serial device behind it is not answering';
    case ErrorCodes.LinkDown:
      if (/ENOENT|no such file/i.test(m)) return 'no such port: the adapter is unplugged or the path is wrong (ls /dev/ttyUSB* /dev/serial/by-id/)';
      if (/EACCES|permission/i.test(m)) return 'no permission to open the port: run as a member of the dialout group';
      if (/EBUSY|lock/i.test(m)) return 'the port is in use by another program (is the agent running?)';
      if (/ECONNREFUSED/.test(m)) return 'nothing listens there: wrong port, or the device\'s Modbus TCP server is off';
      if (/EHOSTUNREACH|ENETUNREACH|timed out/i.test(m)) return 'the host is unreachable: wrong address, cable, or the device is off';
      if (/ENOTFOUND|EAI_AGAIN/.test(m)) return 'the host name does not resolve';
      return serial ? 'the port went away: check the adapter and its cable' : 'the connection was refused or dropped: check address, port and network';
    case ErrorCodes.FrameInvalid:
      if (/crc/.test(m)) return 'garbled reply: baud rate or parity mismatch, two devices with the same unit id, or noise (check termination and grounding)';
      if (/unit: expected/.test(m)) return 'another device answered: two devices share a unit id, or a gateway maps units differently';
      return 'the reply is not valid Modbus for this request: wrong protocol or a faulty device';
    case ErrorCodes.DeviceException:
      if (/illegal data address/.test(m)) return 'the device has no such registers: the profile does not match this model or firmware';
      if (/illegal function/.test(m)) return 'the device does not support this function: check the profile\'s register tables';
      if (/busy|acknowledge/.test(m)) return 'the device is busy: try again shortly';
      if (/gateway/.test(m)) return 'the gateway cannot reach that unit: check the serial side of the gateway';
      return 'the device refused the request';
    default:
      return 'unexpected failure';
  }
}

/** One line for a failed request: what failed and where (from the link's message), and the likely cause. */
export function commFailure(err: unknown, link: LinkLike): LifelineError {
  if (!isLifelineError(err)) return new LifelineError(ErrorCodes.LinkDown, `${link.where}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  const what = err.message.replace(/^[A-Z_]+: /, '');
  return new LifelineError(err.code, `${what}; likely cause: ${likelyCause(err, link)}`, { cause: err, details: err.details });
}
