import { isLifelineError, type LifelineError } from '../../errors.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.js';
import { writeCrc } from './crc.js';
import { type ModbusExceptionDetails, type ModbusRequest, readRegisters, registerAt } from './pdu.js';
import {
  buildRtuException,
  buildRtuRequest,
  buildRtuResponse,
  expectedRtuResponseLength,
  parseRtuRequest,
  parseRtuResponse,
  rtuRequestLength,
  rtuResponseLength,
  rtuTiming,
} from './rtu.js';

const bytes = (hex: string) => Uint8Array.from(hex.trim().split(/\s+/).map((h) => parseInt(h, 16)));

/** Hex PDU with unit id, plus a correct CRC. */
function framed(hex: string): Uint8Array {
  const b = bytes(hex);
  const out = new Uint8Array(b.length + 2);
  out.set(b);
  writeCrc(out, 0, b.length);
  return out;
}

function thrown(fn: () => unknown): LifelineError {
  try {
    fn();
  } catch (e) {
    if (isLifelineError(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

describe('RTU requests', () => {
  it('builds the spec example: read 3 holding registers from 108 (0x6B) of slave 17', () => {
    // Modbus Application Protocol V1.1b3 §6.3 example, framed as RTU.
    expect(toHex(buildRtuRequest(17, { functionCode: 3, address: 0x6b, quantity: 3 }))).toBe('11 03 00 6B 00 03 76 87');
  });

  it('builds every function code with the right layout', () => {
    const cases: Array<[ModbusRequest, string]> = [
      [{ functionCode: 1, address: 19, quantity: 19 }, '01 01 00 13 00 13'],
      [{ functionCode: 2, address: 196, quantity: 22 }, '01 02 00 C4 00 16'],
      [{ functionCode: 4, address: 8, quantity: 1 }, '01 04 00 08 00 01'],
      [{ functionCode: 5, address: 172, value: true }, '01 05 00 AC FF 00'],
      [{ functionCode: 5, address: 172, value: false }, '01 05 00 AC 00 00'],
      [{ functionCode: 6, address: 1, value: 3 }, '01 06 00 01 00 03'],
      [{ functionCode: 6, address: 1, value: -2 }, '01 06 00 01 FF FE'],
      // spec §6.11: coils 20..29 = CD 01
      [
        { functionCode: 15, address: 19, values: [true, false, true, true, false, false, true, true, true, false] },
        '01 0F 00 13 00 0A 02 CD 01',
      ],
      [{ functionCode: 16, address: 1, values: [0x000a, 0x0102] }, '01 10 00 01 00 02 04 00 0A 01 02'],
    ];
    for (const [req, pdu] of cases) {
      const frame = buildRtuRequest(1, req);
      expect(toHex(frame.subarray(0, frame.length - 2))).toBe(pdu);
      expect(rtuRequestLength(frame)).toBe(frame.length);
    }
  });

  it('rejects out-of-range fields naming them', () => {
    expect(thrown(() => buildRtuRequest(1, { functionCode: 3, address: 0, quantity: 126 })).message).toMatch(
      /quantity: must be an integer 1\.\.125, got 126/,
    );
    expect(thrown(() => buildRtuRequest(1, { functionCode: 1, address: 0, quantity: 2001 })).message).toMatch(/quantity/);
    expect(thrown(() => buildRtuRequest(1, { functionCode: 3, address: 65535, quantity: 2 })).message).toMatch(/runs past/);
    expect(thrown(() => buildRtuRequest(300, { functionCode: 3, address: 0, quantity: 1 })).message).toMatch(/unitId/);
    expect(thrown(() => buildRtuRequest(1, { functionCode: 16, address: 0, values: [70000] })).message).toMatch(/values\[0\]/);
    expect(thrown(() => buildRtuRequest(1, { functionCode: 16, address: 0, values: [] })).message).toMatch(/quantity/);
  });
});

describe('RTU responses', () => {
  const req3: ModbusRequest = { functionCode: 3, address: 0x6b, quantity: 3 };

  it('parses the spec FC3 example reply (registers 555, 0, 100)', () => {
    const frame = buildRtuResponse(17, { functionCode: 3, registers: [0x022b, 0x0000, 0x0064] });
    expect(toHex(frame.subarray(0, 9))).toBe('11 03 06 02 2B 00 00 00 64');
    expect(frame.length).toBe(expectedRtuResponseLength(req3));
    const r = parseRtuResponse(frame, { unitId: 17, request: req3 });
    expect(r.functionCode).toBe(3);
    if (r.functionCode !== 3) return;
    expect(r.count).toBe(3);
    expect(Array.from(readRegisters(r))).toEqual([555, 0, 100]);
    expect(registerAt(r, 2)).toBe(100);
    expect(r.transactionId).toBeUndefined();
  });

  it('parses coils trimmed to the requested quantity', () => {
    const bits = [1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1];
    const frame = buildRtuResponse(1, { functionCode: 1, bits });
    // spec §6.1 example: coils 20..38 = CD 6B 05
    expect(toHex(frame.subarray(2, 6))).toBe('03 CD 6B 05');
    const r = parseRtuResponse(frame, { request: { functionCode: 1, address: 19, quantity: 19 } });
    if (r.functionCode !== 1) throw new Error('fc');
    expect(r.bits.map(Number)).toEqual(bits);
  });

  it('parses write echoes and checks them against the request', () => {
    const req: ModbusRequest = { functionCode: 6, address: 1, value: 3 };
    const echo = buildRtuRequest(1, req); // an FC6 reply is the request echoed
    expect(parseRtuResponse(echo, { request: req })).toMatchObject({ functionCode: 6, address: 1, value: 3 });
    expect(thrown(() => parseRtuResponse(echo, { request: { ...req, value: 4 } })).message).toMatch(/value: echo 3/);
    const r16 = buildRtuResponse(1, { functionCode: 16, address: 1, quantity: 2 });
    expect(parseRtuResponse(r16, { request: { functionCode: 16, address: 1, values: [1, 2] } })).toMatchObject({ quantity: 2 });
  });

  it('decodes every exception code into DEVICE_EXCEPTION naming it', () => {
    const names: Record<number, string> = {
      0x01: 'illegal function',
      0x02: 'illegal data address',
      0x03: 'illegal data value',
      0x04: 'slave device failure',
      0x05: 'acknowledge',
      0x06: 'slave device busy',
      0x0a: 'gateway path unavailable',
      0x0b: 'gateway target device failed to respond',
    };
    for (const [code, name] of Object.entries(names)) {
      const frame = buildRtuException(17, 3, Number(code));
      expect(rtuResponseLength(frame.subarray(0, 2))).toBe(5);
      const e = thrown(() => parseRtuResponse(frame, { unitId: 17, request: req3 }));
      expect(e.code).toBe('DEVICE_EXCEPTION');
      expect(e.message).toContain(name);
      expect(e.message).toContain('unit 17');
      expect((e.details as ModbusExceptionDetails).exceptionCode).toBe(Number(code));
    }
  });

  it('says exactly what is wrong with a broken frame', () => {
    const good = buildRtuResponse(17, { functionCode: 3, registers: [1, 2, 3] });
    const badCrc = good.slice();
    badCrc[badCrc.length - 1] ^= 0xff;
    const e = thrown(() => parseRtuResponse(badCrc));
    expect(e.code).toBe('FRAME_INVALID');
    expect(e.message).toMatch(/crc: expected 0x[0-9A-F]{4} \(bytes [0-9A-F]{2} [0-9A-F]{2}\), found/);
    expect(thrown(() => parseRtuResponse(good.subarray(0, 9))).message).toMatch(/reply must be 11 bytes, got 9/);
    expect(thrown(() => parseRtuResponse(good, { unitId: 3 })).message).toMatch(/unit: expected 3, found 17/);
    expect(thrown(() => parseRtuResponse(good, { request: { functionCode: 3, address: 0, quantity: 4 } })).message).toMatch(
      /byte count: expected 8 for 4 registers, found 6/,
    );
    expect(thrown(() => parseRtuResponse(good, { request: { functionCode: 4, address: 0, quantity: 3 } })).message).toMatch(
      /function: expected 0x04/,
    );
  });
});

describe('rtuResponseLength tells a split serial read when it is complete', () => {
  it('needs the byte count for reads, fixed lengths for writes', () => {
    const frame = buildRtuResponse(1, { functionCode: 4, registers: [1, 2, 3, 4, 5] });
    expect(rtuResponseLength(frame, 1)).toBe(0);
    expect(rtuResponseLength(frame, 2)).toBe(0);
    expect(rtuResponseLength(frame, 3)).toBe(frame.length);
    expect(rtuResponseLength(bytes('01 10 00 01'))).toBe(8);
    expect(rtuResponseLength(bytes('01 11'))).toBe(-1);
  });

  it('reassembles a reply delivered in arbitrary pieces', () => {
    const frame = buildRtuResponse(9, { functionCode: 3, registers: Array.from({ length: 60 }, (_, i) => i * 7) });
    for (const cut of [1, 2, 3, 7, 64, frame.length - 1]) {
      const acc = new Uint8Array(256);
      let have = 0;
      const pieces = [frame.subarray(0, cut), frame.subarray(cut)];
      let done = 0;
      for (const p of pieces) {
        acc.set(p, have);
        have += p.length;
        const want = rtuResponseLength(acc, have);
        if (want > 0 && have >= want) done = want;
      }
      expect(done).toBe(frame.length);
      expect(parseRtuResponse(acc.subarray(0, done)).functionCode).toBe(3);
    }
  });
});

describe('RTU server side', () => {
  it('parses requests it can serve', () => {
    const f = parseRtuRequest(buildRtuRequest(5, { functionCode: 16, address: 10, values: [1, 65535] }));
    expect(f).toMatchObject({ kind: 'request', unitId: 5, request: { functionCode: 16, address: 10, values: [1, 65535] } });
    const c = parseRtuRequest(buildRtuRequest(5, { functionCode: 15, address: 0, values: [true, false, true] }));
    expect(c).toMatchObject({ kind: 'request', request: { functionCode: 15, values: [true, false, true] } });
  });

  it('turns requests it must refuse into the exception code to answer', () => {
    expect(parseRtuRequest(framed('01 11 0E 01 00'))).toMatchObject({ kind: 'exception', functionCode: 0x11, exceptionCode: 1 });
    expect(parseRtuRequest(framed('01 03 00 00 00 7E'))).toMatchObject({ kind: 'exception', exceptionCode: 3 });
    expect(parseRtuRequest(framed('01 03 00 00 00 00'))).toMatchObject({ kind: 'exception', exceptionCode: 3 });
    expect(parseRtuRequest(framed('01 03 FF FF 00 02'))).toMatchObject({ kind: 'exception', exceptionCode: 2 });
    expect(parseRtuRequest(framed('01 05 00 01 12 34'))).toMatchObject({ kind: 'exception', exceptionCode: 3 });
    expect(parseRtuRequest(framed('01 10 00 01 00 02 03 00 0A 01'))).toMatchObject({ kind: 'exception', exceptionCode: 3 });
    expect(parseRtuRequest(framed('01 03 00 00'))).toMatchObject({ kind: 'exception', exceptionCode: 3 });
  });

  it('stays silent (throws FRAME_INVALID) on a corrupted request', () => {
    const f = buildRtuRequest(1, { functionCode: 3, address: 0, quantity: 1 });
    f[3] ^= 1;
    expect(thrown(() => parseRtuRequest(f)).code).toBe('FRAME_INVALID');
  });
});

describe('rtuTiming', () => {
  it('9600 8E1: 11 bits, 1.146 ms per char, 4.01 ms silence', () => {
    const t = rtuTiming(9600, 8, 'even', 1);
    expect(t.bitsPerChar).toBe(11);
    expect(t.charMs).toBeCloseTo(1.1458, 4);
    expect(t.silenceMs).toBeCloseTo(4.0104, 4);
    expect(t.interCharMs).toBeCloseTo(1.71875, 5);
  });

  it('8N1 has 10 bits; 8N2 has 11', () => {
    expect(rtuTiming(9600, 8, 'none', 1).bitsPerChar).toBe(10);
    expect(rtuTiming(9600, 8, 'none', 2).bitsPerChar).toBe(11);
  });

  it('is fixed at 1.75 ms / 0.75 ms above 19200 baud, per the serial line spec', () => {
    expect(rtuTiming(19200).silenceMs).toBeCloseTo((3.5 * 11 * 1000) / 19200, 6);
    const t = rtuTiming(38400);
    expect(t.silenceMs).toBe(1.75);
    expect(t.interCharMs).toBe(0.75);
    expect(t.charMs).toBeCloseTo((11 * 1000) / 38400, 6);
  });

  it('rejects impossible settings', () => {
    expect(thrown(() => rtuTiming(0)).message).toMatch(/baud/);
    expect(thrown(() => rtuTiming(9600, 9 as 8)).message).toMatch(/dataBits/);
    expect(thrown(() => rtuTiming(9600, 8, 'mark' as 'odd')).message).toMatch(/parity/);
    expect(thrown(() => rtuTiming(9600, 8, 'even', 3 as 1)).message).toMatch(/stopBits/);
  });
});
