/**
 * SL 651-2014 codec against frames published by others, then round trips and
 * errors. Published frames (copied as printed; CRC checked by the codec):
 *
 * [T] "SL651-2014全协议解析(HEX编码格式)", https://www.toymoban.com/news/detail-686475.html (frames in published.ts)
 *     (also https://e-com-net.com/article/1736683930196697088.htm): 2FH keep-alive, 30H test
 *     report + the centre's reply, 32H timed report + reply, with the decoded values the author
 *     gives ("当前降水量:0.5mm,降水量累计值:0.5mm,瞬时河道水位:0.127m,电源电压:11.15V"; 4 mm, 4 mm, 10.49 m).
 * [C] CRC: the same CRC-16 (0xA001 reflected, init 0xFFFF, high byte first) as
 *     xiaozhuweini/fyyp_rtu components/ptcl/sl651.c `_sl651_crc_value`, which also shows the
 *     SYN packet counter (12-bit total, 12-bit number, counted in L) and the FF sign byte.
 */
import { describe, expect, it } from 'vitest';
import { isLifelineError } from '../../errors.js';
import { parseHex } from '../describe.js';
import { buildSl651Body, parseSl651Body } from './body.js';
import { Sl651Ctl } from './elements.js';
import { buildSl651Frame, parseSl651Frame, sl651Crc, sl651FrameInit, sl651FrameLength } from './frame.js';
import { buildSl651Reply, buildSl651Report, sl651Observations } from './report.js';
import { SL651_PUBLISHED_FRAMES } from './published.js';

const PUBLISHED = SL651_PUBLISHED_FRAMES;

/** What the published 32H report says, as our builder takes it. */
const TIMED32 = {
  centre: 5,
  station: '0011223344',
  password: '03E8',
  functionCode: 0x32,
  serial: 0x34,
  sendTime: '2017-07-18 11:00:16',
  stationType: 0x48,
  observedAt: '2017-07-18 11:00',
  elements: [
    { id: 0x20, value: 4 },
    { id: 0x26, value: 4 },
    { id: 0x39, value: 10.49 },
    { id: 0x38, value: 10.99 },
  ],
};

const bytes = (hex: string) => parseHex(hex);

function lifelineMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isLifelineError(e)) return e.message;
    throw e;
  }
  throw new Error('expected a LifelineError');
}

describe('SL 651 published frames [T]', () => {
  it('the CRC is CRC-16/MODBUS over 7E…end, sent high byte first', () => {
    for (const hex of Object.values(PUBLISHED)) {
      const b = bytes(hex);
      const crc = sl651Crc(b, 0, b.length - 2);
      expect(((crc >> 8) & 0xff) === b[b.length - 2] && (crc & 0xff) === b[b.length - 1]).toBe(true);
    }
  });

  it('2FH link keep-alive: header fields, serial and send time', () => {
    const f = parseSl651Frame(bytes(PUBLISHED.keepAlive));
    expect(f).toMatchObject({ encoding: 'hex', direction: 'up', centre: 1, station: '0012345678', password: '1234', functionCode: 0x2f, end: Sl651Ctl.ETX });
    const body = parseSl651Body(f);
    expect(body).toEqual({ encoding: 'hex', serial: 3, sendTime: '2059-10-11 15:51:11', items: [] });
    expect(parseSl651Body(parseSl651Frame(bytes(PUBLISHED.keepAlive2))).serial).toBe(0x7e08);
  });

  it('30H test report: the values the author lists', () => {
    const f = parseSl651Frame(bytes(PUBLISHED.test30));
    const { station, stationType, observations } = sl651Observations(parseSl651Body(f));
    expect(station).toBe('0012345678');
    expect(stationType).toBe(0x48); // H: river station
    expect(observations.map((o) => [o.code, o.value, o.time])).toEqual([
      ['PJ', 0.5, '2059-10-11 15:49'],
      ['PT', 0.5, '2059-10-11 15:49'],
      ['Z', 0.127, '2059-10-11 15:49'],
      ['VT', 11.15, '2059-10-11 15:49'],
    ]);
  });

  it('32H timed report: 4 mm, 4 mm, 10.49 m, 10.99 V', () => {
    const f = parseSl651Frame(bytes(PUBLISHED.timed32));
    expect(f).toMatchObject({ centre: 5, station: '0011223344', password: '03E8', functionCode: 0x32 });
    const { observations } = sl651Observations(parseSl651Body(f));
    expect(observations.map((o) => [o.id, o.value])).toEqual([
      [0x20, 4],
      [0x26, 4],
      [0x39, 10.49],
      [0x38, 10.99],
    ]);
  });

  it('the centre replies as published: down flag, addresses swapped, serial and send time echoed, ESC', () => {
    expect(buildSl651Reply(parseSl651Frame(bytes(PUBLISHED.test30)))).toEqual(bytes(PUBLISHED.test30Reply));
    expect(buildSl651Reply(parseSl651Frame(bytes(PUBLISHED.timed32)))).toEqual(bytes(PUBLISHED.timed32Reply));
    const down = parseSl651Frame(bytes(PUBLISHED.timed32Reply));
    expect(down).toMatchObject({ direction: 'down', centre: 5, station: '0011223344', end: Sl651Ctl.ESC });
  });

  it('encode(decode(x)) gives every published frame back, frame and body', () => {
    for (const hex of Object.values(PUBLISHED)) {
      const b = bytes(hex);
      const f = parseSl651Frame(b);
      expect(buildSl651Frame(sl651FrameInit(f))).toEqual(b);
      expect(buildSl651Body(parseSl651Body(f))).toEqual(f.body);
    }
  });

  it('our builder writes the published 32H report from its values', () => {
    const b = buildSl651Report(TIMED32);
    expect(b).toEqual(bytes(PUBLISHED.timed32));
  });
});

