/**
 * A Modbus TCP slave that serves simulated devices (one per unit id, like a
 * serial server in front of an RS-485 bus, or one device on its own port).
 *
 *   socket bytes ─▶ MBAP frames ─▶ unit's SimulatedDevice ─▶ response frame
 *
 * Requests are answered in arrival order; a client may pipeline many by
 * transaction id. Unknown units get no answer, as on a real bus.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { RegisterTable } from '../profile.js';
import { SimulatedDevice, applyWrite } from './device.js';

/** Modbus exception codes the simulator raises. */
const ILLEGAL_FUNCTION = 0x01;
const ILLEGAL_ADDRESS = 0x02;
const ILLEGAL_VALUE = 0x03;

export interface TcpSimulator {
  readonly port: number;
  readonly devices: ReadonlyMap<number, SimulatedDevice>;
  /** Requests answered so far. */
  readonly served: () => number;
  close(): Promise<void>;
}

export async function startTcpSimulator(opts: {
  devices: SimulatedDevice[];
  port?: number;
  host?: string;
}): Promise<TcpSimulator> {
  const devices = new Map(opts.devices.map((d) => [d.unit, d]));
  const sockets = new Set<Socket>();
  let served = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let off = 0;
      const replies: Buffer[] = [];
      while (pending.length - off >= 8) {
        const len = pending.readUInt16BE(off + 4);
        if (len < 2 || len > 254) {
          socket.destroy(); // not Modbus: a real device drops the connection
          return;
        }
        if (pending.length - off < 6 + len) break;
        const frame = pending.subarray(off, off + 6 + len);
        off += 6 + len;
        const dev = devices.get(frame[6]);
        if (!dev || dev.behaviour('silent')) continue;
        const reply = answer(dev, frame);
        served++;
        const slow = dev.behaviour('slow');
        if (slow) setTimeout(() => socket.writable && socket.write(reply), slow.delayMs);
        else replies.push(reply);
      }
      pending = off === pending.length ? Buffer.alloc(0) : pending.subarray(off);
      if (replies.length) socket.write(replies.length === 1 ? replies[0] : Buffer.concat(replies));
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    devices,
    served: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function exception(frame: Buffer, fc: number, code: number): Buffer {
  const out = Buffer.alloc(9);
  frame.copy(out, 0, 0, 4);
  out.writeUInt16BE(3, 4);
  out[6] = frame[6];
  out[7] = fc | 0x80;
  out[8] = code;
  return out;
}

function reply(frame: Buffer, pdu: Buffer): Buffer {
  const out = Buffer.alloc(7 + pdu.length);
  frame.copy(out, 0, 0, 4);
  out.writeUInt16BE(pdu.length + 1, 4);
  out[6] = frame[6];
  pdu.copy(out, 7);
  return out;
}

const readTables: Record<number, RegisterTable> = { 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input' };

/** The response frame for one request frame. */
export function answer(dev: SimulatedDevice, frame: Buffer): Buffer {
  const fc = frame[7];
  const forced = dev.behaviour('exception');
  if (forced) return exception(frame, fc, forced.code);
  if (frame.length < 12) return exception(frame, fc, ILLEGAL_VALUE);
  const addr = frame.readUInt16BE(8);
  const qty = frame.readUInt16BE(10);
  dev.refresh();
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      const table = dev.tables[readTables[fc]];
      const bits = fc <= 2;
      if (qty < 1 || qty > (bits ? 2000 : 125)) return exception(frame, fc, ILLEGAL_VALUE);
      if (addr + qty > table.length) return exception(frame, fc, ILLEGAL_ADDRESS);
      if (bits) {
        const n = Math.ceil(qty / 8);
        const pdu = Buffer.alloc(2 + n);
        pdu[0] = fc;
        pdu[1] = n;
        for (let i = 0; i < qty; i++) if (table[addr + i]) pdu[2 + (i >> 3)] |= 1 << (i & 7);
        return reply(frame, pdu);
      }
      const pdu = Buffer.alloc(2 + qty * 2);
      pdu[0] = fc;
      pdu[1] = qty * 2;
      for (let i = 0; i < qty; i++) pdu.writeUInt16BE(table[addr + i], 2 + i * 2);
      return reply(frame, pdu);
    }
    case 5: {
      if (qty !== 0xff00 && qty !== 0) return exception(frame, fc, ILLEGAL_VALUE);
      if (addr >= dev.tables.coil.length) return exception(frame, fc, ILLEGAL_ADDRESS);
      applyWrite(dev, 'coil', addr, [qty ? 1 : 0]);
      return reply(frame, frame.subarray(7, 12));
    }
    case 6: {
      if (addr >= dev.tables.holding.length) return exception(frame, fc, ILLEGAL_ADDRESS);
      applyWrite(dev, 'holding', addr, [qty]);
      return reply(frame, frame.subarray(7, 12));
    }
    case 15:
    case 16: {
      const bits = fc === 15;
      const table = bits ? 'coil' : 'holding';
      const count = frame[12];
      if (qty < 1 || qty > (bits ? 1968 : 123) || frame.length < 13 + count || count !== (bits ? Math.ceil(qty / 8) : qty * 2))
        return exception(frame, fc, ILLEGAL_VALUE);
      if (addr + qty > dev.tables[table].length) return exception(frame, fc, ILLEGAL_ADDRESS);
      const words: number[] = [];
      for (let i = 0; i < qty; i++)
        words.push(bits ? (frame[13 + (i >> 3)] >> (i & 7)) & 1 : frame.readUInt16BE(13 + i * 2));
      applyWrite(dev, table, addr, words);
      return reply(frame, frame.subarray(7, 12));
    }
    default:
      return exception(frame, fc, ILLEGAL_FUNCTION);
  }
}
