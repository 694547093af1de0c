/**
 * `lifeline scan --meters`: the meters on a meter bus found by wildcard address reads, as a
 * person runs it (a spawned CLI) and, for the long search, in process. Two DL/T 645 lamp-post meters on a byte-timed pty bus answer
 * the all-wildcard read at once (a collision), so the search splits on the last address pair;
 * a CJ/T 188 bus behind a TCP serial server holds one heat meter, found in one read.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SimulatedDevice, loadProfile, startPtySimulator, startSerialServerSimulator } from '@lifeline/devices';
import { jsonLines, cliSession } from '../field/cli-run.js';
import { requireTools } from '../field/peers.js';
import { findMeters } from '../../src/cli/meter-scan.js';
import { openMeterLink } from '../../src/cli/field.js';

const { dir, lifeline, cleanups } = cliSession();

describe('lifeline scan --meters', { timeout: 180_000 }, () => {
  let pty = '';
  let pty2 = '';
  let serverPort = 0;
  beforeAll(async () => {
    requireTools('socat');
    pty = join(dir, 'ttyMETER');
    const one = await startPtySimulator({ devices: [new SimulatedDevice(loadProfile('lamp-post-meter'), 1, { address: '000102030425' })], path: pty, baud: 9600, parity: 'even' });
    cleanups.push(() => one.close());
    pty2 = join(dir, 'ttyMETERS');
    const meters = ['000102030425', '000102030431'].map((address) => new SimulatedDevice(loadProfile('lamp-post-meter'), 1, { address }));
    const two = await startPtySimulator({ devices: meters, path: pty2, baud: 9600, parity: 'even' });
    cleanups.push(() => two.close());
    const server = await startSerialServerSimulator({ devices: [new SimulatedDevice(loadProfile('heat-meter'), 1, { address: '20250001000003' })], baud: 2400, parity: 'even' });
    serverPort = server.port;
    cleanups.push(() => server.close());
  });

  it('finds two DL/T 645 meters that collide on the wildcard read, by splitting on the last pair', async () => {
    // In this process (a hundred reads, most of them timeouts, outlast a spawned CLI's kill timer).
    const link = await openMeterLink({ serial: pty2, baud: 9600, parity: 'even', timeout: 200 }, 'dlt645');
    try {
      const r = await findMeters(link, 'dlt645');
      expect(r.found.map((m) => m.address)).toEqual(['000102030425', '000102030431']);
      // One all-wildcard read that collided, then 00..99 in the last pair.
      expect(r.requests).toBe(101);
      expect(r.unresolved).toEqual([]);
    } finally {
      await link.close();
    }
  });

  it('lists the meter of a DL/T 645 bus as a person runs it: one address read, one line', async () => {
    const r = await lifeline('scan', '--meters', 'dlt645', '--serial', pty, '--baud', '9600', '--parity', 'even', '--timeout', '300');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^meter 000102030425 {2}answers its address read {2}\(serial .*ttyMETER 9600 8E1\)$/);
    expect(lines[1]).toBe('1 meter(s) found in 1 address read(s): 000102030425');
  });

  it('finds a CJ/T 188 heat meter behind a serial server in one read, with its meter type (--json)', async () => {
    const r = await lifeline('scan', '--meters', 'cjt188', '--tcp', `127.0.0.1:${serverPort}`, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(jsonLines(r.stdout)).toEqual([{ protocol: 'cjt188', address: '20250001000003', meterType: 'heat meter (heat)', where: expect.stringContaining(`127.0.0.1:${serverPort}`) }]);
  });

  it('exit 1 with the likely cause when no meter answers; exit 2 for an unknown protocol', async () => {
    const none = await lifeline('scan', '--meters', 'cjt188', '--serial', pty, '--baud', '9600', '--timeout', '80');
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no cjt188 meter answered an address read on serial .*ttyMETER 9600 8E1; likely cause: wrong baud rate or parity/);
    const bad = await lifeline('scan', '--meters', 'mbus', '--serial', pty);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--meters <protocol>.*mbus.*dlt645, cjt188/);
  });
});
