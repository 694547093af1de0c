/**
 * Sync against an in-memory broker (the cloud's part is played by the test
 * with the shared codec): live data ahead of backlog, bounded batches and
 * window, epochs, what the gateway does with a Reject, and downlink commands.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import {
  Lane,
  RejectReason,
  decodeUplink,
  encodeAck,
  encodeReject,
  topics,
  MessageType,
  type CommandAnswer,
  type Uplink,
} from '@lifeline/shared';
import { Value } from '@sinclair/typebox/value';
import { GatewayStatusSchema } from '@lifeline/shared';
import { pino } from 'pino';
import { EdgeBuffer } from '../../src/buffer/buffer.js';
import { Sync } from '../../src/sync/sync.js';
import { CommandHandler, type CommandTarget } from '../../src/sync/command-handler.js';
import type { Transport } from '../../src/sync/transport.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { tempDir, testLog, waitFor } from '../../../test/helpers.js';

class MemoryTransport implements Transport {
  connected = false;
  /** Play the cloud for the event lane: commit and ack every event batch at once. */
  autoAckEvents = true;
  sent: { topic: string; payload: Uint8Array | string }[] = [];
  private onMsg: ((t: string, p: Uint8Array) => void)[] = [];
  private onConn: (() => void)[] = [];
  connect(): void {
    this.connected = true;
    for (const h of this.onConn) h();
  }
  async publish(topic: string, payload: Uint8Array | string): Promise<void> {
    this.sent.push({ topic, payload });
    if (this.autoAckEvents && topic === topics.events(GW)) {
      const { batch } = decodeUplink(payload as Uint8Array);
      const ack = encodeAck({ gateway: GW, ts: Date.now(), epoch: batch.epoch, events: batch.lastSeq, range: { lane: Lane.Events, firstSeq: batch.firstSeq, lastSeq: batch.lastSeq } });
      setImmediate(() => this.deliver(topics.ack(GW), ack));
    }
  }
  async subscribe(): Promise<void> {}
  onMessage(h: (t: string, p: Uint8Array) => void): void {
    this.onMsg.push(h);
  }
  onConnect(h: () => void): void {
    this.onConn.push(h);
  }
  deliver(topic: string, payload: Uint8Array | string): void {
    for (const h of this.onMsg) h(topic, typeof payload === 'string' ? new TextEncoder().encode(payload) : payload);
  }
  async close(): Promise<void> {
    this.connected = false;
  }
  /** Uplink batches published so far, decoded. */
  batches(): Uplink[] {
    return this.sent.filter((s) => s.topic.includes('/up/') && !s.topic.endsWith('/reply')).map((s) => decodeUplink(s.payload as Uint8Array));
  }
}

const GW = 'gw-sync';
const T0 = 1_764_000_000_000;
const loaded = (over: Record<string, unknown> = {}) =>
  ({
    config: {
      gateway: { id: GW },
      buses: [],
      buffer: { path: ':memory:' },
      sync: { transport: 'mqtt', url: 'mqtt://x', batchMaxReadings: 500, intervalMs: 60_000, ackTimeoutMs: 60_000, ...over },
    },
    profiles: new Map(),
  }) as unknown as LoadedConfig;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(opts: { window?: number; maxBatchBytes?: number; commands?: CommandHandler; buffer?: EdgeBuffer } = {}) {
  const t = tempDir('lifeline-sync-');
  const buffer = opts.buffer ?? new EdgeBuffer(join(t.dir, 'b.db'));
  const transport = new MemoryTransport();
  const sync = new Sync(loaded(), buffer, transport, testLog, { window: opts.window ?? 4, maxBatchBytes: opts.maxBatchBytes, commands: opts.commands });
  cleanups.push(t.cleanup, () => buffer.close(), () => sync.stop());
  return { buffer, transport, sync };
}

const fill = (buffer: EdgeBuffer, polls: number, points = 10) => {
  for (let i = 0; i < polls; i++) buffer.append(Array.from({ length: points }, (_, p) => ({ device: 'd', point: `p${p}`, ts: T0 + i * 1000, value: Math.sin(i + p) * 1000 })));
};

