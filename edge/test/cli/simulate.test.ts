/**
 * `lifeline simulate` as a technician runs it: it prints where it listens,
 * serves until Ctrl-C (SIGINT), then says what it served; bad arguments are
 * refused with exit code 2 and a message naming the problem.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import modbusSerial from 'modbus-serial';
import { waitFor } from '../../../test/helpers.js';
import { main } from '../../src/cli/main.js';

const ModbusRTU = modbusSerial.default;
const cliPath = resolve(import.meta.dirname, '../../src/cli/main.ts');
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function lifeline(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', cliPath, ...args], { cwd: resolve(import.meta.dirname, '../../..') });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  return { child, output: () => out, exit };
}

async function readInput(port: number, unit: number, address: number, count: number): Promise<number[]> {
  const c = new ModbusRTU();
  await c.connectTCP('127.0.0.1', { port });
  c.setID(unit);
  c.setTimeout(2000);
  try {
    return (await c.readInputRegisters(address, count)).data;
  } finally {
    await new Promise<void>((r) => c.close(() => r()));
  }
}

describe('lifeline simulate', () => {
  it('serves a profile on a free TCP port, prints it, and stops on Ctrl-C', async () => {
    const run = lifeline(['simulate', '--profile', 'flood-gauge', '--tcp', '0', '--unit', '4', '--fault', 'fixed:point=water_level,value=3.217']);
    const line = await waitFor(() => /Modbus TCP on 127\.0\.0\.1:(\d+): flood-gauge unit 4/.exec(run.output()), 50_000, 'the listening line').catch((e: Error) => { throw new Error(`${e.message}; output: ${run.output()}`); });
    await waitFor(() => run.output().includes('read it with: pnpm lifeline read --tcp 127.0.0.1:'), 10_000, 'the hint line');
    const regs = await readInput(Number(line[1]), 4, 0, 4);
    expect(regs[0]).toBe(3217);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
    expect(run.output()).toMatch(/stopped; 1 request\(s\) served\./);
  }, 60_000);

  it('serves meters behind a transparent serial server, which lifeline read reads over TCP', async () => {
    const run = lifeline(['simulate', '--profile', 'water-meter', '--tcp', '0', '--devices', '2']);
    const line = await waitFor(() => /read it with: pnpm lifeline (read --tcp \S+ --address 00000000000001 --profile water-meter)/.exec(run.output()), 50_000, 'the read line');
    expect(run.output()).toMatch(/serial server \(cjt188, transparent\) on 127\.0\.0\.1:\d+: water-meter address 00000000000001, water-meter address 00000000000002/);
    const read = lifeline([...line[1].split(' '), '--json']);
    expect(await read.exit).toBe(0);
    const points = read.output().trim().split('\n').map((l) => JSON.parse(l) as { point: string; value: number });
    expect(points.find((p) => p.point === 'total_volume')?.value).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
  }, 60_000);

  it('serves many devices, each on its own port', async () => {
    const run = lifeline(['simulate', '--profile', 'gas-detector', '--tcp', '0', '--devices', '3']);
    const line = await waitFor(() => /Modbus TCP: 3 devices \(gas-detector\), unit 1 each, on 127\.0\.0\.1 ports (\S+)/.exec(run.output()), 50_000, 'the ports line');
    const ports = line[1].includes('-') && !line[1].includes(',') ? [0, 1, 2].map((i) => Number(line[1].split('-')[0]) + i) : line[1].split(',').map(Number);
    for (const port of ports) expect(await readInput(port, 1, 0, 5)).toHaveLength(5);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
  }, 60_000);

  it('refuses what cannot work, with exit code 2 and the reason', async () => {
    // In process (the same main() the binary runs): a start-up per case costs seconds on a busy machine.
    const refused = async (args: string[]) => {
      const errors: string[] = [];
      const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
      try {
        return { code: await main(['node', 'lifeline', ...args]), text: errors.join('\n') };
      } finally {
        spy.mockRestore();
      }
    };
    const meter = await refused(['simulate', '--profile', 'lamp-post-meter', '--tcp', '0', '--rtu-over-tcp']);
    expect(meter).toMatchObject({ code: 2, text: expect.stringMatching(/lamp-post-meter is a dlt645 meter: --rtu-over-tcp is Modbus framing/) });
    expect(await refused(['simulate', '--profile', 'flood-gauge'])).toMatchObject({ code: 2, text: expect.stringMatching(/give exactly one of --tcp <port> or --pty <path>/) });
    expect(await refused(['simulate', '--profile', 'flood-gauge', '--tcp', '0', '--fault', 'melt'])).toMatchObject({
      code: 2,
      text: expect.stringMatching(/unknown kind "melt"/),
    });
    expect(await refused(['simulate', '--profile', join('no', 'such.yaml'), '--tcp', '0'])).toMatchObject({ code: 2, text: expect.stringMatching(/PROFILE_NOT_FOUND/) });
  });
});
