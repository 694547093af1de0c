/** The alarm store's contract: state derived from transitions, history, filters, comments. */
import { expect, it } from 'vitest';
import type { AlarmTransition } from '@lifeline/shared';
import { contractSuite, T0, transition, type StoreFactory } from './fixtures.js';

export function alarmsContract(name: string, factory: StoreFactory): void {
  contractSuite(`store contract: ${name}: alarms`, factory, (store) => {
    it('derives alarm state from transitions, newest seq wins, with full history and filters', async () => {
      await store.registry.saveGatewayStatus({
        gateway: 'gw-a', online: true, ts: T0,
        devices: [
          { id: 'flood-1', profile: 'flood-gauge', kind: 'flood', location: { lon: 114.05, lat: 22.54, district: 'Futian' }, points: [{ name: 'water_level', unit: 'm', label: '河道水位' }] },
          { id: 'gas-1', profile: 'gas-detector', kind: 'gas', location: { lon: 114.1, lat: 22.55, district: 'Luohu' } },
        ],
      });
      const id1 = 'flood-1/water_level/threshold';
      await store.telemetry.commitEvents({ gateway: 'gw-a', firstSeq: 1, lastSeq: 2, events: [transition(1, id1, 'normal', 'active_unacked', 2, T0 + 1000), transition(2, id1, 'active_unacked', 'active_unacked', 4, T0 + 2000)] });
      // seq 4 arrives before seq 3: the state must end at seq 4's.
      await store.telemetry.commitEvents({ gateway: 'gw-a', firstSeq: 4, lastSeq: 4, events: [{ ...transition(4, id1, 'active_acked', 'cleared_unacked', 4, T0 + 4000), user: 'op' }] });
      const r3 = await store.telemetry.commitEvents({ gateway: 'gw-a', firstSeq: 3, lastSeq: 3, events: [{ ...transition(3, id1, 'active_unacked', 'active_acked', 4, T0 + 3000), user: 'op' }] });
      expect(r3.committedUpTo).toBe(4);
      await store.telemetry.commitEvents({ gateway: 'gw-a', firstSeq: 5, lastSeq: 6, events: [
        transition(5, 'gas-1/ch4/threshold', 'normal', 'active_unacked', 1, T0 + 5000, 'gas-1'),
        { kind: 'event', seq: 6, ts: T0 + 6000, type: 'device_offline', device: 'gas-1', message: 'gas-1 stopped answering' },
      ] });
      const all = await store.alarms.listAlarms({ limit: 10 });
      expect(all).toHaveLength(2);
      const flood = all.find((a) => a.alarmId === id1)!;
      expect(flood).toMatchObject({ gateway: 'gw-a', device: 'flood-1', state: 'cleared_unacked', level: 4, since: T0 + 4000, raisedAt: T0 + 1000, kind: 'flood', district: 'Futian', pointLabel: '河道水位' });
      // The cause it was raised with outlives the acknowledgement and the clearing that came after it (seq 1's, not seq 4's).
      expect([flood.cause, flood.raisedCause]).toEqual(['water_level cleared_unacked', 'water_level active_unacked']);
      // A point without a label (gas-1 reports no points) has none.
      expect(all.find((a) => a.device === 'gas-1')!.pointLabel).toBeNull();
      expect((await store.alarms.alarmHistory(flood.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(await store.alarms.getAlarm(flood.id)).toEqual(flood);
      expect(await store.alarms.getAlarm(999_999)).toBeUndefined();
      expect((await store.alarms.listAlarms({ limit: 10, state: ['active_unacked'] })).map((a) => a.device)).toEqual(['gas-1']);
      expect((await store.alarms.listAlarms({ limit: 10, district: ['Futian'] })).map((a) => a.device)).toEqual(['flood-1']);
      expect((await store.alarms.listAlarms({ limit: 10, kind: ['gas', 'bridge'] })).map((a) => a.device)).toEqual(['gas-1']);
      expect((await store.alarms.listAlarms({ limit: 10, minLevel: 3 })).map((a) => a.device)).toEqual(['flood-1']);
      expect((await store.alarms.listAlarms({ limit: 10, level: [1] })).map((a) => a.device)).toEqual(['gas-1']);
      expect(await store.alarms.listAlarms({ limit: 10, state: ['active_acked'], district: ['Futian'] })).toEqual([]);
      // Newest first.
      expect((await store.alarms.listAlarms({ limit: 10 })).map((a) => a.device)).toEqual(['gas-1', 'flood-1']);
      const events = await store.telemetry.listEvents({ gateway: 'gw-a', limit: 1 });
      expect(events[0]).toMatchObject({ kind: 'event', type: 'device_offline', gateway: 'gw-a' });
      // A duplicate event batch changes nothing.
      expect((await store.telemetry.commitEvents({ gateway: 'gw-a', firstSeq: 1, lastSeq: 2, events: [] })).duplicate).toBe(true);
    });

    it('keeps the cause that took the alarm to its level: an escalation\'s, not the raise\'s, through ack, lowering and clearing', async () => {
      const id = 'flood-1/ponding_depth/threshold';
      const step = (seq: number, from: AlarmTransition['from'], to: AlarmTransition['to'], level: number, cause: string) => ({ ...transition(seq, id, from, to, level, T0 + seq * 1000), cause });
      await store.telemetry.commitEvents({ gateway: 'gw-e', firstSeq: 1, lastSeq: 3, events: [
        step(1, 'normal', 'active_unacked', 1, 'ponding_depth 0.12 m ≥ blue (IV) high limit 0.1 m'),
        step(2, 'active_unacked', 'active_unacked', 4, 'ponding_depth 0.3 m ≥ red (I) high limit 0.3 m'),
        { ...step(3, 'active_unacked', 'active_acked', 4, 'acknowledged by op'), user: 'op' },
      ] });
      const [red] = await store.alarms.listAlarms({ limit: 10, gateway: 'gw-e' });
      // Red, because of the red limit: its raising time stays the blue raise's.
      expect(red).toMatchObject({ level: 4, state: 'active_acked', cause: 'acknowledged by op', raisedAt: T0 + 1000, raisedCause: 'ponding_depth 0.3 m ≥ red (I) high limit 0.3 m' });
      // Lowered while active (orange) and cleared, it still says why it reached red.
      await store.telemetry.commitEvents({ gateway: 'gw-e', firstSeq: 4, lastSeq: 5, events: [
        step(4, 'active_acked', 'active_acked', 3, 'ponding_depth 0.26 m ≥ orange (II) high limit 0.25 m'),
        step(5, 'active_acked', 'normal', 0, 'ponding_depth 0.05 m back below the blue (IV) limit'),
      ] });
      expect((await store.alarms.listAlarms({ limit: 10, gateway: 'gw-e' }))[0]).toMatchObject({ level: 0, state: 'normal', raisedAt: T0 + 1000, raisedCause: 'ponding_depth 0.3 m ≥ red (I) high limit 0.3 m' });
      // Raised again (from normal at blue), the new episode's cause.
      await store.telemetry.commitEvents({ gateway: 'gw-e', firstSeq: 6, lastSeq: 6, events: [step(6, 'normal', 'active_unacked', 1, 'ponding_depth 0.11 m ≥ blue (IV) high limit 0.1 m')] });
      expect((await store.alarms.listAlarms({ limit: 10, gateway: 'gw-e' }))[0]).toMatchObject({ level: 1, raisedAt: T0 + 6000, raisedCause: 'ponding_depth 0.11 m ≥ blue (IV) high limit 0.1 m' });
    });

    it('keeps comments on an alarm', async () => {
      const c = await store.alarms.addComment({ alarm: 7, ts: T0, user: 'ops-1', text: 'crew dispatched' });
      await store.alarms.addComment({ alarm: 7, ts: T0 + 1, user: 'ops-2', text: 'barrier closed' });
      expect((await store.alarms.listComments(7)).map((x) => [x.user, x.text])).toEqual([['ops-1', 'crew dispatched'], ['ops-2', 'barrier closed']]);
      expect(c.id).toBeGreaterThan(0);
    });
  });
}
