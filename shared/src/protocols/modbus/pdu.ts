/**
 * Modbus PDUs (function code + data), shared by the RTU and TCP framings.
 *
 *   client:  ModbusRequest ──writeRequestPdu──▶ bytes ··· bytes ──parseResponsePdu──▶ ModbusResponse
 *   server:  bytes ──parseRequestPdu──▶ ModbusRequest ··· ModbusReply ──writeResponsePdu──▶ bytes
 *
 * Limits and layouts follow the Modbus Application Protocol Specification
 * V1.1b3. Functions write into caller buffers and return the end offset so a
 * hot path can frame without intermediate allocations.
 */
import { ErrorCodes, LifelineError } from '../../errors.js';
import { frameInvalid, hexByte } from '../bytes.js';
import { DEVICE_ID_MEI, parseDeviceIdResponse, writeDeviceIdRequest, type DeviceIdResponse } from './device-id.js';

/** The function codes this codec speaks. */
export const FunctionCodes = {
  /** 0x01: read 1..2000 coils. */
  ReadCoils: 1,
  /** 0x02: read 1..2000 discrete inputs. */
  ReadDiscreteInputs: 2,
  /** 0x03: read 1..125 holding registers. */
  ReadHoldingRegisters: 3,
  /** 0x04: read 1..125 input registers. */
  ReadInputRegisters: 4,
  /** 0x05: write one coil (0xFF00 on, 0x0000 off). */
  WriteSingleCoil: 5,
  /** 0x06: write one holding register. */
  WriteSingleRegister: 6,
  /** 0x0F: write 1..1968 coils. */
  WriteMultipleCoils: 15,
  /** 0x10: write 1..123 holding registers. */
  WriteMultipleRegisters: 16,
  /** 0x2B / MEI 0x0E: read device identification (vendor, product code, revision; device-id.ts). */
  ReadDeviceIdentification: 43,
} as const;
/** One of the supported function codes. */
export type FunctionCode = (typeof FunctionCodes)[keyof typeof FunctionCodes];

const FUNCTION_NAMES: Record<number, string> = {
  1: 'read coils',
  2: 'read discrete inputs',
  3: 'read holding registers',
  4: 'read input registers',
  5: 'write single coil',
  6: 'write single register',
  15: 'write multiple coils',
  16: 'write multiple registers',
  43: 'read device identification',
};

/** `0x03 (read holding registers)`; unknown codes print as `0x2B`. */
export function describeFunction(fc: number): string {
  const name = FUNCTION_NAMES[fc];
  return name ? `${hexByte(fc)} (${name})` : hexByte(fc);
}

/** Whether `fc` is one of the supported function codes. */
export function isSupportedFunction(fc: number): fc is FunctionCode {
  return FUNCTION_NAMES[fc] !== undefined;
}

/** Modbus exception codes (the second byte of an exception response). */
export const ExceptionCodes = {
  /** 0x01: the function code is not supported by the device. */
  IllegalFunction: 0x01,
  /** 0x02: the address (or address + quantity) is outside the device's map. */
  IllegalDataAddress: 0x02,
  /** 0x03: a value in the request (quantity, byte count, coil value) is not allowed. */
  IllegalDataValue: 0x03,
  /** 0x04: the device failed while performing the action. */
  SlaveDeviceFailure: 0x04,
  /** 0x05: accepted, processing takes long; poll later. */
  Acknowledge: 0x05,
  /** 0x06: the device is busy with a long command; retry later. */
  SlaveDeviceBusy: 0x06,
  /** 0x08: memory parity error reading a file record. */
  MemoryParityError: 0x08,
  /** 0x0A: the gateway has no path to the target (misconfigured or overloaded). */
  GatewayPathUnavailable: 0x0a,
  /** 0x0B: the gateway got no answer from the target device. */
  GatewayTargetFailedToRespond: 0x0b,
} as const;

const EXCEPTION_NAMES: Record<number, string> = {
  0x01: 'illegal function',
  0x02: 'illegal data address',
  0x03: 'illegal data value',
  0x04: 'slave device failure',
  0x05: 'acknowledge',
  0x06: 'slave device busy',
  0x08: 'memory parity error',
  0x0a: 'gateway path unavailable',
  0x0b: 'gateway target device failed to respond',
};

/** Human name of an exception code, e.g. `illegal data address`. */
export function exceptionName(code: number): string {
  return EXCEPTION_NAMES[code] ?? 'unknown exception';
}

