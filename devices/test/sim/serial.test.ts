/**
 * The serial simulator on a real pty (socat): Modbus RTU slaves on one bus
 * with byte timing faithful to the baud rate, a DL/T 645 meter answering the
 * standard's worked frame byte for byte, a CJ/T 188 water meter, and faults
 * (CRC error, silence, collision, a USB-unplug-like disconnect).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCjt188ReadRequest,
  buildDlt645ReadRequest,
  buildRtuRequest,
  checkRtuCrc,
  parseCjt188ReadReply,
  parseDlt645ReadReply,
  parseRtuResponse,
  readRegisters,
  rtuTiming,
} from '@lifeline/shared/protocols';
import { SimulatedDevice, loadProfile, startPtySimulator, type PtySimulator } from '@lifeline/devices';
import { tempDir } from '../../../test/helpers.js';
import { PtyClient } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

beforeAll(() => {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('socat is not installed: the pty simulator needs it (apt-get install socat)');
  }
});

async function bus(devices: SimulatedDevice[], opts: { baud?: number; parity?: 'none' | 'even' | 'odd'; turnaroundMs?: number } = {}) {
  const tmp = tempDir('lifeline-pty-');
  const path = join(tmp.dir, 'ttyBUS');
  const sim: PtySimulator = await startPtySimulator({ devices, path, ...opts });
  cleanups.push(tmp.cleanup, () => sim.close());
  const client = new PtyClient(path);
  cleanups.push(() => client.close());
  return { sim, client, path };
}

describe('pty simulator, Modbus RTU', () => {
  it('paces the reply at the baud rate: 11 bits per byte at 9600 8E1, after the request and the turnaround', async () => {
    const devices = [1, 2, 3].map((u) => new SimulatedDevice(loadProfile('flood-gauge'), u));
    const { client, sim } = await bus(devices, { baud: 9600, parity: 'even', turnaroundMs: 5 });
    const req = { functionCode: 4 as const, address: 0, quantity: 4 };
    const frame = buildRtuRequest(2, req);
    const t0 = client.write(frame);
    const reply = await client.read(13);
    const r = parseRtuResponse(new Uint8Array(reply), { unitId: 2, request: req });
    expect(readRegisters(r as { data: Uint8Array; count: number })).toHaveLength(4);
    const { charMs } = rtuTiming(9600, 8, 'even');
    expect(charMs).toBeCloseTo(11000 / 9600, 9);
    // The last byte cannot arrive before request (8) + turnaround + reply (13) characters of line time.
    const last = client.chunks[client.chunks.length - 1].at;
    expect(last - t0).toBeGreaterThanOrEqual((8 + 13) * charMs + 5 - 1);
    // And the bytes come spread over the reply's line time, not in one burst. A stalled event
    // loop makes the simulator catch up in bunches, so take the best of three replies.
    let spread = last - client.chunks[0].at;
    for (let k = 0; k < 2; k++) {
      client.write(frame);
      await client.read(13);
      spread = Math.max(spread, client.chunks[client.chunks.length - 1].at - client.chunks[0].at);
    }
    expect(spread).toBeGreaterThanOrEqual(10 * charMs);
    expect(sim.line.stats).toMatchObject({ requests: 3, replies: 3, collisions: 0, badFrames: 0 });
  });

  it('answers only the addressed unit, stays silent on a bad CRC, and corrupts the CRC on a crc fault', async () => {
    const devices = [1, 2].map((u) => new SimulatedDevice(loadProfile('drainage-manhole'), u));
    const { client, sim } = await bus(devices, { baud: 38400, parity: 'none' });
    const req = { functionCode: 4 as const, address: 0, quantity: 2 };
    client.write(buildRtuRequest(9, req));
    expect((await client.read(1, 150)).length).toBe(0);
    const broken = buildRtuRequest(1, req);
    broken[broken.length - 1] ^= 1;
    client.write(broken);
    expect((await client.read(1, 150)).length).toBe(0);
    expect(sim.line.stats.badFrames).toBe(1);
    devices[0].inject({ kind: 'crc' });
    client.write(buildRtuRequest(1, req));
    const bad = new Uint8Array(await client.read(9));
    expect(bad).toHaveLength(9);
    expect(() => checkRtuCrc(bad)).toThrow(/crc: expected 0x[0-9A-F]{4}/);
  });

  it('loses a request sent while a slave is still talking (a collision), like RS-485', async () => {
    const dev = new SimulatedDevice(loadProfile('bridge-structural-monitor'), 1);
    // At 300 baud the 25-byte reply is on the line for ~900 ms: time to talk over it even
    // when a loaded machine delays this process by a few hundred ms (1200 baud flaked at load 10).
    const { client, sim } = await bus([dev], { baud: 300, turnaroundMs: 2 });
    const req = { functionCode: 3 as const, address: 0, quantity: 10 };
    client.write(buildRtuRequest(1, req));
    await client.read(1);
    client.write(buildRtuRequest(1, req));
    await expect.poll(() => sim.line.stats.replies, { timeout: 4000, interval: 10 }).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(sim.line.stats.collisions).toBe(1);
    expect(sim.line.stats.replies).toBe(1);
  });

  it('a disconnect fault removes the pty and brings it back under the same path', async () => {
    const dev = new SimulatedDevice(loadProfile('flood-gauge'), 1);
    const { path, sim, client } = await bus([dev]);
    client.close();
    dev.inject({ kind: 'disconnect', forMs: 300 });
    await expect.poll(() => existsSync(path), { timeout: 2000, interval: 10 }).toBe(false);
    expect(sim.connected()).toBe(false);
    await expect.poll(() => sim.connected(), { timeout: 3000, interval: 20 }).toBe(true);
    const again = new PtyClient(path);
    cleanups.push(() => again.close());
    again.write(buildRtuRequest(1, { functionCode: 4, address: 0, quantity: 1 }));
    expect((await again.read(7)).length).toBe(7);
  });
});

describe('pty simulator, safety', () => {
  it('refuses a path that is not its own pty link, and leaves it alone', async () => {
    const tmp = tempDir('lifeline-pty-');
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, 'ttyUSB0');
    writeFileSync(path, 'not a pty');
    await expect(startPtySimulator({ devices: [new SimulatedDevice(loadProfile('flood-gauge'), 1)], path })).rejects.toThrow(/is not a pty link/);
    expect(readFileSync(path, 'utf8')).toBe('not a pty');
  });
});

describe('pty simulator, meters', () => {
  it('a DL/T 645 meter answers with the standard’s worked frame, byte for byte (1206.42 kWh at 000102030425)', async () => {
    const meter = new SimulatedDevice(loadProfile('lamp-post-meter'), 1, { address: '000102030425' });
    meter.inject({ kind: 'fixed', point: 'active_energy', value: 1206.42 });
    const { client } = await bus([meter], { baud: 2400, turnaroundMs: 5 });
    client.write(buildDlt645ReadRequest('000102030425', '00010000'));
    const expected = 'FE FE FE FE 68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16';
    const got = await client.read(24, 3000);
    expect([...got].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ')).toBe(expected);
    expect(parseDlt645ReadReply(new Uint8Array(got), { address: '000102030425', di: '00010000' }).values[0].value).toBe(1206.42);
  });

  it('a DL/T 645 meter: W points travel as kW, wildcard address, and "no requested data" for phases it lacks', async () => {
    const meter = new SimulatedDevice(loadProfile('lamp-post-meter'), 7);
    meter.inject({ kind: 'fixed', point: 'power', value: 148 });
    const { client } = await bus([meter], { baud: 9600, turnaroundMs: 2 });
    client.write(buildDlt645ReadRequest('AAAAAAAAAAAA', '02030000'));
    const reply = parseDlt645ReadReply(new Uint8Array(await client.read(23))); // 4 FE + 12 + DI 4 + XX.XXXX 3
    expect(reply.address).toBe('000000000007');
    expect(reply.values[0]).toMatchObject({ value: 0.148, unit: 'kW' });
    // Block read of phases A, B, C: a single-phase meter has no B or C.
    client.write(buildDlt645ReadRequest('000000000007', '0201FF00'));
    const refused = new Uint8Array(await client.read(17));
    expect(() => parseDlt645ReadReply(refused)).toThrow(/error reply 0x02: no requested data/);
  });

  it('a CJ/T 188 water meter answers 901F with its volume and status', async () => {
    const meter = new SimulatedDevice(loadProfile('water-meter'), 1, { address: '12345678000001' });
    meter.inject({ kind: 'fixed', point: 'total_volume', value: 1234.56 });
    meter.inject({ kind: 'fixed', point: 'battery_low', value: 1 });
    const { client } = await bus([meter], { baud: 2400, turnaroundMs: 5 });
    client.write(buildCjt188ReadRequest(0x10, '12345678000001', { ser: 7 }));
    const r = parseCjt188ReadReply(new Uint8Array(await client.read(4 + 13 + 0x16, 3000)), { address: '12345678000001', meterType: 0x10 });
    expect(r.ser).toBe(7);
    expect(r.quantities.find((q) => q.key === 'currentFlow')).toMatchObject({ value: 1234.56, unit: 'm3' });
    expect(r.status).toMatchObject({ valve: 'open', batteryLow: true });
    expect(r.time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('a heat meter answers with every heat field, and an exception fault gives an abnormal reply', async () => {
    const meter = new SimulatedDevice(loadProfile('heat-meter'), 3);
    const { client } = await bus([meter], { baud: 9600, turnaroundMs: 2 });
    client.write(buildCjt188ReadRequest(0x20, '00000000000003'));
    const r = parseCjt188ReadReply(new Uint8Array(await client.read(4 + 13 + 0x2e)));
    const keys = r.quantities.map((q) => q.key);
    expect(keys).toEqual(['settlementHeat', 'currentHeat', 'heatPower', 'flowRate', 'cumulativeFlow', 'supplyTemperature', 'returnTemperature', 'workingHours']);
    const supply = r.quantities.find((q) => q.key === 'supplyTemperature')!.value!;
    expect(supply).toBeGreaterThan(40);
    expect(supply).toBeLessThan(70);
    meter.inject({ kind: 'exception', code: 0x03 });
    client.write(buildCjt188ReadRequest(0x20, '00000000000003'));
    const abnormal = await client.read(4 + 13 + 5);
    expect(() => parseCjt188ReadReply(new Uint8Array(abnormal))).toThrow(/abnormal reply 0xC1/);
  });
});
