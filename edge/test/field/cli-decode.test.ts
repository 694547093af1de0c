/** `lifeline decode` as a person runs it: captured frames in, fields or the exact reason out. */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { lifeline as run } from './cli-run.js';

const tmp = tempDir();
const lifeline = (...args: string[]) => run(tmp.dir, ...args);

// Each test spawns the CLI (about 1.5 s of CPU to start): allow for a busy machine.
describe('lifeline decode', { timeout: 90_000 }, () => {
  it('decodes a published DL/T 645 reply: 1206.42 kWh at meter 000102030425', async () => {
    const r = await lifeline('decode', '--protocol', 'dlt645', 'FE FE 68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/address\s+000102030425/);
    expect(r.stdout).toMatch(/forward active energy total\s+1206\.42 kWh/);
  });

  it("decodes the example of its own --help (a valid frame, CRC included)", async () => {
    const help = await lifeline('decode', '--help');
    expect(help.status).toBe(0);
    const example = /e\.g\. ((?:[0-9A-F]{2} )+[0-9A-F]{2})/.exec(help.stdout.replace(/\s+/g, ' '))?.[1];
    expect(example).toBeDefined();
    const r = await lifeline('decode', '--protocol', 'modbus-rtu', example!);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/3217/);
  });

  it('decodes a Modbus RTU reply as JSON', async () => {
    const r = await lifeline('decode', '--protocol', 'modbus-rtu', '01 03 02 0C 91 7C E8', '--json');
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout) as { protocol: string; values: { value: number }[] };
    expect(d.protocol).toBe('modbus-rtu');
    expect(d.values[0].value).toBe(3217);
  });

  it('says exactly why a frame is invalid, exit 1', async () => {
    const [crc, sum] = await Promise.all([
      lifeline('decode', '--protocol', 'modbus-rtu', '01', '03', '02', '0C', '91', 'BC', '48'),
      lifeline('decode', '--protocol', 'dlt645', '68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8C 16'),
    ]);
    expect(crc.status).toBe(1);
    expect(crc.stderr.trim()).toBe('FRAME_INVALID: crc: expected 0xE87C (bytes 7C E8), found 0x48BC (bytes BC 48)');
    expect(sum.status).toBe(1);
    expect(sum.stderr).toMatch(/checksum.*0x8B.*0x8C|expected 0x8B.*found 0x8C/);
  });

  it('decode --help shows an SL 651 frame that decodes: station, function, elements, CRC', async () => {
    const help = await lifeline('decode', '--help');
    expect(help.status).toBe(0);
    const example = /--protocol sl651 ([0-9A-F]+)/.exec(help.stdout)?.[1];
    expect(example).toBeDefined();
    const r = await lifeline('decode', '--protocol', 'sl651', example!);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/station address\s+0011223344/);
    expect(r.stdout).toMatch(/function\s+0x32 timed report/);
    expect(r.stdout).toMatch(/Z \(39H\) river water level\s+10\.49 m/);
    expect(r.stdout).toMatch(/crc\s+A421 \(ok\)/);
  });
});
