/**
 * Modbus TCP simulators: one port serving several units (like a serial
 * server in front of an RS-485 bus), or a fleet of devices each on its own
 * port in one process (like real Ethernet devices; the 500-device bench).
 *
 *   socket chunk ─▶ MbapFrameExtractor (shared, zero-copy) ─▶ unit's device ─▶ serveModbusPdu
 *                                                                  │ response PDU written in place
 *   socket.write ◀── one buffer per chunk, every reply of the chunk ◀┘
 *
 * Requests are answered in arrival order; a client may pipeline many by
 * transaction id. Unknown units get no answer, as on a real bus. With
 * `framing: 'rtu'` the port speaks RTU over TCP instead (a transparent serial
 * server or 4G DTU): RTU frames with CRC, no MBAP header.
 *
 * Speed: a read of holding/input registers costs one inline parse and one
 * native copy from the device's byte image; the only allocation is one
 * exact-size copy of each chunk's replies (see bench/sim.ts for figures).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { MbapFrameExtractor, crc16, rtuRequestLength, writeCrc } from '@lifeline/shared/protocols';
import type { SimulatedDevice } from './device.js';
import { DISCONNECT, newSimRequest, serveModbusPdu } from './modbus-slave.js';

/** A running TCP simulator. */
export interface TcpSimulator {
  /** Port it listens on. */
  readonly port: number;
  /** Address it listens on. */
  readonly host: string;
  /** Its devices by unit id. */
  readonly devices: ReadonlyMap<number, SimulatedDevice>;
  /** Requests answered so far (exceptions included, silences not). */
  readonly served: () => number;
  /** Open client connections. */
  readonly connections: () => number;
  /** Close every connection and stop listening. */
  close(): Promise<void>;
}

/** Options of {@link startTcpSimulator}. */
export interface TcpSimulatorOptions {
  /** Devices to serve, told apart by unit id. */
  devices: SimulatedDevice[];
  /** Port (default: a free one). */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** mbap (Modbus TCP, default) or rtu (RTU over TCP: a transparent serial server / DTU). */
  framing?: 'mbap' | 'rtu';
}

/** Largest Modbus TCP reply: 7 header + 253 PDU. */
const MAX_REPLY = 260;
/** Output buffer per chunk: replies are collected here and written once. */
const OUT_SIZE = 64 * 1024;

