/** gateway.yaml for SL 651 stations: what an sl651-listen bus needs and refuses, every mistake at once. */
import { describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { validateConfig } from '../../src/config/load.js';

const base = {
  gateway: { id: 'gw' },
  buffer: { path: '/tmp/lifeline-sl651-config-test.db' },
  sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
};

function problems(buses: unknown[]): string {
  try {
    validateConfig({ ...base, buses }, 'gateway.yaml');
  } catch (e) {
    if (isLifelineError(e)) return e.message;
    throw e;
  }
  return '';
}

describe('sl651-listen buses', () => {
  it('accept SL 651 stations by station address', () => {
    const loaded = validateConfig(
      { ...base, buses: [{ name: 'hydro', link: 'sl651-listen', port: 5651, devices: [{ id: 'rain-1', profile: 'sl651-rain-station', station: '0037080001' }] }] },
      'gateway.yaml',
    );
    expect(loaded.config.buses[0].devices[0].station).toBe('0037080001');
    expect(loaded.profiles.get('rain-1')?.protocol).toBe('sl651');
  });

  it('refuse a missing port or station, a serial path, unit/address, a non-SL 651 profile and a repeated station', () => {
    const msg = problems([
      {
        name: 'hydro',
        link: 'sl651-listen',
        path: '/dev/ttyUSB0',
        devices: [
          { id: 'a', profile: 'sl651-rain-station' },
          { id: 'b', profile: 'sl651-rain-station', station: '0037080001', unit: 3 },
          { id: 'c', profile: 'flood-gauge', station: '0037080002' },
          { id: 'd', profile: 'sl651-water-level-station', station: '0037080001' },
        ],
      },
    ]);
    expect(msg).toMatch(/buses\[0\]\.port: is required for link sl651-listen/);
    expect(msg).toMatch(/buses\[0\]\.path: does not apply to link sl651-listen/);
    expect(msg).toMatch(/buses\[0\]\.devices\[0\]\.station: is required for an SL 651 station/);
    expect(msg).toMatch(/buses\[0\]\.devices\[1\]\.unit: does not apply to an SL 651 station/);
    expect(msg).toMatch(/buses\[0\]\.devices\[2\]\.profile: flood-gauge speaks modbus; an sl651-listen bus carries SL 651 stations only/);
    expect(msg).toMatch(/buses\[0\]\.devices\[3\]\.station: station "0037080001" is already used by "b" on this bus/);
  });

  it('refuse an SL 651 station on a polled bus, and a station address on a Modbus device', () => {
    const msg = problems([
      {
        name: 'lan',
        link: 'tcp',
        host: '127.0.0.1',
        port: 502,
        devices: [
          { id: 'rain-1', profile: 'sl651-rain-station', unit: 1 },
          { id: 'flood-1', profile: 'flood-gauge', unit: 2, station: '0037080001' },
        ],
      },
    ]);
    expect(msg).toMatch(/devices\[0\]\.profile: sl651-rain-station is an SL 651 station: it reports to a bus with link sl651-listen/);
    expect(msg).toMatch(/devices\[1\]\.station: applies to SL 651 stations \(link sl651-listen\)/);
  });
});

describe('edge/examples/hydrology.yaml', () => {
  it('is a valid config: two SL 651 stations on a listening port', async () => {
    const { loadConfig } = await import('../../src/config/load.js');
    const { config, profiles } = loadConfig(new URL('../../examples/hydrology.yaml', import.meta.url).pathname, { dataDir: new URL('../../..', import.meta.url).pathname });
    expect(config.buses.map((b) => [b.link, b.port])).toEqual([['sl651-listen', 5651]]);
    expect([...profiles.values()].map((p) => p.id)).toEqual(['sl651-water-level-station', 'sl651-rain-station']);
  });
});
