/**
 * Links to field buses: Modbus TCP (pipelined), Modbus RTU on a serial port,
 * RTU-over-TCP, and DL/T 645 / CJ/T 188 meters on a serial port or through a
 * serial server. `createLink` / `createMeterLink` build the right one from a
 * bus of the gateway config.
 */
import type { Profile } from '@lifeline/devices';
import type { LinkHooks, ModbusLink } from './link.js';
import type { LinkSettings } from './settings.js';
import { MeterLink, type MeterProtocol } from './meter.js';
import { RtuLink } from './rtu.js';
import { SerialStream, SocketStream } from './stream.js';
import { ModbusTcpLink } from './tcp.js';

export * from './link.js';
export * from './stream.js';
export * from './tcp.js';
export * from './rtu.js';
export * from './meter.js';
export * from './settings.js';

/** The link a bus of the gateway config describes (opened on its first request). */
export function createLink(bus: Readonly<LinkSettings>, hooks: LinkHooks = {}): ModbusLink {
  const gaps = new Map<number, number>();
  for (const d of bus.devices) if (d.gapMs && d.unit !== undefined) gaps.set(d.unit, d.gapMs);
  const line = { baud: bus.baud, parity: bus.parity, dataBits: bus.dataBits, stopBits: bus.stopBits };
  switch (bus.link) {
    case 'tcp':
      return new ModbusTcpLink({ host: bus.host!, port: bus.port!, timeoutMs: bus.timeoutMs, window: bus.window, hooks });
    case 'rtu':
      return new RtuLink({
        kind: 'rtu',
        stream: new SerialStream({ path: bus.path!, ...line }),
        ...line,
        timeoutMs: bus.timeoutMs,
        broadcastTurnaroundMs: bus.turnaroundMs,
        gapMs: gaps,
        hooks,
      });
    case 'rtu-over-tcp':
      return new RtuLink({
        kind: 'rtu-over-tcp',
        stream: new SocketStream(bus.host!, bus.port!, Math.max(1000, bus.timeoutMs), 'rtu-over-tcp'),
        ...line,
        timeoutMs: bus.timeoutMs,
        broadcastTurnaroundMs: bus.turnaroundMs,
        gapMs: gaps,
        hooks,
      });
    case 'meter':
    case 'meter-over-tcp':
      throw new Error(`bus ${bus.name} is a ${bus.link} bus: use createMeterLink`);
    case 'sl651-listen':
      throw new Error(`bus ${bus.name} is an sl651-listen bus: its stations report to the Sl651Listener, nothing is polled`);
  }
}

/**
 * The link of a meter bus (link meter or meter-over-tcp). Line settings the
 * bus leaves out come from the first meter's profile (meters ship at 2400 8E1).
 */
export function createMeterLink(bus: Readonly<LinkSettings>, protocol: MeterProtocol, profile: Readonly<Profile> | undefined, hooks: LinkHooks = {}): MeterLink {
  const serial = profile?.serial;
  const line = {
    baud: bus.baud ?? serial?.baud ?? 2400,
    parity: bus.parity ?? serial?.parity ?? 'even',
    dataBits: bus.dataBits ?? ((serial?.dataBits ?? 8) as 7 | 8),
    stopBits: bus.stopBits ?? ((serial?.stopBits ?? 1) as 1 | 2),
  };
  if (bus.link === 'meter') return new MeterLink({ kind: 'meter', protocol, stream: new SerialStream({ path: bus.path!, ...line }), ...line, timeoutMs: bus.timeoutMs, hooks });
  if (bus.link === 'meter-over-tcp') {
    const stream = new SocketStream(bus.host!, bus.port!, Math.max(1000, bus.timeoutMs), 'meter-over-tcp');
    return new MeterLink({ kind: 'meter-over-tcp', protocol, stream, ...line, timeoutMs: bus.timeoutMs, hooks });
  }
  throw new Error(`bus ${bus.name} is a ${bus.link} bus, not a meter bus`);
}
