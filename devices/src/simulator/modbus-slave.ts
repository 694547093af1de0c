/**
 * The Modbus slave logic shared by every framing (TCP, RTU over a pty,
 * RTU over TCP): one request PDU in, one response PDU out, written into the
 * caller's buffer.
 *
 *   request PDU ─▶ behaviours' onRequest ─▶ FC1-4: copy from the register image
 *                                         └▶ FC5/6/15/16: parseRequestPdu (shared codec) ─▶ applyWrite ─▶ echo
 *                                         └▶ FC43/14: the device's identification objects (or exception 01)
 *
 * Reads of holding and input registers are the hot path of the benchmarks:
 * they are parsed inline and answered with one native copy from the
 * device's big-endian byte image, without allocating.
 */
import { ExceptionCodes, parseRequestPdu, registerCount, writeDeviceIdResponse, writeExceptionPdu, writeResponsePdu } from '@lifeline/shared/protocols';
import type { RegisterTable } from '../profile.js';
import type { SimRequest } from './behaviours.js';
import { applyWrite, type SimulatedDevice } from './device.js';

/** `serveModbusPdu` result: say nothing. */
export const NO_REPLY = -1;
/** `serveModbusPdu` result: drop the link. */
export const DISCONNECT = -2;

const READ_TABLES: readonly (RegisterTable | undefined)[] = [undefined, 'coil', 'discrete', 'holding', 'input'];

/** A reusable request record for behaviours (one per server, so the hot path does not allocate). */
export function newSimRequest(): SimRequest {
  return { protocol: 'modbus', functionCode: 0, table: undefined, address: 0, quantity: 0 };
}

/**
 * Answer the request PDU `buf[start, end)` addressed to `dev`. Writes the
 * response PDU (function code first) at `out[o]` and returns its end offset,
 * or NO_REPLY / DISCONNECT. `req` is scratch space for behaviours.
 */
export function serveModbusPdu(dev: SimulatedDevice, buf: Uint8Array, start: number, end: number, out: Buffer, o: number, req: SimRequest): number {
  const len = end - start;
  const fc = len > 0 ? buf[start] : 0;
  dev.served++;
  if (dev.behaviours.length > 0) {
    req.protocol = 'modbus';
    req.functionCode = fc;
    req.table = fc >= 1 && fc <= 4 ? READ_TABLES[fc] : fc === 5 || fc === 15 ? 'coil' : fc === 6 || fc === 16 ? 'holding' : undefined;
    req.address = len >= 3 ? (buf[start + 1] << 8) | buf[start + 2] : 0;
    req.quantity = len >= 5 ? (buf[start + 3] << 8) | buf[start + 4] : 0;
    const action = dev.actionFor(req);
    if (action) {
      if (action.kind === 'silent') return NO_REPLY;
      if (action.kind === 'disconnect') return DISCONNECT;
      return writeExceptionPdu(out, o, fc & 0x7f || 1, action.code);
    }
  }
  if (fc >= 1 && fc <= 4 && len === 5) {
    const address = (buf[start + 1] << 8) | buf[start + 2];
    const quantity = (buf[start + 3] << 8) | buf[start + 4];
    const bits = fc <= 2;
    if (quantity < 1 || quantity > (bits ? 2000 : 125)) return writeExceptionPdu(out, o, fc, ExceptionCodes.IllegalDataValue);
    const table = READ_TABLES[fc]!;
    const t = dev.tables[table];
    if (address + quantity > t.length) return writeExceptionPdu(out, o, fc, ExceptionCodes.IllegalDataAddress);
    if (dev.strictGaps && !allMapped(dev.mapped[table], address, quantity)) return writeExceptionPdu(out, o, fc, ExceptionCodes.IllegalDataAddress);
    dev.refresh();
    // A read starting at a burst block finds a burst recorded since the last one.
    const burst = dev.burst;
    if (burst && address === burst.burst.address && table === (burst.burst.table ?? 'holding')) burst.record();
    out[o] = fc;
    if (bits) {
      const n = (quantity + 7) >> 3;
      out[o + 1] = n;
      out.fill(0, o + 2, o + 2 + n);
      for (let i = 0; i < quantity; i++) if (t[address + i]) out[o + 2 + (i >> 3)] |= 1 << (i & 7);
      return o + 2 + n;
    }
    out[o + 1] = quantity * 2;
    const img = table === 'holding' ? dev.bytes.holding : dev.bytes.input;
    return o + 2 + img.copy(out, o + 2, address * 2, (address + quantity) * 2);
  }
  return serveOther(dev, buf, start, end, out, o);
}

