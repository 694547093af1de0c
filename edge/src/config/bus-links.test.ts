import { describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { validateConfig } from './load.js';

const base = {
  gateway: { id: 'gw-1' },
  buffer: { path: ':memory:' },
  sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
};

function problems(buses: unknown[]): string {
  try {
    validateConfig({ ...base, buses }, 'test config');
  } catch (e) {
    if (isLifelineError(e)) return e.message;
    throw e;
  }
  return '';
}

describe('buses[].link', () => {
  it('accepts an RS-485 bus on a serial port and an RTU-over-TCP bus through a DTU', () => {
    const { config } = validateConfig(
      {
        ...base,
        buses: [
          {
            name: 'rs485-1',
            link: 'rtu',
            path: '/dev/ttyUSB0',
            baud: 9600,
            parity: 'none',
            devices: [
              { id: 'flood-1', profile: 'flood-gauge', unit: 1 },
              { id: 'gas-1', profile: 'gas-detector', unit: 2, gapMs: 20 },
            ],
          },
          { name: 'dtu-1', link: 'rtu-over-tcp', host: '10.8.0.7', port: 8899, baud: 4800, devices: [{ id: 'flood-2', profile: 'flood-gauge', unit: 1 }] },
        ],
      },
      'test config',
    );
    expect(config.buses[0]).toMatchObject({ link: 'rtu', path: '/dev/ttyUSB0', timeoutMs: 1000 });
    expect(config.buses[1]).toMatchObject({ link: 'rtu-over-tcp', host: '10.8.0.7', port: 8899 });
  });

  it('names what each link needs and refuses what it does not take, all at once', () => {
    const msg = problems([
      { name: 'a', link: 'rtu', host: 'x', devices: [{ id: 'd1', profile: 'flood-gauge', unit: 1 }] },
      { name: 'b', link: 'tcp', host: 'x', port: 502, baud: 9600, devices: [{ id: 'd2', profile: 'flood-gauge', unit: 1, gapMs: 5 }] },
      { name: 'c', link: 'rtu-over-tcp', path: '/dev/ttyS1', devices: [{ id: 'd3', profile: 'flood-gauge', unit: 1 }] },
    ]);
    expect(msg).toContain('buses[0].path: is required for link rtu');
    expect(msg).toContain('buses[0].host: does not apply to link rtu, got "x"');
    expect(msg).toContain('buses[1].baud: does not apply to link tcp, got 9600');
    expect(msg).toContain('buses[1].devices[0].gapMs: applies to serial buses only, got 5');
    expect(msg).toContain('buses[2].host: is required for link rtu-over-tcp');
    expect(msg).toContain('buses[2].path: does not apply to link rtu-over-tcp, got "/dev/ttyS1"');
  });

  it('refuses two devices with one unit id on a bus, and two buses on one serial port', () => {
    const msg = problems([
      { name: 'a', link: 'rtu', path: '/dev/ttyUSB0', devices: [{ id: 'd1', profile: 'flood-gauge', unit: 3 }, { id: 'd2', profile: 'flood-gauge', unit: 3 }] },
      { name: 'b', link: 'rtu', path: '/dev/ttyUSB0', devices: [{ id: 'd3', profile: 'flood-gauge', unit: 1 }] },
    ]);
    expect(msg).toContain('buses[0].devices[1].unit: unit 3 is already used by "d1" on this bus');
    expect(msg).toContain('buses[1].path: "/dev/ttyUSB0" is already used by buses[0]: one bus per port');
  });
});
