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

describe('meter buses', () => {
  it('accepts DL/T 645 meters by 12-digit address on a serial port and CJ/T 188 meters by 14 digits through a serial server', () => {
    const { config, profiles } = validateConfig(
      {
        ...base,
        buses: [
          { name: 'lamps', link: 'meter', path: '/dev/ttyUSB1', devices: [{ id: 'lamp-m1', profile: 'lamp-post-meter', address: '000102030425', gapMs: 20 }] },
          {
            name: 'heat-dtu',
            link: 'meter-over-tcp',
            host: '10.8.0.9',
            port: 8899,
            baud: 2400,
            devices: [
              { id: 'water-m1', profile: 'water-meter', address: '12345678000001' },
              { id: 'heat-m1', profile: 'heat-meter', address: '20250001000003' },
            ],
          },
        ],
      },
      'test config',
    );
    expect(config.buses[0].devices[0]).toMatchObject({ address: '000102030425' });
    expect(profiles.get('heat-m1')?.protocol).toBe('cjt188');
  });

  it('refuses Modbus devices and meters on one bus, names a wrong or missing address, all at once', () => {
    const msg = problems([
      {
        name: 'mixed',
        link: 'rtu',
        path: '/dev/ttyUSB0',
        devices: [
          { id: 'flood-1', profile: 'flood-gauge', unit: 1 },
          { id: 'lamp-m1', profile: 'lamp-post-meter', address: '000102030425' },
          { id: 'flood-2', profile: 'flood-gauge' },
        ],
      },
      {
        name: 'meters',
        link: 'meter',
        path: '/dev/ttyUSB1',
        turnaroundMs: 50,
        devices: [
          { id: 'lamp-m2', profile: 'lamp-post-meter', address: '12345678000001' },
          { id: 'lamp-m3', profile: 'lamp-post-meter' },
          { id: 'flood-3', profile: 'flood-gauge', unit: 3 },
          { id: 'water-m1', profile: 'water-meter', address: '12345678000001' },
          { id: 'lamp-m4', profile: 'lamp-post-meter', address: '000000000001' },
          { id: 'lamp-m5', profile: 'lamp-post-meter', address: '000000000001' },
        ],
      },
    ]);
    expect(msg).toContain('buses[0].devices[1].address: applies to meters (link meter or meter-over-tcp), got "000102030425"');
    expect(msg).toContain('buses[0].devices[1].profile: lamp-post-meter is a dlt645 meter; meters go on a bus with link meter or meter-over-tcp');
    expect(msg).toContain('buses[0].devices[2].unit: is required for a Modbus device');
    expect(msg).toContain('buses[1].turnaroundMs: does not apply to link meter, got 50');
    expect(msg).toContain('buses[1].devices[0].address: a dlt645 meter has a 12-digit address, got "12345678000001" (14 digits)');
    expect(msg).toContain('buses[1].devices[1].address: is required for a meter: the 12-digit address printed on it');
    expect(msg).toContain('buses[1].devices[2].unit: applies to Modbus devices; a meter is addressed by address, got 3');
    expect(msg).toContain('buses[1].devices[2].profile: flood-gauge speaks modbus; a meter bus carries DL/T 645 or CJ/T 188 meters only');
    expect(msg).toContain('buses[1].devices[3].address: address "12345678000001" is already used by "lamp-m2" on this bus');
    expect(msg).toContain('buses[1].devices[3].profile: water-meter is a cjt188 meter but this bus carries dlt645 meters (buses[1].devices[0])');
    expect(msg).toContain('buses[1].devices[5].address: address "000000000001" is already used by "lamp-m4" on this bus');
    // Not digits at all: the schema says so (before the checks above run).
    const bad = problems([{ name: 'bad', link: 'meter', path: '/dev/ttyUSB2', devices: [{ id: 'lamp-m6', profile: 'lamp-post-meter', address: '0001-0203-04' }] }]);
    expect(bad).toMatch(/buses\[0\]\.devices\[0\]\.address: .*"0001-0203-04"/);
  });
});

describe('edge/examples/meters.yaml', () => {
  it('is a valid config: a DL/T 645 bus on a port and a CJ/T 188 bus through a serial server', async () => {
    const { loadConfig } = await import('./load.js');
    // The examples keep their buffer in the repository's var/ (../../var): the repository is their data directory.
    const { config, profiles } = loadConfig(new URL('../../examples/meters.yaml', import.meta.url).pathname, { dataDir: new URL('../../..', import.meta.url).pathname });
    expect(config.buses.map((b) => b.link)).toEqual(['meter', 'meter-over-tcp']);
    expect([...profiles.values()].map((p) => p.protocol)).toEqual(['dlt645', 'cjt188', 'cjt188']);
  });
});