describe('sync', () => {
  it('sends alarms first, then the newest readings, then the backlog from the oldest, within the window', async () => {
    const { buffer, transport, sync } = setup();
    fill(buffer, 1000); // 10,000 readings of backlog
    buffer.appendEvent(T0, 'alarm', { kind: 'event', type: 'x', message: 'alarm-ish' });
    sync.start();
    await waitFor(() => transport.batches().length >= 5, 2000, 'the first pump');
    const b = transport.batches();
    expect(b[0].type).toBe(MessageType.Events);
    expect(b[1]).toMatchObject({ type: MessageType.Telemetry, batch: { firstSeq: 9501, lastSeq: 10000 } }); // live
    expect(b[2]).toMatchObject({ batch: { firstSeq: 1, lastSeq: 500 } }); // then backlog, oldest first
    expect(b).toHaveLength(5); // 1 event batch + 4 telemetry: the window
    expect(b.every((x) => x.batch.epoch === buffer.epoch)).toBe(true);
    // The cloud commits the live range ahead of its prefix: the gateway stops resending it and reclaims it.
    transport.deliver(topics.ack(GW), encodeAck({ gateway: GW, ts: Date.now(), epoch: buffer.epoch, telemetry: 0, range: { lane: Lane.Telemetry, firstSeq: 9501, lastSeq: 10000 } }));
    expect(buffer.outbox('telemetry').find((o) => o.firstSeq === 9501)?.done).toBe(true);
    expect(buffer.backlog('telemetry').depth).toBe(9500);
    // Acks reclaim and open the window for more backlog.
    transport.deliver(topics.ack(GW), encodeAck({ gateway: GW, ts: Date.now(), epoch: buffer.epoch, telemetry: 1000 }));
    expect(buffer.ackedUpTo('telemetry')).toBe(1000);
    expect(transport.batches().filter((x) => x.type === MessageType.Telemetry).map((x) => x.batch.firstSeq)).toContain(1501);
  });

  it('holds telemetry back while an alarm batch stays unacknowledged, through its resends, until the cloud commits it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    cleanups.push(() => {
      vi.useRealTimers();
    });
    vi.setSystemTime(T0);
    const { buffer, transport, sync } = setup();
    transport.autoAckEvents = false; // the event batch is dropped on the way (an ingest not yet resubscribed)
    fill(buffer, 10);
    buffer.appendEvent(T0, 'alarm', { kind: 'event', type: 'x', message: 'red line crossed' });
    sync.start();
    await waitFor(() => transport.batches().length >= 1, 2000, 'the first pump');
    const telemetrySent = () => transport.batches().filter((x) => x.type === MessageType.Telemetry).length;
    const eventsSent = () => transport.batches().filter((x) => x.type === MessageType.Events).length;
    const before = telemetrySent();
    for (let i = 1; i <= 3; i++) {
      fill(buffer, 1);
      vi.setSystemTime(T0 + i * 1500);
      sync.pump();
      expect(eventsSent()).toBe(1 + i); // resent each time…
      expect(telemetrySent()).toBe(before); // …and newer readings wait behind it
    }
    transport.deliver(topics.ack(GW), encodeAck({ gateway: GW, ts: Date.now(), epoch: buffer.epoch, events: 1 }));
    expect(telemetrySent()).toBeGreaterThan(before);
  });

  it('ignores an ack of another epoch (a database that was replaced): nothing unsent is reclaimed', () => {
    const { buffer, transport, sync } = setup();
    fill(buffer, 10);
    sync.start();
    transport.deliver(topics.ack(GW), encodeAck({ gateway: GW, ts: Date.now(), epoch: buffer.epoch + 1, telemetry: 100 }));
    expect(buffer.ackedUpTo('telemetry')).toBe(0);
    expect(sync.counters.staleAcks).toBe(1);
  });

  it('keeps every message under maxBatchBytes by splitting ranges', async () => {
    const { buffer, transport, sync } = setup({ maxBatchBytes: 2000 });
    // Noise as raw floats: ~8 bytes a reading, so 500 readings would take ~4 KB.
    for (let i = 0; i < 200; i++) buffer.append(Array.from({ length: 10 }, (_, p) => ({ device: 'd', point: `p${p}`, ts: T0 + i * 1000, value: Math.random() })));
    sync.start();
    await waitFor(() => transport.batches().length >= 4, 2000, 'batches');
    const sizes = transport.sent.filter((s) => s.topic === topics.telemetry(GW)).map((s) => (s.payload as Uint8Array).length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2000);
    expect(sync.counters.splits).toBeGreaterThan(0);
  });

  it('answers a Reject by sending the range again empty and recording what was given up in the event lane', async () => {
    const { buffer, transport, sync } = setup({ window: 2 });
    fill(buffer, 120);
    sync.start();
    await waitFor(() => transport.batches().length >= 2, 2000, 'batches');
    const first = transport.batches().find((b) => b.type === MessageType.Telemetry && b.batch.firstSeq === 1)!;
    transport.deliver(
      topics.ack(GW),
      encodeReject({ gateway: GW, ts: Date.now(), epoch: buffer.epoch, lane: Lane.Telemetry, firstSeq: 1, lastSeq: first.batch.lastSeq, reason: RejectReason.Malformed, detail: 'bad value' }),
    );
    await waitFor(() => transport.batches().some((b) => b.type === MessageType.Telemetry && b.batch.firstSeq === 1 && b.batch.readings.length === 0), 2000, 'the empty resend');
    const sentEvents = transport.batches().flatMap((b) => (b.type === MessageType.Events ? b.batch.events : []));
    expect(sentEvents.map((e) => (e as { type?: string }).type)).toContain('batch_rejected');
    expect(sync.counters.abandoned).toBe(1);
    // Its ack reclaims the range; later ranges were never blocked.
    transport.deliver(topics.ack(GW), encodeAck({ gateway: GW, ts: Date.now(), epoch: buffer.epoch, telemetry: 1200 }));
    expect(buffer.backlog('telemetry').depth).toBe(0);
  });

  it('runs a command once, answers every copy, and audits it on the gateway', async () => {
    const t = tempDir('lifeline-cmd-');
    const buffer = new EdgeBuffer(join(t.dir, 'b.db'));
    const calls: string[] = [];
    const target: CommandTarget = {
      ackAlarm: (id, user) => (calls.push(`ack ${id} ${user}`), { changed: true, message: `${id}: acknowledged` }),
      shelveAlarm: () => ({ changed: true, message: 'shelved' }),
      writePoint: async () => {
        throw new Error('no such point');
      },
      applyConfig: async (c) =>
        (c as { ok?: boolean }).ok ? { ok: true, running: c } : { ok: false, errors: [{ path: 'buses', message: 'must have at least 1 item' }] },
      runningConfig: () => ({ gateway: { id: GW } }),
    };
    const commands = new CommandHandler(GW, buffer, target, testLog);
    const { transport, sync } = setup({ commands, buffer });
    transport.autoAckEvents = false; // keep the audit events in the buffer to look at
    cleanups.push(t.cleanup);
    sync.start();
    const answers = () => transport.sent.filter((s) => s.topic === topics.reply(GW)).map((s) => JSON.parse(s.payload as string) as CommandAnswer);
    const cmd = { id: '17', gateway: GW, ts: Date.now(), by: 'ops-1', type: 'alarm_ack', alarmId: 'd/p/threshold' };
    transport.deliver(topics.commands(GW), JSON.stringify(cmd));
    transport.deliver(topics.commands(GW), JSON.stringify(cmd));
    await waitFor(() => answers().length === 2, 2000, 'two answers');
    expect(calls).toEqual(['ack d/p/threshold ops-1']);
    expect(answers()[0]).toMatchObject({ id: '17', ok: true, status: 'done' });
    expect(answers()[1]).toMatchObject({ id: '17', ok: true, duplicate: true });
    // A config with problems is rejected with every reason; a point write that fails says so.
    transport.deliver(topics.commands(GW), JSON.stringify({ id: '18', gateway: GW, ts: Date.now(), by: 'tech', type: 'config', config: { ok: false } }));
    transport.deliver(topics.commands(GW), JSON.stringify({ id: '19', gateway: GW, ts: Date.now(), by: 'tech', type: 'point_write', device: 'd', point: 'p', value: 1 }));
    // Expired, addressed to someone else, malformed.
    transport.deliver(topics.commands(GW), JSON.stringify({ id: '20', gateway: GW, ts: 0, by: 'tech', type: 'point_write', device: 'd', point: 'p', value: 1, expiresAt: 1 }));
    transport.deliver(topics.commands(GW), JSON.stringify({ id: '21', gateway: 'gw-other', ts: 0, by: 'x', type: 'alarm_ack', alarmId: 'a' }));
    transport.deliver(topics.commands(GW), JSON.stringify({ id: '22', gateway: GW, ts: 0, by: 'x', type: 'reboot' }));
    await waitFor(() => answers().length === 6, 2000, 'answers');
    const byId = Object.fromEntries(answers().map((a) => [a.id, a]));
    expect(byId['18']).toMatchObject({ ok: false, status: 'rejected', errors: [{ path: 'buses', message: 'must have at least 1 item' }] });
    expect(byId['19']).toMatchObject({ ok: false, status: 'failed', message: 'no such point' });
    expect(byId['20']).toMatchObject({ ok: false, status: 'expired' });
    expect(byId['22']).toMatchObject({ ok: false, status: 'rejected' });
    expect(byId['21']).toBeUndefined();
    // Audited: the command log and the event lane.
    expect(buffer.commandLog().map((c) => c.id).sort()).toEqual(['17', '18', '19', '20']);
    const types = buffer.events(1, buffer.lastWritten('events')).map((e) => (e.body as { type: string }).type);
    expect(types).toEqual(expect.arrayContaining(['command_done', 'command_rejected', 'command_failed', 'command_expired']));
  });

  it('reports each device with the name people call it by, beside its id, in a status the cloud accepts', () => {
    const t = tempDir('lifeline-sync-');
    const buffer = new EdgeBuffer(join(t.dir, 'b.db'));
    const named = loaded();
    (named.config as { buses: unknown[] }).buses = [
      { name: 'site', link: 'tcp', devices: [{ id: 'lamp-1', name: '洸河路1号灯杆', profile: 'lamp-post-controller' }, { id: 'lamp-2', profile: 'lamp-post-controller' }] },
    ];
    const profile = { id: 'lamp-post-controller', kind: 'lamp_post', points: [{ name: 'lamp_on', unit: '', label: '灯具开关' }, { name: 'current', unit: 'A' }] };
    (named.profiles as Map<string, unknown>).set('lamp-1', profile).set('lamp-2', profile);
    const sync = new Sync(named, buffer, new MemoryTransport(), testLog);
    cleanups.push(t.cleanup, () => buffer.close());
    const status = JSON.parse(sync.statusMessage(true));
    expect(status.devices).toMatchObject([{ id: 'lamp-1', name: '洸河路1号灯杆', kind: 'lamp_post' }, { id: 'lamp-2' }]);
    expect(status.devices[1]).not.toHaveProperty('name');
    // Each point with its label where the profile gives one (the console shows it), none where it does not.
    expect(status.devices[0].points).toEqual([{ name: 'lamp_on', unit: '', label: '灯具开关' }, { name: 'current', unit: 'A' }]);
    expect(Value.Check(GatewayStatusSchema, status)).toBe(true);
  });

  it("logs a pump failing on the buffer's disk once a minute, not every tick (a read-only SD card), and any other failure every time", () => {
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const buffer = new EdgeBuffer(':memory:');
    cleanups.push(() => buffer.close());
    buffer.append([{ device: 'd', point: 'p', ts: T0, value: 1 }]);
    const fail = (err: Error) => () => {
      throw err;
    };
    buffer.cutLive = buffer.cutBacklog = fail(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }));
    const transport = new MemoryTransport();
    transport.connected = true;
    const sync = new Sync(loaded(), buffer, transport, log);
    for (let i = 0; i < 20; i++) sync.pump();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).msg).toBe("sync pump failed on the buffer's disk; retrying every tick, logged once a minute");
    buffer.cutLive = buffer.cutBacklog = fail(new Error('a bug'));
    sync.pump();
    sync.pump();
    expect(lines).toHaveLength(3);
  });
});