function allMapped(mask: Uint8Array, address: number, quantity: number): boolean {
  for (let a = address; a < address + quantity; a++) if (!mask[a]) return false;
  return true;
}

/** Writes and malformed requests: the shared codec parses, the device applies. */
function serveOther(dev: SimulatedDevice, buf: Uint8Array, start: number, end: number, out: Buffer, o: number): number {
  const parsed = parseRequestPdu(buf, start, end, 0, undefined);
  if (parsed.kind === 'exception') return writeExceptionPdu(out, o, parsed.functionCode || 1, parsed.exceptionCode);
  const r = parsed.request;
  switch (r.functionCode) {
    case 1:
    case 2:
    case 3:
    case 4:
      // Only reachable with a malformed length, which parseRequestPdu refuses above.
      return writeExceptionPdu(out, o, r.functionCode, ExceptionCodes.IllegalDataValue);
    case 5:
    case 15: {
      const values = r.functionCode === 5 ? [r.value ? 1 : 0] : Array.from(r.values, (v) => (v ? 1 : 0));
      if (r.address + values.length > dev.tables.coil.length) return writeExceptionPdu(out, o, r.functionCode, ExceptionCodes.IllegalDataAddress);
      if (!writable(dev, 'coil', r.address, values.length)) return writeExceptionPdu(out, o, r.functionCode, ExceptionCodes.IllegalDataAddress);
      applyWrite(dev, 'coil', r.address, values);
      return r.functionCode === 5
        ? writeResponsePdu(out, o, { functionCode: 5, address: r.address, value: r.value })
        : writeResponsePdu(out, o, { functionCode: 15, address: r.address, quantity: values.length });
    }
    case 6:
    case 16: {
      const values = r.functionCode === 6 ? [r.value] : Array.from(r.values);
      if (r.address + values.length > dev.tables.holding.length) return writeExceptionPdu(out, o, r.functionCode, ExceptionCodes.IllegalDataAddress);
      if (!writable(dev, 'holding', r.address, values.length)) return writeExceptionPdu(out, o, r.functionCode, ExceptionCodes.IllegalDataAddress);
      applyWrite(dev, 'holding', r.address, values);
      return r.functionCode === 6
        ? writeResponsePdu(out, o, { functionCode: 6, address: r.address, value: r.value })
        : writeResponsePdu(out, o, { functionCode: 16, address: r.address, quantity: values.length });
    }
    case 43: {
      if (!dev.identification) return writeExceptionPdu(out, o, 43, ExceptionCodes.IllegalFunction);
      const end = writeDeviceIdResponse(out, o, r.readDeviceId, r.objectId, dev.identification);
      return end < 0 ? writeExceptionPdu(out, o, 43, ExceptionCodes.IllegalDataAddress) : end;
    }
  }
}

/** A write must land on points the profile marks rw (as a real device refuses writes to read-only registers). */
function writable(dev: SimulatedDevice, table: RegisterTable, address: number, count: number): boolean {
  if (dev.profile.protocol !== 'modbus') return false;
  for (let a = address; a < address + count; a++) {
    const p = dev.profile.points.find((pt) => pt.table === table && a >= pt.address && a < pt.address + registerCount(pt.type));
    if (!p || p.access !== 'rw') return false;
  }
  return true;
}
