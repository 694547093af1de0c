import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProfile, type ModbusPoint } from '@lifeline/devices';
import { startDemoSite, type DemoSite, type SiteBus } from './demo-site.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
type ExampleDevice = SiteBus['devices'][number] & { name?: string; location?: { lon: number; lat: number; district?: string } };
const example = () => parse(readFileSync(join(root, 'edge/examples/gateway.yaml'), 'utf8')) as { buses: (SiteBus & { devices: ExampleDevice[] })[] };
const FC: Record<ModbusPoint['table'], number> = { coil: 1, discrete: 2, holding: 3, input: 4 };

/** One Modbus TCP read (FC 1-4) of one register or bit: the reply's function code and its data bytes. */
function readOnce(port: number, unit: number, fc: number, address: number): Promise<{ fc: number; data: Buffer }> {
  return new Promise((done, fail) => {
    const sock = connect(port, '127.0.0.1');
    const req = Buffer.from([0, 1, 0, 0, 0, 6, unit, fc, address >> 8, address & 0xff, 0, 1]);
    let got = Buffer.alloc(0);
    sock.on('connect', () => sock.write(req));
    sock.on('data', (b) => {
      got = Buffer.concat([got, b]);
      if (got.length >= 6 && got.length >= 6 + got.readUInt16BE(4)) {
        sock.end();
        done({ fc: got[7], data: got.subarray(8) });
      }
    });
    sock.on('error', fail);
    sock.setTimeout(2000, () => (sock.destroy(), fail(new Error(`unit ${unit} did not answer`))));
  });
}

let site: DemoSite | undefined;
afterEach(async () => {
  await site?.close();
  site = undefined;
});

describe('the demo site (Jining)', () => {
  it('names and places every device in a Jining district', () => {
    const devices = example().buses.flatMap((b) => b.devices);
    for (const d of devices) {
      expect(d.name, d.id).toMatch(/[\u4e00-\u9fff]/);
      // Around Jining's centre (116.59, 35.41): the old city, 高新区 to the east, 太白湖新区 to the south.
      expect(d.location!.lon, d.id).toBeGreaterThan(116.5);
      expect(d.location!.lon, d.id).toBeLessThan(116.7);
      expect(d.location!.lat, d.id).toBeGreaterThan(35.3);
      expect(d.location!.lat, d.id).toBeLessThan(35.45);
    }
    expect(new Set(devices.map((d) => d.location!.district))).toEqual(new Set(['任城区', '高新区', '太白湖新区']));
    // Tests across the repository use these ids.
    expect(devices.map((d) => d.id)).toEqual(expect.arrayContaining(['flood-1', 'water-1', 'lamp-1']));
    // What issue 16 lists: a rain gauge beside the underpass flood gauge, the gas pressure-regulating station, drainage manholes.
    const profiles = new Set(devices.map((d) => d.profile));
    for (const p of ['rain-gauge', 'gas-regulator-station', 'manhole-cover-sensor', 'river-level-gauge', 'pole-environment-module', 'drainage-manhole']) expect(profiles).toContain(p);
  });

  it('serves every device of the example, each answering a read of its first point', async () => {
    const buses = example().buses;
    site = await startDemoSite(buses);
    let read = 0;
    for (const bus of buses) {
      for (const d of bus.devices) {
        const p = loadProfile(d.profile).points[0] as ModbusPoint;
        const r = await readOnce(bus.port, d.unit, FC[p.table], p.address);
        expect(r.fc, `${d.id} (${d.profile}, unit ${d.unit})`).toBe(FC[p.table]);
        read++;
      }
    }
    expect(read).toBe(19);
    expect([...site.devices.keys()]).toHaveLength(19);
  });

  it('floods the underpass, not the lake station, in the first storm', async () => {
    let now = Date.UTC(2026, 6, 15, 7); // 15:00 China time, July
    const start = now;
    site = await startDemoSite(example().buses, { now: () => now });
    const depth = (id: string) => {
      const dev = site!.devices.get(id)!;
      dev.refresh(true);
      return dev.valueOf('ponding_depth');
    };
    expect(depth('flood-1')).toBeLessThan(0.05);
    now = start + 180_000; // two minutes into the first storm
    expect(depth('flood-1')).toBeGreaterThan(0.3);
    expect(depth('rain-1')).toBe(0);
    expect(site.devices.get('rain-1')!.valueOf('rainfall')).toBeGreaterThan(5);
    // The underpass rain gauge's counter has counted the storm so far.
    const gauge = site.devices.get('raingauge-1')!;
    gauge.refresh(true);
    const before = gauge.valueOf('total_rainfall');
    now = start + 240_000;
    gauge.refresh(true);
    expect(gauge.valueOf('total_rainfall') - before).toBeGreaterThan(5);
  });
});