/** `details` of a DEVICE_EXCEPTION raised for a Modbus exception response. */
export interface ModbusExceptionDetails {
  /** Unit (slave) id that answered. */
  unitId: number;
  /** The request's function code (without the 0x80 bit). */
  functionCode: number;
  /** The exception code the device sent. */
  exceptionCode: number;
  /** Its name, e.g. `illegal data address`. */
  exceptionName: string;
  /** MBAP transaction id (Modbus TCP only). */
  transactionId: number | undefined;
}

/** The DEVICE_EXCEPTION error for an exception response. */
export function modbusExceptionError(
  unitId: number,
  functionCode: number,
  exceptionCode: number,
  transactionId?: number,
): LifelineError {
  const details: ModbusExceptionDetails = {
    unitId,
    functionCode,
    exceptionCode,
    exceptionName: exceptionName(exceptionCode),
    transactionId,
  };
  return new LifelineError(
    ErrorCodes.DeviceException,
    `unit ${unitId} ${describeFunction(functionCode)}: exception ${hexByte(exceptionCode)} ${details.exceptionName}`,
    { details },
  );
}

/** Largest quantities per request (Modbus Application Protocol V1.1b3). */
export const ModbusLimits = {
  /** FC1/FC2 quantity of bits. */
  readBits: 2000,
  /** FC3/FC4 quantity of registers. */
  readRegisters: 125,
  /** FC15 quantity of coils. */
  writeCoils: 1968,
  /** FC16 quantity of registers. */
  writeRegisters: 123,
} as const;

/** A request a client sends (or a server parsed). Addresses are 0-based protocol addresses. */
export type ModbusRequest =
  | { functionCode: 1 | 2 | 3 | 4; address: number; quantity: number }
  | { functionCode: 5; address: number; value: boolean }
  | { functionCode: 6; address: number; value: number }
  | { functionCode: 15; address: number; values: ArrayLike<boolean> }
  | { functionCode: 16; address: number; values: ArrayLike<number> }
  /** FC43/MEI 14: readDeviceId 1 basic, 2 regular, 3 extended (stream from objectId), 4 one object. */
  | { functionCode: 43; readDeviceId: 1 | 2 | 3 | 4; objectId: number };

/** Who answered: unit id, and the MBAP transaction id on TCP (`undefined` on RTU). */
export interface ModbusEnvelope {
  /** Unit (slave) id. */
  unitId: number;
  /** MBAP transaction id; `undefined` for RTU. */
  transactionId: number | undefined;
}

/** A parsed normal response. Register data stays in the frame (big-endian) to avoid copies. */
export type ModbusResponse = ModbusEnvelope &
  (
    | {
        functionCode: 1 | 2;
        /** Bit states; as many as requested when the request is known, else byteCount × 8. */
        bits: boolean[];
      }
    | {
        functionCode: 3 | 4;
        /** Register bytes, big-endian, a view into the frame (valid while the frame is). */
        data: Uint8Array;
        /** Number of registers (data.length / 2). */
        count: number;
      }
    | { functionCode: 5; address: number; value: boolean }
    | { functionCode: 6; address: number; value: number }
    | { functionCode: 15 | 16; address: number; quantity: number }
    | DeviceIdResponse
  );

/** What a server answers a request with (input of the response builders). */
export type ModbusReply =
  | { functionCode: 1 | 2; bits: ArrayLike<boolean | number> }
  | { functionCode: 3 | 4; registers: ArrayLike<number> }
  | { functionCode: 5; address: number; value: boolean }
  | { functionCode: 6; address: number; value: number }
  | { functionCode: 15 | 16; address: number; quantity: number };

/** A request as a server parsed it: either a request to serve or the exception to answer. */
export type ModbusRequestFrame = ModbusEnvelope &
  (
    | { kind: 'request'; request: ModbusRequest }
    | {
        kind: 'exception';
        /** Function code of the request (without the 0x80 bit). */
        functionCode: number;
        /** The exception the server should answer with (01 unknown function, 02 address, 03 value). */
        exceptionCode: number;
        /** Why, for logs. */
        reason: string;
      }
  );

/** Register `i` (0-based) of an FC3/FC4 response as an unsigned 16-bit number. */
export function registerAt(response: { data: Uint8Array }, i: number): number {
  const d = response.data;
  return (d[2 * i] << 8) | d[2 * i + 1];
}