/** Serve devices on one TCP port. */
export async function startTcpSimulator(opts: TcpSimulatorOptions): Promise<TcpSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const units: (SimulatedDevice | undefined)[] = new Array(256);
  for (const d of opts.devices) {
    if (units[d.unit]) throw new Error(`two simulated devices with unit ${d.unit} on one port`);
    units[d.unit] = d;
  }
  const sockets = new Set<Socket>();
  let served = 0;
  // A disconnect fault closes every connection and refuses new ones while it lasts.
  const down = () => opts.devices.some((d) => d.behaviour('disconnect'));
  const unwatch = opts.devices.map((d) =>
    d.watch((b) => {
      if (b.kind === 'disconnect') for (const s of sockets) s.destroy();
    }),
  );

  const server: Server = createServer((socket) => {
    if (down()) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    const handler = opts.framing === 'rtu' ? rtuHandler(socket, units, () => served++) : mbapHandler(socket, units, () => served++);
    socket.on('data', handler);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    host,
    devices: new Map(opts.devices.map((d) => [d.unit, d])),
    served: () => served,
    connections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const u of unwatch) u();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The 'data' handler of a Modbus TCP connection. */
function mbapHandler(socket: Socket, units: (SimulatedDevice | undefined)[], count: () => void): (chunk: Buffer) => void {
  const extractor = new MbapFrameExtractor();
  const req = newSimRequest();
  // Replies are built in this scratch buffer and copied out once per chunk: the copy is
  // exactly the replies' size (small ones come from Node's buffer pool), and the scratch
  // is never handed to the socket, so it is reused for the connection's life.
  const out = Buffer.allocUnsafe(OUT_SIZE);
  let o = 0;
  let dropped = false;
  const flush = () => {
    if (o === 0) return;
    socket.write(Buffer.from(out.subarray(0, o)));
    o = 0;
  };
  const onFrame = (buf: Uint8Array, start: number, end: number): void => {
    if (dropped) return;
    const unit = buf[start + 6];
    const dev = units[unit];
    if (!dev) return;
    if (o + MAX_REPLY > out.length) flush();
    const pduEnd = serveModbusPdu(dev, buf, start + 7, end, out, o + 7, req);
    if (pduEnd < 0) {
      if (pduEnd === DISCONNECT) dropped = true;
      return;
    }
    const len = pduEnd - o - 6;
    out[o] = buf[start];
    out[o + 1] = buf[start + 1];
    out[o + 2] = 0;
    out[o + 3] = 0;
    out[o + 4] = len >> 8;
    out[o + 5] = len & 0xff;
    out[o + 6] = unit;
    count();
    if (dev.behaviours.length > 0) {
      dev.transformReply(out, o, pduEnd, 'mbap');
      const delay = dev.delayFor(req);
      if (delay > 0) {
        const late = Buffer.from(out.subarray(o, pduEnd));
        setTimeout(() => socket.writable && socket.write(late), delay);
        return;
      }
    }
    o = pduEnd;
  };
  return (chunk: Buffer) => {
    try {
      extractor.push(chunk, onFrame);
    } catch {
      socket.destroy(); // not Modbus: a real device drops the connection
      return;
    }
    if (dropped) {
      socket.destroy();
      return;
    }
    flush();
  };
}

/** The 'data' handler of an RTU-over-TCP connection. */
function rtuHandler(socket: Socket, units: (SimulatedDevice | undefined)[], count: () => void): (chunk: Buffer) => void {
  const req = newSimRequest();
  let pending: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let i = 0;
    const replies: Buffer[] = [];
    while (pending.length - i >= 2) {
      const want = rtuRequestLength(pending.subarray(i), pending.length - i);
      if (want === 0 || (want > 0 && pending.length - i < want)) break;
      const size = want > 0 ? want : pending.length - i; // unknown function: the rest is the frame
      const frame = pending.subarray(i, i + size);
      i += size;
      if (size < 4 || crc16(frame, 0, size - 2) !== (frame[size - 2] | (frame[size - 1] << 8))) continue; // bad CRC: silence
      const dev = units[frame[0]];
      if (!dev) continue;
      const out = Buffer.allocUnsafe(MAX_REPLY);
      out[0] = frame[0];
      const pduEnd = serveModbusPdu(dev, frame, 1, size - 2, out, 1, req);
      if (pduEnd === DISCONNECT) {
        socket.destroy();
        return;
      }
      if (pduEnd < 0 || frame[0] === 0) continue; // silent, or broadcast: no reply
      const end = writeCrc(out, 0, pduEnd);
      count();
      dev.transformReply(out, 0, end, 'rtu');
      const delay = dev.behaviours.length ? dev.delayFor(req) : 0;
      if (delay > 0) setTimeout(() => socket.writable && socket.write(out.subarray(0, end)), delay);
      else replies.push(out.subarray(0, end));
    }
    pending = i >= pending.length ? Buffer.alloc(0) : Buffer.from(pending.subarray(i));
    if (replies.length) socket.write(replies.length === 1 ? replies[0] : Buffer.concat(replies));
  };
}

/** A running fleet: many devices, each on its own port, in one process. */
export interface TcpFleet {
  /** One simulator per device, in the order given. */
  readonly simulators: readonly TcpSimulator[];
  /** The port of each device, in the order given. */
  readonly ports: readonly number[];
  /** Requests answered by all devices. */
  readonly served: () => number;
  /** Close every port. */
  close(): Promise<void>;
}

/**
 * Serve each device on its own port (basePort, basePort + 1, ... or free
 * ports when basePort is 0 or absent), all in this process.
 */
export async function startTcpFleet(opts: { devices: SimulatedDevice[]; basePort?: number; host?: string; framing?: 'mbap' | 'rtu' }): Promise<TcpFleet> {
  const simulators: TcpSimulator[] = [];
  try {
    for (let i = 0; i < opts.devices.length; i++) {
      simulators.push(
        await startTcpSimulator({ devices: [opts.devices[i]], port: opts.basePort ? opts.basePort + i : 0, host: opts.host, framing: opts.framing }),
      );
    }
  } catch (e) {
    await Promise.all(simulators.map((s) => s.close()));
    throw e;
  }
  return {
    simulators,
    ports: simulators.map((s) => s.port),
    served: () => simulators.reduce((n, s) => n + s.served(), 0),
    close: async () => {
      await Promise.all(simulators.map((s) => s.close()));
    },
  };
}
