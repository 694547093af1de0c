/**
 * mbpoll (Debian's Modbus master, built on libmodbus) reads our TCP simulator:
 * proof that the simulator speaks standard Modbus, and an independent check
 * of our byte orders (mbpoll's float is word-swapped CDAB by default, ABCD with -B).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';

const run = promisify(execFile);
let sim: TcpSimulator;

/** Runs mbpoll once against the simulator (writing `writeValues` if given); returns `[ref] → text` and the exit code. */
async function mbpoll(unit: number, args: string[], writeValues: string[] = []): Promise<{ values: Map<number, string>; out: string; code: number }> {
  let out = '';
  let code = 0;
  try {
    const r = await run('mbpoll', ['-m', 'tcp', '-p', String(sim.port), '-a', String(unit), '-1', '-o', '2', ...args, '127.0.0.1', ...writeValues], { timeout: 15_000 });
    out = r.stdout + r.stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    out = (err.stdout ?? '') + (err.stderr ?? '');
    code = typeof err.code === 'number' ? err.code : 1;
  }
  const values = new Map<number, string>();
  for (const m of out.matchAll(/^\[(\d+)\]:\s+(\S+)/gm)) values.set(Number(m[1]), m[2]);
  return { values, out, code };
}

beforeAll(async () => {
  try {
    await run('mbpoll', ['-V']);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('mbpoll is not installed: apt-get install mbpoll (pnpm test installs it when it may)');
  }
  const lamp = new SimulatedDevice(loadProfile('lamp-post-controller'), 1);
  lamp.inject({ kind: 'fixed', point: 'dimming', value: 42 });
  lamp.inject({ kind: 'fixed', point: 'voltage', value: 231.5 });
  lamp.inject({ kind: 'fixed', point: 'tilt', value: -0.35 });
  lamp.inject({ kind: 'fixed', point: 'lamp_on', value: 1 });
  lamp.inject({ kind: 'fixed', point: 'door_open', value: 1 });
  const water = new SimulatedDevice(loadProfile('water-pressure-station'), 2);
  water.inject({ kind: 'fixed', point: 'pressure', value: 0.5 });
  water.inject({ kind: 'fixed', point: 'flow_rate', value: 565.25 });
  const bridge = new SimulatedDevice(loadProfile('bridge-structural-monitor'), 3);
  bridge.inject({ kind: 'fixed', point: 'strain_1', value: -123.5 });
  bridge.inject({ kind: 'fixed', point: 'acceleration_rms_z', value: 0.125 });
  sim = await startTcpSimulator({ devices: [lamp, water, bridge] });
});
afterAll(() => sim?.close());

describe('mbpoll reads the simulator', () => {
  it('holding and input registers (FC3, FC4), as the device holds them', async () => {
    const holding = await mbpoll(1, ['-t', '4', '-r', '1', '-c', '1']);
    expect(holding.values.get(1), holding.out).toBe('42');
    const input = await mbpoll(1, ['-t', '3:hex', '-r', '1', '-c', '5']);
    expect(input.values.get(1), input.out).toBe('0x090B'); // 231.5 V / 0.1 = 2315
    expect(input.values.get(5), input.out).toBe('0xFFDD'); // -0.35 deg / 0.01 = -35
  });

  it('coils and discrete inputs (FC1, FC2)', async () => {
    expect((await mbpoll(1, ['-t', '0', '-r', '1', '-c', '1'])).values.get(1)).toBe('1');
    expect((await mbpoll(1, ['-t', '1', '-r', '1', '-c', '2'])).values).toEqual(new Map([[1, '1'], [2, '0']]));
  });

  it('32-bit floats: CDAB is mbpoll’s default word order, ABCD its -B', async () => {
    const cdab = await mbpoll(2, ['-t', '4:float', '-r', '1', '-c', '2']);
    expect(cdab.values.get(1), cdab.out).toBe('0.5');
    expect(cdab.values.get(3), cdab.out).toBe('565.25');
    const abcd = await mbpoll(3, ['-t', '4:float', '-B', '-r', '1', '-c', '1']);
    expect(abcd.values.get(1), abcd.out).toBe('-123.5');
    const input = await mbpoll(3, ['-t', '3:float', '-B', '-r', '5', '-c', '1']);
    expect(input.values.get(5), input.out).toBe('0.125');
  });

  it('a write (FC6) that the device keeps, and the exception for a read past its map', async () => {
    const write = await mbpoll(1, ['-t', '4', '-r', '1'], ['77']);
    expect(write.code, write.out).toBe(0);
    expect((await mbpoll(1, ['-t', '4', '-r', '1', '-c', '1'])).values.get(1)).toBe('77');
    const past = await mbpoll(1, ['-t', '4', '-r', '1', '-c', '10']);
    expect(past.out).toMatch(/Illegal data address/i);
    expect(past.values.size).toBe(0);
  });
});