/** All registers of an FC3/FC4 response, copied into a new Uint16Array. */
export function readRegisters(response: { data: Uint8Array; count: number }): Uint16Array {
  const out = new Uint16Array(response.count);
  const d = response.data;
  for (let i = 0; i < out.length; i++) out[i] = (d[2 * i] << 8) | d[2 * i + 1];
  return out;
}

function checkInt(value: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw frameInvalid(`${field}: must be an integer ${min}..${max}, got ${value}`);
  }
}

function checkRange(address: number, quantity: number, maxQuantity: number): void {
  checkInt(address, 0, 0xffff, 'address');
  checkInt(quantity, 1, maxQuantity, 'quantity');
  if (address + quantity > 0x10000) {
    throw frameInvalid(`address: ${address} + quantity ${quantity} runs past register 65535`);
  }
}

/** Byte length of the request PDU. */
export function requestPduLength(req: ModbusRequest): number {
  switch (req.functionCode) {
    case 15:
      return 6 + ((req.values.length + 7) >> 3);
    case 16:
      return 6 + 2 * req.values.length;
    case 43:
      return 4;
    default:
      return 5;
  }
}

/** Byte length of the normal response PDU to `req`. */
export function expectedResponsePduLength(req: ModbusRequest): number {
  switch (req.functionCode) {
    case 1:
    case 2:
      return 2 + ((req.quantity + 7) >> 3);
    case 3:
    case 4:
      return 2 + 2 * req.quantity;
    case 43:
      // Unknown until it arrives: the largest PDU, so a reply timeout allows for it.
      return 253;
    default:
      return 5;
  }
}

/**
 * Write the request PDU at `out[o]`; returns the end offset. Validates every
 * field (FRAME_INVALID naming it) so a bad plan never reaches the wire.
 */
export function writeRequestPdu(out: Uint8Array, o: number, req: ModbusRequest): number {
  const fc = req.functionCode;
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      checkRange(req.address, req.quantity, fc <= 2 ? ModbusLimits.readBits : ModbusLimits.readRegisters);
      out[o] = fc;
      out[o + 1] = req.address >> 8;
      out[o + 2] = req.address & 0xff;
      out[o + 3] = req.quantity >> 8;
      out[o + 4] = req.quantity & 0xff;
      return o + 5;
    }
    case 5: {
      checkInt(req.address, 0, 0xffff, 'address');
      const coil: unknown = req.value;
      if (typeof coil !== 'boolean') throw frameInvalid(`value: coil value must be true or false, got ${String(coil)}`);
      out[o] = 5;
      out[o + 1] = req.address >> 8;
      out[o + 2] = req.address & 0xff;
      out[o + 3] = req.value ? 0xff : 0;
      out[o + 4] = 0;
      return o + 5;
    }
    case 6: {
      checkInt(req.address, 0, 0xffff, 'address');
      checkInt(req.value, -0x8000, 0xffff, 'value');
      const v = req.value & 0xffff;
      out[o] = 6;
      out[o + 1] = req.address >> 8;
      out[o + 2] = req.address & 0xff;
      out[o + 3] = v >> 8;
      out[o + 4] = v & 0xff;
      return o + 5;
    }
    case 15: {
      const n = req.values.length;
      checkRange(req.address, n, ModbusLimits.writeCoils);
      const bc = (n + 7) >> 3;
      out[o] = 15;
      out[o + 1] = req.address >> 8;
      out[o + 2] = req.address & 0xff;
      out[o + 3] = n >> 8;
      out[o + 4] = n & 0xff;
      out[o + 5] = bc;
      out.fill(0, o + 6, o + 6 + bc);
      for (let i = 0; i < n; i++) if (req.values[i]) out[o + 6 + (i >> 3)] |= 1 << (i & 7);
      return o + 6 + bc;
    }
    case 16: {
      const n = req.values.length;
      checkRange(req.address, n, ModbusLimits.writeRegisters);
      out[o] = 16;
      out[o + 1] = req.address >> 8;
      out[o + 2] = req.address & 0xff;
      out[o + 3] = n >> 8;
      out[o + 4] = n & 0xff;
      out[o + 5] = 2 * n;
      let p = o + 6;
      for (let i = 0; i < n; i++) {
        const raw = req.values[i];
        checkInt(raw, -0x8000, 0xffff, `values[${i}]`);
        const v = raw & 0xffff;
        out[p++] = v >> 8;
        out[p++] = v & 0xff;
      }
      return p;
    }
    case 43:
      return writeDeviceIdRequest(out, o, req.readDeviceId, req.objectId);
    default:
      throw frameInvalid(`functionCode: ${String((req as { functionCode: unknown }).functionCode)} is not supported (1, 2, 3, 4, 5, 6, 15, 16, 43)`);
  }
}

