/** LinkPointWriter against the Modbus TCP simulator: coils and holding registers by point name, refusals named. */
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedDevice, loadProfile, startTcpSimulator } from '@lifeline/devices';
import { validateConfig } from '../../src/index.js';
import { LinkPointWriter } from '../../src/actions/point-writer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

describe('LinkPointWriter', () => {
  it('writes a coil and a scaled holding register, and refuses what cannot be written', async () => {
    const lamp = new SimulatedDevice(loadProfile('lamp-post-controller'), 3);
    const sim = await startTcpSimulator({ devices: [lamp] });
    cleanups.push(() => sim.close());
    const loaded = validateConfig(
      {
        gateway: { id: 'gw-w' },
        buses: [
          { name: 'lan', link: 'tcp', host: '127.0.0.1', port: sim.port, devices: [{ id: 'lamp-1', profile: 'lamp-post-controller', unit: 3 }] },
          { name: 'rs485', link: 'rtu', path: '/dev/ttyUSB9', devices: [{ id: 'lamp-2', profile: 'lamp-post-controller', unit: 1 }] },
        ],
        buffer: { path: ':memory:' },
        sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:9' },
      },
      'test',
    );
    const w = new LinkPointWriter(loaded);
    cleanups.push(() => w.close());
    // Each write is read back over the same link and answered with what the device holds.
    await expect(w.writePoint('lamp-1', 'lamp_on', 1)).resolves.toEqual({ readBack: 1 });
    expect(lamp.valueOf('lamp_on')).toBe(1);
    await expect(w.writePoint('lamp-1', 'dimming', 75)).resolves.toEqual({ readBack: 75 });
    expect(lamp.valueOf('dimming')).toBe(75);
    // Within the point's resolution (1 %): the register holds 40, which confirms 40.4.
    await expect(w.writePoint('lamp-1', 'dimming', 40.4)).resolves.toEqual({ readBack: 40 });
    await expect(w.writePoint('lamp-1', 'lamp_on', 0)).resolves.toEqual({ readBack: 0 });
    expect(lamp.valueOf('lamp_on')).toBe(0);
    // 70000 wraps in a uint16 register: the device took the write but holds 4464.
    const wrapped = await w.writePoint('lamp-1', 'dimming', 70000).catch((e: unknown) => e);
    expect(String(wrapped)).toMatch(/WRITE_NOT_CONFIRMED: write lamp-1.dimming: wrote 70000, read back 4464/);
    expect((wrapped as { details: unknown }).details).toEqual({ written: 70000, readBack: 4464 });
    await expect(w.writePoint('lamp-1', 'lamp_on', 2)).rejects.toThrow(/REQUEST_INVALID: write lamp-1.lamp_on: a coil takes 0 or 1, got 2/);
    expect(lamp.valueOf('lamp_on')).toBe(0);
    await expect(w.writePoint('lamp-1', 'voltage', 1)).rejects.toThrow(/REQUEST_INVALID: write lamp-1.voltage: not a writable coil or holding register/);
    await expect(w.writePoint('nobody', 'lamp_on', 1)).rejects.toThrow(/NOT_FOUND/);
    await expect(w.writePoint('lamp-2', 'lamp_on', 1)).rejects.toThrow(/LINK_DOWN: write on bus rs485: a rtu bus is written through the poller's link/);
  });
});
