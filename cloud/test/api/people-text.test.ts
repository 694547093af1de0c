/**
 * Text operators type (alarm comments, acknowledgement notes, shelve and
 * maintenance reasons) as the console and scripts send it: Chinese, emoji and
 * line breaks kept exactly; a comment of spaces only (a full-width 　 from a
 * Chinese keyboard, a zero-width space pasted from a chat) refused, since an
 * audit line that says nothing is no audit; an unpaired UTF-16 surrogate
 * (a string cut in the middle of an emoji by a client) refused with the field
 * named, where before it was stored as three U+FFFD on SQLite and one on
 * PostgreSQL while the answer echoed it back unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from './helpers.js';

let t: TestCloud;
let alarm = 0;
beforeAll(async () => {
  t = await testCloud({ alarms: { watch: false } });
  await t.cloud.store.telemetry.commitEvents({
    gateway: 'gw-text', epoch: 1, firstSeq: 1, lastSeq: 1,
    events: [{ kind: 'alarm', seq: 1, alarmId: 'lamp-1/leak/threshold', device: 'lamp-1', point: 'leak', ts: Date.now(), from: 'normal', to: 'active_unacked', level: 3, detector: 'threshold', cause: 'leak high', value: 31 }],
  });
  alarm = (await t.call('GET', '/api/v1/alarms')).json[0].id;
});
afterAll(async () => t.close());

describe('text people write', () => {
  it('keeps Chinese, emoji and line breaks exactly as sent', async () => {
    const text = '洸河路3号灯杆漏电，已派人 👷‍♂️ 处理\n复查：正常 𠜎';
    const r = await t.call('POST', `/api/v1/alarms/${alarm}/comments`, { as: 'operator', body: { text } });
    expect([r.status, r.json.text]).toEqual([201, text]);
    const back = (await t.call('GET', `/api/v1/alarms/${alarm}`)).json;
    expect(JSON.stringify(back)).toContain(JSON.stringify(text).slice(1, -1));
  });

  it('refuses blank text: spaces, a full-width space, zero-width spaces, line breaks only', async () => {
    for (const blank of ['  ', '\u3000', '\u200b\u200b', '\n\t', '\ufeff']) {
      const r = await t.call('POST', `/api/v1/alarms/${alarm}/comments`, { as: 'operator', body: { text: blank } });
      expect([r.status, r.json.message]).toEqual([400, `body.text: must hold a visible character, not only spaces or invisible ones, got ${JSON.stringify(blank)}`]);
    }
    const shelve = await t.call('POST', `/api/v1/alarms/${alarm}/shelve`, { as: 'operator', body: { durationMs: 3_600_000, reason: '\u3000\u3000' } });
    expect([shelve.status, shelve.json.message]).toEqual([400, 'body.reason: must hold a visible character, not only spaces or invisible ones, got "\u3000\u3000"']);
    const window = await t.call('POST', '/api/v1/maintenance', { as: 'operator', body: { gateway: 'gw-text', until: Date.now() + 3_600_000, reason: '\u200b ' } });
    expect([window.status, window.json.message]).toEqual([400, 'reason: must say why, got "\u200b "']);
    const ack = await t.call('POST', `/api/v1/alarms/${alarm}/ack`, { as: 'operator', body: { comment: '\u200b' } });
    expect([ack.status, ack.json.message]).toEqual([400, 'body.comment: must hold a visible character, not only spaces or invisible ones, got "\u200b"']);
    expect((await t.call('GET', `/api/v1/alarms/${alarm}`)).json.state).toBe('active_unacked');
  });

  it('refuses an unpaired surrogate, naming the field and the value, and stores nothing', async () => {
    const before = JSON.stringify((await t.call('GET', `/api/v1/alarms/${alarm}`)).json);
    const r = await t.call('POST', `/api/v1/alarms/${alarm}/comments`, { as: 'operator', raw: '{"text":"灯杆漏电 \\ud83d"}', headers: { 'content-type': 'application/json' } });
    expect([r.status, r.json.message]).toEqual([400, 'body.text: unpaired surrogate U+D83D is not text (a character cut in half?), got "灯杆漏电 \\ud83d"']);
    const m = await t.call('POST', '/api/v1/maintenance', { as: 'operator', raw: `{"gateway":"gw-text","until":${Date.now() + 3_600_000},"reason":"\\udc00检修"}`, headers: { 'content-type': 'application/json' } });
    expect([m.status, m.json.message]).toEqual([400, 'body.reason: unpaired surrogate U+DC00 is not text (a character cut in half?), got "\\udc00检修"']);
    expect(JSON.stringify((await t.call('GET', `/api/v1/alarms/${alarm}`)).json)).toBe(before);
    expect((await t.call('GET', '/api/v1/maintenance', { as: 'operator' })).json).toEqual([]);
  });
});