/**
 * Parse the response PDU in buf[start, end) (function code first). An exception
 * response throws DEVICE_EXCEPTION (details: ModbusExceptionDetails); a
 * malformed PDU, or one that does not answer `request`, throws FRAME_INVALID.
 */
export function parseResponsePdu(
  buf: Uint8Array,
  start: number,
  end: number,
  unitId: number,
  transactionId: number | undefined,
  request?: ModbusRequest,
): ModbusResponse {
  const len = end - start;
  if (len < 1) throw frameInvalid('function: missing (empty PDU)');
  const fc = buf[start];
  if (fc & 0x80) {
    const base = fc & 0x7f;
    if (len !== 2) throw frameInvalid(`exception response: PDU must be 2 bytes (function, exception code), got ${len}`);
    if (request && base !== request.functionCode) {
      throw frameInvalid(`function: exception for ${describeFunction(base)} does not answer ${describeFunction(request.functionCode)}`);
    }
    throw modbusExceptionError(unitId, base, buf[start + 1], transactionId);
  }
  if (request && fc !== request.functionCode) {
    throw frameInvalid(`function: expected ${describeFunction(request.functionCode)}, found ${describeFunction(fc)}`);
  }
  switch (fc) {
    case 1:
    case 2: {
      const bc = byteCount(buf, start, len);
      let n = bc * 8;
      if (request) {
        const q = (request as { quantity: number }).quantity;
        const want = (q + 7) >> 3;
        if (bc !== want) throw frameInvalid(`byte count: expected ${want} for ${q} bits, found ${bc}`);
        n = q;
      }
      const bits = new Array<boolean>(n);
      for (let i = 0; i < n; i++) bits[i] = ((buf[start + 2 + (i >> 3)] >> (i & 7)) & 1) === 1;
      return { unitId, transactionId, functionCode: fc, bits };
    }
    case 3:
    case 4: {
      const bc = byteCount(buf, start, len);
      if (bc & 1) throw frameInvalid(`byte count: must be even for registers, got ${bc}`);
      if (request) {
        const q = (request as { quantity: number }).quantity;
        if (bc !== 2 * q) throw frameInvalid(`byte count: expected ${2 * q} for ${q} registers, found ${bc}`);
      }
      return { unitId, transactionId, functionCode: fc, data: buf.subarray(start + 2, end), count: bc >> 1 };
    }
    case 5:
    case 6:
    case 15:
    case 16: {
      if (len !== 5) throw frameInvalid(`length: ${describeFunction(fc)} response PDU must be 5 bytes, got ${len}`);
      const address = (buf[start + 1] << 8) | buf[start + 2];
      const word = (buf[start + 3] << 8) | buf[start + 4];
      const asked = request && (request as { address: number }).address;
      if (request && address !== asked) {
        throw frameInvalid(`address: echo ${address} does not match the request's ${asked}`);
      }
      if (fc === 5) {
        if (word !== 0xff00 && word !== 0) throw frameInvalid(`value: coil value must be 0xFF00 or 0x0000, got 0x${word.toString(16).toUpperCase().padStart(4, '0')}`);
        const value = word === 0xff00;
        if (request && value !== (request as { value: boolean }).value) throw frameInvalid(`value: echo ${value} does not match the request's`);
        return { unitId, transactionId, functionCode: 5, address, value };
      }
      if (fc === 6) {
        if (request && word !== ((request as { value: number }).value & 0xffff)) {
          throw frameInvalid(`value: echo ${word} does not match the request's ${(request as { value: number }).value & 0xffff}`);
        }
        return { unitId, transactionId, functionCode: 6, address, value: word };
      }
      if (request && word !== (request as { values: ArrayLike<unknown> }).values.length) {
        throw frameInvalid(`quantity: echo ${word} does not match the request's ${(request as { values: ArrayLike<unknown> }).values.length}`);
      }
      return { unitId, transactionId, functionCode: fc, address, quantity: word };
    }
    case 43:
      return { unitId, transactionId, ...parseDeviceIdResponse(buf, start, end) };
    default:
      throw frameInvalid(`function: ${hexByte(fc)} is not supported (1, 2, 3, 4, 5, 6, 15, 16, 43)`);
  }
}