describe('SL 651 stream length', () => {
  it('tells the frame length once the length field is in, -1 on a wrong start', () => {
    const b = bytes(PUBLISHED.timed32);
    expect(sl651FrameLength(b, 5)).toBe(0);
    expect(sl651FrameLength(b, 13)).toBe(b.length);
    expect(sl651FrameLength(Uint8Array.of(0x68, 1, 2))).toBe(-1);
    const a = buildSl651Report({ encoding: 'ascii', centre: 1, station: '0012345678', password: '1234', serial: 1, sendTime: '2024-06-01 08:00:00', stationType: 0x50, observedAt: '2024-06-01 08:00', elements: [{ id: 0x20, value: 1.5 }] });
    expect(sl651FrameLength(a, 23)).toBe(0);
    expect(sl651FrameLength(a, 24)).toBe(a.length);
  });
});

describe('SL 651 ASCII form', () => {
  // The published 32H report's values, written in the ASCII form.
  const init = { ...TIMED32, encoding: 'ascii' as const, centre: 1, station: '0012345678', password: '1234' };

  it('writes the same report as text: SOH, hex-character header, mnemonics and values, CRC as 4 characters', () => {
    const b = buildSl651Report(init);
    const text = String.fromCharCode(...b);
    expect(text.charCodeAt(0)).toBe(0x01);
    expect(text.slice(1, 23)).toBe(`01001234567812343200${(text.length - 29).toString(16).toUpperCase().padStart(2, '0')}`);
    expect(text.slice(24, -5)).toBe('0034170718110016 ST 0012345678 H TT 1707181100 PJ 4.0 PT 4.0 Z 10.490 VT 10.99');
    expect(text.charCodeAt(text.length - 5)).toBe(Sl651Ctl.ETX);
    expect(parseInt(text.slice(-4), 16)).toBe(sl651Crc(b, 0, b.length - 4));
  });

  it('reads back what the HEX form says, and round trips', () => {
    const b = buildSl651Report(init);
    const f = parseSl651Frame(b);
    expect(f).toMatchObject({ encoding: 'ascii', direction: 'up', centre: 1, station: '0012345678', functionCode: 0x32 });
    const body = parseSl651Body(f);
    expect(sl651Observations(body).observations.map((o) => [o.id, o.value])).toEqual([
      [0x20, 4],
      [0x26, 4],
      [0x39, 10.49],
      [0x38, 10.99],
    ]);
    expect(buildSl651Frame(sl651FrameInit(f))).toEqual(b);
    expect(buildSl651Body(body)).toEqual(f.body);
    const reply = parseSl651Frame(buildSl651Reply(f));
    expect(reply).toMatchObject({ encoding: 'ascii', direction: 'down', station: '0012345678', centre: 1, end: Sl651Ctl.ESC });
    expect(parseSl651Body(reply)).toMatchObject({ serial: 0x34, sendTime: '2017-07-18 11:00:16', items: [] });
  });
});

