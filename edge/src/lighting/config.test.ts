import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/load.js';

const base = (extra: Record<string, unknown>, gateway: Record<string, unknown> = { location: { lon: 116.59, lat: 35.41 } }) => ({
  gateway: { id: 'gw-l', ...gateway },
  buses: [
    {
      name: 'guanghe-rd',
      link: 'tcp',
      host: '127.0.0.1',
      port: 502,
      devices: [
        { id: 'lamp-1', profile: 'lamp-post-controller', unit: 1 },
        { id: 'lamp-2', profile: 'lamp-post-controller', unit: 2 },
        { id: 'flood-1', profile: 'flood-gauge', unit: 3 },
      ],
    },
  ],
  buffer: { path: ':memory:' },
  sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:9' },
  ...extra,
});
const errors = (raw: unknown) => {
  try {
    validateConfig(raw, 'gateway.yaml');
    return [];
  } catch (e) {
    return ((e as { details: { path: string; message: string }[] }).details ?? []).map((i) => `${i.path} ${i.message}`);
  }
};

describe('lighting config', () => {
  it('takes the Guanghe Road schedule', () => {
    const loaded = validateConfig(base({ lighting: { schedules: [{ devices: ['lamp-1', 'lamp-2'], on: 'dusk', off: 'dawn', dim: [{ at: '00:00', percent: 50 }] }] } }, { location: { lon: 116.59, lat: 35.41 }, timeZone: 'Asia/Shanghai' }), 'gateway.yaml');
    expect(loaded.config.lighting?.schedules[0].devices).toEqual(['lamp-1', 'lamp-2']);
  });

  it('names the field and the value of every mistake, all at once', () => {
    const raw = base({
      outputs: [{ name: 'lamp-1-warning', modbus: { device: 'lamp-1', point: 'lamp_on' } }],
      lighting: {
        schedules: [
          { devices: ['lamp-1', 'lamp-9', 'flood-1'], on: 'sunrise', off: '25:00', dim: [{ at: '0:00', percent: 50 }] },
          { devices: ['lamp-2'], on: '18:00', off: 'dawn', switchPoint: 'voltage', dimPoint: 'dimmer' },
        ],
      },
    }, { timeZone: 'Asia/Jining' });
    expect(errors(raw)).toEqual([
      'gateway.timeZone is not a time zone this gateway knows (an IANA name, e.g. Asia/Shanghai), got "Asia/Jining"',
      'lighting.schedules[0].on must be sunset, dusk or a local time HH:MM (00:00..23:59), got "sunrise"',
      'lighting.schedules[0].off must be sunrise, dawn or a local time HH:MM (00:00..23:59), got "25:00"',
      'lighting.schedules[0].dim[0].at must be a local time HH:MM (00:00..23:59), got "0:00"',
      'lighting.schedules[0].devices[0] lamp-1.lamp_on is already switched by outputs[0] (lamp-1-warning): one owner per lamp',
      'lighting.schedules[0].devices[1] no device "lamp-9" on this gateway (did you mean "lamp-1"?)',
      expect.stringMatching(/^lighting\.schedules\[0\]\.switchPoint flood-1's profile flood-gauge has no point "lamp_on"/),
      expect.stringMatching(/^lighting\.schedules\[0\]\.dimPoint flood-1's profile flood-gauge has no point "dimming"/),
      'gateway.location is required by lighting.schedules[1]: dawn depends on the site\'s longitude and latitude',
      'lighting.schedules[1].switchPoint lamp-2\'s profile lamp-post-controller point voltage is not a writable coil or holding register',
      'lighting.schedules[1].dimPoint lamp-2\'s profile lamp-post-controller has no point "dimmer"',
    ]);
  });

  it('refuses one lamp in two schedules', () => {
    const twice = { schedules: [{ devices: ['lamp-1'], on: 'sunset', off: 'sunrise' }, { devices: ['lamp-1'], on: '19:00', off: '23:00' }] };
    expect(errors(base({ lighting: twice }))).toEqual([
      'lighting.schedules[1].devices[0] lamp-1.lamp_on is already switched by lighting.schedules[0]: one owner per lamp',
      'lighting.schedules[1].devices[0] lamp-1.dimming is already switched by lighting.schedules[0]: one owner per lamp',
    ]);
  });
});
