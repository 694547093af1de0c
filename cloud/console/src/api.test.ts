/** The map's device list as columns (GET /devices?format=columns) back as objects, and a broken answer named. */
import { describe, expect, it } from 'vitest';
import { mapDevicesFromColumns } from './api.js';

describe('mapDevicesFromColumns', () => {
  it('rebuilds each device, a location only where lon and lat are given, district and grid unit only when set', () => {
    const got = mapDevicesFromColumns({
      count: 3,
      columns: {
        id: ['flood-1', 'gas-1', 'lamp-1'],
        gateway: ['gw-1', 'gw-1', 'gw-2'],
        name: ['洸河路下穿通道', null, '<img src=x onerror=alert(1)>'],
        kind: ['flood', 'gas', null],
        lon: [116.6005, null, 116.58],
        lat: [35.4029, null, 35.41],
        district: ['任城区', null, null],
        gridUnit: ['RC-GH-03-12', null, null],
        online: [true, true, false],
      },
    });
    expect(got).toEqual([
      { id: 'flood-1', gateway: 'gw-1', name: '洸河路下穿通道', kind: 'flood', location: { lon: 116.6005, lat: 35.4029, district: '任城区', gridUnit: 'RC-GH-03-12' }, online: true },
      { id: 'gas-1', gateway: 'gw-1', name: null, kind: 'gas', location: null, online: true },
      { id: 'lamp-1', gateway: 'gw-2', name: '<img src=x onerror=alert(1)>', kind: null, location: { lon: 116.58, lat: 35.41 }, online: false },
    ]);
  });

  it('names a missing or short column', () => {
    const columns = { id: ['a'], gateway: ['g'], name: [null], kind: [null], lon: [1], lat: [2], district: [null], gridUnit: [null] };
    expect(() => mapDevicesFromColumns({ count: 1, columns })).toThrow('column online missing or not 1 long');
    expect(() => mapDevicesFromColumns({ count: 2, columns: { ...columns, online: [true] } })).toThrow('column id missing or not 2 long');
  });
});
