/**
 * Broker security with a real Mosquitto (started here on a free port): mutual
 * TLS with a test CA made by openssl (one certificate per gateway, the CN is
 * the gateway id), `use_identity_as_username` and an ACL that pins each
 * gateway to its own topics. Both transports are proven against it: mqtt.js,
 * and aws-iot-device-sdk-v2's MQTT 5 client (as against AWS IoT Core).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { Lane, decodeUplink, encodeAck, topics, type CommandAnswer } from '@lifeline/shared';
import { EdgeBuffer } from '../../src/buffer/buffer.js';
import { Sync } from '../../src/sync/sync.js';
import { AwsIotTransport, MqttTransport, createTransport } from '../../src/sync/transport.js';
import { CommandHandler } from '../../src/sync/command-handler.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { tempDir, testLog, waitFor } from '../../../test/helpers.js';

let dir: string;
let cleanup: () => void;
let port: number;
let broker: ChildProcess;
const clients: MqttClient[] = [];

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A key and a certificate signed by the test CA. */
function issue(name: string, cn: string, ext?: string): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  const extArgs = ext ? (writeFileSync(join(dir, `${name}.ext`), ext), ['-extfile', `${name}.ext`]) : [];
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-sha256', ...extArgs);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

const tls = (name: string) => ({ ca: join(dir, 'ca.pem'), cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) });
const url = () => `mqtts://127.0.0.1:${port}`;

async function client(name: string, version: 4 | 5 = 4): Promise<MqttClient> {
  const t = tls(name);
  const { readFileSync } = await import('node:fs');
  const c = await mqtt.connectAsync(url(), { ca: readFileSync(t.ca), cert: readFileSync(t.cert), key: readFileSync(t.key), clean: true, reconnectPeriod: 0, protocolVersion: version, clientId: `${name}-${Math.random().toString(16).slice(2, 8)}` });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  const t = tempDir('lifeline-mtls-');
  dir = t.dir;
  cleanup = t.cleanup;
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Lifeline test CA');
  issue('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  issue('gw-a', 'gw-a');
  issue('gw-b', 'gw-b');
  issue('cloud', 'lifeline-cloud');
  // Mosquitto started as root drops to its own user: let it read the test files (test keys only).
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  port = await freePort();
  writeFileSync(
    join(dir, 'acl'),
    [
      '# The cloud service (certificate CN lifeline-cloud) reads and writes every gateway topic.',
      'user lifeline-cloud',
      'topic readwrite lifeline/#',
      '',
      '# Every gateway (certificate CN = gateway id): publish only under its own uplink and status,',
      '# read only its own downlink (acks and commands).',
      'pattern write lifeline/%u/up/#',
      'pattern write lifeline/%u/status',
      'pattern read lifeline/%u/down/#',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      `cafile ${join(dir, 'ca.pem')}`,
      `certfile ${join(dir, 'server.pem')}`,
      `keyfile ${join(dir, 'server.key')}`,
      'require_certificate true',
      'use_identity_as_username true',
      `acl_file ${join(dir, 'acl')}`,
      'persistence false',
      'max_queued_messages 100000',
      'log_dest none',
      '',
    ].join('\n'),
  );
  chmodSync(join(dir, 'acl'), 0o644);
  chmodSync(join(dir, 'mosquitto.conf'), 0o644);
  broker = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  await waitFor(
    () =>
      new Promise<boolean>((r) => {
        const c = connect(port, '127.0.0.1');
        c.once('connect', () => (c.destroy(), r(true)));
        c.once('error', () => r(false));
      }),
    10_000,
    'mosquitto to listen',
  );
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {});
  broker?.kill('SIGKILL');
  cleanup?.();
});

