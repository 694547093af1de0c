/**
 * Links to field buses: Modbus TCP (pipelined), Modbus RTU on a serial port,
 * RTU-over-TCP. `createLink` builds the right one from a bus of the gateway config.
 */
import type { Bus } from '../config/schema.js';
import type { LinkHooks, ModbusLink } from './link.js';
import { RtuLink } from './rtu.js';
import { SerialStream, SocketStream } from './stream.js';
import { ModbusTcpLink } from './tcp.js';

export * from './link.js';
export * from './stream.js';
export * from './tcp.js';
export * from './rtu.js';

/** The link a bus of the gateway config describes (opened on its first request). */
export function createLink(bus: Readonly<Bus>, hooks: LinkHooks = {}): ModbusLink {
  const gaps = new Map<number, number>();
  for (const d of bus.devices) if (d.gapMs) gaps.set(d.unit, d.gapMs);
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
  }
}
