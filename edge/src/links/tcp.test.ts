import { describe, expect, it } from 'vitest';
import { ErrorCodes, isLifelineError, type LifelineError } from '@lifeline/shared';
import { buildTcpException, buildTcpResponse, parseTcpRequest } from '@lifeline/shared/protocols';
import { request, type FrameDone } from './link.js';
import { ModbusTcpLink } from './tcp.js';
import { FakeStream, type Script } from '../../test/links/fake-stream.js';

/** Holding register i of unit u holds u * 1000 + i; every request frame of a write answered in order. */
function replyTo(frame: Uint8Array): Uint8Array {
  const r = parseTcpRequest(frame);
  if (r.kind !== 'request' || r.request.functionCode !== 3) throw new Error('unexpected request');
  const { address, quantity } = r.request;
  return buildTcpResponse(r.transactionId!, r.unitId, { functionCode: 3, registers: Array.from({ length: quantity }, (_, i) => r.unitId * 1000 + address + i) });
}

/** Split a socket write holding several MBAP frames into frames. */
function frames(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 6 + ((bytes[i + 4] << 8) | bytes[i + 5]);
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Replies to every frame of one socket write, concatenated. */
function answerAll(w: Uint8Array): Uint8Array {
  const replies = frames(w).map(replyTo);
  const all = new Uint8Array(replies.reduce((n, r) => n + r.length, 0));
  let o = 0;
  for (const r of replies) {
    all.set(r, o);
    o += r.length;
  }
  return all;
}

async function failure(p: Promise<unknown>): Promise<LifelineError> {
  try {
    await p;
  } catch (e) {
    if (isLifelineError(e)) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

describe('ModbusTcpLink', () => {
  it('pipelines up to the window, matches replies by transaction id in any order', async () => {
    let inFlight = 0;
    let most = 0;
    const stream = new FakeStream((w, s) => {
      const fs = frames(w);
      inFlight += fs.length;
      most = Math.max(most, inFlight);
      // Answer in reverse order, all in one chunk, a little later.
      const replies = fs.map(replyTo).reverse();
      const all = new Uint8Array(replies.reduce((n, r) => n + r.length, 0));
      let o = 0;
      for (const r of replies) {
        all.set(r, o);
        o += r.length;
      }
      setTimeout(() => (inFlight -= fs.length), 2);
      s.play([{ delayMs: 2, bytes: all }]);
      return null;
    });
    const link = new ModbusTcpLink({ host: 'x', port: 1, window: 4, stream });
    const got: number[][] = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const res = await request(link, 1 + (i % 3), { functionCode: 3, address: i, quantity: 2 });
        if (!res || res.functionCode !== 3) throw new Error('no registers');
        return [res.data[0] * 256 + res.data[1], res.data[2] * 256 + res.data[3]];
      }),
    );
    got.forEach((regs, i) => expect(regs).toEqual([(1 + (i % 3)) * 1000 + i, (1 + (i % 3)) * 1000 + i + 1]));
    expect(most).toBe(4);
    // Requests framed in the same tick leave in one socket write.
    expect(stream.writes[0].bytes.length).toBe(4 * 12);
    await link.close();
  });

  it('assembles replies split across chunks, byte by byte', async () => {
    const stream = new FakeStream((w) => {
      const r = replyTo(w);
      const script: Script = Array.from(r, (b) => ({ delayMs: 1, bytes: Uint8Array.of(b) }));
      return script;
    });
    const link = new ModbusTcpLink({ host: 'x', port: 1, stream });
    const res = await request(link, 2, { functionCode: 3, address: 5, quantity: 3 });
    expect(res && res.functionCode === 3 && Array.from(res.data)).toEqual([0x07, 0xd5, 0x07, 0xd6, 0x07, 0xd7]);
    await link.close();
  });

  it('times out a request, drops its late reply and keeps serving', async () => {
    const stream = new FakeStream((w) => {
      const r = replyTo(w);
      return [{ delayMs: r[7] === 3 && w[6] === 9 ? 80 : 1, bytes: r }];
    });
    const link = new ModbusTcpLink({ host: 'x', port: 1, stream, timeoutMs: 30 });
    const err = await failure(request(link, 9, { functionCode: 3, address: 0, quantity: 1 }));
    expect(err.code).toBe(ErrorCodes.DeviceTimeout);
    expect(err.message).toBe('DEVICE_TIMEOUT: unit 9 read holding registers 0..0: no reply within 30 ms on fake stream');
    await new Promise((r) => setTimeout(r, 70));
    expect(link.stray).toBe(1);
    const ok = await request(link, 1, { functionCode: 3, address: 0, quantity: 1 });
    expect(ok && ok.functionCode === 3 && ok.count).toBe(1);
    await link.close();
  });

  it('decodes an exception and a wrong byte count into clear errors', async () => {
    const stream = new FakeStream((w) => {
      const tx = (w[0] << 8) | w[1];
      if (w[6] === 4) return [{ delayMs: 1, bytes: buildTcpException(tx, 4, 3, 0x02) }];
      const bad = buildTcpResponse(tx, w[6], { functionCode: 3, registers: [1, 2, 3] });
      return [{ delayMs: 1, bytes: bad }];
    });
    const link = new ModbusTcpLink({ host: 'x', port: 1, stream });
    const ex = await failure(request(link, 4, { functionCode: 3, address: 0, quantity: 2 }));
    expect(ex.code).toBe(ErrorCodes.DeviceException);
    expect(ex.message).toMatch(/unit 4 read holding registers 0\.\.1 on fake stream: unit 4 0x03 \(read holding registers\): exception 0x02 illegal data address/);
    const bc = await failure(request(link, 1, { functionCode: 3, address: 0, quantity: 2 }));
    expect(bc.code).toBe(ErrorCodes.FrameInvalid);
    expect(bc.message).toMatch(/byte count: expected 4 for 2 registers, found 6/);
    await link.close();
  });

  it('fails everything in flight with LINK_DOWN when the connection drops, then reconnects', async () => {
    let answer = false;
    const stream = new FakeStream((w) => (answer ? [{ delayMs: 1, bytes: replyTo(w) }] : null));
    const link = new ModbusTcpLink({ host: 'x', port: 1, stream, reopenMs: 20, timeoutMs: 1000 });
    const pending = failure(request(link, 1, { functionCode: 3, address: 0, quantity: 1 }));
    await new Promise((r) => setTimeout(r, 5));
    stream.breakLink('ECONNRESET');
    const err = await pending;
    expect(err.code).toBe(ErrorCodes.LinkDown);
    expect(err.message).toMatch(/lost: ECONNRESET/);
    await new Promise((r) => setTimeout(r, 40));
    expect(link.isUp).toBe(true);
    answer = true;
    const ok = await request(link, 1, { functionCode: 3, address: 0, quantity: 1 });
    expect(ok).not.toBeNull();
    expect(stream.opens).toBe(2);
    await link.close();
  });

  it('reuses its transactions: a steady stream of reads allocates no new ones', async () => {
    const stream = new FakeStream((w) => [{ delayMs: 0, bytes: answerAll(w) }]);
    const link = new ModbusTcpLink({ host: 'x', port: 1, stream, window: 2 });
    const req = { functionCode: 3 as const, address: 0, quantity: 4 };
    const seen = new Set<unknown>();
    // Spy on the pool through the done callbacks' timing: read 50 times, two at a time.
    for (let i = 0; i < 25; i++) {
      await Promise.all(
        [0, 1].map(
          () =>
            new Promise<void>((resolve, reject) => {
              const done: FrameDone = (err, frame, s) => (err ? reject(err) : (seen.add(frame[s]), resolve()));
              link.submit(1, req, done);
            }),
        ),
      );
    }
    const pool = (link as unknown as { pool: { free: unknown[] } }).pool;
    expect(pool.free.length).toBe(2);
    expect(seen).toEqual(new Set([3]));
    await link.close();
  });
});
