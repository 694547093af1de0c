/** The registry store's contract: gateway status, technician edits, revocation. */
import { expect, it } from 'vitest';
import { contractSuite, T0, type StoreFactory } from './fixtures.js';

export function registryContract(name: string, factory: StoreFactory): void {
  contractSuite(`store contract: ${name}: registry`, factory, (store) => {
    it('keeps the registry and gateway status; revocation marks gateway and credentials', async () => {
      await store.registry.saveGatewayStatus({ gateway: 'gw-s', online: true, ts: T0, name: 'Binhe Rd', location: { lon: 114.05, lat: 22.54, district: 'Futian', gridUnit: 'FT-03' }, backlog: { depth: 120, oldestTs: T0 - 60_000 }, clockOffsetMs: -42, devices: [{ id: 'lamp-9', profile: 'lamp', points: [{ name: 'power', unit: 'W' }] }] });
      // The last will carries only the online flag: the rest is kept.
      await store.registry.saveGatewayStatus({ gateway: 'gw-s', online: false, ts: T0 + 10 });
      const g = await store.registry.getGateway('gw-s');
      expect(g).toMatchObject({ id: 'gw-s', name: 'Binhe Rd', online: false, lastSeen: T0 + 10, firstSeen: T0, clockOffsetMs: -42, location: { lon: 114.05, lat: 22.54, district: 'Futian', gridUnit: 'FT-03' } });
      expect(g!.backlog).toMatchObject({ depth: 120, oldestTs: T0 - 60_000 });
      await store.registry.updateGateway('gw-s', { kind: 'lamp_post', location: { lon: 1, lat: 2 } });
      expect(await store.registry.getGateway('gw-s')).toMatchObject({ kind: 'lamp_post', location: { lon: 1, lat: 2 }, name: 'Binhe Rd' });
      await store.registry.updateGateway('gw-new', { name: 'planned box' });
      expect((await store.registry.listGateways()).map((x) => x.id)).toEqual(['gw-new', 'gw-s']);
      expect(await store.registry.updateDevice('gw-s', 'lamp-9', { kind: 'lamp_post', location: { lon: 3, lat: 4, district: 'Nanshan' } })).toBe(true);
      expect(await store.registry.updateDevice('gw-s', 'nope', { kind: 'x' })).toBe(false);
      expect((await store.registry.listDevices())[0]).toMatchObject({ id: 'lamp-9', kind: 'lamp_post', location: { lon: 3, lat: 4, district: 'Nanshan' }, points: [{ name: 'power', unit: 'W' }] });

      await store.access.putMqttCredential({ username: 'gw-s', gateway: 'gw-s', salt: 's', hash: 'h' }, T0);
      expect(await store.access.findMqttCredential('gw-s')).toEqual({ username: 'gw-s', gateway: 'gw-s', salt: 's', hash: 'h', revokedAt: null });
      expect(await store.registry.revokeGateway('gw-s', T0 + 99)).toBe(true);
      expect(await store.registry.revokeGateway('gw-s', T0 + 100)).toBe(false);
      expect((await store.access.findMqttCredential('gw-s'))!.revokedAt).toBe(T0 + 99);
      expect(await store.registry.getGateway('gw-s')).toMatchObject({ revokedAt: T0 + 99, online: false });
      expect(await store.access.findMqttCredential('nobody')).toBeUndefined();
    });

    it('takes a device name from the status, a renamed one too, until an operator names it; null gives it back', async () => {
      const status = (name: string) => store.registry.saveGatewayStatus({ gateway: 'gw-n', online: true, ts: T0, devices: [{ id: 'lamp-1', name, profile: 'lamp' }] });
      const nameOf = async () => (await store.registry.listDevices()).find((d) => d.id === 'lamp-1')?.name;
      await status('洸河路1号灯杆');
      expect(await nameOf()).toBe('洸河路1号灯杆');
      // A config pushed with a new name (or an edited gateway.yaml) renames the device.
      await status('洸河路1号灯杆（东）');
      expect(await nameOf()).toBe('洸河路1号灯杆（东）');
      await store.registry.updateDevice('gw-n', 'lamp-1', { name: '洸河路东1号灯杆' });
      await status('洸河路1号灯杆');
      expect(await nameOf()).toBe('洸河路东1号灯杆');
      await store.registry.updateDevice('gw-n', 'lamp-1', { name: null });
      await status('洸河路1号灯杆');
      expect(await nameOf()).toBe('洸河路1号灯杆');
    });

    it('keeps a location, kind or gateway name an operator set through later statuses; the rest follows the config', async () => {
      const loc = { lon: 116.6, lat: 35.4, district: '任城区', gridUnit: 'RC-1' };
      const status = (name: string, lon: number) =>
        store.registry.saveGatewayStatus({ gateway: 'gw-p', online: true, ts: T0, name, location: { ...loc, lon }, devices: [{ id: 'gas-1', name: 'd', kind: 'gas', profile: 'gas', location: { ...loc, lon } }] });
      await status('调压站', 116.6);
      await store.registry.updateGateway('gw-p', { location: { lon: 116.7, lat: 35.5, district: '太白湖新区' } });
      await store.registry.updateDevice('gw-p', 'gas-1', { kind: 'heat', location: { lon: 116.8, lat: 35.6 } });
      await status('调压站二', 116.61);
      expect(await store.registry.getGateway('gw-p')).toMatchObject({ name: '调压站二', location: { lon: 116.7, lat: 35.5, district: '太白湖新区' } });
      const dev = async () => (await store.registry.listDevices()).find((d) => d.gateway === 'gw-p');
      expect(await dev()).toMatchObject({ name: 'd', kind: 'heat', location: { lon: 116.8, lat: 35.6 } });
      await store.registry.updateGateway('gw-p', { name: '运维命名' });
      await store.registry.updateDevice('gw-p', 'gas-1', { location: null });
      await status('调压站三', 116.62);
      expect(await store.registry.getGateway('gw-p')).toMatchObject({ name: '运维命名', location: { lon: 116.7 } });
      expect(await dev()).toMatchObject({ kind: 'heat', location: { ...loc, lon: 116.62 } });
    });

    it('lists device keys in the order of listDevices, one id on two gateways twice', async () => {
      await store.registry.saveGatewayStatus({ gateway: 'gw-b', online: true, ts: T0, devices: [{ id: 'flood-1', profile: 'f' }, { id: 'lamp-2', profile: 'l' }] });
      await store.registry.saveGatewayStatus({ gateway: 'gw-a', online: true, ts: T0, devices: [{ id: 'flood-1', profile: 'f' }] });
      const keys = await store.registry.listDeviceKeys();
      expect(keys).toEqual([{ gateway: 'gw-a', id: 'flood-1' }, { gateway: 'gw-b', id: 'flood-1' }, { gateway: 'gw-b', id: 'lamp-2' }]);
      expect(keys).toEqual((await store.registry.listDevices()).map((d) => ({ gateway: d.gateway, id: d.id })));
    });

    it('lists devices without their points exactly as listDevices does otherwise', async () => {
      await store.registry.saveGatewayStatus({ gateway: 'gw-p', online: true, ts: T0, devices: [{ id: 'flood-9', profile: 'f', kind: 'flood', name: '洸河路9号', location: { lon: 116.58, lat: 35.41, district: '任城区' }, points: [{ name: 'level', unit: 'm' }] }, { id: 'gas-9', profile: 'g' }] });
      const full = await store.registry.listDevices();
      expect(full.some((d) => d.points.length > 0 && d.location?.district)).toBe(true);
      expect(await store.registry.listDevicesWithoutPoints()).toEqual(full.map(({ points: _, ...d }) => d));
    });
  });
}
