/**
 * Frame description for the technician's `lifeline decode` command.
 *
 *   "68 25 04 …" ──parseHex──▶ bytes ──describeFrame(protocol)──▶ { fields, values }   (or FRAME_INVALID saying why)
 *
 * Uses the same codecs as the poller, so a frame the decoder accepts here is a
 * frame the gateway accepts on the wire.
 */
import { frameInvalid, hexByte, toHex, type MeterFrameFields } from './bytes.js';
import {
  CJT188_DI_READ,
  Cjt188Control,
  cjt188MeterKind,
  describeMeterType,
  parseCjt188Frame,
  parseCjt188ReadReply,
} from './cjt188/frame.js';
import { DLT645_DATA_IDS, dlt645BlockItems, formatDataId } from './dlt645/data-ids.js';
import { Dlt645Control, decodeDlt645Value, describeDlt645Error, parseDlt645Frame } from './dlt645/frame.js';
import { storedCrc } from './modbus/crc.js';
import { DEVICE_ID_OBJECTS } from './modbus/device-id.js';
import { checkRtuCrc } from './modbus/rtu.js';
import {
  describeFunction,
  exceptionName,
  isSupportedFunction,
  parseRequestPdu,
  parseResponsePdu,
  type ModbusRequest,
  type ModbusResponse,
} from './modbus/pdu.js';
import { isLifelineError } from '../errors.js';
import { describeSl651 } from './sl651/describe.js';

/** Protocols `describeFrame` understands. */
export type DescribeProtocol = 'modbus-rtu' | 'modbus-tcp' | 'cjt188' | 'dlt645' | 'sl651';

/** One field of a frame as a technician reads it. */
export interface FrameField {
  /** Field name, e.g. `checksum`. */
  name: string;
  /** Its meaning, e.g. `0x8B (ok)`. */
  value: string | number;
  /** The field's bytes as captured, hex. */
  raw?: string;
}

/** A decoded quantity carried by the frame. */
export interface FrameValue {
  /** What it measures. */
  name: string;
  /** The value (null when the device marked it not available). */
  value: number | boolean | string | null;
  /** Unit symbol, '' when none. */
  unit: string;
}

/** What `describeFrame` returns. */
export interface FrameDescription {
  /** The protocol it was decoded as. */
  protocol: DescribeProtocol;
  /** Field by field, in wire order. */
  fields: FrameField[];
  /** Decoded quantities, when the frame carries any. */
  values?: FrameValue[];
  /** Assumptions made and things worth knowing (e.g. request vs response guess, FF fields). */
  notes?: string[];
}

/**
 * Bytes from hex text as technicians paste it: `68 25 04`, `0x68,0x25`,
 * `682504`, `68-25-04`, `68:25:04`. Separators are whitespace, `,`, `;`, `-`
 * and `:`. A leading FE preamble is kept (the meter codecs skip it). Throws
 * FRAME_INVALID naming the bad character and its 1-based position.
 */
export function parseHex(text: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  const n = text.length;
  const isSep = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',' || c === ';' || c === '-' || c === ':';
  const hexVal = (c: string) => {
    const code = c.charCodeAt(0);
    if (code >= 48 && code <= 57) return code - 48;
    if (code >= 65 && code <= 70) return code - 55;
    if (code >= 97 && code <= 102) return code - 87;
    return -1;
  };
  while (i < n) {
    const c = text[i];
    if (isSep(c)) {
      i++;
      continue;
    }
    const tokenStart = i;
    let prefixed = false;
    if (c === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
      prefixed = true;
      i += 2;
    }
    const digitsStart = i;
    while (i < n && !isSep(text[i])) {
      if (hexVal(text[i]) < 0) {
        throw frameInvalid(`hex: bad character ${JSON.stringify(text[i])} at position ${i + 1}`);
      }
      i++;
    }
    const digits = text.slice(digitsStart, i);
    if (digits.length === 0) throw frameInvalid(`hex: "0x" without digits at position ${tokenStart + 1}`);
    if (digits.length === 1 && prefixed) {
      out.push(hexVal(digits));
      continue;
    }
    if (digits.length % 2 === 1) {
      throw frameInvalid(`hex: odd number of digits in "${text.slice(tokenStart, i)}" at position ${tokenStart + 1}`);
    }
    for (let k = 0; k < digits.length; k += 2) out.push(hexVal(digits[k]) * 16 + hexVal(digits[k + 1]));
  }
  if (out.length === 0) throw frameInvalid('hex: no bytes given');
  return Uint8Array.from(out);
}

