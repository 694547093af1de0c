/**
 * The TCP simulator as a master sees it: every shipped Modbus profile read by
 * modbus-serial (an implementation we did not write), pipelining, exceptions,
 * writes, injected faults, a fleet of ports, and RTU over TCP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import modbusSerial from 'modbus-serial';
import { connect } from 'node:net';
import {
  ExceptionCodes,
  buildRtuRequest,
  checkRtuCrc,
  decodeRegisters,
  parseRtuResponse,
  parseTcpResponse,
  readRegisters,
  type ModbusResponse,
} from '@lifeline/shared/protocols';
import { isLifelineError } from '@lifeline/shared';
import {
  SimulatedDevice,
  listProfiles,
  loadProfile,
  startTcpFleet,
  startTcpSimulator,
  type ModbusProfile,
  type TcpSimulator,
} from '@lifeline/devices';
import { RawTcpClient } from './helpers.js';

const ModbusRTU = modbusSerial.default;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(devices: SimulatedDevice[], framing?: 'mbap' | 'rtu'): Promise<TcpSimulator> {
  const sim = await startTcpSimulator({ devices, framing });
  cleanups.push(() => sim.close());
  return sim;
}
async function client(port: number): Promise<RawTcpClient> {
  const c = await RawTcpClient.connect(port);
  cleanups.push(() => c.close());
  return c;
}
function exceptionOf(frame: Uint8Array | undefined): number | undefined {
  try {
    parseTcpResponse(frame!);
  } catch (e) {
    if (isLifelineError(e) && e.code === 'DEVICE_EXCEPTION') return (e.details as { exceptionCode: number }).exceptionCode;
    throw e;
  }
  return undefined;
}
const modbusProfiles = listProfiles()
  .map((n) => loadProfile(n))
  .filter((p): p is ModbusProfile => p.protocol === 'modbus');

describe('TCP simulator', () => {
  it.each(modbusProfiles.map((p) => ({ id: p.id, p })))('serves $id to modbus-serial with every point in range and as the device holds it', async ({ p }) => {
    const dev = new SimulatedDevice(p, 7);
    dev.refreshMs = 60_000; // one image for the whole test, so the two sides compare the same sample
    const sim = await serve([dev]);
    const c = new ModbusRTU();
    await c.connectTCP('127.0.0.1', { port: sim.port });
    cleanups.push(() => new Promise<void>((r) => c.close(() => r())));
    c.setID(7);
    for (const point of p.points) {
      let value: number;
      if (point.table === 'coil' || point.table === 'discrete') {
        const r = point.table === 'coil' ? await c.readCoils(point.address, 1) : await c.readDiscreteInputs(point.address, 1);
        value = r.data[0] ? 1 : 0;
      } else {
        const n = point.type === 'float64' ? 4 : ['int32', 'uint32', 'float32'].includes(point.type) ? 2 : 1;
        const r = point.table === 'holding' ? await c.readHoldingRegisters(point.address, n) : await c.readInputRegisters(point.address, n);
        value = decodeRegisters(r.data, 0, point.type, point.order) * (point.scale ?? 1) + (point.offset ?? 0);
      }
      expect(value, point.name).toBeCloseTo(dev.valueOf(point), 6);
      if (point.range) {
        expect(value, point.name).toBeGreaterThanOrEqual(point.range[0] - Math.abs(point.scale ?? 1));
        expect(value, point.name).toBeLessThanOrEqual(point.range[1] + Math.abs(point.scale ?? 1));
      }
    }
  });

  it('answers thousands of pipelined requests in order, matched by transaction id', async () => {
    const dev = new SimulatedDevice(loadProfile('bridge-structural-monitor'), 1);
    const sim = await serve([dev]);
    const c = await client(sim.port);
    const n = 3000;
    c.send(1, Array.from({ length: n }, (_, i) => ({ functionCode: 3 as const, address: i % 8, quantity: 2 + (i % 3) })), 1);
    const last = await c.reply(n, 5000);
    expect(last).toBeDefined();
    for (let tx = 1; tx < n; tx++) {
      const r = parseTcpResponse((await c.reply(tx))!) as ModbusResponse & { count: number };
      expect(r.transactionId).toBe(tx);
      expect(r.count).toBe(2 + ((tx - 1) % 3));
    }
    expect(sim.served()).toBe(n);
  });

  it('refuses what a device would refuse, with the right exception', async () => {
    const bridge = new SimulatedDevice(loadProfile('bridge-structural-monitor'), 1);
    const tunnel = new SimulatedDevice(loadProfile('utility-tunnel-environment'), 2);
    const sim = await serve([bridge, tunnel]);
    const c = await client(sim.port);
    c.send(1, [
      { functionCode: 3, address: 6995, quantity: 10 }, // past the end of the holding table (the burst block ends at 6999)
      { functionCode: 3, address: 6900, quantity: 125 }, // the largest read, running past the end too
      { functionCode: 6, address: 0, value: 1 }, // strain_1 is read-only
    ]);
    expect(exceptionOf(await c.reply(1))).toBe(ExceptionCodes.IllegalDataAddress);
    expect(exceptionOf(await c.reply(2))).toBe(ExceptionCodes.IllegalDataAddress);
    expect(exceptionOf(await c.reply(3))).toBe(ExceptionCodes.IllegalDataAddress);
    // An unsupported function code (0x11, report server id: serial-line only), a 43 (0x2B) without
    // its MEI type (the simulator answers 43/14 device identification, so it is a bad value, not
    // an unknown function) and a zero quantity.
    c.socket.write(Buffer.from([0, 9, 0, 0, 0, 2, 1, 0x11]));
    expect(exceptionOf(await c.reply(9))).toBe(ExceptionCodes.IllegalFunction);
    c.socket.write(Buffer.from([0, 12, 0, 0, 0, 2, 1, 0x2b]));
    expect(exceptionOf(await c.reply(12))).toBe(ExceptionCodes.IllegalDataValue);
    c.send(1, [{ functionCode: 4, address: 0, quantity: 1 }], 10);
    expect(exceptionOf(await c.reply(10))).toBeUndefined();
    c.socket.write(Buffer.from([0, 11, 0, 0, 0, 6, 1, 4, 0, 0, 0, 0]));
    expect(exceptionOf(await c.reply(11))).toBe(ExceptionCodes.IllegalDataValue);
    // The tunnel controller refuses reads over its unmapped registers (gapReads: exception).
    c.send(2, [{ functionCode: 4, address: 0, quantity: 4 }, { functionCode: 4, address: 0, quantity: 12 }], 20);
    expect(exceptionOf(await c.reply(20))).toBeUndefined();
    expect(exceptionOf(await c.reply(21))).toBe(ExceptionCodes.IllegalDataAddress);
    // Unknown units get no answer at all, as on a bus.
    c.send(99, [{ functionCode: 3, address: 0, quantity: 1 }], 30);
    expect(await c.reply(30, 150)).toBeUndefined();
  });

  it('keeps what a master writes to rw points, as a device does', async () => {
    const lamp = new SimulatedDevice(loadProfile('lamp-post-controller'), 3);
    const sim = await serve([lamp]);
    const c = await client(sim.port);
    c.send(3, [
      { functionCode: 6, address: 0, value: 35 },
      { functionCode: 5, address: 0, value: true },
      { functionCode: 3, address: 0, quantity: 1 },
      { functionCode: 1, address: 0, quantity: 1 },
    ]);
    expect(parseTcpResponse((await c.reply(1))!)).toMatchObject({ functionCode: 6, address: 0, value: 35 });
    expect(parseTcpResponse((await c.reply(2))!)).toMatchObject({ functionCode: 5, value: true });
    expect(readRegisters(parseTcpResponse((await c.reply(3))!) as { data: Uint8Array; count: number })[0]).toBe(35);
    expect((parseTcpResponse((await c.reply(4))!) as { bits: boolean[] }).bits[0]).toBe(true);
    lamp.refresh(true);
    expect(lamp.valueOf('dimming')).toBe(35);
  });

  it('injects faults: silence, exception, slow turnaround, fixed, frozen, spike', async () => {
    const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1);
    flood.refreshMs = 0;
    const sim = await serve([flood]);
    const c = await client(sim.port);
    const level = async (tx: number) => {
      c.send(1, [{ functionCode: 4, address: 0, quantity: 1 }], tx);
      return readRegisters(parseTcpResponse((await c.reply(tx))!) as { data: Uint8Array; count: number })[0] / 1000;
    };
    flood.inject({ kind: 'silent' });
    c.send(1, [{ functionCode: 4, address: 0, quantity: 1 }], 1);
    expect(await c.reply(1, 150)).toBeUndefined();
    flood.clear().inject({ kind: 'exception', code: ExceptionCodes.SlaveDeviceBusy });
    c.send(1, [{ functionCode: 4, address: 0, quantity: 1 }], 2);
    expect(exceptionOf(await c.reply(2))).toBe(ExceptionCodes.SlaveDeviceBusy);
    flood.clear().inject({ kind: 'slow', delayMs: 120 });
    const t0 = Date.now();
    c.send(1, [{ functionCode: 4, address: 0, quantity: 1 }], 3);
    expect(await c.reply(3, 1000)).toBeDefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(115);
    flood.clear().inject({ kind: 'fixed', point: 'water_level', value: 3.217 });
    expect(await level(4)).toBe(3.217);
    flood.clear().inject({ kind: 'frozen', point: 'water_level' });
    const frozen = await level(5);
    for (let i = 0; i < 5; i++) expect(await level(6 + i)).toBe(frozen);
    flood.clear().inject({ kind: 'spike', point: 'water_level', value: 9.5, count: 2 });
    expect(await level(20)).toBe(9.5);
    expect(await level(21)).toBe(9.5);
    expect(await level(22)).toBeLessThan(5);
    expect(flood.behaviours).toEqual([]); // the spike removed itself
  });

  it('a disconnect fault closes connections and refuses new ones until it ends', async () => {
    const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1);
    const sim = await serve([flood]);
    const c = await client(sim.port);
    flood.inject({ kind: 'disconnect', forMs: 300 });
    await new Promise((r) => setTimeout(r, 50));
    expect(c.closed).toBe(true);
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect({ port: sim.port, host: '127.0.0.1' });
      s.on('close', () => resolve(true));
      s.on('data', () => resolve(false));
      s.on('error', () => {});
    });
    expect(refused).toBe(true);
    await new Promise((r) => setTimeout(r, 350));
    const again = await client(sim.port);
    again.send(1, [{ functionCode: 4, address: 0, quantity: 1 }], 1);
    expect(await again.reply(1)).toBeDefined();
  });

  it('serves a fleet: each device on its own port, one process', async () => {
    const profile = loadProfile('gas-detector');
    const devices = Array.from({ length: 20 }, (_, i) => new SimulatedDevice(profile, 1, i + 1));
    const fleet = await startTcpFleet({ devices });
    cleanups.push(() => fleet.close());
    expect(new Set(fleet.ports).size).toBe(20);
    const values = await Promise.all(
      fleet.ports.map(async (port) => {
        const c = await client(port);
        c.send(1, [{ functionCode: 4, address: 0, quantity: 5 }]);
        return readRegisters(parseTcpResponse((await c.reply(1))!) as { data: Uint8Array; count: number });
      }),
    );
    expect(values.every((v) => v.length === 5)).toBe(true);
    expect(fleet.served()).toBe(20);
  });

  it('speaks RTU over TCP (a transparent serial server), CRC faults included', async () => {
    const flood = new SimulatedDevice(loadProfile('flood-gauge'), 5);
    flood.inject({ kind: 'fixed', point: 'rainfall', value: 12.3 });
    const sim = await serve([flood], 'rtu');
    const socket = connect({ port: sim.port, host: '127.0.0.1' });
    cleanups.push(() => socket.destroy());
    const next = () => new Promise<Buffer>((r) => socket.once('data', r));
    const req = { functionCode: 4 as const, address: 1, quantity: 1 };
    let p = next();
    socket.write(buildRtuRequest(5, req));
    const reply = parseRtuResponse(new Uint8Array(await p), { unitId: 5, request: req });
    expect(readRegisters(reply as { data: Uint8Array; count: number })[0]).toBe(123);
    flood.inject({ kind: 'crc' });
    p = next();
    socket.write(buildRtuRequest(5, req));
    const bad = new Uint8Array(await p);
    expect(() => checkRtuCrc(bad)).toThrow(/crc: expected/);
  });
});
