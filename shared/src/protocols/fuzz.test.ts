/**
 * Fuzz-ish robustness: random bytes, truncations and mutations (with checksums
 * repaired so the deeper decoding paths run) into every parser. Each call must
 * return or throw a LifelineError: never another exception type, never a hang.
 * Seeded, so a failure reproduces.
 */
import { prngUint32 } from '../random.js';
import { isLifelineError } from '../errors.js';
import { describe, expect, it } from 'vitest';
import { buildCjt188ReadReply, buildCjt188ReadRequest, cjt188FrameLength, parseCjt188Frame, parseCjt188ReadReply } from './cjt188/frame.js';
import { describeFrame, parseHex } from './describe.js';
import { buildDlt645ErrorReply, buildDlt645ReadReply, buildDlt645ReadRequest, dlt645FrameLength, parseDlt645Frame, parseDlt645ReadReply } from './dlt645/frame.js';
import { writeCrc } from './modbus/crc.js';
import {
  buildRtuException,
  buildRtuRequest,
  buildRtuResponse,
  parseRtuRequest,
  parseRtuResponse,
  rtuRequestLength,
  rtuResponseLength,
} from './modbus/rtu.js';
import { SL651_PUBLISHED_FRAMES as SL651_PUBLISHED, buildSl651Body, buildSl651Frame, buildSl651Reply, buildSl651Report, parseSl651Body, parseSl651Frame, sl651Crc, sl651FrameInit, sl651FrameLength } from './sl651/index.js';
import { MbapFrameExtractor, buildTcpRequest, buildTcpResponse, parseTcpRequest, parseTcpResponse, tcpFrameLength } from './modbus/tcp.js';

/** Seeded integers in [0, n). */
function prng(seed: number) {
  const next = prngUint32(seed);
  return (n: number) => next() % n;
}

type Outcome = 'ok' | 'lifeline';

/** Run fn; a non-Lifeline throw fails the test with the input that caused it. */
function attempt(label: string, input: Uint8Array | string, fn: () => unknown): Outcome {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (isLifelineError(e)) return 'lifeline';
    const shown = typeof input === 'string' ? JSON.stringify(input) : Buffer.from(input).toString('hex');
    throw new Error(`${label} threw a non-Lifeline error for ${shown}: ${String(e)}`, { cause: e });
  }
}

function mutate(rnd: (n: number) => number, src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  const ops = 1 + rnd(3);
  for (let k = 0; k < ops; k++) {
    const op = rnd(5);
    if (op === 0 && b.length) b[rnd(b.length)] ^= 1 << rnd(8);
    else if (op === 1 && b.length) b[rnd(b.length)] = rnd(256);
    else if (op === 2) b.splice(rnd(b.length + 1), 0, rnd(256));
    else if (op === 3 && b.length) b.splice(rnd(b.length), 1);
    else b.length = rnd(b.length + 1);
  }
  return Uint8Array.from(b);
}

const randomBytes = (rnd: (n: number) => number, max: number) => Uint8Array.from({ length: rnd(max) }, () => rnd(256));

function repairSum(b: Uint8Array): Uint8Array {
  // Recompute CS over [first 0x68, len-2) so mutated meter frames get past the checksum.
  let p = 0;
  while (p < b.length && b[p] === 0xfe) p++;
  if (b.length - p < 3) return b;
  let s = 0;
  for (let i = p; i < b.length - 2; i++) s += b[i];
  b[b.length - 2] = s & 0xff;
  return b;
}

function repairCrc(b: Uint8Array): Uint8Array {
  if (b.length >= 3) writeCrc(b, 0, b.length - 2);
  return b;
}

function repairMbap(b: Uint8Array): Uint8Array {
  if (b.length >= 6) {
    b[2] = 0;
    b[3] = 0;
    b[4] = (b.length - 6) >> 8;
    b[5] = (b.length - 6) & 0xff;
  }
  return b;
}

const ITER = 4000;

