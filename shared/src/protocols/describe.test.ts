import { isLifelineError, type LifelineError } from '../errors.js';
import { describe, expect, it } from 'vitest';
import { type FrameDescription, describeFrame, parseHex } from './describe.js';
import { buildTcpResponse } from './modbus/tcp.js';
import { buildRtuRequest, buildRtuResponse } from './modbus/rtu.js';
import { toHex } from './bytes.js';
import { SL651_PUBLISHED_FRAMES, buildSl651Body, buildSl651Frame } from './sl651/index.js';

function thrown(fn: () => unknown): LifelineError {
  try {
    fn();
  } catch (e) {
    if (isLifelineError(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

const field = (d: FrameDescription, name: string) => d.fields.find((f) => f.name === name);

describe('parseHex', () => {
  it('accepts spaces, commas, 0x prefixes, dashes, colons and runs of digits', () => {
    expect(toHex(parseHex('68 25 04'))).toBe('68 25 04');
    expect(toHex(parseHex('0x68,0x25, 0X04'))).toBe('68 25 04');
    expect(toHex(parseHex('682504'))).toBe('68 25 04');
    expect(toHex(parseHex('68-25:04\n16'))).toBe('68 25 04 16');
    expect(toHex(parseHex('0x5'))).toBe('05');
    expect(toHex(parseHex('FE FE 68'))).toBe('FE FE 68'); // the preamble is kept; the meter codecs skip it
  });

  it('names the bad character and its position', () => {
    expect(thrown(() => parseHex('68 25 0G')).message).toBe('FRAME_INVALID: hex: bad character "G" at position 8');
    expect(thrown(() => parseHex('68 2 04')).message).toBe('FRAME_INVALID: hex: odd number of digits in "2" at position 4');
    expect(thrown(() => parseHex('68 0x')).message).toMatch(/"0x" without digits at position 4/);
    expect(thrown(() => parseHex('  ,, ')).message).toMatch(/no bytes/);
  });
});

describe('describeFrame: DL/T 645', () => {
  it('explains the published worked frame field by field', () => {
    const d = describeFrame('dlt645', parseHex('68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16'));
    expect(field(d, 'address')).toEqual({ name: 'address', value: '000102030425', raw: '25 04 03 02 01 00' });
    expect(field(d, 'control')?.value).toBe('0x91: meter → master, normal reply, read data');
    expect(field(d, 'data identifier')?.value).toBe('00010000 (forward active energy total)');
    expect(field(d, 'checksum')?.value).toBe('0x8B (ok)');
    expect(d.values).toEqual([{ name: 'forward active energy total', value: 1206.42, unit: 'kWh' }]);
  });

  it('describes an error reply instead of throwing', () => {
    const d = describeFrame('dlt645', parseHex('68 37 03 00 92 81 39 68 D1 01 35 5D 16'));
    expect(field(d, 'error byte')?.value).toBe('0x02: no requested data');
  });

  it('says exactly why a frame is invalid', () => {
    const msg = (hex: string) => thrown(() => describeFrame('dlt645', parseHex(hex))).message;
    expect(msg('68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8C 16')).toBe('FRAME_INVALID: checksum: expected 0x8B, found 0x8C');
    expect(msg('68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 8B 16')).toBe('FRAME_INVALID: length: L=8 but 7 data bytes follow');
    expect(msg('68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 17')).toBe('FRAME_INVALID: terminator: expected 0x16, found 0x17');
  });
});

describe('describeFrame: CJ/T 188', () => {
  it('shows quantities, FF fields and the DI order the meter used', () => {
    const d = describeFrame(
      'cjt188',
      parseHex('FE FE 68 10 45 41 10 05 15 33 78 81 16 90 1F AA 00 59 59 00 2C FF FF FF FF 2C FF FF FF FF FF FF FF 00 00 C2 16'),
    );
    expect(field(d, 'meter type')?.value).toBe('0x10 cold water meter');
    expect(field(d, 'data identifier')?.value).toBe('901F read meter data (sent 90 1F)');
    expect(field(d, 'current cumulative flow')).toEqual({ name: 'current cumulative flow', value: '5959 m3', raw: '00 59 59 00 2C' });
    expect(d.values).toEqual([
      { name: 'current cumulative flow', value: 5959, unit: 'm3' },
      { name: 'settlement-day cumulative flow', value: null, unit: 'm3' },
    ]);
    expect(d.notes).toContain('real time: not available (FF)');
  });

  it('reports a bad checksum with expected and found', () => {
    expect(thrown(() => describeFrame('cjt188', parseHex('FE FE FE FE 68 20 32 41 31 40 00 00 00 01 03 90 1F 01 21 16'))).message).toBe(
      'FRAME_INVALID: checksum: expected 0x20, found 0x21',
    );
  });
});

describe('describeFrame: Modbus', () => {
  it('RTU request vs response: says which it assumed', () => {
    const req = describeFrame('modbus-rtu', parseHex('11 03 00 6B 00 03 76 87'));
    expect(req.fields[0]).toEqual({ name: 'direction', value: 'request' });
    expect(field(req, 'address')?.value).toBe(107);
    expect(req.notes?.[0]).toMatch(/^assumed request/);
    const resp = describeFrame('modbus-rtu', buildRtuResponse(17, { functionCode: 3, registers: [555, 0, 100] }));
    expect(resp.fields[0]).toEqual({ name: 'direction', value: 'response' });
    expect(field(resp, 'registers')?.value).toBe('555 0 100');
    expect(resp.values?.map((v) => v.value)).toEqual([555, 0, 100]);
    expect(resp.notes?.[0]).toMatch(/^assumed response/);
  });

  it('FC5/FC6 echoes are flagged as either', () => {
    const d = describeFrame('modbus-rtu', buildRtuRequest(1, { functionCode: 6, address: 1, value: 3 }));
    expect(d.fields[0].value).toBe('request (or its identical echo response)');
  });

  it('FC1 PDU that fits both layouts: request assumed, and said', () => {
    // 01 01 03 CD 6B 05 + CRC: a response with byte count 3, and also a request for 0x6B05 coils from 0x03CD
    const frame = buildRtuResponse(1, { functionCode: 1, bits: [1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1] });
    const d = describeFrame('modbus-rtu', frame);
    // quantity 0x6B05 is outside 1..2000, so only the response reading is valid here
    expect(d.fields[0].value).toBe('response');
    const both = describeFrame('modbus-rtu', buildRtuRequest(1, { functionCode: 1, address: 0x0300, quantity: 16 }));
    expect(both.fields[0].value).toBe('request (assumed)');
    expect(both.notes?.[0]).toMatch(/also reads as a response with byte count 3/);
  });

  it('decodes exception responses', () => {
    const d = describeFrame('modbus-rtu', parseHex('0x11,0x83,0x02,0xC1,0x34'));
    expect(field(d, 'exception code')?.value).toBe('0x02 illegal data address');
  });

  it('RTU CRC and TCP MBAP errors say expected vs found', () => {
    expect(thrown(() => describeFrame('modbus-rtu', parseHex('11 03 00 6B 00 03 76 88'))).message).toBe(
      'FRAME_INVALID: crc: expected 0x8776 (bytes 76 87), found 0x8876 (bytes 76 88)',
    );
    const two = new Uint8Array(30);
    two.set(buildTcpResponse(1, 1, { functionCode: 3, registers: [1, 2, 3] }));
    two.set(buildTcpResponse(2, 1, { functionCode: 3, registers: [1, 2, 3] }), 15);
    expect(thrown(() => describeFrame('modbus-tcp', two)).message).toMatch(/field says 9 bytes follow it, but 24 do \(several frames pasted/);
  });

  it('TCP frames carry transaction and unit ids', () => {
    const d = describeFrame('modbus-tcp', buildTcpResponse(0x1234, 7, { functionCode: 4, registers: [42] }));
    expect(field(d, 'transaction id')?.value).toBe(0x1234);
    expect(field(d, 'unit id')?.value).toBe(7);
    expect(d.values).toEqual([{ name: 'register +0', value: 42, unit: '' }]);
  });

  it('rejects an unknown protocol name', () => {
    expect(thrown(() => describeFrame('iec104' as 'dlt645', Uint8Array.of(1))).message).toMatch(/protocol: must be/);
  });
});

describe('describeFrame: SL 651', () => {
  it('explains a published 30H test report field by field, values with units', () => {
    const d = describeFrame('sl651', parseHex(SL651_PUBLISHED_FRAMES.test30));
    expect(field(d, 'function')?.value).toBe('0x30 test report (测试报)');
    expect(field(d, 'station address')).toMatchObject({ value: '0012345678', raw: '00 12 34 56 78' });
    expect(field(d, 'direction + length')?.value).toBe('up (station → centre), 43 bytes');
    expect(field(d, 'Z (39H) river water level')).toMatchObject({ value: '0.127 m [def 0x23: 4 bytes, 3 decimals]', raw: '00 00 01 27' });
    expect(field(d, 'crc')?.value).toBe('20FA (ok)');
    expect(d.values).toEqual([
      { name: 'current rainfall', value: 0.5, unit: 'mm' },
      { name: 'cumulative rainfall', value: 0.5, unit: 'mm' },
      { name: 'river water level', value: 0.127, unit: 'm' },
      { name: 'supply voltage', value: 11.15, unit: 'V' },
    ]);
  });

  it('a reply: addresses in down order, the end character named', () => {
    const d = describeFrame('sl651', parseHex(SL651_PUBLISHED_FRAMES.timed32Reply));
    expect(d.fields.slice(1, 3).map((f) => f.name)).toEqual(['station address', 'centre address']);
    expect(field(d, 'end')?.value).toBe('ESC (transmission over, stay on line)');
  });

  it('an ASCII frame, and an element the table does not name (with a note)', () => {
    const body = buildSl651Body({
      encoding: 'ascii',
      serial: 1,
      sendTime: '2024-06-01 08:00:00',
      items: [
        { kind: 'station', station: '0012345678', stationType: 0x50 },
        { kind: 'element', id: 0x20, value: 2.5 },
        { kind: 'element', id: -1, code: 'XY', value: 7, text: '7' },
      ],
    });
    const f = buildSl651Frame({ encoding: 'ascii', direction: 'up', centre: 1, station: '0012345678', password: '1234', functionCode: 0x32, body, end: 3 });
    const d = describeFrame('sl651', f);
    expect(field(d, 'start')?.value).toBe('SOH (ASCII frame)');
    expect(field(d, 'station type')?.value).toBe('P: rainfall (降水)');
    expect(field(d, 'PJ (20H) current rainfall')?.value).toBe('2.5 mm');
    expect(d.notes).toEqual(["element XY is not in the decoder's table: its value is read by its text, without a unit"]);
  });

  it('a broken CRC names the field and the byte', () => {
    const b = parseHex(SL651_PUBLISHED_FRAMES.keepAlive);
    b[b.length - 1] ^= 1;
    expect(thrown(() => describeFrame('sl651', b)).message).toBe('FRAME_INVALID: crc (byte 23): expected 6BCA, found 6BCB');
  });
});
