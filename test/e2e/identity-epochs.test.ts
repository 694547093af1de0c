/**
 * Trust boundaries with real parts, against one cloud on PostgreSQL:
 *   - two `lifeline run` processes, enrolled as two gateways, with the same
 *     device ids (the example's flood-1 / water-1 / lamp-1): their devices,
 *     readings and status stay apart, the shared ids are shown, and a status a
 *     gateway sends over the real broker cannot move the other's devices;
 *   - one gateway switched between two buffer files several times while
 *     readings flow: every reading it produced is in the cloud exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore, startCloud, type Cloud } from '@lifeline/cloud';
import { Agent, EdgeBuffer, validateConfig } from '@lifeline/edge';
import { SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';
import { topics, type Reading } from '@lifeline/shared';
import { requireService, tempDir, testLog, waitFor } from '../helpers.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `t_e2e_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const cli = resolve(import.meta.dirname, '../../edge/src/cli/main.ts');
const tmp = tempDir('lifeline-identity-');
const ADMIN = 'identity-admin-token';
let cloud: Cloud;
const sims: TcpSimulator[] = [];
const procs: ChildProcess[] = [];

async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${cloud.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as T };
}

/** Enrol a new gateway through the API as a technician and a box do. */
async function enrol(gateway: string): Promise<{ username: string; password: string }> {
  const t = await api<{ token: string }>('POST', '/api/v1/enrolments', { note: `box ${gateway}` });
  expect(t.status).toBe(201);
  const res = await fetch(`${cloud.apiUrl}/api/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: t.json.token, gateway }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { mqtt: { username: string; password: string } }).mqtt;
}

/** A site like the example's: the same three device ids, a flood gauge reading `level`. */
async function site(level: number): Promise<TcpSimulator> {
  const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1).inject({ kind: 'fixed', point: 'water_level', value: level });
  const sim = await startTcpSimulator({ devices: [flood, new SimulatedDevice(loadProfile('water-pressure-station'), 2), new SimulatedDevice(loadProfile('lamp-post-controller'), 3)] });
  sims.push(sim);
  return sim;
}

function config(gateway: string, port: number, login: { username: string; password: string }, buffer: string): Record<string, unknown> {
  return {
    gateway: { id: gateway },
    buses: [
      {
        name: 'site-lan', link: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000,
        devices: [
          { id: 'flood-1', profile: 'flood-gauge', unit: 1, pollMs: 200, location: { lon: 116.587, lat: 35.415, district: gateway === 'gw-a' ? '任城区' : '太白湖新区' } },
          { id: 'water-1', profile: 'water-pressure-station', unit: 2, pollMs: 500 },
          { id: 'lamp-1', profile: 'lamp-post-controller', unit: 3, pollMs: 1000 },
        ],
      },
    ],
    buffer: { path: buffer },
    sync: { transport: 'mqtt', url: cloud.brokerUrl, intervalMs: 100, ...login },
  };
}

beforeAll(async () => {
  await requireService('PostgreSQL', '127.0.0.1', 5432);
  cloud = await startCloud({ log: testLog, port: 0, dbPath: join(tmp.dir, 'unused.db'), databaseUrl: DATABASE_URL, databaseSchema: schema, adminToken: ADMIN });
});

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  for (const s of sims) await s.close();
  await cloud?.close();
  const admin = new PgStore({ url: DATABASE_URL, poolSize: 1 });
  await admin.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.close();
  tmp.cleanup();
});

type Device = { id: string; gateway: string; online: boolean; lastReadingTs: number | null; sameIdOn: string[]; kind: string | null; location: { district?: string } | null };

describe('two gateways with the same device ids (lifeline run ×2, PostgreSQL)', () => {
  it('keeps each site its own: devices, readings, status; the shared ids are shown', async () => {
    const logins: Record<string, { username: string; password: string }> = {};
    for (const [gw, level] of [['gw-a', 1.111], ['gw-b', 2.222]] as const) {
      logins[gw] = await enrol(gw);
      const sim = await site(level);
      const dir = join(tmp.dir, gw);
      const file = join(dir, 'gateway.yaml');
      (await import('node:fs')).mkdirSync(dir, { recursive: true });
      writeFileSync(file, stringify(config(gw, sim.port, logins[gw], 'buffer.db')), { mode: 0o600 });
      const p = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), cli, 'run', '--config', file], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      p.on('exit', (code) => code && code !== 143 && testLog.error({ gw, code, err }, 'lifeline run exited'));
      procs.push(p);
    }
    // Both sites report: six devices, each id on two gateways.
    const devices = await waitFor(
      async () => {
        const d = (await api<Device[]>('GET', '/api/v1/devices')).json;
        return d.length === 6 && d.every((x) => x.lastReadingTs !== null && x.online) ? d : null;
      },
      30_000,
      'six devices reporting from two gateways',
    );
    for (const x of devices) expect(x.sameIdOn).toEqual([x.gateway === 'gw-a' ? 'gw-b' : 'gw-a']);
    expect(devices.filter((x) => x.id === 'flood-1').map((x) => [x.gateway, x.location?.district])).toEqual([['gw-a', '任城区'], ['gw-b', '太白湖新区']]);

    // Readings never interleave: each gateway's flood-1 holds only its own site's level.
    const now = Date.now();
    for (const [gw, level] of [['gw-a', 1.111], ['gw-b', 2.222]] as const) {
      const rows = await waitFor(
        async () => {
          const r = (await api<{ value: number }[]>('GET', `/api/v1/readings?gateway=${gw}&device=flood-1&point=water_level&from=${now - 60_000}&to=${Date.now()}`)).json;
          return r.length >= 5 ? r : null;
        },
        10_000,
        `five readings of ${gw}'s flood-1`,
      );
      expect(new Set(rows.map((r) => r.value))).toEqual(new Set([level]));
    }
    expect((await api('GET', `/api/v1/readings?device=flood-1&point=water_level`)).status).toBe(409);

    // gw-b, logged in as itself on the real broker, claims flood-1 is a gas detector "Nowhere": only its own flood-1 changes.
    const c = await mqtt.connectAsync(cloud.brokerUrl, { ...logins['gw-b'], clientId: 'gw-b-forger', clean: true });
    await c.publishAsync(topics.status('gw-b'), JSON.stringify({ gateway: 'gw-b', online: true, ts: Date.now(), devices: [{ id: 'flood-1', profile: 'gas-detector', kind: 'gas', location: { lon: 1, lat: 1, district: 'Nowhere' } }] }), { qos: 1 });
    await waitFor(async () => (await api<Device[]>('GET', '/api/v1/devices')).json.some((x) => x.gateway === 'gw-b' && x.kind === 'gas'), 5000, 'gw-b’s own flood-1 changed');
    await c.endAsync();
    const a = (await api<Device[]>('GET', '/api/v1/devices')).json.find((x) => x.gateway === 'gw-a' && x.id === 'flood-1')!;
    expect(a).toMatchObject({ kind: 'flood', location: { district: '任城区' } });

    // gw-b stops: its devices go offline, gw-a's stay online.
    procs[1].kill('SIGTERM');
    await waitFor(async () => (await api<Device[]>('GET', '/api/v1/devices')).json.filter((x) => x.gateway === 'gw-b').every((x) => !x.online), 15_000, 'gw-b offline');
    const after = (await api<Device[]>('GET', '/api/v1/devices')).json;
    expect(after.filter((x) => x.gateway === 'gw-a').every((x) => x.online)).toBe(true);
    procs[0].kill('SIGTERM');
  }, 90_000);
});

