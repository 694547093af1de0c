/**
 * The link contract (MQTT.js abstract_store style): one suite every link must
 * pass, whatever carries its bytes. A peer serves units 1 and 2 with at least
 * holding 0..9, input 0..1, coils 0..7 and discrete inputs 0..3, and nothing
 * answers as unit 9.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isLifelineError, type LifelineError } from '@lifeline/shared';
import type { ModbusRequest, ModbusResponse } from '@lifeline/shared/protocols';
import { request, type ModbusLink } from '../../src/links/index.js';

/** What a contract run needs: a link to a peer, and how to stop both. */
export interface ContractPeer {
  link: ModbusLink;
  /** Short timeout the dead-unit test may use, ms. */
  timeoutMs: number;
  close(): Promise<void>;
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

function registers(res: ModbusResponse | null): number[] {
  if (!res || (res.functionCode !== 3 && res.functionCode !== 4)) throw new Error(`expected registers, got ${JSON.stringify(res)}`);
  return Array.from({ length: res.count }, (_, i) => (res.data[2 * i] << 8) | res.data[2 * i + 1]);
}

function bits(res: ModbusResponse | null): boolean[] {
  if (!res || (res.functionCode !== 1 && res.functionCode !== 2)) throw new Error(`expected bits, got ${JSON.stringify(res)}`);
  return res.bits;
}

/** Run the contract against the peer `start` sets up. */
export function linkContract(name: string, start: () => Promise<ContractPeer>): void {
  describe(`link contract: ${name}`, () => {
    let peer: ContractPeer;
    let link: ModbusLink;
    const rq = (unit: number, req: ModbusRequest, timeoutMs?: number) => request(link, unit, req, timeoutMs);
    beforeAll(async () => {
      peer = await start();
      link = peer.link;
    });
    afterAll(async () => {
      await peer?.close();
    });

    it('writes registers (FC16, FC6) and reads them back (FC3)', async () => {
      const values = [1, 22, 333, 4444, 55555, 0, 65535, 7, 8, 9];
      const w = await rq(1, { functionCode: 16, address: 0, values });
      expect(w).toMatchObject({ functionCode: 16, address: 0, quantity: 10 });
      expect(registers(await rq(1, { functionCode: 3, address: 0, quantity: 10 }))).toEqual(values);
      expect(await rq(1, { functionCode: 6, address: 3, value: 0xbeef })).toMatchObject({ functionCode: 6, address: 3, value: 0xbeef });
      expect(registers(await rq(1, { functionCode: 3, address: 2, quantity: 3 }))).toEqual([333, 0xbeef, 55555]);
    });

    it('writes coils (FC15, FC5) and reads them back (FC1); reads input registers (FC4) and discrete inputs (FC2)', async () => {
      const pattern = [true, false, true, true, false, false, true, false];
      expect(await rq(2, { functionCode: 15, address: 0, values: pattern })).toMatchObject({ functionCode: 15, quantity: 8 });
      expect(bits(await rq(2, { functionCode: 1, address: 0, quantity: 8 }))).toEqual(pattern);
      expect(await rq(2, { functionCode: 5, address: 1, value: true })).toMatchObject({ functionCode: 5, address: 1, value: true });
      expect(bits(await rq(2, { functionCode: 1, address: 0, quantity: 3 }))).toEqual([true, true, true]);
      expect(registers(await rq(2, { functionCode: 4, address: 0, quantity: 2 }))).toHaveLength(2);
      expect(bits(await rq(2, { functionCode: 2, address: 0, quantity: 4 }))).toHaveLength(4);
    });

    it('turns an exception reply into DEVICE_EXCEPTION naming the exception', async () => {
      const err = await failure(rq(1, { functionCode: 3, address: 1000, quantity: 10 }));
      expect(err.code).toBe(ErrorCodes.DeviceException);
      expect(err.message).toMatch(/unit 1 read holding registers 1000\.\.1009 on .*exception 0x02 illegal data address/);
      expect(err.details).toMatchObject({ unitId: 1, functionCode: 3, exceptionCode: 2 });
    });

    it('times out a unit nobody answers for, and serves the others right after', async () => {
      const err = await failure(rq(9, { functionCode: 3, address: 0, quantity: 1 }, peer.timeoutMs));
      expect(err.code).toBe(ErrorCodes.DeviceTimeout);
      expect(err.message).toContain(`unit 9 read holding registers 0..0: no reply within ${peer.timeoutMs} ms on ${link.where}`);
      expect(registers(await rq(2, { functionCode: 3, address: 0, quantity: 1 }))).toHaveLength(1);
    });

    it('answers many concurrent requests to two units, each with its own data', async () => {
      await rq(1, { functionCode: 16, address: 0, values: [101, 102, 103, 104, 105, 106, 107, 108, 109, 110] });
      await rq(2, { functionCode: 16, address: 0, values: [201, 202, 203, 204, 205, 206, 207, 208, 209, 210] });
      const asks = Array.from({ length: 24 }, (_, i) => ({ unit: 1 + (i % 2), address: i % 9, quantity: 1 + (i % 2) }));
      const got = await Promise.all(asks.map((a) => rq(a.unit, { functionCode: 3, address: a.address, quantity: a.quantity }).then(registers)));
      got.forEach((regs, i) => {
        const a = asks[i];
        expect(regs).toEqual(Array.from({ length: a.quantity }, (_, k) => a.unit * 100 + a.address + k + 1));
      });
    });

    it('fails requests with LINK_DOWN once closed', async () => {
      await link.close();
      const err = await failure(rq(1, { functionCode: 3, address: 0, quantity: 1 }));
      expect(err.code).toBe(ErrorCodes.LinkDown);
    });
  });
}
