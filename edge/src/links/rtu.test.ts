import { describe, expect, it } from 'vitest';
import { ErrorCodes, isLifelineError, type LifelineError } from '@lifeline/shared';
import { buildRtuException, buildRtuResponse, parseRtuRequest, type ModbusRequest } from '@lifeline/shared/protocols';
import { request } from './link.js';
import { RtuLink } from './rtu.js';
import { FakeStream, chunked } from '../../test/links/fake-stream.js';

/** Holding register i of unit u holds u * 1000 + i. */
function reply(frame: Uint8Array): Uint8Array {
  const r = parseRtuRequest(frame);
  if (r.kind !== 'request' || r.request.functionCode !== 3) throw new Error('unexpected request');
  const { address, quantity } = r.request;
  return buildRtuResponse(r.unitId, { functionCode: 3, registers: Array.from({ length: quantity }, (_, i) => r.unitId * 1000 + address + i) });
}

const read = (address: number, quantity: number): ModbusRequest => ({ functionCode: 3, address, quantity });

async function readRegs(link: RtuLink, unit: number, address: number, quantity: number, timeoutMs?: number): Promise<number[]> {
  const res = await request(link, unit, read(address, quantity), timeoutMs);
  if (!res || res.functionCode !== 3) throw new Error('no registers');
  return Array.from({ length: res.count }, (_, i) => (res.data[2 * i] << 8) | res.data[2 * i + 1]);
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

describe('RtuLink', () => {
  it('assembles a reply split into single bytes with gaps longer than the 3.5-character silence, without CRC errors', async () => {
    // 9600 baud: the silence is ~4 ms; the reply trickles in one byte every 6 ms.
    const stream = new FakeStream((f) => chunked(reply(f), 1, 6, 2));
    const link = new RtuLink({ stream, baud: 9600 });
    expect(await readRegs(link, 7, 10, 5)).toEqual([7010, 7011, 7012, 7013, 7014]);
    // and in ragged USB-adapter chunks
    const ragged = new FakeStream((f) => {
      const b = reply(f);
      return [{ delayMs: 1, bytes: b.slice(0, 2) }, { delayMs: 3, bytes: b.slice(2, 9) }, { delayMs: 8, bytes: b.slice(9) }];
    });
    const link2 = new RtuLink({ stream: ragged, baud: 9600 });
    expect(await readRegs(link2, 3, 0, 40)).toEqual(Array.from({ length: 40 }, (_, i) => 3000 + i));
    await link.close();
    await link2.close();
  });

  it('keeps one request in flight, waits the silence after each reply, and serves units round-robin', async () => {
    let outstanding = 0;
    let overlaps = 0;
    const replyEnds: number[] = [];
    const stream = new FakeStream((f) => {
      if (outstanding > 0) overlaps++;
      outstanding++;
      const b = reply(f);
      // Reply in two pieces; note when the last byte went out.
      setTimeout(() => {
        outstanding--;
        replyEnds.push(performance.now());
      }, 4);
      return [{ delayMs: 1, bytes: b.slice(0, 3) }, { delayMs: 3, bytes: b.slice(3) }];
    });
    const link = new RtuLink({ stream, baud: 9600 });
    // Unit 1 queues six reads at once; units 2 and 3 one each, submitted after.
    const all = [
      ...Array.from({ length: 6 }, (_, i) => readRegs(link, 1, i * 10, 2)),
      readRegs(link, 2, 0, 2),
      readRegs(link, 3, 0, 2),
    ];
    const results = await Promise.all(all);
    expect(results[6]).toEqual([2000, 2001]);
    expect(overlaps).toBe(0);
    const units = stream.writes.map((w) => w.bytes[0]);
    // The first request goes out at once; then the round-robin reaches 2 and 3 before unit 1's remaining five.
    expect(units.slice(0, 3).sort()).toEqual([1, 2, 3]);
    expect(units.filter((u) => u === 1)).toHaveLength(6);
    // Every request after the first waits at least 3.5 characters (8E1 at 9600: 4.01 ms) after the previous reply ended.
    for (let i = 1; i < stream.writes.length; i++) expect(stream.writes[i].at - replyEnds[i - 1]).toBeGreaterThanOrEqual(link.timing.silenceMs - 0.5);
    await link.close();
  });

  it('times out a silent unit, then drops its late reply instead of taking it for the next unit', async () => {
    const stream = new FakeStream((f) => {
      if (f[0] === 5) return [{ delayMs: 60, bytes: reply(f) }]; // answers after the 30 ms timeout
      return [{ delayMs: 70, bytes: reply(f) }]; // unit 6 answers after unit 5's late reply has arrived
    });
    const link = new RtuLink({ stream, baud: 19200, timeoutMs: 30 });
    const err = await failure(readRegs(link, 5, 0, 2));
    expect(err.code).toBe(ErrorCodes.DeviceTimeout);
    expect(err.message).toMatch(/unit 5 read holding registers 0\.\.1: no reply within 30 ms on fake stream/);
    expect(await readRegs(link, 6, 0, 2, 200)).toEqual([6000, 6001]);
    expect(link.stray + link.discarded).toBeGreaterThan(0);
    await link.close();
  });

  it('names the unit that answered instead when a device set to another unit id replies (the timeout alone said "wrong unit id?")', async () => {
    // The device is set to unit 1 but wired in as unit 5: it answers every request as unit 1.
    const asUnit1 = (f: Uint8Array) => {
      const r = parseRtuRequest(f);
      if (r.kind !== 'request' || r.request.functionCode !== 3) throw new Error('unexpected request');
      return buildRtuResponse(1, { functionCode: 3, registers: Array.from({ length: r.request.quantity }, () => 0) });
    };
    const stream = new FakeStream((f) => [{ delayMs: 5, bytes: asUnit1(f) }]);
    const link = new RtuLink({ stream, baud: 19200, timeoutMs: 30 });
    const err = await failure(readRegs(link, 5, 0, 2));
    expect(err.code).toBe(ErrorCodes.DeviceTimeout);
    expect(err.message).toBe(
      'DEVICE_TIMEOUT: unit 5 read holding registers 0..1: no reply within 30 ms on fake stream; a valid reply from unit 1 came instead (is the device set to unit 1? or it was that unit\'s late reply)',
    );
    await link.close();
  });

  it('reports a corrupted CRC with expected and found values, and an exception by name', async () => {
    const stream = new FakeStream((f) => {
      if (f[0] === 9) return [{ delayMs: 1, bytes: buildRtuException(9, 3, 2) }];
      const b = reply(f);
      b[b.length - 1] ^= 0xff;
      return [{ delayMs: 1, bytes: b }];
    });
    const link = new RtuLink({ stream, baud: 9600, timeoutMs: 100 });
    const crc = await failure(readRegs(link, 4, 0, 2));
    expect(crc.code).toBe(ErrorCodes.FrameInvalid);
    expect(crc.message).toMatch(/crc: expected 0x[0-9A-F]{4} .*found 0x[0-9A-F]{4}/);
    const ex = await failure(readRegs(link, 9, 0, 2));
    expect(ex.code).toBe(ErrorCodes.DeviceException);
    expect(ex.message).toMatch(/exception 0x02 illegal data address/);
    await link.close();
  });

  it('keeps the bus quiet for the broadcast turnaround and for a slow device\'s gap', async () => {
    const stream = new FakeStream((f) => (f[0] === 0 ? null : [{ delayMs: 1, bytes: reply(f) }]));
    const link = new RtuLink({ stream, baud: 38400, broadcastTurnaroundMs: 40, gapMs: new Map([[2, 25]]) });
    const write: ModbusRequest = { functionCode: 6, address: 1, value: 7 };
    expect(await request(link, 0, write)).toBeNull();
    await readRegs(link, 1, 0, 1);
    await readRegs(link, 2, 0, 1);
    await readRegs(link, 1, 0, 1);
    const [broadcast, first, second, third] = stream.writes.map((w) => w.at);
    expect(first - broadcast).toBeGreaterThanOrEqual(40);
    expect(third - second).toBeGreaterThanOrEqual(25);
    await link.close();
  });

  it('fails fast with LINK_DOWN while the port is gone and picks up again when it reopens', async () => {
    const stream = new FakeStream((f) => [{ delayMs: 1, bytes: reply(f) }]);
    const ups: number[] = [];
    const downs: string[] = [];
    const link = new RtuLink({ stream, baud: 9600, reopenMs: 30, hooks: { onUp: () => ups.push(1), onDown: (r) => downs.push(r) } });
    expect(await readRegs(link, 1, 0, 1)).toEqual([1000]);
    stream.failOpen = 'ENOENT: no such file';
    stream.breakLink('EIO: i/o error');
    const down = await failure(readRegs(link, 1, 0, 1));
    expect(down.code).toBe(ErrorCodes.LinkDown);
    expect(down.message).toMatch(/fake stream: lost: EIO/);
    expect(downs).toEqual(['lost: EIO: i/o error']);
    await new Promise((r) => setTimeout(r, 80)); // a failed reopen or two
    stream.failOpen = null;
    await new Promise((r) => setTimeout(r, 60));
    expect(ups.length).toBe(2);
    expect(await readRegs(link, 1, 0, 1)).toEqual([1000]);
    await link.close();
  });

  it('drops the queued requests of a unit that stopped answering, leaving the one in flight and other units alone', async () => {
    const stream = new FakeStream((f) => (f[0] === 2 ? [{ delayMs: 1, bytes: reply(f) }] : null));
    const link = new RtuLink({ stream, baud: 19200, timeoutMs: 40 });
    const first = failure(readRegs(link, 1, 0, 1));
    const queued = [failure(readRegs(link, 1, 10, 1)), failure(readRegs(link, 1, 20, 1))];
    const other = readRegs(link, 2, 0, 1);
    while (stream.writes.length === 0) await new Promise((r) => setTimeout(r, 1));
    link.drop(1, new (await import('@lifeline/shared')).LifelineError(ErrorCodes.DeviceTimeout, 'unit 1 is silent'));
    expect((await Promise.all(queued)).map((e) => e.message)).toEqual(['DEVICE_TIMEOUT: unit 1 is silent', 'DEVICE_TIMEOUT: unit 1 is silent']);
    expect((await first).message).toMatch(/no reply within 40 ms/);
    expect(await other).toEqual([2000]);
    expect(stream.writes.map((w) => w.bytes[0])).toEqual([1, 2]);
    await link.close();
  });

  it('refuses a request the codec cannot frame, naming the field', async () => {
    const link = new RtuLink({ stream: new FakeStream(() => null), baud: 9600 });
    const err = await failure(request(link, 1, { functionCode: 3, address: 0, quantity: 126 }));
    expect(err.code).toBe(ErrorCodes.FrameInvalid);
    expect(err.message).toMatch(/quantity: must be an integer 1\.\.125, got 126/);
    await link.close();
  });
});
