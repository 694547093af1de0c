/**
 * A roadside box whose SD card goes read-only (ext4 errors=remount-ro) while the link to the
 * cloud is down, with real parts: an agent polling a Modbus TCP simulator, its buffer on a
 * loop-mounted ext4 card, the cloud on PostgreSQL behind a gate that stands for the link.
 *
 *   1. link down, readings buffered; the card fails: the agent keeps polling, stores nothing more
 *   2. link up: every reading the card holds reaches the cloud, once (acks are kept in memory)
 *   2b. the agent restarted on the still read-only card: it runs from memory, live data reaches the cloud
 *   3. fsck and a reboot: the agent resends from the cursor the card saved; the cloud answers
 *      duplicates, and the edge reclaims them: nothing lost, nothing doubled, no reject.
 */
import { execFileSync } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore, startCloud, type Cloud } from '@lifeline/cloud';
import { Agent, validateConfig } from '@lifeline/edge';
import { SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';
import { freePort, requireService, tempDir, testLog, waitFor } from '../helpers.js';
import { mountCard, unmountCards } from '../sd-card.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `t_e2e_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const tmp = tempDir('lifeline-ro-card-');
const ADMIN = 'ro-card-admin-token';
const GW = 'gw-ro';
let cloud: Cloud;
let sim: TcpSimulator | undefined;
let gate: Server | undefined;
const agents: Agent[] = [];

/** The box's link to the cloud: refuses connections until opened, then forwards them to the broker. */
async function startGate(to: () => number): Promise<{ port: number; open(): void }> {
  let open = false;
  const socks = new Set<Socket>();
  gate = createServer((s) => {
    if (!open) return void s.destroy();
    const up = createConnection({ host: '127.0.0.1', port: to() });
    for (const x of [s, up]) {
      socks.add(x);
      x.on('error', () => {}).on('close', () => (socks.delete(x), s.destroy(), up.destroy()));
    }
    s.pipe(up).pipe(s);
  });
  const port = await freePort();
  await new Promise<void>((r) => gate!.listen(port, '127.0.0.1', r));
  gate.on('close', () => socks.forEach((x) => x.destroy()));
  return { port, open: () => void (open = true) };
}

async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${cloud.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await res.json()) as T;
}

beforeAll(async () => {
  await requireService('PostgreSQL', '127.0.0.1', 5432);
  cloud = await startCloud({ log: testLog, port: 0, dbPath: join(tmp.dir, 'unused.db'), databaseUrl: DATABASE_URL, databaseSchema: schema, adminToken: ADMIN });
});

afterAll(async () => {
  for (const a of agents) await a.stop().catch(() => {});
  await sim?.close();
  gate?.close();
  await cloud?.close();
  const admin = new PgStore({ url: DATABASE_URL, poolSize: 1 });
  await admin.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.close();
  unmountCards();
  tmp.cleanup();
});

describe('an SD card gone read-only with a backlog on it (agent, ext4 loop card, cloud on PostgreSQL)', () => {
  it('sends what the card holds, and a reboot resends it as duplicates: nothing lost, nothing doubled', async () => {
    const { token } = await api<{ token: string }>('POST', '/api/v1/enrolments', { note: 'read-only card' });
    const res = await fetch(`${cloud.apiUrl}/api/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, gateway: GW }) });
    const { mqtt: login } = (await res.json()) as { mqtt: { username: string; password: string } };
    const link = await startGate(() => Number(new URL(cloud.brokerUrl).port));
    sim = await startTcpSimulator({ devices: [new SimulatedDevice(loadProfile('flood-gauge'), 1)] });
    const card = mountCard();
    const config = validateConfig(
      {
        gateway: { id: GW },
        buses: [{ name: 'site-lan', link: 'tcp', host: '127.0.0.1', port: sim.port, timeoutMs: 1000, devices: [{ id: 'flood-1', profile: 'flood-gauge', unit: 1, pollMs: 100 }] }],
        buffer: { path: join(card.dir, 'buffer.db') },
        sync: { transport: 'mqtt', url: `mqtt://127.0.0.1:${link.port}`, intervalMs: 100, batchMaxReadings: 100, ...login },
      },
      'read-only card test',
    );
    const run = async () => {
      const agent = new Agent(config, testLog);
      agents.push(agent);
      await agent.start();
      return agent;
    };

    // 1. Link down: a backlog builds; the kernel's writeback puts it on the card; the card fails.
    let agent = await run();
    await waitFor(() => agent.buffer.lastWritten('telemetry') >= 400, 30_000, 'a backlog of 400 readings');
    execFileSync('sync', ['-f', card.dir]);
    card.trip();
    await waitFor(() => agent.buffer.diskState().full, 10_000, 'the agent to see the card fail');
    const held = agent.buffer.lastWritten('telemetry');
    await waitFor(() => agent.buffer.diskState().droppedReadings > 0, 10_000, 'polling to go on (readings dropped and counted)');

    // 2. Link up: all of it reaches the cloud and is acknowledged.
    link.open();
    await waitFor(() => agent.buffer.ackedUpTo('telemetry') === held, 30_000, `the cloud to acknowledge all ${held} held readings`);
    // Every point's readings in the cloud, as `point ts` keys (a doubled reading shows as a repeated key).
    const stored = async () => {
      const keys: string[] = [];
      for (const point of ['water_level', 'rainfall', 'ponding_depth', 'battery_voltage', 'daily_rainfall', 'temperature']) {
        const rows = await api<{ ts: number }[]>('GET', `/api/v1/readings?gateway=${GW}&device=flood-1&point=${point}&from=0&to=${Date.now()}&limit=100000`);
        keys.push(...rows.map((r) => `${point} ${r.ts}`));
      }
      return keys;
    };
    const before = await stored();
    expect({ stored: before.length, distinct: new Set(before).size }).toEqual({ stored: held, distinct: held });
    await agent.stop();

    // 2b. A restart while the card is still read-only (a watchdog, a technician): the agent runs from memory
    // under a new epoch (polling, alarms, live data), and the cloud hears why.
    agent = await run();
    expect(agent.buffer.inMemory).toBe(true);
    await waitFor(async () => (await stored()).length >= held + 20, 30_000, 'live readings from the agent running in memory');
    await agent.stop();
    await sim.close();
    sim = undefined;
    // What the cloud took from the run in memory, once the last batches in flight have been committed.
    let fromMemory = await stored();
    await waitFor(async () => {
      await new Promise((r) => setTimeout(r, 1000));
      const now = await stored();
      const settled = now.length === fromMemory.length;
      fromMemory = now;
      return settled;
    }, 15_000, 'the cloud to commit the last batches from memory');
    expect(new Set(fromMemory).size).toBe(fromMemory.length);

    // 3. fsck and a reboot: the card's saved cursor is behind what the cloud has; the resends are duplicates.
    card.reboot();
    agent = await run();
    expect(agent.buffer.ackedUpTo('telemetry')).toBeLessThan(held);
    expect(agent.buffer.lastWritten('telemetry')).toBe(held);
    await waitFor(() => agent.buffer.ackedUpTo('telemetry') === held, 30_000, 'the resends to be acknowledged as duplicates');
    expect(agent.buffer.backlog('telemetry').depth).toBe(0);
    expect(await stored()).toEqual(fromMemory);
    const gw = await api<{ sync: { faulty: boolean; rejects: number } }>('GET', `/api/v1/gateways/${GW}`);
    expect(gw.sync).toMatchObject({ faulty: false, rejects: 0 });
  }, 120_000);
});
