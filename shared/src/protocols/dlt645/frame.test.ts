import { isLifelineError, type LifelineError } from '../../errors.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.js';
import { DLT645_DATA_IDS, dlt645BlockItems } from './data-ids.js';
import {
  buildDlt645ErrorReply,
  buildDlt645Frame,
  buildDlt645ReadReply,
  buildDlt645ReadRequest,
  dlt645FrameLength,
  parseDlt645Frame,
  parseDlt645ReadReply,
} from './frame.js';

const hex = (s: string) => Uint8Array.from(s.trim().split(/\s+/).map((h) => parseInt(h, 16)));

function thrown(fn: () => unknown): LifelineError {
  try {
    fn();
  } catch (e) {
    if (isLifelineError(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

describe('DL/T 645-2007 published worked frames', () => {
  // Source: issue 5, and https://553668.com/manong/786292.html ("DL/T645规约 … 举例说明"):
  // request 68 25 04 03 02 01 00 68 11 04 33 33 34 33 E1 16, reply = 1206.42 kWh at meter 000102030425.
  it('reads 1206.42 kWh forward active energy at meter 000102030425', () => {
    const r = parseDlt645ReadReply(hex('68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16'));
    expect(r.address).toBe('000102030425');
    expect(r.diHex).toBe('00010000');
    expect(r.values).toEqual([{ name: 'forward active energy total', value: 1206.42, unit: 'kWh', id: 0x00010000 }]);
  });

  it('builds the matching request byte for byte', () => {
    expect(toHex(buildDlt645ReadRequest('000102030425', '00010000', { preamble: 0 }))).toBe(
      '68 25 04 03 02 01 00 68 11 04 33 33 34 33 E1 16',
    );
    // default: four FE wake-up bytes
    expect(toHex(buildDlt645ReadRequest('000102030425', 0x00010000)).slice(0, 12)).toBe('FE FE FE FE ');
  });

  // Source: https://blog.youkuaiyun.com/EXEC_CHRONICLE_KEY/article/details/118301341 ("参考DL/T645-2007"),
  // a capture from meter 558890213594 with FE preambles in both directions.
  it('decodes a real meter capture: energy, voltage, current', () => {
    const energy = parseDlt645ReadReply(hex('FE FE FE FE 68 94 35 21 90 88 55 68 91 08 33 33 34 33 59 35 33 33 81 16'));
    expect(energy).toMatchObject({ address: '558890213594', diHex: '00010000' });
    expect(energy.values[0].value).toBe(2.26);
    const volts = parseDlt645ReadReply(hex('FE FE FE FE 68 94 35 21 90 88 55 68 91 06 33 34 34 35 7B 55 5E 16'));
    expect(volts.values).toEqual([{ name: 'phase A voltage', value: 224.8, unit: 'V', id: 0x02010100 }]);
    const amps = parseDlt645ReadReply(hex('FE FE FE FE 68 94 35 21 90 88 55 68 91 07 33 34 35 35 6B 35 33 63 16'));
    expect(amps.values[0]).toMatchObject({ name: 'phase A current', value: 0.238, unit: 'A' });
    // that page's requests, rebuilt by our builder
    expect(toHex(buildDlt645ReadRequest('558890213594', '02010100'))).toBe(
      'FE FE FE FE 68 94 35 21 90 88 55 68 11 04 33 34 34 35 0C 16',
    );
    expect(toHex(buildDlt645ReadRequest('558890213594', '02020100'))).toBe(
      'FE FE FE FE 68 94 35 21 90 88 55 68 11 04 33 34 35 35 0D 16',
    );
  });

  it('returns no values, but the raw bytes, for an identifier it does not know', () => {
    // Same source: the author asked for DI 00000302 (byte order mixed up); the meter still answered.
    const r = parseDlt645ReadReply(hex('FE FE FE FE 68 94 35 21 90 88 55 68 91 08 35 36 33 33 33 33 33 33 5D 16'));
    expect(r.diHex).toBe('00000302');
    expect(r.values).toEqual([]);
    expect(Array.from(r.raw)).toEqual([0, 0, 0, 0]);
  });

  // Source: Java class cn.edu.xust.communication.protocol.Dlt645Frame (huangxin, 2020), comment in analysis():
  // "6837030092813968 D1 01 35 5D 16" and "… 91 07 33 33 36 35 33 33 33 58 16".
  it('decodes total active power and the error reply of the same meter', () => {
    const p = parseDlt645ReadReply(hex('68 37 03 00 92 81 39 68 91 07 33 33 36 35 33 33 33 58 16'));
    expect(p.values[0]).toMatchObject({ name: 'total active power', value: 0, unit: 'kW' });
    const e = thrown(() => parseDlt645ReadReply(hex('68 37 03 00 92 81 39 68 D1 01 35 5D 16')));
    expect(e.code).toBe('DEVICE_EXCEPTION');
    expect(e.message).toBe('DEVICE_EXCEPTION: meter 398192000337: error reply 0x02: no requested data');
    expect(e.details).toEqual({ address: '398192000337', errorByte: 2 });
  });
});

describe('DL/T 645 frame errors say exactly what is wrong', () => {
  const good = '68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16';
  it('checksum', () => {
    expect(thrown(() => parseDlt645Frame(hex(good.replace('8B 16', '8C 16')))).message).toBe(
      'FRAME_INVALID: checksum: expected 0x8B, found 0x8C',
    );
  });
  it('length', () => {
    expect(thrown(() => parseDlt645Frame(hex(good.replace('75 39 45 33 ', '75 39 45 ')))).message).toBe(
      'FRAME_INVALID: length: L=8 but 7 data bytes follow',
    );
  });
  it('terminator', () => {
    expect(thrown(() => parseDlt645Frame(hex(good.replace('8B 16', '8B 17')))).message).toBe(
      'FRAME_INVALID: terminator: expected 0x16, found 0x17',
    );
  });
  it('start bytes and short frames', () => {
    expect(thrown(() => parseDlt645Frame(hex(good.replace(/^68/, '69')))).message).toMatch(/start: expected 0x68, found 0x69/);
    expect(thrown(() => parseDlt645Frame(hex('68 25 04 03 02 01 00 69 91 00 00 16'))).message).toMatch(/second start/);
    expect(thrown(() => parseDlt645Frame(hex('FE FE 68 25 04'))).message).toMatch(/at least 12 bytes/);
  });
  it('reply checks against the request', () => {
    expect(thrown(() => parseDlt645ReadReply(hex(good), { di: '02010100' })).message).toMatch(/di: expected 02010100, found 00010000/);
    expect(thrown(() => parseDlt645ReadReply(hex(good), { address: '000102030426' })).message).toMatch(/address/);
    expect(parseDlt645ReadReply(hex(good), { address: 'AAAAAAAAAAAA' }).address).toBe('000102030425');
    expect(thrown(() => parseDlt645ReadReply(buildDlt645ReadReply('000102030425', '02010100', 220.1).subarray(0, 17))).code).toBe(
      'FRAME_INVALID',
    );
  });
});

describe('DL/T 645 value formats', () => {
  const addr = '000000000001';
  const cases: Array<[string, number, string]> = [
    ['00010000', 123456.78, '78 56 34 12'],
    ['02010100', 229.9, '99 22'],
    ['02020100', -1.234, '34 12 80'], // sign in bit 7 of the top byte
    ['02030000', 12.3456, '56 34 12'],
    ['02030000', -0.5, '00 50 80'],
    ['02060000', 0.987, '87 09'],
    ['02800002', 49.98, '98 49'],
  ];
  it('round-trips values through the simulator-side builder, byte-exact', () => {
    for (const [di, value, plain] of cases) {
      const frame = buildDlt645ReadReply(addr, di, value, { preamble: 2 });
      const f = parseDlt645Frame(frame);
      expect(toHex(f.data.subarray(4))).toBe(plain);
      const r = parseDlt645ReadReply(frame, { di, address: addr });
      expect(r.values[0].value).toBeCloseTo(value, 6);
    }
  });

  it('decodes a block read of the three phase voltages', () => {
    expect(dlt645BlockItems(0x0201ff00).map((d) => d.name)).toEqual(['phase A voltage', 'phase B voltage', 'phase C voltage']);
    const r = parseDlt645ReadReply(buildDlt645ReadReply(addr, '0201FF00', [230.1, 229.5, 231]));
    expect(r.values.map((v) => v.value)).toEqual([230.1, 229.5, 231]);
    expect(dlt645BlockItems(0x0203ff00)).toHaveLength(4);
  });

  it('knows the required identifiers with their units', () => {
    const want: Record<string, string> = {
      '00010000': 'kWh',
      '02010100': 'V',
      '02020100': 'A',
      '02030000': 'kW',
      '02060000': '',
      '02800002': 'Hz',
    };
    for (const [di, unit] of Object.entries(want)) expect(DLT645_DATA_IDS.get(parseInt(di, 16))?.unit).toBe(unit);
  });

  it('rejects values that do not fit and non-BCD data', () => {
    expect(thrown(() => buildDlt645ReadReply(addr, '02010100', 1000)).message).toMatch(/does not fit/);
    expect(thrown(() => buildDlt645ReadReply(addr, '00010000', -1)).message).toMatch(/negative/);
    const notBcd = buildDlt645Frame(addr, 0x91, Uint8Array.of(0, 1, 1, 2, 0x1a, 0x22));
    expect(thrown(() => parseDlt645ReadReply(notBcd)).message).toMatch(/phase A voltage \(02010100\) bytes 1A 22 are not BCD/);
  });

  it('builds and parses error replies with every bit named', () => {
    const e = thrown(() => parseDlt645ReadReply(buildDlt645ErrorReply(addr, 0x05)));
    expect(e.message).toContain('other error, password error or not authorised');
  });

  it('validates addresses and identifiers', () => {
    expect(thrown(() => buildDlt645ReadRequest('12345', 0)).message).toMatch(/address: must be 12 digits/);
    expect(thrown(() => buildDlt645ReadRequest('00000000000G', 0)).message).toMatch(/"0G"/);
    expect(thrown(() => buildDlt645ReadRequest(addr, 'xyz')).message).toMatch(/di: must be 8 hex digits/);
  });
});

describe('dlt645FrameLength (split serial reads)', () => {
  it('knows the length once L has arrived, preamble included', () => {
    const f = buildDlt645ReadReply('000102030425', '00010000', 1206.42);
    expect(f.length).toBe(4 + 12 + 8);
    for (let n = 0; n < 14; n++) expect(dlt645FrameLength(f, n)).toBe(0);
    expect(dlt645FrameLength(f, 14)).toBe(f.length);
    expect(dlt645FrameLength(hex('FE FE 00 01'))).toBe(-1);
  });
});