describe('one gateway switched between two buffer files while readings flow', () => {
  it('loses nothing and doubles nothing: each buffer epoch is its own seq space', async () => {
    const login = await enrol('gw-e');
    const sim = await site(0.5);
    const produced = new Map<string, number>();
    const key = (r: Pick<Reading, 'device' | 'point' | 'ts'>) => `${r.device}\0${r.point}\0${r.ts}`;
    const buffers = [join(tmp.dir, 'e-card-1.db'), join(tmp.dir, 'e-card-2.db')];
    const run = async (buffer: string, ms: number) => {
      const agent = new Agent(validateConfig(config('gw-e', sim.port, login, buffer), 'switch test'), testLog);
      // Every reading the buffer kept (the sync contract starts there).
      const append = agent.buffer.append.bind(agent.buffer);
      agent.buffer.append = (batch) => {
        const n = append(batch);
        for (const r of batch) produced.set(key(r), (produced.get(key(r)) ?? 0) + 1);
        return n;
      };
      await agent.start();
      await new Promise((r) => setTimeout(r, ms));
      await agent.stop(); // with whatever is still unsent: it goes when this buffer runs again
      // What the file still holds unsent, read after the stop (a poll may land between a count and the stop).
      const file = new EdgeBuffer(buffer);
      const left = file.backlog('telemetry').depth;
      file.close();
      return left;
    };
    // Short runs leave backlogs behind in both files; each file's old epoch must still be taken.
    for (let i = 0; i < 6; i++) await run(buffers[i % 2], 600 + (i % 3) * 300);
    // Drain both with the site silenced: a running agent always holds its last partial second
    // unsent at a stop, so with devices answering a drain run could end on a backlog forever.
    sims.splice(sims.indexOf(sim), 1);
    await sim.close();
    for (const b of buffers) {
      let left = Infinity;
      for (let i = 0; i < 10 && left > 0; i++) left = await run(b, 1500);
      expect(left, `${b} still holds unsent readings after 10 drain runs`).toBe(0);
    }
    const stored = new Map<string, number>();
    for (const [device, point] of [['flood-1', 'water_level'], ['flood-1', 'ponding_depth'], ['water-1', 'pressure'], ['lamp-1', 'power']]) {
      const rows = (await api<{ ts: number }[]>('GET', `/api/v1/readings?gateway=gw-e&device=${device}&point=${point}&from=0&to=${Date.now()}&limit=100000`)).json;
      for (const r of rows) stored.set(key({ device, point, ts: r.ts }), (stored.get(key({ device, point, ts: r.ts })) ?? 0) + 1);
    }
    const producedHere = [...produced.keys()].filter((k) => stored.has(k) || /^(flood-1\0(water_level|ponding_depth)|water-1\0pressure|lamp-1\0power)\0/.test(k));
    const lost = producedHere.filter((k) => !stored.has(k));
    const doubled = [...stored.entries()].filter(([, n]) => n > 1);
    expect(producedHere.length).toBeGreaterThan(50);
    expect({ lost: lost.length, doubled: doubled.length }).toEqual({ lost: 0, doubled: 0 });
    expect([...stored.keys()].every((k) => produced.has(k))).toBe(true);
    const gw = (await api<{ sync: { faulty: boolean; rejects: number } }>('GET', '/api/v1/gateways/gw-e')).json;
    expect(gw.sync).toMatchObject({ faulty: false, rejects: 0 });
  }, 120_000);
});