/**
 * Describe one captured frame field by field. Throws FRAME_INVALID saying
 * exactly why when the frame is not valid (checksum/CRC expected vs found,
 * length, terminator, …). An exception or error reply is a valid frame: it is
 * described, not thrown.
 */
export function describeFrame(protocol: DescribeProtocol, bytes: Uint8Array): FrameDescription {
  switch (protocol) {
    case 'modbus-rtu':
      return describeRtu(bytes);
    case 'modbus-tcp':
      return describeTcp(bytes);
    case 'dlt645':
      return describeDlt645(bytes);
    case 'cjt188':
      return describeCjt188(bytes);
    case 'sl651':
      return describeSl651(bytes);
    default:
      throw frameInvalid(`protocol: must be modbus-rtu, modbus-tcp, cjt188, dlt645 or sl651, got ${String(protocol)}`);
  }
}

// ─── Modbus ────────────────────────────────────────────────────────────────

interface PduDescription {
  fields: FrameField[];
  values?: FrameValue[];
  notes: string[];
}

const word = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];

/** Request and response interpretations of a PDU; whichever parses is described. */
function describePdu(b: Uint8Array, start: number, end: number, unitId: number, txId: number | undefined): PduDescription {
  const len = end - start;
  if (len < 1) throw frameInvalid('function: missing (no PDU)');
  const fc = b[start];
  if (fc & 0x80) {
    if (len !== 2) throw frameInvalid(`exception response: PDU must be 2 bytes (function, exception code), got ${len}`);
    const code = b[start + 1];
    return {
      fields: [
        { name: 'direction', value: 'response (exception)' },
        { name: 'function', value: `${hexByte(fc)} = exception to ${describeFunction(fc & 0x7f)}`, raw: toHex(b, start, start + 1) },
        { name: 'exception code', value: `${hexByte(code)} ${exceptionName(code)}`, raw: toHex(b, start + 1, start + 2) },
      ],
      notes: [],
    };
  }
  if (!isSupportedFunction(fc)) throw frameInvalid(`function: ${hexByte(fc)} is not supported (1, 2, 3, 4, 5, 6, 15, 16, 43)`);

  const req = parseRequestPdu(b, start, end, unitId, txId);
  let resp: ModbusResponse | undefined;
  let respError: string | undefined;
  try {
    resp = parseResponsePdu(b, start, end, unitId, txId);
  } catch (e) {
    if (!isLifelineError(e)) throw e;
    respError = e.message.replace(/^FRAME_INVALID: /, '');
  }
  const asRequest = req.kind === 'request' ? req.request : undefined;
  const notes: string[] = [];

  if (asRequest && resp && (fc === 5 || fc === 6)) {
    notes.push(`assumed request: the ${describeFunction(fc)} response echoes the request byte for byte, so this frame may be either`);
    return { fields: [{ name: 'direction', value: 'request (or its identical echo response)' }, ...requestFields(b, start, asRequest)], notes };
  }
  if (asRequest && resp) {
    // Only FC1/FC2 can fit both (5-byte PDU = response with byte count 3); the request reading is likelier.
    notes.push(`assumed request: the PDU also reads as a response with byte count ${b[start + 1]}`);
    return { fields: [{ name: 'direction', value: 'request (assumed)' }, ...requestFields(b, start, asRequest)], notes };
  }
  if (asRequest) {
    notes.push(`assumed request: ${len} PDU bytes fit the ${describeFunction(fc)} request layout, not the response (${respError})`);
    return { fields: [{ name: 'direction', value: 'request' }, ...requestFields(b, start, asRequest)], notes };
  }
  if (resp) {
    notes.push(`assumed response: ${len} PDU bytes fit the response layout, not the request (${req.kind === 'exception' ? req.reason : ''})`);
    return { ...responseFields(b, start, resp), notes };
  }
  const why = req.kind === 'exception' ? req.reason : '';
  throw frameInvalid(`${describeFunction(fc)}: ${len} PDU bytes are neither a valid request (${why}) nor a valid response (${respError})`);
}

