/** The maintenance store's contract: windows kept with their audit, listed by where they stand, ended once. */
import { expect, it } from 'vitest';
import { contractSuite, T0, type StoreFactory } from './fixtures.js';

const H = 3_600_000;

export function maintenanceContract(name: string, factory: StoreFactory): void {
  contractSuite(`store contract: ${name}: maintenance`, factory, (store) => {
    it('keeps windows of each scope with who set them, and lists them by status at an instant, newest start first', async () => {
      const m = store.maintenance;
      const gw = await m.addWindow({ gateway: 'gw-a', device: null, point: null, from: T0, until: T0 + 2 * H, reason: 'cabinet rewiring', createdBy: 'li', createdAt: T0 - 1000 });
      const dev = await m.addWindow({ gateway: 'gw-a', device: 'flood-1', point: null, from: T0 + 3 * H, until: T0 + 4 * H, reason: 'sensor swap', createdBy: 'li', createdAt: T0 });
      const pt = await m.addWindow({ gateway: 'gw-b', device: 'flood-1', point: 'water_level', from: T0 - 2 * H, until: T0 - H, reason: 'recalibration', createdBy: 'wang', createdAt: T0 - 3 * H });
      expect(gw).toEqual({ id: gw.id, scope: 'gateway', gateway: 'gw-a', device: null, point: null, from: T0, until: T0 + 2 * H, reason: 'cabinet rewiring', createdBy: 'li', createdAt: T0 - 1000, endedAt: null, endedBy: null });
      expect([dev.scope, pt.scope]).toEqual(['device', 'point']);
      expect(await m.getWindow(pt.id)).toEqual(pt);
      expect(await m.getWindow(pt.id + 1000)).toBeUndefined();

      const ids = async (f: Partial<Parameters<typeof m.listWindows>[0]>) => (await m.listWindows({ at: T0 + H, limit: 100, ...f })).map((w) => w.id);
      expect(await ids({})).toEqual([dev.id, gw.id, pt.id]);
      expect(await ids({ status: ['active'] })).toEqual([gw.id]);
      expect(await ids({ status: ['upcoming'] })).toEqual([dev.id]);
      expect(await ids({ status: ['over'] })).toEqual([pt.id]);
      expect(await ids({ status: ['upcoming', 'active'] })).toEqual([dev.id, gw.id]);
      expect(await ids({ status: ['active'], at: T0 })).toEqual([gw.id]); // from is inclusive
      expect(await ids({ status: ['active'], at: T0 + 2 * H })).toEqual([]); // until is exclusive
      expect(await ids({ gateway: 'gw-b' })).toEqual([pt.id]);
      expect(await ids({ limit: 1 })).toEqual([dev.id]);
    });

    it('ends a window early once, with who and when; a window over already is not ended', async () => {
      const m = store.maintenance;
      const w = await m.addWindow({ gateway: 'gw-a', device: 'flood-1', point: null, from: T0, until: T0 + H, reason: 'valve work', createdBy: 'li', createdAt: T0 });
      const ended = await m.endWindow(w.id, T0 + 600_000, 'zhao');
      expect(ended).toEqual({ ...w, endedAt: T0 + 600_000, endedBy: 'zhao' });
      expect(await m.endWindow(w.id, T0 + 700_000, 'qian')).toBeUndefined();
      expect(await m.getWindow(w.id)).toEqual(ended);
      expect((await m.listWindows({ at: T0 + 650_000, status: ['active'], limit: 10 })).length).toBe(0);
      const done = await m.addWindow({ gateway: 'gw-a', device: null, point: null, from: T0, until: T0 + H, reason: 'x', createdBy: 'li', createdAt: T0 });
      expect(await m.endWindow(done.id, T0 + H, 'zhao')).toBeUndefined();
      expect(await m.endWindow(999_999, T0, 'zhao')).toBeUndefined();
    });
  });
}