describe('Mosquitto with per-gateway certificates and an ACL', () => {
  it('refuses a client without a certificate from the CA', async () => {
    await expect(mqtt.connectAsync(url(), { rejectUnauthorized: false, reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow();
  });

  it('lets gateway A publish only as A, and never read B’s commands', async () => {
    const cloud = await client('cloud');
    const seen: string[] = [];
    cloud.on('message', (t) => seen.push(t));
    await cloud.subscribeAsync('lifeline/#', { qos: 1 });
    const a = await client('gw-a');
    const aGot: string[] = [];
    a.on('message', (t, p) => aGot.push(`${t} ${p.toString()}`));
    await a.subscribeAsync(topics.commands('gw-a'), { qos: 1 });
    await a.subscribeAsync(topics.commands('gw-b'), { qos: 1 }).catch(() => undefined); // refused or silently empty
    await a.subscribeAsync('lifeline/#', { qos: 1 }).catch(() => undefined);
    await a.publishAsync(topics.telemetry('gw-b'), 'forged by A', { qos: 1 });
    await a.publishAsync(topics.status('gw-b'), 'forged by A', { qos: 1 });
    await a.publishAsync(topics.ack('gw-b'), 'forged ack', { qos: 1 });
    await a.publishAsync(topics.telemetry('gw-a'), 'own', { qos: 1 });
    await cloud.publishAsync(topics.commands('gw-b'), 'for B only', { qos: 1 });
    await cloud.publishAsync(topics.commands('gw-a'), 'for A', { qos: 1 });
    await waitFor(() => seen.includes(topics.telemetry('gw-a')) && aGot.length >= 1, 5000, 'the allowed messages');
    await new Promise((r) => setTimeout(r, 500));
    expect(seen).toContain(topics.telemetry('gw-a'));
    expect(seen).not.toContain(topics.telemetry('gw-b'));
    expect(seen).not.toContain(topics.status('gw-b'));
    expect(seen).not.toContain(topics.ack('gw-b'));
    expect(aGot).toEqual([`${topics.commands('gw-a')} for A`]);
  });

  it('holds for the aws-iot transport (MQTT 5) too: A’s publish as B never reaches the cloud', async () => {
    const cloud = await client('cloud');
    const seen: string[] = [];
    cloud.on('message', (t, p) => seen.push(`${t} ${p.toString()}`));
    await cloud.subscribeAsync('lifeline/#', { qos: 1 });
    const t = new AwsIotTransport({ url: url(), clientId: 'gw-a-v5', tls: tls('gw-a') });
    t.connect();
    await waitFor(() => t.connected, 15_000, 'the aws-iot transport to connect');
    // Mosquitto 2.0 drops an unauthorised publish (a broker may also refuse it in the PUBACK: the transport then throws).
    await t.publish(topics.telemetry('gw-b'), 'forged v5', { qos: 1 }).catch(() => undefined);
    await t.publish(topics.telemetry('gw-a'), 'own v5', { qos: 1 });
    await waitFor(() => seen.includes(`${topics.telemetry('gw-a')} own v5`), 5000, 'the allowed publish');
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.filter((x) => x.includes('forged v5'))).toEqual([]);
    await t.close();
  }, 30_000);
});

describe('sync over mutual TLS', () => {
  const loaded = (id: string) =>
    ({
      config: { gateway: { id }, buses: [], buffer: { path: ':memory:' }, sync: { transport: 'aws-iot', url: url(), batchMaxReadings: 1000, intervalMs: 100, ackTimeoutMs: 5000 } },
      profiles: new Map(),
    }) as unknown as LoadedConfig;

  for (const kind of ['aws-iot', 'mqtt'] as const) {
    it(`${kind}: batches reach the cloud, acks reclaim them, commands are answered`, async () => {
      const id = kind === 'aws-iot' ? 'gw-a' : 'gw-b';
      const t = tempDir('lifeline-mtls-sync-');
      const buffer = new EdgeBuffer(join(t.dir, 'b.db'));
      const transport = createTransport(kind, { url: url(), clientId: `${id}-${kind}`, tls: tls(id), will: { topic: topics.status(id), payload: JSON.stringify({ gateway: id, online: false }), retain: true } });
      expect(transport).toBeInstanceOf(kind === 'aws-iot' ? AwsIotTransport : MqttTransport);
      const commands = new CommandHandler(id, buffer, {
        ackAlarm: (a) => ({ changed: true, message: `${a} acknowledged` }),
        shelveAlarm: () => ({ changed: false, message: '' }),
        writePoint: async () => {},
        applyConfig: async () => ({ ok: false, errors: [] }),
        runningConfig: () => ({}),
      }, testLog);
      const sync = new Sync(loaded(id), buffer, transport, testLog, { commands });
      // The cloud side, played with the cloud's certificate.
      const cloud = await client('cloud');
      const answers: CommandAnswer[] = [];
      cloud.on('message', (topic, payload) => {
        if (topic === topics.reply(id)) return void answers.push(JSON.parse(payload.toString()) as CommandAnswer);
        if (topic !== topics.telemetry(id)) return;
        const msg = decodeUplink(payload);
        const ack = encodeAck({ gateway: id, ts: Date.now(), epoch: msg.batch.epoch, telemetry: msg.batch.lastSeq, range: { lane: Lane.Telemetry, firstSeq: msg.batch.firstSeq, lastSeq: msg.batch.lastSeq } });
        void cloud.publishAsync(topics.ack(id), Buffer.from(ack), { qos: 1 });
      });
      await cloud.subscribeAsync([topics.telemetry(id), topics.reply(id)], { qos: 1 });
      try {
        for (let i = 0; i < 30; i++) buffer.append(Array.from({ length: 100 }, (_, p) => ({ device: 'd', point: `p${p}`, ts: 1_764_000_000_000 + i * 1000, value: i + p })));
        sync.start();
        await waitFor(() => buffer.ackedUpTo('telemetry') === 3000, 20_000, 'every reading acknowledged end to end');
        expect(buffer.backlog('telemetry').depth).toBe(0);
        await cloud.publishAsync(topics.commands(id), JSON.stringify({ id: `c-${kind}`, gateway: id, ts: Date.now(), by: 'ops', type: 'alarm_ack', alarmId: 'x' }), { qos: 1 });
        await waitFor(() => answers.length === 1, 10_000, 'the command answer');
        expect(answers[0]).toMatchObject({ id: `c-${kind}`, ok: true, status: 'done' });
      } finally {
        await sync.stop();
        buffer.close();
        t.cleanup();
      }
    }, 40_000);
  }
});