function requestFields(b: Uint8Array, s: number, r: ModbusRequest): FrameField[] {
  if (r.functionCode === 43) {
    return [
      { name: 'function', value: describeFunction(43), raw: toHex(b, s, s + 1) },
      { name: 'MEI type', value: '0x0E (read device identification)', raw: toHex(b, s + 1, s + 2) },
      { name: 'read device id code', value: ['', 'basic', 'regular', 'extended', 'one object'][r.readDeviceId], raw: toHex(b, s + 2, s + 3) },
      { name: 'object id', value: r.objectId, raw: toHex(b, s + 3, s + 4) },
    ];
  }
  const f: FrameField[] = [
    { name: 'function', value: describeFunction(r.functionCode), raw: toHex(b, s, s + 1) },
    { name: 'address', value: r.address, raw: toHex(b, s + 1, s + 3) },
  ];
  switch (r.functionCode) {
    case 1:
    case 2:
    case 3:
    case 4:
      f.push({ name: 'quantity', value: r.quantity, raw: toHex(b, s + 3, s + 5) });
      break;
    case 5:
      f.push({ name: 'value', value: r.value ? 'ON (0xFF00)' : 'OFF (0x0000)', raw: toHex(b, s + 3, s + 5) });
      break;
    case 6:
      f.push({ name: 'value', value: r.value, raw: toHex(b, s + 3, s + 5) });
      break;
    case 15:
    case 16: {
      const bc = b[s + 5];
      f.push({ name: 'quantity', value: r.values.length, raw: toHex(b, s + 3, s + 5) });
      f.push({ name: 'byte count', value: bc, raw: toHex(b, s + 5, s + 6) });
      const vals = Array.from(r.values as ArrayLike<number | boolean>, (v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
      f.push({ name: 'values', value: vals.join(' '), raw: toHex(b, s + 6, s + 6 + bc) });
      break;
    }
  }
  return f;
}

function responseFields(b: Uint8Array, s: number, r: ModbusResponse): { fields: FrameField[]; values?: FrameValue[] } {
  const fields: FrameField[] = [
    { name: 'direction', value: 'response' },
    { name: 'function', value: describeFunction(r.functionCode), raw: toHex(b, s, s + 1) },
  ];
  switch (r.functionCode) {
    case 43: {
      fields.push({ name: 'conformity', value: `0x${r.conformity.toString(16).padStart(2, '0')}`, raw: toHex(b, s + 3, s + 4) });
      fields.push({ name: 'more follows', value: r.moreFollows ? `yes, from object ${r.nextObjectId}` : 'no', raw: toHex(b, s + 4, s + 6) });
      return { fields, values: r.objects.map((o) => ({ name: DEVICE_ID_OBJECTS[o.id] ?? `object 0x${o.id.toString(16).padStart(2, '0')}`, value: o.value, unit: '' })) };
    }
    case 1:
    case 2: {
      const bc = b[s + 1];
      fields.push({ name: 'byte count', value: bc, raw: toHex(b, s + 1, s + 2) });
      fields.push({ name: 'bits', value: r.bits.map((x) => (x ? 1 : 0)).join(''), raw: toHex(b, s + 2, s + 2 + bc) });
      return { fields, values: r.bits.map((v, i) => ({ name: `bit ${i}`, value: v, unit: '' })) };
    }
    case 3:
    case 4: {
      fields.push({ name: 'byte count', value: r.count * 2, raw: toHex(b, s + 1, s + 2) });
      const regs: number[] = [];
      for (let i = 0; i < r.count; i++) regs.push(word(r.data, 2 * i));
      fields.push({ name: 'registers', value: regs.join(' '), raw: toHex(r.data) });
      return {
        fields,
        values: regs.map((v, i) => ({ name: `register +${i}`, value: v, unit: '' })),
      };
    }
    case 5:
    case 6:
      fields.push({ name: 'address', value: r.address, raw: toHex(b, s + 1, s + 3) });
      fields.push({ name: 'value', value: r.functionCode === 5 ? (r.value ? 'ON' : 'OFF') : r.value, raw: toHex(b, s + 3, s + 5) });
      return { fields };
    case 15:
    case 16:
      fields.push({ name: 'address', value: r.address, raw: toHex(b, s + 1, s + 3) });
      fields.push({ name: 'quantity written', value: r.quantity, raw: toHex(b, s + 3, s + 5) });
      return { fields };
  }
}

function describeRtu(b: Uint8Array): FrameDescription {
  const n = b.length;
  if (n < 4) throw frameInvalid(`length: an RTU frame needs at least 4 bytes (unit, function, CRC), got ${n}`);
  checkRtuCrc(b, n);
  const found = storedCrc(b, n);
  const pdu = describePdu(b, 1, n - 2, b[0], undefined);
  const [direction, ...rest] = pdu.fields;
  return {
    protocol: 'modbus-rtu',
    fields: [
      direction,
      { name: 'unit id', value: b[0], raw: toHex(b, 0, 1) },
      ...rest,
      { name: 'crc', value: `0x${found.toString(16).toUpperCase().padStart(4, '0')} (ok)`, raw: toHex(b, n - 2, n) },
    ],
    ...(pdu.values ? { values: pdu.values } : {}),
    notes: pdu.notes,
  };
}

function describeTcp(b: Uint8Array): FrameDescription {
  const n = b.length;
  if (n < 8) throw frameInvalid(`length: a Modbus TCP frame needs at least 8 bytes (MBAP header, function), got ${n}`);
  const protocolId = word(b, 2);
  if (protocolId !== 0) throw frameInvalid(`MBAP protocol id: expected 0, found ${protocolId}`);
  const len = word(b, 4);
  if (len !== n - 6) {
    const more = len >= 2 && len < n - 6 ? ' (several frames pasted? decode them one at a time)' : '';
    throw frameInvalid(`MBAP length: field says ${len} bytes follow it, but ${n - 6} do${more}`);
  }
  const txId = word(b, 0);
  const pdu = describePdu(b, 7, n, b[6], txId);
  const [direction, ...rest] = pdu.fields;
  return {
    protocol: 'modbus-tcp',
    fields: [
      direction,
      { name: 'transaction id', value: txId, raw: toHex(b, 0, 2) },
      { name: 'protocol id', value: 0, raw: toHex(b, 2, 4) },
      { name: 'length', value: len, raw: toHex(b, 4, 6) },
      { name: 'unit id', value: b[6], raw: toHex(b, 6, 7) },
      ...rest,
    ],
    ...(pdu.values ? { values: pdu.values } : {}),
    notes: pdu.notes,
  };
}

// ─── DL/T 645 ──────────────────────────────────────────────────────────────

/**
 * How a 0x68 meter frame (DL/T 645, CJ/T 188) opens: where its preamble ends
 * (`p`), its data length, its direction in words (`abnormal` names D6 as the
 * protocol does), and the first fields: FE wake-up bytes, if any, and the start byte.
 */
function meterFrameHead(b: Uint8Array, f: MeterFrameFields & { data: Uint8Array }, abnormal: string) {
  const p = f.preamble;
  const fields: FrameField[] = [];
  if (p > 0) fields.push({ name: 'preamble', value: `${p} × FE (wake-up)`, raw: toHex(b, 0, p) });
  fields.push({ name: 'start', value: '0x68', raw: toHex(b, p, p + 1) });
  const dir = f.fromMeter ? `meter → master, ${f.abnormal ? abnormal : 'normal reply'}` : 'master → meter';
  return { p, L: f.data.length, dir, fields };
}

/** The fields it closes with: the checksum at `at` (it checked) and the 0x16 end byte. */
function meterFrameTail(b: Uint8Array, checksum: number, at: number): FrameField[] {
  return [
    { name: 'checksum', value: `${hexByte(checksum)} (ok)`, raw: toHex(b, at, at + 1) },
    { name: 'end', value: '0x16', raw: toHex(b, at + 1, at + 2) },
  ];
}

const DLT645_FUNCTIONS: Record<number, string> = {
  0x08: 'broadcast time sync',
  0x11: 'read data',
  0x12: 'read follow-up data',
  0x13: 'read address',
  0x14: 'write data',
  0x15: 'write address',
  0x16: 'freeze',
  0x17: 'change baud rate',
  0x18: 'change password',
  0x19: 'clear maximum demand',
  0x1a: 'clear meter',
  0x1b: 'clear events',
  0x1c: 'relay control',
};

function describeDlt645(b: Uint8Array): FrameDescription {
  const f = parseDlt645Frame(b);
  const { p, L, dir, fields } = meterFrameHead(b, f, 'error reply');
  const fn = DLT645_FUNCTIONS[f.functionCode] ?? `function ${hexByte(f.functionCode)}`;
  fields.push({ name: 'address', value: f.address, raw: toHex(b, p + 1, p + 7) });
  fields.push({ name: 'start', value: '0x68', raw: toHex(b, p + 7, p + 8) });
  fields.push({
    name: 'control',
    value: `${hexByte(f.control)}: ${dir}, ${fn}${f.followUp ? ', follow-up frame' : ''}`,
    raw: toHex(b, p + 8, p + 9),
  });
  fields.push({ name: 'length', value: L, raw: toHex(b, p + 9, p + 10) });
  const d0 = p + 10;
  let values: FrameValue[] | undefined;
  const notes: string[] = [];
  const readish = f.functionCode === 0x11 || f.functionCode === 0x12;
  if (f.control === Dlt645Control.ReadError || (f.fromMeter && f.abnormal)) {
    if (L >= 1) fields.push({ name: 'error byte', value: `${hexByte(f.data[0])}: ${describeDlt645Error(f.data[0])}`, raw: toHex(b, d0, d0 + 1) });
  } else if (readish && L >= 4) {
    const d = f.data;
    const di = (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0;
    const known = DLT645_DATA_IDS.get(di);
    const block = dlt645BlockItems(di);
    const what = known ? known.name : block.length ? `block of ${block.map((x) => x.name).join(', ')}` : 'not in this decoder\'s table';
    fields.push({ name: 'data identifier', value: `${formatDataId(di)} (${what})`, raw: toHex(b, d0, d0 + 4) });
    if (L > 4) {
      const rest = d.subarray(4);
      fields.push({ name: 'value bytes (−0x33)', value: toHex(rest), raw: toHex(b, d0 + 4, d0 + L) });
      if (f.fromMeter) {
        values = decodeDlt645Value(di, rest).map((v) => ({ name: v.name, value: v.value, unit: v.unit }));
        if (!known && !block.length) notes.push(`data identifier ${formatDataId(di)} is not in the decoder's table: value left raw`);
      }
    }
  } else if (f.functionCode === 0x13 && f.fromMeter && L === 6) {
    const addr = Array.from(f.data).reverse();
    fields.push({ name: 'meter address', value: toHex(Uint8Array.from(addr)).replace(/ /g, ''), raw: toHex(b, d0, d0 + 6) });
  } else if (L > 0) {
    fields.push({ name: 'data (−0x33)', value: toHex(f.data), raw: toHex(b, d0, d0 + L) });
  }
  fields.push(...meterFrameTail(b, f.checksum, d0 + L));
  return { protocol: 'dlt645', fields, ...(values ? { values } : {}), notes };
}

// ─── CJ/T 188 ──────────────────────────────────────────────────────────────

const CJT188_FUNCTIONS: Record<number, string> = {
  0x01: 'read data',
  0x03: 'read address',
  0x04: 'write data',
  0x09: 'read key version',
  0x15: 'write address',
  0x16: 'write meter base value',
};

function describeCjt188(b: Uint8Array): FrameDescription {
  const f = parseCjt188Frame(b);
  const { p, L, dir, fields } = meterFrameHead(b, f, 'abnormal reply');
  const fn = CJT188_FUNCTIONS[f.functionCode] ?? (f.functionCode & 0x20 ? 'manufacturer-defined' : `function ${hexByte(f.functionCode)}`);
  fields.push({ name: 'meter type', value: `${hexByte(f.meterType)} ${describeMeterType(f.meterType)}`, raw: toHex(b, p + 1, p + 2) });
  fields.push({
    name: 'address',
    value: `${f.address} (manufacturer code ${f.address.slice(0, 4)})`,
    raw: toHex(b, p + 2, p + 9),
  });
  fields.push({ name: 'control', value: `${hexByte(f.control)}: ${dir}, ${fn}`, raw: toHex(b, p + 9, p + 10) });
  fields.push({ name: 'length', value: L, raw: toHex(b, p + 10, p + 11) });
  const d0 = p + 11;
  const d = f.data;
  let values: FrameValue[] | undefined;
  const notes: string[] = [];
  const di = L >= 2 ? (d[0] === 0x1f && d[1] === 0x90 ? CJT188_DI_READ : (d[0] << 8) | d[1]) : -1;
  if (L >= 3) {
    fields.push({
      name: 'data identifier',
      value: di === CJT188_DI_READ ? `901F read meter data (sent ${toHex(d, 0, 2)})` : toHex(d, 0, 2),
      raw: toHex(b, d0, d0 + 2),
    });
    fields.push({ name: 'sequence (SER)', value: d[2], raw: toHex(b, d0 + 2, d0 + 3) });
  }
  if (f.control === Cjt188Control.ReadReply && di === CJT188_DI_READ && cjt188MeterKind(f.meterType) !== 'other') {
    const r = parseCjt188ReadReply(b);
    for (const q of r.quantities) {
      fields.push({ name: q.name, value: q.value === null ? 'not available' : `${q.value} ${q.unit}`.trim(), raw: q.raw });
    }
    fields.push({ name: 'real time', value: r.time ?? 'not available (see notes)', raw: toHex(d, L - 9, L - 2) });
    const st = r.status;
    fields.push({
      name: 'status',
      value: `valve ${st.valve}, battery ${st.batteryLow ? 'low' : 'ok'}, ST2 ${hexByte(st.st2)} (manufacturer-defined)`,
      raw: toHex(d, L - 2, L),
    });
    values = r.quantities.map((q) => ({ name: q.name, value: q.value, unit: q.unit }));
    if (r.layout === 'unit-value') notes.push('this meter sends each unit byte before its value (a vendor variant); decoded accordingly');
    notes.push(...r.warnings);
  } else if (f.fromMeter && f.abnormal && L >= 2) {
    fields.push({ name: 'status', value: `ST ${toHex(d, L - 2, L)}`, raw: toHex(b, d0 + L - 2, d0 + L) });
  } else if (L > 3) {
    fields.push({ name: 'data', value: toHex(d, 3, L), raw: toHex(b, d0 + 3, d0 + L) });
  }
  fields.push(...meterFrameTail(b, f.checksum, d0 + L));
  return { protocol: 'cjt188', fields, ...(values ? { values } : {}), notes };
}