describe('SL 651 element values', () => {
  const frameWith = (elements: Array<{ id: number; value: number | null; def?: number }>) =>
    parseSl651Body(
      parseSl651Frame(
        buildSl651Report({ centre: 1, station: '0012345678', password: '1234', serial: 9, sendTime: '2024-06-01 08:00:00', stationType: 0x48, observedAt: '2024-06-01 08:00', elements }),
      ),
    );

  it('FF… is "no data", a leading FF a negative value, 45H a 32-bit status', () => {
    const body = frameWith([
      { id: 0x39, value: null },
      { id: 0x39, value: -1.25, def: 0x2b }, // 5 bytes: FF sign + 4 BCD, 3 decimals
      { id: 0x45, value: 0x00000401 },
    ]);
    const els = body.items.filter((i) => i.kind === 'element');
    expect(els.map((e) => [e.value, e.raw])).toEqual([
      [null, 'FF FF FF FF'],
      [-1.25, 'FF 00 00 12 50'],
      [0x401, '00 00 04 01'],
    ]);
  });

  it('F4H five-minute rainfalls and F5H relative levels decode as arrays', () => {
    const f = parseSl651Frame(
      buildSl651Frame({
        direction: 'up',
        centre: 1,
        station: '0012345678',
        password: '1234',
        functionCode: 0x34,
        body: buildSl651Body({
          encoding: 'hex',
          serial: 1,
          sendTime: '2024-06-01 09:00:00',
          items: [{ kind: 'element', id: 0xf4, value: null, def: 0x60, values: [0, 0.5, 1.2, null, 0, 0, 0, 0, 0, 0, 0, 25.4] }],
        }),
        end: Sl651Ctl.ETX,
      }),
    );
    const e = parseSl651Body(f).items[0];
    expect(e.kind === 'element' && e.values).toEqual([0, 0.5, 1.2, null, 0, 0, 0, 0, 0, 0, 0, 25.4]);
    expect(e.kind === 'element' && e.raw).toBe('00 05 0C FF 00 00 00 00 00 00 00 FE');
    expect(e.kind === 'element' && e.value).toBe(25.4); // the last value of the hour
  });

  it('31H uniform-interval report: one identifier, one value per time step', () => {
    const body = buildSl651Body({
      encoding: 'hex',
      serial: 0x2f7e,
      sendTime: '2022-12-05 11:00:19',
      items: [
        { kind: 'station', station: '1000000006', stationType: 0x48 },
        { kind: 'time', time: '2022-12-05 10:05' },
        { kind: 'element', id: 0x04, value: 5, def: 0x18 },
        { kind: 'element', id: 0x39, value: null, def: 0x23, series: true, values: [28.96, 28.96, 28.97] },
      ],
    });
    const f = parseSl651Frame(buildSl651Frame({ direction: 'up', centre: 1, station: '1000000006', password: '0000', functionCode: 0x31, body, end: Sl651Ctl.ETX }));
    const parsed = parseSl651Body(f);
    const series = parsed.items[3];
    expect(series.kind === 'element' && series.values).toEqual([28.96, 28.96, 28.97]);
    expect(buildSl651Body(parsed)).toEqual(body);
  });
});

describe('SL 651 errors name the field and the byte offset', () => {
  it('CRC, length, start, up/down flag, end character', () => {
    const good = bytes(PUBLISHED.timed32);
    const crc = Uint8Array.from(good);
    crc[crc.length - 1] ^= 1;
    expect(lifelineMessage(() => parseSl651Frame(crc))).toBe(`FRAME_INVALID: crc (byte ${good.length - 2}): expected A421, found A420`);
    expect(lifelineMessage(() => parseSl651Frame(good.subarray(0, 40)))).toMatch(/^FRAME_INVALID: length \(byte 11\): L=43 means a 60-byte frame, got 40 bytes$/);
    expect(lifelineMessage(() => parseSl651Frame(Uint8Array.of(0x68, 0x7e)))).toMatch(/start \(byte 0\): expected 7E 7E .* found 0x68/);
    const flag = Uint8Array.from(good);
    flag[11] = 0x40;
    expect(lifelineMessage(() => parseSl651Frame(flag))).toMatch(/up\/down flag \(byte 11\)/);
  });

  it('body: non-BCD data and an element running past the end', () => {
    const body = Uint8Array.from([0x00, 0x01, 0x24, 0x06, 0x01, 0x08, 0x00, 0x00, 0x39, 0x23, 0x00, 0x0a, 0x00, 0x01]);
    const f = parseSl651Frame(buildSl651Frame({ direction: 'up', centre: 1, station: '0012345678', password: '1234', functionCode: 0x32, body, end: Sl651Ctl.ETX }));
    expect(lifelineMessage(() => parseSl651Body(f))).toBe('FRAME_INVALID: element Z (0x39) (byte 25): 0x0A is not BCD');
    const short = Uint8Array.from([0x00, 0x01, 0x24, 0x06, 0x01, 0x08, 0x00, 0x00, 0x39, 0x23, 0x00]);
    const g = parseSl651Frame(buildSl651Frame({ direction: 'up', centre: 1, station: '0012345678', password: '1234', functionCode: 0x32, body: short, end: Sl651Ctl.ETX }));
    expect(lifelineMessage(() => parseSl651Body(g))).toBe('FRAME_INVALID: element (byte 22): Z (0x39) definition 0x23 says 4 data bytes, 1 remain');
  });

  it('building refuses bad fields by name', () => {
    expect(lifelineMessage(() => buildSl651Frame({ direction: 'up', centre: 300, station: '0012345678', password: '1234', functionCode: 0x32, body: new Uint8Array(), end: 3 }))).toBe(
      'FRAME_INVALID: centre: must be 0..255, got 300',
    );
    expect(lifelineMessage(() => buildSl651Frame({ direction: 'up', centre: 1, station: '12345', password: '1234', functionCode: 0x32, body: new Uint8Array(), end: 3 }))).toMatch(/station: must be 10/);
    expect(lifelineMessage(() => buildSl651Report({ centre: 1, station: '0012345678', password: '1234', serial: 1, sendTime: '2024-06-01 08:00:00', stationType: 0x50, observedAt: '2024-06-01 08:00', elements: [{ id: 0x20, value: 123456 }] }))).toBe(
      'FRAME_INVALID: element PJ (0x20): 123456 does not fit 3 bytes with 1 decimals',
    );
  });
});
