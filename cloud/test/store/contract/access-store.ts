/** The access store's contract: API token hashes, one-time enrolment tokens, MQTT credentials. */
import { expect, it } from 'vitest';
import { contractSuite, T0, type StoreFactory } from './fixtures.js';

export function accessContract(name: string, factory: StoreFactory): void {
  contractSuite(`store contract: ${name}: access`, factory, (store) => {
    it('stores tokens by hash', async () => {
      const t = await store.access.addToken({ name: 'grafana', role: 'viewer', hash: 'h1', createdBy: 'admin', createdAt: T0 });
      expect(await store.access.findToken('h1')).toEqual(t);
      expect(await store.access.findToken('h2')).toBeUndefined();
      await store.access.putToken({ name: 'admin', role: 'admin', hash: 'boot-1', createdBy: 'bootstrap', createdAt: T0 });
      await store.access.putToken({ name: 'admin', role: 'admin', hash: 'boot-2', createdBy: 'bootstrap', createdAt: T0 + 1 });
      expect(await store.access.findToken('boot-1')).toBeUndefined();
      expect(await store.access.findToken('boot-2')).toMatchObject({ role: 'admin' });
      expect(await store.access.revokeToken(t.id, T0 + 5)).toBe(true);
      expect(await store.access.findToken('h1')).toBeUndefined();
      expect((await store.access.listTokens()).map((x) => [x.name, x.revokedAt])).toEqual([['grafana', T0 + 5], ['admin', null]]);
    });

    it('stores enrolment tokens for one use', async () => {
      await store.access.addEnrolment({ hash: 'e1', note: 'bridge box', createdBy: 'tech', createdAt: T0, expiresAt: T0 + 1000 });
      await store.access.addEnrolment({ hash: 'e2', note: null, createdBy: 'tech', createdAt: T0, expiresAt: T0 + 1000 });
      expect(await store.access.consumeEnrolment('e1', 'gw-9', T0 + 1)).toBe(true);
      expect(await store.access.consumeEnrolment('e1', 'gw-10', T0 + 2)).toBe(false);
      expect(await store.access.consumeEnrolment('e2', 'gw-10', T0 + 1000)).toBe(false); // expired
      expect(await store.access.consumeEnrolment('nope', 'gw-10', T0)).toBe(false);
    });

    it('spends an enrolment token only on a new gateway, or on the live gateway it was issued for, keeping it when refused', async () => {
      await store.registry.updateGateway('gw-old', { name: 'old box' });
      await store.access.addEnrolment({ hash: 'new-1', note: null, createdBy: 'tech', createdAt: T0, expiresAt: T0 + 1000 });
      await store.access.addEnrolment({ hash: 'rep-1', note: 'swapped box', createdBy: 'tech', createdAt: T0, expiresAt: T0 + 1000, forGateway: 'gw-old' });
      expect(await store.access.findEnrolment('new-1', T0 + 1)).toEqual({ forGateway: null });
      expect(await store.access.findEnrolment('rep-1', T0 + 1)).toEqual({ forGateway: 'gw-old' });
      expect(await store.access.findEnrolment('rep-1', T0 + 1000)).toBeUndefined(); // expired
      expect(await store.access.findEnrolment('nope', T0)).toBeUndefined();

      // A token without a target cannot take an existing gateway; refused, it stays unspent.
      expect(await store.access.consumeEnrolment('new-1', 'gw-old', T0 + 1)).toBe(false);
      expect(await store.access.findEnrolment('new-1', T0 + 2)).toEqual({ forGateway: null });
      expect(await store.access.consumeEnrolment('new-1', 'gw-fresh', T0 + 2)).toBe(true);
      expect(await store.registry.getGateway('gw-fresh')).toMatchObject({ id: 'gw-fresh', name: null, revokedAt: null, firstSeen: T0 + 2 });
      expect(await store.access.findEnrolment('new-1', T0 + 3)).toBeUndefined();

      // A token for gw-old enrols gw-old only, and not while gw-old is revoked.
      expect(await store.access.consumeEnrolment('rep-1', 'gw-other', T0 + 3)).toBe(false);
      expect(await store.registry.getGateway('gw-other')).toBeUndefined();
      await store.registry.revokeGateway('gw-old', T0 + 4);
      expect(await store.access.consumeEnrolment('rep-1', 'gw-old', T0 + 5)).toBe(false);
      await store.registry.updateGateway('gw-old', { revokedAt: null }); // an admin reinstates it
      expect(await store.access.consumeEnrolment('rep-1', 'gw-old', T0 + 6)).toBe(true);
      expect(await store.access.consumeEnrolment('rep-1', 'gw-old', T0 + 7)).toBe(false);
      expect(await store.registry.getGateway('gw-old')).toMatchObject({ name: 'old box', revokedAt: null });

      // Two new-gateway tokens racing for one id: exactly one wins, the other keeps its token.
      await store.access.addEnrolment({ hash: 'race-a', note: null, createdBy: 'tech', createdAt: T0, expiresAt: T0 + 1000 });
      await store.access.addEnrolment({ hash: 'race-b', note: null, createdBy: 'tech', createdAt: T0, expiresAt: T0 + 1000 });
      const won = await Promise.all([store.access.consumeEnrolment('race-a', 'gw-race', T0 + 8), store.access.consumeEnrolment('race-b', 'gw-race', T0 + 8)]);
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await store.access.findEnrolment(won[0] ? 'race-b' : 'race-a', T0 + 9)).toEqual({ forGateway: null });
    });
  });
}
