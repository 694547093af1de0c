/** The routing store's contract: rules and digests kept whole, the queued marks, and the event-lane reads. */
import { expect, it } from 'vitest';
import type { RuleSpec } from '../../../src/store/store.js';
import { contractSuite, T0, transition, type StoreFactory } from './fixtures.js';

const spec = (name: string): RuleSpec => ({
  name, enabled: true, match: { kinds: ['bridge'], districts: ['任城区'], gridUnits: ['RC-07'], minLevel: 3, sources: ['edge'] }, receivers: [1, 2],
  quietHours: { from: '22:00', to: '07:00', timeZone: 'Asia/Shanghai', minLevel: 4 }, dedupMinutes: 10,
  escalation: { levels: [3, 4], steps: [{ afterMinutes: 15, receivers: [3] }] },
});

export function routingContract(name: string, factory: StoreFactory): void {
  contractSuite(`store contract: ${name}: routing`, factory, (store) => {
    it('keeps rules whole, replaces and deletes them', async () => {
      const a = await store.routing.addRule(spec('bridges'), 'admin', T0);
      const b = await store.routing.addRule({ ...spec('lamps'), quietHours: null, escalation: null }, 'admin', T0 + 1);
      expect(a).toEqual({ ...spec('bridges'), id: a.id, createdBy: 'admin', createdAt: T0, updatedBy: 'admin', updatedAt: T0 });
      expect(await store.routing.listRules()).toEqual([a, b]);
      const changed = await store.routing.updateRule(a.id, { ...spec('bridges'), dedupMinutes: 0 }, 'ops-admin', T0 + 5);
      expect(changed).toMatchObject({ id: a.id, dedupMinutes: 0, createdAt: T0, updatedBy: 'ops-admin', updatedAt: T0 + 5 });
      expect(await store.routing.getRule(a.id)).toEqual(changed);
      expect(await store.routing.updateRule(9999, spec('x'), 'admin', T0)).toBeUndefined();
      expect(await store.routing.deleteRule(b.id)).toBe(true);
      expect(await store.routing.deleteRule(b.id)).toBe(false);
      expect((await store.routing.listRules()).map((r) => r.id)).toEqual([a.id]);
    });

    it('keeps one digest per receiver, replaced in place', async () => {
      await store.routing.setDigest({ receiverId: 4, at: '08:00', timeZone: 'Asia/Shanghai', createdBy: 'admin', createdAt: T0 });
      await store.routing.setDigest({ receiverId: 2, at: '07:30', timeZone: 'Asia/Shanghai', createdBy: 'admin', createdAt: T0 });
      await store.routing.setDigest({ receiverId: 4, at: '09:15', timeZone: 'Asia/Urumqi', createdBy: 'ops', createdAt: T0 + 1 });
      expect(await store.routing.listDigests()).toEqual([
        { receiverId: 2, at: '07:30', timeZone: 'Asia/Shanghai', createdBy: 'admin', createdAt: T0 },
        { receiverId: 4, at: '09:15', timeZone: 'Asia/Urumqi', createdBy: 'ops', createdAt: T0 + 1 },
      ]);
      expect(await store.routing.deleteDigest(4)).toBe(true);
      expect(await store.routing.deleteDigest(4)).toBe(false);
    });

    it('shows an event lane committed past its mark, and moves the mark only contiguously', async () => {
      const ev = [1, 2, 3].map((s) => transition(s, `flood-1/water_level/t${s}`, 'normal', 'active_unacked', 3, T0 + s));
      await store.telemetry.commitEvents({ gateway: 'gw-1', epoch: 2, firstSeq: 1, lastSeq: 3, events: ev });
      expect(await store.routing.lagging(10)).toEqual([{ gateway: 'gw-1', epoch: 2, mark: 0, committed: 3 }]);
      expect((await store.routing.alarmsInLane('gw-1', 2, 1, 3, 10)).map((a) => [a.gateway, a.epoch, a.transition.seq])).toEqual([['gw-1', 2, 2], ['gw-1', 2, 3]]);
      await store.routing.markQueued('gw-1', 2, 1, 2);
      await store.routing.markQueued('gw-1', 2, 4, 5); // not contiguous: stays at 2
      expect(await store.routing.lagging(10)).toEqual([{ gateway: 'gw-1', epoch: 2, mark: 2, committed: 3 }]);
      await store.routing.markQueued('gw-1', 2, 3, 3);
      expect(await store.routing.lagging(10)).toEqual([]);
      await store.routing.setMark('gw-1', 2, 1); // never lowered
      expect(await store.routing.lagging(10)).toEqual([]);
      expect((await store.routing.alarmsBetween(T0 + 2, T0 + 4, 10)).map((a) => a.transition.seq)).toEqual([2, 3]);
    });
  });
}
