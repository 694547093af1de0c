/**
 * The command channel against the machine's Mosquitto: a command is recorded,
 * sent, answered by the gateway it was sent to (a fake gateway here), and the
 * answer recorded; answers from another gateway are refused; a pending command
 * is sent again until answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { join } from 'node:path';
import { topics, type Command } from '@lifeline/shared';
import { CommandCenter, CommandChannel, SqliteStore } from '../../src/index.js';
import { requireService, tempDir, testLog, waitFor } from '../../../test/helpers.js';

const URL = 'mqtt://127.0.0.1:1883';
const run = `${process.pid}-${Date.now().toString(36)}`;
let store: SqliteStore;
let channel: CommandChannel;
let center: CommandCenter;
let cleanup: () => void;
const clients: MqttClient[] = [];

beforeAll(async () => {
  await requireService('Mosquitto', '127.0.0.1', 1883);
  const t = tempDir('lifeline-cmd-');
  cleanup = t.cleanup;
  store = new SqliteStore(join(t.dir, 'cloud.db'));
  await store.migrate();
  center = new CommandCenter(store, testLog);
  channel = new CommandChannel({ url: URL, store, center, log: testLog, timeoutMs: 5000, resendMs: 400 });
  await channel.start();
});

afterAll(async () => {
  for (const c of clients) await c.endAsync();
  await channel?.stop();
  await store?.close();
  cleanup?.();
});

/** A gateway that answers every command it receives (after `ignore` copies). */
async function fakeGateway(id: string, ignore = 0): Promise<{ got: Command[] }> {
  const c = await mqtt.connectAsync(URL, { clientId: `fake-${id}`, clean: true });
  clients.push(c);
  const got: Command[] = [];
  c.on('message', (_t, p) => {
    const cmd = JSON.parse(p.toString()) as Command;
    got.push(cmd);
    if (got.length <= ignore) return;
    const ok = cmd.type !== 'config';
    void c.publishAsync(
      topics.reply(id),
      JSON.stringify({ id: cmd.id, gateway: id, ts: Date.now(), ok, status: ok ? 'done' : 'rejected', message: ok ? 'acknowledged' : 'bad config', ...(ok ? {} : { errors: [{ path: 'buses', message: 'must have at least 1 item' }] }), running: { hash: 'abc' } }),
      { qos: 1 },
    );
  });
  await c.subscribeAsync(topics.commands(id), { qos: 1 });
  return { got };
}

describe('command channel', () => {
  it('sends a command and resolves with the answer, recorded in the store', async () => {
    const id = `gw-cmd-${run}`;
    const gw = await fakeGateway(id);
    const answer = await channel.sendCommand(id, { type: 'alarm_ack', alarmId: 'd/p/threshold', by: 'ops-1' });
    expect(answer).toMatchObject({ ok: true, status: 'done', gateway: id });
    expect(gw.got[0]).toMatchObject({ type: 'alarm_ack', alarmId: 'd/p/threshold', by: 'ops-1', gateway: id });
    const [rec] = await store.commands.listCommands({ gateway: id, limit: 5 });
    expect(rec).toMatchObject({ type: 'alarm_ack', status: 'done', requestedBy: 'ops-1' });
    expect(String(rec.id)).toBe(answer.id);
  });

  it('records a rejected config with its reasons as the config answer', async () => {
    const id = `gw-cfg-${run}`;
    await fakeGateway(id);
    const answer = await channel.sendCommand(id, { type: 'config', config: { gateway: { id } } as never, by: 'tech' });
    expect(answer).toMatchObject({ ok: false, status: 'rejected', errors: [{ path: 'buses' }] });
    const cfg = await store.commands.getConfig(id);
    expect(cfg.desired).toEqual({ gateway: { id } });
    expect(cfg.answer).toMatchObject({ ok: false });
  });

  it('sends a pending command again until the gateway answers', async () => {
    const id = `gw-late-${run}`;
    const gw = await fakeGateway(id, 1); // misses the first copy
    const answer = await channel.sendCommand(id, { type: 'alarm_shelve', alarmId: 'a', untilTs: Date.now() + 60_000, by: 'ops' });
    expect(answer.ok).toBe(true);
    expect(gw.got.length).toBeGreaterThanOrEqual(2);
    expect(new Set(gw.got.map((c) => c.id)).size).toBe(1); // the same id every time
  });

  it('sends instants on the gateway’s clock (its status’s offset): a write to a gateway a year ahead is not expired on arrival, a shelve to one a year behind not a year long', async () => {
    const YEAR = 365 * 86_400_000;
    for (const [name, offset] of [['ahead', -YEAR], ['behind', YEAR]] as const) {
      const id = `gw-${name}-${run}`;
      // cloud clock = gateway clock + offset, as the gateway's status says
      await store.registry.saveGatewayStatus({ gateway: id, online: true, ts: Date.now() - offset, clockOffsetMs: offset });
      const gw = await fakeGateway(id);
      const before = Date.now();
      await channel.sendCommand(id, { type: 'alarm_shelve', alarmId: 'bridge-1/strain/threshold', untilTs: before + 3_600_000, by: 'ops' });
      const [rec] = await store.commands.listCommands({ gateway: id, limit: 1 });
      const write = await center.submit({ gateway: id, type: 'point_write', alarm: null, body: { device: 'lamp-1', point: 'lamp_on', value: 1, reason: 'flood', expiresAt: before + 300_000 }, requestedBy: 'ops' });
      await waitFor(() => gw.got.length === 2, 5000, 'the write');
      const [shelve, sent] = gw.got as [Command & { untilTs: number }, Command & { expiresAt: number }];
      expect(shelve.untilTs).toBe((rec.body as { untilTs: number }).untilTs - offset);
      expect(sent.expiresAt).toBe(before + 300_000 - offset);
      expect(write.body.expiresAt).toBe(before + 300_000); // the API's state stays on the cloud's clock
    }
  });

  it('refuses an answer from a gateway the command was not sent to', async () => {
    const id = `gw-x-${run}`;
    const other = `gw-y-${run}`;
    const c = await mqtt.connectAsync(URL, { clientId: `fake-${other}`, clean: true });
    clients.push(c);
    const before = channel.counters.refused;
    const pending = channel.sendCommand(id, { type: 'alarm_ack', alarmId: 'z', by: 'ops' }).catch((e: Error) => e);
    const [rec] = await waitFor(async () => (await store.commands.listCommands({ gateway: id, limit: 1 })).filter((r) => r.status === 'pending'), 3000, 'the command');
    await c.publishAsync(topics.reply(other), JSON.stringify({ id: String(rec.id), gateway: other, ts: Date.now(), ok: true, status: 'done', message: 'forged' }), { qos: 1 });
    await waitFor(() => channel.counters.refused > before, 3000, 'the refusal');
    expect((await store.commands.getCommand(rec.id))?.status).toBe('pending');
    expect(await pending).toBeInstanceOf(Error);
  }, 15_000);
});
