/** The notification outbox's contract: idempotent enqueue, leased claims, backoff, dead letters, requeue, and rows that outlive the process. */
import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../../src/store/store.js';
import { contractSuite, T0, type StoreFactory } from './fixtures.js';

const S = 1000;

export function notificationsContract(name: string, factory: StoreFactory): void {
  contractSuite(`store contract: ${name}: notifications`, factory, (store) => {
    it('enqueues once per key: the same transition for the same receiver is one row', async () => {
      const n = store.notifications;
      expect(await n.enqueue({ key: '1:gw-a:0:7', receiverId: 1, payload: '{"a":1}', at: T0 })).toBe(true);
      expect(await n.enqueue({ key: '1:gw-a:0:7', receiverId: 1, payload: '{"a":2}', at: T0 + S })).toBe(false);
      expect(await n.enqueue({ key: '2:gw-a:0:7', receiverId: 2, payload: '{"a":1}', at: T0 })).toBe(true);
      const rows = await n.list({ limit: 10 });
      expect(rows.map((r) => [r.key, r.receiverId, r.payload, r.status, r.attempts, r.nextAt])).toEqual([
        ['2:gw-a:0:7', 2, '{"a":1}', 'pending', 0, T0],
        ['1:gw-a:0:7', 1, '{"a":1}', 'pending', 0, T0],
      ]);
      expect(rows[1]).toMatchObject({ createdAt: T0, lastError: null, deliveredAt: null, deadAt: null });
    });

    it('claims due rows oldest first under a lease: a claimed row is not claimed again until the lease ends', async () => {
      const n = store.notifications;
      for (const [i, at] of [[1, T0], [2, T0 + 5 * S], [3, T0 + 60 * S]] as const) await n.enqueue({ key: `k${i}`, receiverId: 1, payload: '{}', at });
      const first = await n.claim(T0 + 10 * S, 10, 30 * S);
      expect(first.map((r) => [r.key, r.attempts, r.nextAt])).toEqual([['k1', 1, T0 + 40 * S], ['k2', 1, T0 + 40 * S]]);
      expect(await n.claim(T0 + 20 * S, 10, 30 * S)).toEqual([]); // leased, and k3 not due yet
      expect((await n.claim(T0 + 40 * S, 1, 30 * S)).map((r) => [r.key, r.attempts])).toEqual([['k1', 2]]); // the lease ran out (a process died mid-send)
      expect((await n.claim(T0 + 40 * S, 10, 30 * S)).map((r) => r.key)).toEqual(['k2']);
      // Receivers this process is still sending to are left for later.
      await n.enqueue({ key: 'r2', receiverId: 2, payload: '{}', at: T0 });
      await n.enqueue({ key: 'r3', receiverId: 3, payload: '{}', at: T0 });
      expect((await n.claim(T0 + 100 * S, 10, 30 * S, [1, 2])).map((r) => r.key)).toEqual(['r3']);
      expect((await n.claim(T0 + 100 * S, 10, 30 * S, [1])).map((r) => r.key)).toEqual(['r2']);
    });

    it('claims the rows of one thread one at a time in the order queued: a clear waits for its raise to be delivered or dead', async () => {
      const n = store.notifications;
      await n.enqueue({ key: 'raise', receiverId: 1, payload: '{}', at: T0, thread: '1:gw-a:lamp/leak' });
      await n.enqueue({ key: 'other', receiverId: 1, payload: '{}', at: T0, thread: '1:gw-a:lamp/volt' });
      const [raise, other] = await n.claim(T0, 10, 30 * S);
      expect([raise.key, other.key]).toEqual(['raise', 'other']);
      await n.enqueue({ key: 'clear', receiverId: 1, payload: '{}', at: T0 + S, thread: '1:gw-a:lamp/leak' });
      await n.enqueue({ key: 'digest', receiverId: 1, payload: '{}', at: T0 + S });
      // The raise is claimed (another process may be sending it): the clear waits; rows of no thread do not.
      expect((await n.claim(T0 + S, 10, 30 * S)).map((r) => r.key)).toEqual(['digest']);
      // Refused, due again later than the clear: the clear still waits for it.
      await n.retry(raise.id, 'errcode 45009: api freq out of limit', T0 + 10 * S);
      expect(await n.claim(T0 + 5 * S, 10, 30 * S)).toEqual([]);
      expect((await n.claim(T0 + 10 * S, 10, 30 * S)).map((r) => r.key)).toEqual(['raise']);
      await n.delivered(raise.id, T0 + 11 * S);
      expect((await n.claim(T0 + 11 * S, 10, 30 * S)).map((r) => r.key)).toEqual(['clear']);
      // A dead row holds nothing back.
      await n.enqueue({ key: 'raise2', receiverId: 1, payload: '{}', at: T0, thread: '1:gw-a:lamp/volt2' });
      await n.enqueue({ key: 'clear2', receiverId: 1, payload: '{}', at: T0, thread: '1:gw-a:lamp/volt2' });
      const [r2] = await n.claim(T0 + 12 * S, 10, 30 * S);
      expect(r2.key).toBe('raise2');
      await n.dead(r2.id, 'HTTP 500', T0 + 12 * S);
      expect((await n.claim(T0 + 12 * S, 10, 30 * S)).map((r) => r.key)).toEqual(['clear2']);
    });

    it('retries a failure at the time given, keeps the reason, and marks delivery', async () => {
      const n = store.notifications;
      await n.enqueue({ key: 'k', receiverId: 1, payload: '{}', at: T0 });
      const [c] = await n.claim(T0, 10, 30 * S);
      expect(await n.retry(c.id, 'errcode 310000: sign not match', T0 + 2 * S)).toBe(true);
      expect(await n.claim(T0 + S, 10, 30 * S)).toEqual([]);
      const [again] = await n.claim(T0 + 2 * S, 10, 30 * S);
      expect([again.id, again.attempts, again.lastError]).toEqual([c.id, 2, 'errcode 310000: sign not match']);
      expect(await n.delivered(c.id, T0 + 3 * S)).toBe(true);
      expect(await n.get(c.id)).toMatchObject({ status: 'delivered', deliveredAt: T0 + 3 * S, attempts: 2 });
      expect(await n.delivered(c.id, T0 + 4 * S)).toBe(false); // once
      expect(await n.retry(c.id, 'late', T0 + 9 * S)).toBe(false); // a delivered row never goes back
      expect(await n.claim(T0 + 99 * S, 10, 30 * S)).toEqual([]);
    });

    it('dead-letters with the reason, lists by status, and requeues a dead row from zero attempts', async () => {
      const n = store.notifications;
      await n.enqueue({ key: 'dead', receiverId: 3, payload: '{}', at: T0 });
      await n.enqueue({ key: 'ok', receiverId: 4, payload: '{}', at: T0 });
      const [d, o] = await n.claim(T0, 10, 30 * S);
      expect(await n.dead(d.id, 'HTTP 500', T0 + S)).toBe(true);
      expect(await n.dead(d.id, 'again', T0 + 2 * S)).toBe(false);
      await n.delivered(o.id, T0 + S);
      expect((await n.list({ status: 'dead', limit: 10 })).map((r) => [r.key, r.lastError, r.deadAt])).toEqual([['dead', 'HTTP 500', T0 + S]]);
      expect((await n.list({ status: 'delivered', limit: 10 })).map((r) => r.key)).toEqual(['ok']);
      expect((await n.list({ status: 'pending', limit: 10 })).map((r) => r.key)).toEqual([]);
      expect((await n.list({ receiverId: 4, limit: 10 })).map((r) => r.key)).toEqual(['ok']);
      expect(await n.list({ limit: 1 })).toHaveLength(1);
      expect(await n.claim(T0 + 99 * S, 10, 30 * S)).toEqual([]); // dead is not due

      expect(await n.requeue(o.id, T0 + 5 * S)).toBeUndefined(); // only a dead row
      const back = await n.requeue(d.id, T0 + 5 * S);
      expect(back).toMatchObject({ id: d.id, status: 'pending', attempts: 0, nextAt: T0 + 5 * S, deadAt: null, lastError: 'HTTP 500' });
      expect((await n.claim(T0 + 5 * S, 10, 30 * S)).map((r) => [r.id, r.attempts])).toEqual([[d.id, 1]]);
      expect(await n.requeue(999_999, T0)).toBeUndefined();

      // A receiver back after an outage: its dead rows at once, no one else's, nothing not dead.
      for (const k of ['a', 'b', 'c']) await n.enqueue({ key: `out-${k}`, receiverId: 5, payload: '{}', at: T0 });
      await n.enqueue({ key: 'other-dead', receiverId: 6, payload: '{}', at: T0 });
      const rows = await n.claim(T0 + 6 * S, 10, 30 * S);
      for (const r of rows.filter((x) => x.key !== 'out-c')) await n.dead(r.id, 'HTTP 502', T0 + 7 * S);
      expect(await n.requeueReceiver(5, T0 + 8 * S)).toBe(2);
      expect((await n.list({ receiverId: 5, limit: 10 })).map((r) => [r.key, r.status, r.attempts])).toEqual([
        ['out-c', 'pending', 1], ['out-b', 'pending', 0], ['out-a', 'pending', 0],
      ]);
      expect((await n.list({ receiverId: 6, limit: 10 })).map((r) => r.status)).toEqual(['dead']);
      expect(await n.requeueReceiver(5, T0 + 9 * S)).toBe(0);
    });
  });

  describe(`store contract: ${name}: notifications outlive the process`, () => {
    it('keeps pending rows and their leases through a restart, and two stores on one database never claim one row twice', async () => {
      const { store, cleanup, reopen } = await factory();
      const other = await reopen();
      try {
        for (let i = 0; i < 40; i++) await store.notifications.enqueue({ key: `k${i}`, receiverId: 1, payload: `{"i":${i}}`, at: T0 });
        await store.notifications.enqueue({ key: 'late', receiverId: 1, payload: '{}', at: T0 + 60 * S });
        // Two processes claim at once, in small bites: every due row is taken by exactly one.
        const taken: string[] = [];
        await Promise.all([store, other].map(async (s) => {
          for (;;) {
            const rows = await s.notifications.claim(T0, 3, 30 * S);
            if (!rows.length) return;
            taken.push(...rows.map((r) => r.key));
          }
        }));
        expect(taken.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `k${i}`).sort());
        await store.close();
        // A new process finds what was queued: the not-yet-due row, and the leased ones once their lease ends.
        expect((await other.notifications.claim(T0 + 60 * S, 100, 30 * S)).map((r) => [r.key, r.attempts]).sort()).toEqual(
          [...Array.from({ length: 40 }, (_, i) => [`k${i}`, 2]), ['late', 1]].sort(),
        );
      } finally {
        await other.close();
        await cleanup();
      }
    });

    it('backs off exponentially, capped, with jitter both ways', () => {
      const o = { baseMs: 1000, maxMs: 60_000, jitter: 0.2 };
      expect([1, 2, 3, 4, 5, 10].map((a) => backoffMs(a, o, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 16_000, 60_000]);
      expect(backoffMs(3, o, () => 0)).toBe(3200);
      expect(backoffMs(3, o, () => 1)).toBe(4800);
      expect(backoffMs(10, o, () => 1)).toBe(72_000); // the cap spreads too, so a fleet does not come back in step
    });
  });
}