describe('every parser answers garbage with a LifelineError', () => {
  it('Modbus RTU', () => {
    const rnd = prng(1);
    const seeds = [
      buildRtuRequest(1, { functionCode: 3, address: 0, quantity: 10 }),
      buildRtuRequest(1, { functionCode: 16, address: 5, values: [1, 2, 3] }),
      buildRtuRequest(1, { functionCode: 15, address: 5, values: [true, false, true] }),
      buildRtuResponse(1, { functionCode: 3, registers: [1, 2, 3, 4] }),
      buildRtuResponse(1, { functionCode: 1, bits: [1, 0, 1] }),
      buildRtuResponse(1, { functionCode: 6, address: 1, value: 7 }),
      buildRtuException(1, 3, 2),
    ];
    const tally = { ok: 0, lifeline: 0 };
    for (let i = 0; i < ITER; i++) {
      const b = i % 3 === 0 ? randomBytes(rnd, 300) : repairCrc(mutate(rnd, seeds[rnd(seeds.length)]));
      tally[attempt('parseRtuResponse', b, () => parseRtuResponse(b))]++;
      attempt('parseRtuResponse+request', b, () => parseRtuResponse(b, { unitId: 1, request: { functionCode: 3, address: 0, quantity: 2 } }));
      attempt('parseRtuRequest', b, () => parseRtuRequest(b));
      attempt('rtuResponseLength', b, () => rtuResponseLength(b, rnd(b.length + 1)));
      attempt('rtuRequestLength', b, () => rtuRequestLength(b, rnd(b.length + 1)));
      attempt('describe rtu', b, () => describeFrame('modbus-rtu', b));
    }
    expect(tally.ok).toBeGreaterThan(50); // the mutations reach the successful paths too
    expect(tally.lifeline).toBeGreaterThan(50);
  });

  it('Modbus TCP, including the stream extractor', () => {
    const rnd = prng(2);
    const seeds = [
      buildTcpRequest(1, 1, { functionCode: 4, address: 0, quantity: 3 }),
      buildTcpResponse(1, 1, { functionCode: 3, registers: [9, 8, 7] }),
      buildTcpResponse(2, 1, { functionCode: 16, address: 1, quantity: 2 }),
    ];
    const tally = { ok: 0, lifeline: 0 };
    for (let i = 0; i < ITER; i++) {
      const b = i % 3 === 0 ? randomBytes(rnd, 300) : repairMbap(mutate(rnd, seeds[rnd(seeds.length)]));
      tally[attempt('parseTcpResponse', b, () => parseTcpResponse(b))]++;
      attempt('parseTcpRequest', b, () => parseTcpRequest(b));
      attempt('tcpFrameLength', b, () => tcpFrameLength(b));
      attempt('describe tcp', b, () => describeFrame('modbus-tcp', b));
      const x = new MbapFrameExtractor();
      let at = 0;
      while (at < b.length) {
        const size = 1 + rnd(40);
        const chunk = b.slice(at, at + size);
        attempt('extractor.push', chunk, () =>
          x.push(chunk, (buf, s, e) => {
            attempt('parse extracted', buf, () => parseTcpResponse(buf, undefined, s, e));
          }),
        );
        at += size;
      }
    }
    expect(tally.ok).toBeGreaterThan(50);
    expect(tally.lifeline).toBeGreaterThan(50);
  });

  it('DL/T 645', () => {
    const rnd = prng(3);
    const seeds = [
      buildDlt645ReadReply('000102030425', '00010000', 1206.42),
      buildDlt645ReadReply('000102030425', '0203FF00', [1.5, -0.5, 0.25, 0.75], { preamble: 0 }),
      buildDlt645ReadRequest('AAAAAAAAAAAA', '02010100'),
      buildDlt645ErrorReply('000000000001', 2),
    ];
    const tally = { ok: 0, lifeline: 0 };
    for (let i = 0; i < ITER; i++) {
      const b = i % 3 === 0 ? randomBytes(rnd, 300) : repairSum(mutate(rnd, seeds[rnd(seeds.length)]));
      tally[attempt('parseDlt645Frame', b, () => parseDlt645Frame(b))]++;
      attempt('parseDlt645ReadReply', b, () => parseDlt645ReadReply(b, { di: '00010000', address: 'AAAAAAAAAAAA' }));
      attempt('dlt645FrameLength', b, () => dlt645FrameLength(b, rnd(b.length + 1)));
      attempt('describe dlt645', b, () => describeFrame('dlt645', b));
    }
    expect(tally.ok).toBeGreaterThan(50);
    expect(tally.lifeline).toBeGreaterThan(50);
  });

  it('CJ/T 188', () => {
    const rnd = prng(4);
    const seeds = [
      buildCjt188ReadReply(0x10, '78330011223344', { values: { currentFlow: 12.5, settlementFlow: 10 }, time: '2024-01-02 03:04:05' }),
      buildCjt188ReadReply(0x20, '00000000000001', { values: { currentHeat: 99, supplyTemperature: 60.5 } }),
      buildCjt188ReadRequest(0x30, 'AAAAAAAAAAAAAA'),
    ];
    const tally = { ok: 0, lifeline: 0 };
    for (let i = 0; i < ITER; i++) {
      const b = i % 3 === 0 ? randomBytes(rnd, 300) : repairSum(mutate(rnd, seeds[rnd(seeds.length)]));
      tally[attempt('parseCjt188Frame', b, () => parseCjt188Frame(b))]++;
      attempt('parseCjt188ReadReply', b, () => parseCjt188ReadReply(b));
      attempt('cjt188FrameLength', b, () => cjt188FrameLength(b, rnd(b.length + 1)));
      attempt('describe cjt188', b, () => describeFrame('cjt188', b));
    }
    expect(tally.ok).toBeGreaterThan(50);
    expect(tally.lifeline).toBeGreaterThan(50);
  });

  it('SL 651 (HEX/BCD and ASCII): garbage is a LifelineError; whatever parses encodes back to itself', () => {
    const rnd = prng(6);
    const report = (encoding: 'hex' | 'ascii') =>
      buildSl651Report({
        encoding,
        centre: 1,
        station: '0012345678',
        password: '1234',
        serial: 7,
        sendTime: '2024-06-01 08:05:00',
        stationType: 0x50,
        observedAt: '2024-06-01 08:05',
        elements: [
          { id: 0x20, value: 1.5 },
          { id: 0x26, value: 123.4 },
          { id: 0x39, value: -0.5, def: 0x2b },
          { id: 0x38, value: encoding === 'hex' ? null : 12.5 },
        ],
      });
    const seeds = [...Object.values(SL651_PUBLISHED).map((h) => parseHex(h)), report('hex'), report('ascii')];
    seeds.push(buildSl651Reply(parseSl651Frame(seeds[seeds.length - 1])));
    // Repair the length field and the CRC so mutations reach the body decoder.
    const repair = (b: Uint8Array): Uint8Array => {
      if (b[0] === 0x7e && b.length >= 17) {
        const L = b.length - 17;
        b[11] = (b[11] & 0xf0) | ((L >> 8) & 0x0f);
        b[12] = L & 0xff;
        const crc = sl651Crc(b, 0, b.length - 2);
        b[b.length - 2] = crc >> 8;
        b[b.length - 1] = crc & 0xff;
      } else if (b[0] === 0x01 && b.length >= 29) {
        const L = (b.length - 29).toString(16).toUpperCase().padStart(3, '0');
        for (let k = 0; k < 3; k++) b[20 + k] = L.charCodeAt(k);
        const crc = sl651Crc(b, 0, b.length - 4).toString(16).toUpperCase().padStart(4, '0');
        for (let k = 0; k < 4; k++) b[b.length - 4 + k] = crc.charCodeAt(k);
      }
      return b;
    };
    const tally = { ok: 0, lifeline: 0, bodies: 0 };
    for (let i = 0; i < ITER; i++) {
      const b = i % 4 === 0 ? randomBytes(rnd, 200) : repair(mutate(rnd, seeds[rnd(seeds.length)]));
      tally[attempt('parseSl651Frame', b, () => parseSl651Frame(b))]++;
      attempt('sl651FrameLength', b, () => sl651FrameLength(b, rnd(b.length + 1)));
      attempt('describe sl651', b, () => describeFrame('sl651', b));
      let f: ReturnType<typeof parseSl651Frame> | undefined;
      try {
        f = parseSl651Frame(b);
      } catch {
        continue;
      }
      expect(buildSl651Frame(sl651FrameInit(f))).toEqual(b);
      let body: ReturnType<typeof parseSl651Body> | undefined;
      attempt('parseSl651Body', b, () => (body = parseSl651Body(f)));
      if (body) {
        tally.bodies++;
        expect(buildSl651Body(body)).toEqual(f.body);
      }
      if (f.direction === 'up') attempt('buildSl651Reply', b, () => buildSl651Reply(f));
    }
    expect(tally.ok).toBeGreaterThan(50);
    expect(tally.lifeline).toBeGreaterThan(50);
    expect(tally.bodies).toBeGreaterThan(50);
  });

  it('parseHex on random text', () => {
    const rnd = prng(5);
    const alphabet = '0123456789abcdefABCDEFxX ,;:-\t\ngGz!é';
    for (let i = 0; i < ITER; i++) {
      const s = Array.from({ length: rnd(60) }, () => alphabet[rnd(alphabet.length)]).join('');
      attempt('parseHex', s, () => parseHex(s));
    }
  });

  it('every truncation of every valid frame is handled', () => {
    const frames: Array<[Parameters<typeof describeFrame>[0], Uint8Array]> = [
      ['dlt645', buildDlt645ReadReply('000102030425', '00010000', 1206.42)],
      ['cjt188', buildCjt188ReadReply(0x20, '00000000000001', { values: { currentHeat: 1 } })],
      ['modbus-rtu', buildRtuResponse(1, { functionCode: 3, registers: [1, 2, 3] })],
      ['modbus-tcp', buildTcpResponse(1, 1, { functionCode: 3, registers: [1, 2, 3] })],
      ['sl651', parseHex(SL651_PUBLISHED.timed32)],
    ];
    for (const [protocol, f] of frames) {
      expect(attempt('full', f, () => describeFrame(protocol, f))).toBe('ok');
      for (let n = 0; n < f.length; n++) {
        const t = f.subarray(0, n);
        expect(attempt(`truncated ${protocol}`, t, () => describeFrame(protocol, t))).toBe('lifeline');
      }
    }
  });
});