function byteCount(buf: Uint8Array, start: number, len: number): number {
  if (len < 2) throw frameInvalid('byte count: missing');
  const bc = buf[start + 1];
  if (len - 2 !== bc) throw frameInvalid(`byte count: ${bc} but ${len - 2} data bytes follow`);
  return bc;
}

/**
 * Parse a request PDU in buf[start, end) on the server side. A request the
 * server must refuse comes back as kind 'exception' with the exception code to
 * answer (01 unsupported function, 02 range past 65535, 03 bad quantity, byte
 * count, coil value or length), never as a throw.
 */
export function parseRequestPdu(
  buf: Uint8Array,
  start: number,
  end: number,
  unitId: number,
  transactionId: number | undefined,
): ModbusRequestFrame {
  const len = end - start;
  const fc = len > 0 ? buf[start] : 0;
  const refuse = (exceptionCode: number, reason: string): ModbusRequestFrame => ({
    unitId,
    transactionId,
    kind: 'exception',
    functionCode: fc & 0x7f,
    exceptionCode,
    reason,
  });
  if (len < 1) return refuse(ExceptionCodes.IllegalFunction, 'empty PDU');
  if (!isSupportedFunction(fc)) return refuse(ExceptionCodes.IllegalFunction, `function ${hexByte(fc)} is not supported`);
  if (fc === 43) {
    if (len !== 4) return refuse(ExceptionCodes.IllegalDataValue, `PDU must be 4 bytes, got ${len}`);
    if (buf[start + 1] !== DEVICE_ID_MEI) return refuse(ExceptionCodes.IllegalFunction, `MEI type ${hexByte(buf[start + 1])} is not supported`);
    const code = buf[start + 2];
    if (code < 1 || code > 4) return refuse(ExceptionCodes.IllegalDataValue, `read device id code ${code} outside 1..4`);
    return { unitId, transactionId, kind: 'request', request: { functionCode: 43, readDeviceId: code as 1 | 2 | 3 | 4, objectId: buf[start + 3] } };
  }
  if (len < 5) return refuse(ExceptionCodes.IllegalDataValue, `PDU of ${len} bytes is too short for ${describeFunction(fc)}`);
  const address = (buf[start + 1] << 8) | buf[start + 2];
  const word = (buf[start + 3] << 8) | buf[start + 4];
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      if (len !== 5) return refuse(ExceptionCodes.IllegalDataValue, `PDU must be 5 bytes, got ${len}`);
      const max = fc <= 2 ? ModbusLimits.readBits : ModbusLimits.readRegisters;
      if (word < 1 || word > max) return refuse(ExceptionCodes.IllegalDataValue, `quantity ${word} outside 1..${max}`);
      if (address + word > 0x10000) return refuse(ExceptionCodes.IllegalDataAddress, `address ${address} + quantity ${word} past 65535`);
      return { unitId, transactionId, kind: 'request', request: { functionCode: fc, address, quantity: word } };
    }
    case 5:
      if (len !== 5) return refuse(ExceptionCodes.IllegalDataValue, `PDU must be 5 bytes, got ${len}`);
      if (word !== 0xff00 && word !== 0) return refuse(ExceptionCodes.IllegalDataValue, `coil value 0x${word.toString(16)} is neither 0xFF00 nor 0x0000`);
      return { unitId, transactionId, kind: 'request', request: { functionCode: 5, address, value: word === 0xff00 } };
    case 6:
      if (len !== 5) return refuse(ExceptionCodes.IllegalDataValue, `PDU must be 5 bytes, got ${len}`);
      return { unitId, transactionId, kind: 'request', request: { functionCode: 6, address, value: word } };
    case 15:
    case 16: {
      if (len < 6) return refuse(ExceptionCodes.IllegalDataValue, 'byte count missing');
      const bc = buf[start + 5];
      const max = fc === 15 ? ModbusLimits.writeCoils : ModbusLimits.writeRegisters;
      if (word < 1 || word > max) return refuse(ExceptionCodes.IllegalDataValue, `quantity ${word} outside 1..${max}`);
      const want = fc === 15 ? (word + 7) >> 3 : 2 * word;
      if (bc !== want) return refuse(ExceptionCodes.IllegalDataValue, `byte count ${bc}, expected ${want} for quantity ${word}`);
      if (len !== 6 + bc) return refuse(ExceptionCodes.IllegalDataValue, `byte count ${bc} but ${len - 6} data bytes follow`);
      if (address + word > 0x10000) return refuse(ExceptionCodes.IllegalDataAddress, `address ${address} + quantity ${word} past 65535`);
      if (fc === 15) {
        const values = new Array<boolean>(word);
        for (let i = 0; i < word; i++) values[i] = ((buf[start + 6 + (i >> 3)] >> (i & 7)) & 1) === 1;
        return { unitId, transactionId, kind: 'request', request: { functionCode: 15, address, values } };
      }
      const values = new Array<number>(word);
      for (let i = 0; i < word; i++) values[i] = (buf[start + 6 + 2 * i] << 8) | buf[start + 7 + 2 * i];
      return { unitId, transactionId, kind: 'request', request: { functionCode: 16, address, values } };
    }
  }
}

