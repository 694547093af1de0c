/**
 * Alarm routing rules through the API: validation with every error listed,
 * roles, routing by district, grid unit, kind and source, quiet hours (held
 * to their end), de-duplication windows, a receiver a rule names kept from
 * deletion, and the catch-up that queues transitions committed by a process
 * killed before it queued them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmTransition } from '@lifeline/shared';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { localClock } from '../../src/notify/rules.js';
import { CLOUD_EPOCH, type NotificationRecord } from '../../src/store/store.js';
import { testCloud, type TestCloud } from './helpers.js';
import { tempDir } from '../../../test/helpers.js';

let seq = 0;
function raise(device: string, p: Partial<AlarmTransition> = {}): AlarmTransition {
  return {
    kind: 'alarm', seq: ++seq, alarmId: `${device}/p/threshold`, device, point: 'p', ts: Date.now(), from: 'normal', to: 'active_unacked',
    level: 3, detector: 'threshold', cause: 'p above orange', value: 1, ...p,
  };
}

describe('alarm routing rules', () => {
  let t: TestCloud;
  const tmp = tempDir('lifeline-routing-');
  const hook = async (name: string, minLevel = 0) =>
    (await t.call('POST', '/api/v1/webhooks', { body: { url: `http://127.0.0.1:9/${name}`, secret: 'a-long-enough-secret-0123', minLevel } })).json.id as number;
  /** Outbox rows of `epoch`, as receiver id → seqs. */
  const rowsOf = async (epoch: number) => {
    const rows = (await t.cloud.store.notifications.list({ limit: 1000 })).filter((r) => r.key.split(':')[2] === String(epoch));
    return rows;
  };
  const seqsFor = (rows: NotificationRecord[], receiver: number) => rows.filter((r) => r.receiverId === receiver).map((r) => Number(r.key.split(':')[3])).sort((a, b) => a - b);
  const commit = async (gateway: string, epoch: number, events: AlarmTransition[]) => {
    await t.cloud.store.telemetry.commitEvents({ gateway, epoch, firstSeq: events[0].seq, lastSeq: events.at(-1)!.seq, events });
    await t.cloud.webhooks.settled();
  };

  beforeAll(async () => {
    // Receivers on a closed port: rows stay pending (retrying), which is what these tests read.
    t = await testCloud({ dbPath: join(tmp.dir, 'cloud.db'), webhooks: { baseDelayMs: 60_000, pollMs: 60_000, timeoutMs: 200 }, alarms: { watch: false } });
    await t.cloud.store.registry.saveGatewayStatus({
      gateway: 'gw-rc', online: true, ts: Date.now(),
      devices: [
        { id: 'lamp-gh-03', profile: 'lamp', kind: 'lamp_post', location: { lon: 116.58, lat: 35.41, district: '任城区', gridUnit: 'RC-GH-01' } },
        { id: 'lamp-gh-04', profile: 'lamp', kind: 'lamp_post', location: { lon: 116.58, lat: 35.41, district: '任城区', gridUnit: 'RC-GH-02' } },
        { id: 'bridge-ry-01', profile: 'bridge', kind: 'bridge', location: { lon: 116.6, lat: 35.4, district: '任城区', gridUnit: 'RC-RY-01' } },
        { id: 'gas-yz-01', profile: 'gas', kind: 'gas', location: { lon: 116.7, lat: 35.5, district: '兖州区', gridUnit: 'YZ-01' } },
      ],
    });
    await t.cloud.store.registry.updateGateway('gw-rc', { location: { lon: 116.58, lat: 35.41, district: '任城区', gridUnit: 'RC-GH-01' }, kind: 'lamp_post' });
  });
  afterAll(async () => {
    await t.close();
    tmp.cleanup();
  });

  it('lists every error of a rule with its field and value, checks receivers exist, and lets operators read but only admins write', async () => {
    const r = await t.call('POST', '/api/v1/rules', {
      body: {
        name: '', match: { kinds: ['lamp', 'bridge'], minLevel: 7, sources: ['gateway'] }, receivers: [],
        quietHours: { from: '22:00', to: '7:00' }, dedupMinutes: -1, escalation: { steps: [{ afterMinutes: 0, receivers: [1] }] }, colour: 'red',
      },
    });
    expect(r.status).toBe(400);
    const paths = (r.json.details as { path: string; message: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(['colour', 'dedupMinutes', 'escalation.steps[0].afterMinutes', 'match.kinds[0]', 'match.minLevel', 'match.sources[0]', 'name', 'quietHours.to', 'receivers'].sort());
    expect(r.json.message).toMatch(/^rule has 9 error\(s\): /);
    expect(r.json.message).toContain('match.kinds[0]: must be one of lamp_post, bridge, gas, water_supply, drainage, heat, utility_tunnel, flood, got "lamp"');
    expect(r.json.message).toContain('quietHours.to: ');
    expect(r.json.message).toContain('got "7:00"');

    const a = await hook('a');
    const missing = await t.call('POST', '/api/v1/rules', {
      body: { name: 'x', receivers: [a, 9999, a], quietHours: { from: '22:00', to: '22:00', timeZone: 'Asia/Jining' }, escalation: { steps: [{ afterMinutes: 10, receivers: [8888] }, { afterMinutes: 5, receivers: [a] }] } },
    });
    expect(missing.status).toBe(400);
    expect((missing.json.details as { path: string; message: string }[]).map((d) => `${d.path}: ${d.message}`)).toEqual([
      'receivers[1]: no receiver 9999 (GET /api/v1/webhooks lists them), got 9999',
      'receivers: lists a receiver twice, got [' + [a, 9999, a].join(',') + ']',
      'quietHours.to: must differ from quietHours.from (an empty or endless quiet), got "22:00"',
      'quietHours.timeZone: is not a time zone (an IANA name, e.g. Asia/Shanghai), got "Asia/Jining"',
      'escalation.steps[0].receivers[0]: no receiver 8888 (GET /api/v1/webhooks lists them), got 8888',
      'escalation.steps[1].afterMinutes: must be after the step before (10), got 5',
    ]);

    const ok = await t.call('POST', '/api/v1/rules', { body: { name: 'all to a', receivers: [a], quietHours: { from: '22:00', to: '07:00' } } });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ name: 'all to a', enabled: true, match: {}, receivers: [a], dedupMinutes: 0, escalation: null, quietHours: { from: '22:00', to: '07:00', timeZone: 'Asia/Shanghai', minLevel: 4 }, createdBy: 'admin' });
    expect((await t.call('POST', '/api/v1/rules', { as: 'operator', body: { name: 'x', receivers: [a] } })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/rules', { as: 'viewer' })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/rules', { as: 'operator' })).json.map((x: { id: number }) => x.id)).toEqual([ok.json.id]);
    expect((await t.call('GET', `/api/v1/rules/${ok.json.id}`, { as: 'operator' })).json.name).toBe('all to a');
    const put = await t.call('PUT', `/api/v1/rules/${ok.json.id}`, { body: { name: 'renamed', receivers: [a], enabled: false } });
    expect([put.status, put.json.name, put.json.enabled, put.json.quietHours]).toEqual([200, 'renamed', false, null]);
    expect((await t.call('PUT', '/api/v1/rules/99999', { body: { name: 'x', receivers: [a] } })).status).toBe(404);

    const del = await t.call('DELETE', `/api/v1/webhooks/${a}`);
    expect([del.status, del.json.message]).toEqual([409, `webhook ${a}: named by rule(s) ${ok.json.id} "renamed"; change or delete them first`]);
    expect((await t.call('DELETE', `/api/v1/rules/${ok.json.id}`)).status).toBe(204);
    expect((await t.call('DELETE', `/api/v1/rules/${ok.json.id}`)).status).toBe(404);
    expect((await t.call('DELETE', `/api/v1/webhooks/${a}`)).status).toBe(204);
  });

  it('routes by district, grid unit, kind and source to the union of the matching rules\' receivers; receivers no rule names keep their minLevel', async () => {
    const lighting = await hook('lighting');
    const renCheng = await hook('rencheng');
    const bridges = await hook('bridges', 3);
    const city = await hook('city', 4);
    const rules = [
      { name: 'Guanghe grid unit lamps', match: { kinds: ['lamp_post'], gridUnits: ['RC-GH-01'] }, receivers: [lighting] },
      { name: 'Rencheng district, orange and up, from gateways', match: { districts: ['任城区'], minLevel: 3, sources: ['edge'] }, receivers: [renCheng] },
      { name: 'bridges', match: { kinds: ['bridge'] }, receivers: [bridges, renCheng] },
    ];
    const ids: number[] = [];
    for (const body of rules) ids.push((await t.call('POST', '/api/v1/rules', { body })).json.id);
    const ev = [
      raise('lamp-gh-03', { level: 2 }), // grid RC-GH-01: lighting (level 2 < 3: not Rencheng)
      raise('lamp-gh-04', { level: 3 }), // grid RC-GH-02: Rencheng only
      raise('bridge-ry-01', { level: 2 }), // bridges rule: renCheng; bridges' own minLevel 3 keeps it out
      raise('bridge-ry-01', { level: 4, alarmId: 'bridge-ry-01/q/threshold' }), // bridges + Rencheng; city (no rule, minLevel 4)
      raise('gas-yz-01', { level: 4 }), // no rule matches: only city
    ];
    await commit('gw-rc', 11, ev);
    const rows = await rowsOf(11);
    const s = ev.map((e) => e.seq);
    expect(seqsFor(rows, lighting)).toEqual([s[0]]);
    expect(seqsFor(rows, renCheng)).toEqual([s[1], s[2], s[3]]);
    expect(seqsFor(rows, bridges)).toEqual([s[3]]);
    expect(seqsFor(rows, city)).toEqual([s[3], s[4]]);

    // A cloud alarm of the gateway itself is matched by the gateway's place; the Rencheng rule takes edge alarms only.
    const silent = raise('', { alarmId: 'cloud/gateway/silent', level: 3, seq: 1, detector: 'cloud' });
    await commit('gw-rc', CLOUD_EPOCH, [silent]);
    const cloudRows = await rowsOf(CLOUD_EPOCH);
    expect(cloudRows.map((r) => r.receiverId)).toEqual([lighting]);
    for (const id of ids) await t.call('DELETE', `/api/v1/rules/${id}`);
  });

  it('holds what quiet hours hold until they end, sends the levels at or above theirs at once', async () => {
    const night = await hook('night');
    // Quiet hours around the present local time, so the test runs at any hour.
    const local = localClock(Date.now(), 'Asia/Shanghai').msOfDay;
    const hhmm = (ms: number) => { const m = Math.floor((((ms % 86_400_000) + 86_400_000) % 86_400_000) / 60_000); return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`; };
    const from = hhmm(local - 3_600_000);
    const to = hhmm(local + 2 * 3_600_000);
    const rule = (await t.call('POST', '/api/v1/rules', { body: { name: 'night shift', receivers: [night], quietHours: { from, to, minLevel: 4 } } })).json;
    const before = Date.now();
    const ev = [raise('lamp-gh-03', { level: 2, alarmId: 'q1' }), raise('lamp-gh-03', { level: 4, alarmId: 'q2' })];
    await commit('gw-rc', 12, ev);
    const rows = (await rowsOf(12)).filter((r) => r.receiverId === night);
    const held = rows.find((r) => r.key.endsWith(`:${ev[0].seq}`))!;
    const sent = rows.find((r) => r.key.endsWith(`:${ev[1].seq}`))!;
    // Held to the end of quiet hours: between 1 h 59 min and 2 h from now (to the minute).
    expect(held.nextAt - before).toBeGreaterThan(2 * 3_600_000 - 61_000);
    expect(held.nextAt - before).toBeLessThanOrEqual(2 * 3_600_000);
    expect(held.attempts).toBe(0);
    expect(sent.nextAt - before).toBeLessThan(60_000 + 30_000 * 20); // claimed at once (its lease), not held for hours
    expect(sent.attempts).toBeGreaterThanOrEqual(1);
    await t.call('DELETE', `/api/v1/rules/${rule.id}`);
  });

  it('does not tell a raise again within the de-duplication window, nor its clear; a raise after the window is told', async () => {
    const dup = await hook('dup');
    const rule = (await t.call('POST', '/api/v1/rules', { body: { name: 'dedup', receivers: [dup], dedupMinutes: 10 } })).json;
    const T = Date.now() - 3_600_000;
    const id = 'lamp-gh-03/leakage/threshold';
    const ev = [
      raise('lamp-gh-03', { alarmId: id, ts: T }),
      raise('lamp-gh-03', { alarmId: id, ts: T + 60_000, from: 'active_unacked', to: 'cleared_unacked' }),
      raise('lamp-gh-03', { alarmId: id, ts: T + 5 * 60_000, from: 'cleared_unacked', to: 'active_unacked' }), // 5 min after the first raise: quiet
      raise('lamp-gh-03', { alarmId: id, ts: T + 6 * 60_000, from: 'active_unacked', to: 'cleared_unacked' }), // its clear: quiet too
      raise('lamp-gh-03', { alarmId: id, ts: T + 20 * 60_000, from: 'cleared_unacked', to: 'active_unacked' }), // 15 min after the last raise: told
    ];
    // One batch per transition, as a gateway sends them as they happen.
    for (const e of ev) await commit('gw-rc', 13, [e]);
    expect(seqsFor(await rowsOf(13), dup)).toEqual([ev[0].seq, ev[1].seq, ev[4].seq]);
    await t.call('DELETE', `/api/v1/rules/${rule.id}`);
  });

  it('a yellow watch, its acknowledgement and its withdrawal page no phone; withdrawn, it does not de-duplicate the alarm after it', async () => {
    const sms = async (name: string, minLevel = 0) =>
      (await t.call('POST', '/api/v1/webhooks', { body: { kind: 'sms', url: `http://127.0.0.1:9/${name}`, minLevel, sms: { body: '{"to":"{phone}","text":"{text}"}', phones: ['13800000009'] } } })).json.id as number;
    const all = await hook('watch-all');
    const phone = await sms('watch-sms');
    const duty = await sms('watch-duty');
    const rule = (await t.call('POST', '/api/v1/rules', { body: { name: 'orange to the duty phone', match: { minLevel: 3 }, receivers: [duty], dedupMinutes: 10 } })).json;
    const T = Date.now() - 3_600_000;
    const w = (ts: number, p: Partial<AlarmTransition>) => raise('bridge-ry-01', { alarmId: 'bridge-ry-01/multivariate', point: 'strain', detector: 'multivariate', ts, ...p });
    const watch = 'strain 812.5 has been beyond its learned band and its excess has piled up to 9.1 (CUSUM; watch at 8, 8× the most it reached while learning): yellow (III)';
    const ev = [
      w(T, { level: 2, cause: watch }),
      w(T + 5000, { level: 2, from: 'active_unacked', to: 'active_acked', cause: 'acknowledged by op', user: 'op', value: null }),
      w(T + 30_000, { level: 0, from: 'active_acked', to: 'normal', cause: 'strain watch withdrawn: not confirmed within 30 s (score 1.4×)' }),
      w(T + 180_000, { level: 2, cause: watch }), // 3 min later: another watch...
      w(T + 186_000, { level: 3, from: 'active_unacked', to: 'active_unacked', cause: 'strain 815 is 2.4× outside its learned band (8 points together, alarm at 2×): orange (II)' }), // ...which the alarm confirms
      w(T + 600_000, { level: 0, from: 'active_unacked', to: 'cleared_unacked', cause: 'strain back within its learned band (score 0.4×, episode peak 2.6×; back for 9 s)' }),
    ];
    for (const e of ev) await commit('gw-rc', 15, [e]);
    const rows = await rowsOf(15);
    expect(seqsFor(rows, all)).toEqual(ev.map((e) => e.seq));
    expect(seqsFor(rows, phone)).toEqual([ev[4].seq, ev[5].seq]);
    // The first watch was withdrawn: the orange alarm 3 min after it is no repeat the duty phone already heard.
    expect(seqsFor(rows, duty)).toEqual([ev[4].seq]);
    await t.call('DELETE', `/api/v1/rules/${rule.id}`);
  });

  it('queues at the next catch-up what another process committed without queueing (a kill between commit and outbox)', async () => {
    const late = await hook('late');
    const other = new SqliteStore(join(tmp.dir, 'cloud.db'));
    await other.migrate();
    try {
      const ev = [raise('gas-yz-01', { seq: 1, alarmId: 'c1' }), raise('gas-yz-01', { seq: 2, alarmId: 'c2' })];
      await other.telemetry.commitEvents({ gateway: 'gw-rc', epoch: 14, firstSeq: 1, lastSeq: 2, events: ev });
      expect(seqsFor(await rowsOf(14), late)).toEqual([]);
      await t.cloud.webhooks.catchUp(false);
      expect(seqsFor(await rowsOf(14), late)).toEqual([1, 2]);
      expect(await t.cloud.store.routing.lagging(10)).toEqual([]);
      await t.cloud.webhooks.catchUp(false); // again: nothing new
      expect(seqsFor(await rowsOf(14), late)).toEqual([1, 2]);
    } finally {
      await other.close();
    }
  });
});
