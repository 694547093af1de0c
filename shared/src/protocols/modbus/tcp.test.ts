import { isLifelineError, type LifelineError } from '../../errors.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.js';
import { type ModbusRequest, readRegisters } from './pdu.js';
import {
  MbapFrameExtractor,
  buildTcpException,
  buildTcpRequest,
  buildTcpResponse,
  encodeTcpRequest,
  parseTcpRequest,
  parseTcpResponse,
  splitTcpFrames,
} from './tcp.js';

function thrown(fn: () => unknown): LifelineError {
  try {
    fn();
  } catch (e) {
    if (isLifelineError(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

describe('TCP framing', () => {
  const req: ModbusRequest = { functionCode: 3, address: 0x6b, quantity: 3 };

  it('builds the MBAP header with transaction id, protocol 0 and length', () => {
    expect(toHex(buildTcpRequest(0x0102, 17, req))).toBe('01 02 00 00 00 06 11 03 00 6B 00 03');
    const resp = buildTcpResponse(0x0102, 17, { functionCode: 3, registers: [0x022b, 0, 0x64] });
    expect(toHex(resp)).toBe('01 02 00 00 00 09 11 03 06 02 2B 00 00 00 64');
  });

  it('parses a response and checks transaction id, unit and request', () => {
    const resp = buildTcpResponse(7, 17, { functionCode: 3, registers: [555, 0, 100] });
    const r = parseTcpResponse(resp, { transactionId: 7, unitId: 17, request: req });
    expect(r).toMatchObject({ transactionId: 7, unitId: 17, functionCode: 3, count: 3 });
    if (r.functionCode === 3) expect(Array.from(readRegisters(r))).toEqual([555, 0, 100]);
    expect(thrown(() => parseTcpResponse(resp, { transactionId: 8 })).message).toMatch(/transaction id: expected 8, found 7/);
    expect(thrown(() => parseTcpResponse(resp, { unitId: 1 })).message).toMatch(/unit: expected 1, found 17/);
  });

  it('decodes exception responses into DEVICE_EXCEPTION with the transaction id', () => {
    const e = thrown(() => parseTcpResponse(buildTcpException(9, 1, 3, 0x0b), { request: req }));
    expect(e.code).toBe('DEVICE_EXCEPTION');
    expect(e.message).toContain('gateway target device failed to respond');
    expect(e.details).toMatchObject({ transactionId: 9, functionCode: 3, exceptionCode: 0x0b });
  });

  it('rejects a bad MBAP header naming the field', () => {
    const f = buildTcpRequest(1, 1, req);
    const badProto = f.slice();
    badProto[3] = 1;
    expect(thrown(() => parseTcpResponse(badProto)).message).toMatch(/MBAP protocol id: expected 0, found 1/);
    const badLen = f.slice();
    badLen[5] = 9;
    expect(thrown(() => parseTcpResponse(badLen)).message).toMatch(/MBAP length: field says 9 bytes follow it, but 6 do/);
    expect(thrown(() => parseTcpResponse(f.subarray(0, 7))).message).toMatch(/at least 8 bytes/);
  });

  it('serves requests on the server side', () => {
    const r = parseTcpRequest(buildTcpRequest(300, 2, { functionCode: 4, address: 5, quantity: 10 }));
    expect(r).toMatchObject({ kind: 'request', transactionId: 300, unitId: 2, request: { functionCode: 4, address: 5, quantity: 10 } });
    const bad = buildTcpRequest(1, 2, req);
    bad[7] = 0x11; // report server id: not spoken
    expect(parseTcpRequest(bad)).toMatchObject({ kind: 'exception', exceptionCode: 1, transactionId: 1 });
  });

  it('encodes many requests into one buffer', () => {
    const out = new Uint8Array(12 * 3);
    let o = 0;
    for (let t = 0; t < 3; t++) o = encodeTcpRequest(out, o, t, 1, req);
    expect(o).toBe(36);
    const { frames, trailing } = splitTcpFrames(out);
    expect(frames.map((f) => (f[0] << 8) | f[1])).toEqual([0, 1, 2]);
    expect(trailing).toBe(0);
  });
});

describe('MbapFrameExtractor', () => {
  /** A stream of responses of varied sizes and their expected transaction ids. */
  function stream(count: number) {
    const parts: Uint8Array[] = [];
    for (let t = 0; t < count; t++) {
      const n = 1 + ((t * 37) % 125);
      parts.push(buildTcpResponse(t & 0xffff, 1 + (t % 247), { functionCode: 3, registers: Array.from({ length: n }, (_, i) => (t + i) & 0xffff) }));
    }
    const total = parts.reduce((s, p) => s + p.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return { all, parts };
  }

  it('recovers every frame whatever the chunking, including 1-byte chunks', () => {
    const { all, parts } = stream(300);
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (const mode of ['ones', 'random', 'whole'] as const) {
      const x = new MbapFrameExtractor();
      const got: Array<{ tx: number; hex: string }> = [];
      let i = 0;
      while (i < all.length) {
        const size = mode === 'ones' ? 1 : mode === 'whole' ? all.length : 1 + rnd(700);
        const chunk = all.slice(i, Math.min(all.length, i + size)); // fresh array, like a socket
        x.push(chunk, (buf, s, e, tx) => got.push({ tx, hex: toHex(buf, s, e) }));
        i += size;
      }
      expect(got.length).toBe(parts.length);
      expect(x.pending).toBe(0);
      for (let k = 0; k < parts.length; k++) {
        expect(got[k].tx).toBe(k);
        expect(got[k].hex).toBe(toHex(parts[k]));
      }
    }
  });

  it('hands out whole-chunk frames as ranges of the chunk, without copying', () => {
    const { all } = stream(10);
    const seen: Uint8Array[] = [];
    new MbapFrameExtractor().push(all, (buf) => seen.push(buf));
    expect(seen.every((b) => b === all)).toBe(true);
  });

  it('keeps a frame split across chunks until it is complete', () => {
    const f = buildTcpResponse(5, 1, { functionCode: 4, registers: [1, 2] });
    const x = new MbapFrameExtractor();
    const got: number[] = [];
    x.push(f.slice(0, 4), (_b, _s, _e, tx) => got.push(tx));
    expect(x.pending).toBe(4);
    x.push(f.slice(4, 10), (_b, _s, _e, tx) => got.push(tx));
    expect(x.pending).toBe(10);
    expect(got).toEqual([]);
    x.push(f.slice(10), (_b, _s, _e, tx) => got.push(tx));
    expect(got).toEqual([5]);
    expect(x.pending).toBe(0);
  });

  it('throws FRAME_INVALID when the stream is out of step, and can be reused after', () => {
    const x = new MbapFrameExtractor();
    const junk = Uint8Array.from([0, 1, 0x12, 0x34, 0, 6, 1, 3, 0, 0, 0, 1]);
    expect(thrown(() => x.push(junk, () => {})).message).toMatch(/MBAP protocol id/);
    expect(x.pending).toBe(0);
    const tooLong = Uint8Array.from([0, 1, 0, 0, 0x01, 0x00, 1]);
    expect(thrown(() => x.push(tooLong, () => {})).message).toMatch(/MBAP length: must be 2\.\.254, got 256/);
    const ok = buildTcpRequest(3, 1, { functionCode: 3, address: 0, quantity: 1 });
    const got: number[] = [];
    x.push(ok, (_b, _s, _e, tx) => got.push(tx));
    expect(got).toEqual([3]);
  });
});
