/**
 * The store contract: one suite, run against SQLite (sqlite.test.ts) and
 * PostgreSQL (postgres.test.ts), after MQTT.js's abstract_store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RejectReason, isLifelineError, type AlarmTransition, type Reading } from '@lifeline/shared';
import type { Store } from '../../src/store/store.js';
import { deviceKey } from '../../src/store/store.js';

/** Makes a fresh, migrated store; `cleanup` closes and removes it. */
export type StoreFactory = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0); // a fixed past day

function series(device: string, point: string, from: number, n: number, everyMs: number, f: (i: number) => number): Reading[] {
  return Array.from({ length: n }, (_, i) => ({ device, point, ts: from + i * everyMs, value: f(i) }));
}

function transition(seq: number, alarmId: string, from: AlarmTransition['from'], to: AlarmTransition['to'], level: number, ts: number, device = 'flood-1'): AlarmTransition {
  return { kind: 'alarm', seq, alarmId, device, point: 'water_level', ts, from, to, level, detector: 'threshold', cause: `water_level ${to}`, value: 3.2 + seq / 100 };
}

/** Naive downsampling in JS, the reference the stores must match. */
function naive(rows: Reading[], from: number, to: number, step: number) {
  const m = new Map<number, number[]>();
  for (const r of rows) {
    if (r.ts < from || r.ts > to) continue;
    const b = Math.floor((r.ts - from) / step);
    if (!m.has(b)) m.set(b, []);
    if (Number.isFinite(r.value)) m.get(b)!.push(r.value);
  }
  return [...m.entries()]
    .filter(([, v]) => v.length > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([b, v]) => ({ ts: from + b * step, min: v.length ? Math.min(...v) : null, max: v.length ? Math.max(...v) : null, count: v.length, mean: v.length ? v.reduce((s, x) => s + x, 0) / v.length : null }));
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('commits a telemetry range once, acks the contiguous prefix, refuses overlaps', async () => {
      const batch = (first: number, last: number) => ({
        gateway: 'gw-1', firstSeq: first, lastSeq: last,
        readings: series('flood-1', 'water_level', T0 + first * 1000, last - first + 1, 1000, (i) => first + i),
      });
      expect(await store.telemetry.commitTelemetry(batch(1, 10))).toEqual({ duplicate: false, committedUpTo: 10 });
      expect(await store.telemetry.commitTelemetry(batch(1, 10))).toEqual({ duplicate: true, committedUpTo: 10 });
      // A gap: 21..30 arrives before 11..20; the ack stays at 10 until the hole is filled.
      expect(await store.telemetry.commitTelemetry(batch(21, 30))).toEqual({ duplicate: false, committedUpTo: 10 });
      expect(await store.telemetry.commitTelemetry(batch(21, 30))).toEqual({ duplicate: true, committedUpTo: 10 });
      expect(await store.telemetry.commitTelemetry(batch(11, 20))).toEqual({ duplicate: false, committedUpTo: 30 });
      // Inside the prefix: a duplicate, whatever its exact bounds.
      expect(await store.telemetry.commitTelemetry(batch(5, 8))).toEqual({ duplicate: true, committedUpTo: 30 });
      // Overlapping an early (not yet contiguous) batch: refused with SeqConflict.
      await store.telemetry.commitTelemetry(batch(41, 50));
      const err = await store.telemetry.commitTelemetry(batch(45, 60)).catch((e: unknown) => e);
      expect(isLifelineError(err, 'PAYLOAD_INVALID')).toBe(true);
      expect((err as { details: { rejectReason: number } }).details.rejectReason).toBe(RejectReason.SeqConflict);
      // The refused batch stored nothing; everything else once.
      const rows = await store.telemetry.readings({ gateway: 'gw-1', device: 'flood-1', point: 'water_level', from: 0, to: T0 + 1e9, limit: 1000 });
      expect(rows.map((r) => r.value)).toEqual([...Array.from({ length: 30 }, (_, i) => i + 1), ...Array.from({ length: 10 }, (_, i) => 41 + i)]);
      // Lanes and gateways are independent.
      expect((await store.telemetry.commitTelemetry({ ...batch(1, 10), gateway: 'gw-2' })).duplicate).toBe(false);
    });

    it('lets only one of two concurrent commits of the same range store it', async () => {
      const b = { gateway: 'gw-c', firstSeq: 1, lastSeq: 100, readings: series('c-1', 'p', T0, 100, 1000, (i) => i) };
      const results = await Promise.all([store.telemetry.commitTelemetry(b), store.telemetry.commitTelemetry(b), store.telemetry.commitTelemetry(b)]);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(results.every((r) => r.committedUpTo === 100)).toBe(true);
      expect(await store.telemetry.readings({ gateway: 'gw-c', device: 'c-1', point: 'p', from: 0, to: T0 + 1e9, limit: 1000 })).toHaveLength(100);
    });

    it('returns raw readings time-ordered, NaN for readings without a value, within the limit', async () => {
      const rs: Reading[] = [
        { device: 'd', point: 'p', ts: T0 + 3000, value: 3 },
        { device: 'd', point: 'p', ts: T0 + 1000, value: 1 },
        { device: 'd', point: 'p', ts: T0 + 2000, value: NaN, quality: 2 },
        { device: 'd', point: 'q', ts: T0 + 1500, value: 9 },
      ];
      await store.telemetry.commitTelemetry({ gateway: 'gw-1', firstSeq: 1, lastSeq: 4, readings: rs });
      const rows = await store.telemetry.readings({ gateway: 'gw-1', device: 'd', point: 'p', from: T0, to: T0 + 10_000, limit: 10 });
      expect(rows.map((r) => r.ts)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
      expect(rows[1].value).toBeNaN();
      expect(await store.telemetry.readings({ gateway: 'gw-1', device: 'd', point: 'p', from: T0, to: T0 + 10_000, limit: 2 })).toHaveLength(2);
      expect(await store.telemetry.readings({ gateway: 'gw-1', device: 'd', point: 'p', from: T0 + 1001, to: T0 + 2999, limit: 10 })).toHaveLength(1);
      const devices = await store.registry.listDevices();
      expect(devices.find((d) => d.id === 'd')).toMatchObject({ gateway: 'gw-1', lastReadingTs: T0 + 3000 });
    });

    it('downsamples exactly: min/max/mean/count per bucket, small and large steps', async () => {
      // Six hours at 1 s with a gap and some bad readings, committed in uneven batches.
      const start = T0 + 1234; // not minute-aligned
      const all = series('dev-ds', 'level', start, 6 * 3600, 1000, (i) => Math.sin(i / 500) * 10 + (i % 7));
      for (let i = 1000; i < 1300; i++) all[i].value = NaN;
      const kept = all.filter((_, i) => i < 5000 || i > 9000);
      let seq = 1;
      for (let i = 0; i < kept.length; i += 3333) {
        const chunk = kept.slice(i, i + 3333);
        await store.telemetry.commitTelemetry({ gateway: 'gw-ds', firstSeq: seq, lastSeq: seq + chunk.length - 1, readings: chunk });
        seq += chunk.length;
      }
      const from = start - 17_000;
      const to = start + 6 * 3600_000 - 5_000;
      for (const step of [7_000, 60_000, 600_000, 1_234_567, 3_600_000]) {
        const got = await store.telemetry.downsample({ gateway: 'gw-ds', device: 'dev-ds', point: 'level', from, to, step });
        const want = naive(kept, from, to, step);
        expect(got.map((b) => [b.ts, b.count, b.min, b.max])).toEqual(want.map((b) => [b.ts, b.count, b.min, b.max]));
        got.forEach((b, i) => expect(b.mean).toBeCloseTo(want[i].mean!, 9));
      }
      // A window starting mid-minute and mid-bucket.
      const got = await store.telemetry.downsample({ gateway: 'gw-ds', device: 'dev-ds', point: 'level', from: start + 90_500, to: start + 4 * 3600_000 + 30_250, step: 900_001 });
      expect(got.map((b) => b.count)).toEqual(naive(kept, start + 90_500, start + 4 * 3600_000 + 30_250, 900_001).map((b) => b.count));
      expect(await store.telemetry.downsample({ gateway: 'gw-ds', device: 'nope', point: 'level', from, to, step: 60_000 })).toEqual([]);
    });

    it('derives alarm state from transitions, newest seq wins, with full history and filters', async () => {
      await store.registry.saveGatewayStatus({
        gateway: 'gw-a', online: true, ts: T0,
        devices: [
          { id: 'flood-1', profile: 'flood-gauge', kind: 'flood', location: { lon: 114.05, lat: 22.54, district: 'Futian' } },
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
      expect(flood).toMatchObject({ gateway: 'gw-a', device: 'flood-1', state: 'cleared_unacked', level: 4, since: T0 + 4000, raisedAt: T0 + 1000, kind: 'flood', district: 'Futian' });
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

    it('keeps comments, commands with answers, and configs', async () => {
      const c = await store.alarms.addComment({ alarm: 7, ts: T0, user: 'ops-1', text: 'crew dispatched' });
      await store.alarms.addComment({ alarm: 7, ts: T0 + 1, user: 'ops-2', text: 'barrier closed' });
      expect((await store.alarms.listComments(7)).map((x) => [x.user, x.text])).toEqual([['ops-1', 'crew dispatched'], ['ops-2', 'barrier closed']]);
      expect(c.id).toBeGreaterThan(0);
      const cmd = await store.commands.addCommand({ gateway: 'gw-1', type: 'alarm_ack', alarm: 7, body: { alarmId: 'x' }, requestedBy: 'ops-1', requestedAt: T0 });
      expect(cmd.status).toBe('pending');
      expect(await store.commands.answerCommand(cmd.id, true, { message: 'acknowledged' }, T0 + 5)).toBe(true);
      expect(await store.commands.answerCommand(cmd.id, false, { message: 'again' }, T0 + 6)).toBe(false);
      const [listed] = await store.commands.listCommands({ alarm: 7, limit: 5 });
      expect(listed).toMatchObject({ id: cmd.id, status: 'done', answer: { message: 'acknowledged' }, answeredAt: T0 + 5, body: { alarmId: 'x' } });
      expect(await store.commands.listCommands({ gateway: 'other', limit: 5 })).toEqual([]);

      expect(await store.commands.getConfig('gw-1')).toMatchObject({ running: null, desired: null, answer: null });
      await store.commands.setRunningConfig('gw-1', { gateway: { id: 'gw-1' } }, T0);
      await store.commands.setDesiredConfig('gw-1', { gateway: { id: 'gw-1', name: 'new' } }, 'tech', cmd.id, T0 + 1);
      await store.commands.setConfigAnswer('gw-1', { ok: false, errors: ['x'] }, T0 + 2);
      expect(await store.commands.getConfig('gw-1')).toEqual({
        gateway: 'gw-1', running: { gateway: { id: 'gw-1' } }, runningTs: T0, desired: { gateway: { id: 'gw-1', name: 'new' } }, desiredTs: T0 + 1,
        desiredBy: 'tech', desiredCommand: cmd.id, answer: { ok: false, errors: ['x'] }, answerTs: T0 + 2,
      });
    });

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

    it('stores tokens by hash, enrolment tokens for one use, webhooks', async () => {
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

      await store.access.addEnrolment({ hash: 'e1', note: 'bridge box', createdBy: 'tech', createdAt: T0, expiresAt: T0 + 1000 });
      await store.access.addEnrolment({ hash: 'e2', note: null, createdBy: 'tech', createdAt: T0, expiresAt: T0 + 1000 });
      expect(await store.access.consumeEnrolment('e1', 'gw-9', T0 + 1)).toBe(true);
      expect(await store.access.consumeEnrolment('e1', 'gw-10', T0 + 2)).toBe(false);
      expect(await store.access.consumeEnrolment('e2', 'gw-10', T0 + 1000)).toBe(false); // expired
      expect(await store.access.consumeEnrolment('nope', 'gw-10', T0)).toBe(false);

      const w = await store.webhooks.addWebhook({ url: 'http://127.0.0.1:9/x', secret: 's3', minLevel: 2, createdBy: 'admin', createdAt: T0 });
      expect(await store.webhooks.listWebhooks()).toEqual([w]);
      expect(await store.webhooks.deleteWebhook(w.id)).toBe(true);
      expect(await store.webhooks.deleteWebhook(w.id)).toBe(false);
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

    it('counts minutes with data per device, and drops readings past retention', async () => {
      const now = Date.now();
      const minuteStart = Math.floor(now / 60_000) * 60_000;
      // 10 minutes with data in the last hour, one old reading.
      const recent = Array.from({ length: 10 }, (_, i) => ({ device: 'm-1', point: 'p', ts: minuteStart - i * 120_000, value: i }));
      await store.telemetry.commitTelemetry({ gateway: 'gw-m', firstSeq: 1, lastSeq: 11, readings: [...recent, { device: 'm-1', point: 'p', ts: now - 3 * 86_400_000, value: 1 }] });
      expect((await store.telemetry.activeMinutes(now - 3600_000)).get(deviceKey('gw-m', 'm-1'))).toBe(10);
      await store.telemetry.applyRetention(now - 86_400_000);
      const left = await store.telemetry.readings({ gateway: 'gw-m', device: 'm-1', point: 'p', from: 0, to: now + 1, limit: 100 });
      expect(left).toHaveLength(10);
      expect((await store.telemetry.activeMinutes(0)).get(deviceKey('gw-m', 'm-1'))).toBe(10);
    });

    it('migrates idempotently', async () => {
      await store.migrate();
      await store.telemetry.commitTelemetry({ gateway: 'g', firstSeq: 1, lastSeq: 1, readings: [{ device: 'x', point: 'y', ts: T0, value: 1 }] });
      await store.migrate();
      expect(await store.telemetry.readings({ gateway: 'g', device: 'x', point: 'y', from: 0, to: T0, limit: 5 })).toHaveLength(1);
    });
  });
}