/** Byte length of the response PDU for `reply`. */
export function replyPduLength(reply: ModbusReply): number {
  switch (reply.functionCode) {
    case 1:
    case 2:
      return 2 + ((reply.bits.length + 7) >> 3);
    case 3:
    case 4:
      return 2 + 2 * reply.registers.length;
    default:
      return 5;
  }
}

/** Write the normal response PDU for `reply` at `out[o]`; returns the end offset. */
export function writeResponsePdu(out: Uint8Array, o: number, reply: ModbusReply): number {
  const fc = reply.functionCode;
  switch (fc) {
    case 1:
    case 2: {
      const n = reply.bits.length;
      checkInt(n, 1, ModbusLimits.readBits, 'bits.length');
      const bc = (n + 7) >> 3;
      out[o] = fc;
      out[o + 1] = bc;
      out.fill(0, o + 2, o + 2 + bc);
      for (let i = 0; i < n; i++) if (reply.bits[i]) out[o + 2 + (i >> 3)] |= 1 << (i & 7);
      return o + 2 + bc;
    }
    case 3:
    case 4: {
      const regs = reply.registers;
      const n = regs.length;
      if (n < 1 || n > ModbusLimits.readRegisters) {
        throw frameInvalid(`registers.length: must be 1..${ModbusLimits.readRegisters}, got ${n}`);
      }
      out[o] = fc;
      out[o + 1] = 2 * n;
      let p = o + 2;
      for (let i = 0; i < n; i++) {
        // Masking keeps int16 values and Uint16Array contents both right without a per-value check.
        const v = regs[i] & 0xffff;
        out[p++] = v >> 8;
        out[p++] = v & 0xff;
      }
      return p;
    }
    case 5:
    case 6:
    case 15:
    case 16: {
      checkInt(reply.address, 0, 0xffff, 'address');
      let word: number;
      if (fc === 5) word = (reply as { value: boolean }).value ? 0xff00 : 0;
      else if (fc === 6) {
        const v = (reply as { value: number }).value;
        checkInt(v, -0x8000, 0xffff, 'value');
        word = v & 0xffff;
      } else {
        word = (reply as { quantity: number }).quantity;
        checkInt(word, 1, fc === 15 ? ModbusLimits.writeCoils : ModbusLimits.writeRegisters, 'quantity');
      }
      out[o] = fc;
      out[o + 1] = reply.address >> 8;
      out[o + 2] = reply.address & 0xff;
      out[o + 3] = word >> 8;
      out[o + 4] = word & 0xff;
      return o + 5;
    }
    default:
      throw frameInvalid(`functionCode: ${String((reply as { functionCode: unknown }).functionCode)} is not supported (1, 2, 3, 4, 5, 6, 15, 16)`);
  }
}

/** Write an exception response PDU (fc | 0x80, code) at `out[o]`; returns o + 2. */
export function writeExceptionPdu(out: Uint8Array, o: number, functionCode: number, exceptionCode: number): number {
  checkInt(functionCode, 1, 0x7f, 'functionCode');
  checkInt(exceptionCode, 1, 0xff, 'exceptionCode');
  out[o] = functionCode | 0x80;
  out[o + 1] = exceptionCode;
  return o + 2;
}
