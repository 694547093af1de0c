/**
 * Pushed configs end to end (issue #11, "Trust boundaries"): a real agent
 * (runAgent, as `lifeline run`) on a Modbus TCP simulator, enrolled with a
 * real cloud (embedded broker, no anonymous login). Configs are submitted the
 * way the API does it (CommandCenter.submit) without the cloud's own push
 * check, so every refusal here is the gateway's.
 *
 *   refused (the box unchanged):   a control socket on someone's file, a profile that is a key,
 *                                  a moved buffer, a changed login, a serial "port" that is a file
 *   applied and kept:              no login in the push (the gateway keeps its own)
 *   applied and rolled back alone: a wrong broker port, a bus on a closed port
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startCloud, type Cloud } from '@lifeline/cloud';
import { loadConfig, runAgent, type RunningAgent } from '@lifeline/edge';
import { SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';
import { freePort, tempDir, testLog, waitFor } from '../helpers.js';

const GW = 'gw-cfgapply-a';
const WINDOW_MS = 3000;
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n';

const tmp = tempDir();
const data = join(tmp.dir, 'data'); // the agent's data directory
const outside = join(tmp.dir, 'elsewhere'); // files of other users
const file = join(data, 'gateway.yaml');
let cloud: Cloud;
let sim: TcpSimulator;
let running: RunningAgent;
let base: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- reshaped freely below
let original: string;

const mode = (f: string) => statSync(f).mode & 0o777;

/** Submit a config command as the API does and wait for the gateway's answer. */
async function push(config: unknown) {
  const cmd = await cloud.commands.submit({ gateway: GW, type: 'config', alarm: null, body: { config }, requestedBy: 'technician-7' });
  return waitFor(async () => {
    const c = await cloud.store.commands.getCommand(cmd.id);
    if (!c || c.status === 'pending') return undefined;
    // What the gateway answered, as a person reads it (the body is what we sent).
    const answer = c.answer as { message?: string; errors?: { path: string; message: string }[] };
    return { ...c, text: [answer.message, ...(answer.errors ?? []).map((e) => `${e.path}: ${e.message}`)].join('\n') };
  }, 15_000, `the answer to command ${cmd.id}`);
}

const answeringAgain = () => waitFor(() => running.agent.answering.has('fg-1') && running.agent.sync.reachedAt !== null, 15_000, 'the agent polling and synced');

beforeAll(async () => {
  mkdirSync(data);
  mkdirSync(outside);
  cloud = await startCloud({ log: testLog, port: 0, dbPath: join(tmp.dir, 'cloud.db'), brokerAllowAnonymous: false });
  sim = await startTcpSimulator({ devices: [new SimulatedDevice(loadProfile('flood-gauge'), 1)] });
  const { token } = await cloud.enrolment.createToken('t', 60_000, null);
  const r = await cloud.enrolment.enroll(token, { gateway: GW });
  base = {
    gateway: { id: GW },
    buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: sim.port, timeoutMs: 300, devices: [{ id: 'fg-1', profile: 'flood-gauge', unit: 1, pollMs: 200 }] }],
    buffer: { path: 'edge.db' },
    sync: { transport: 'mqtt', url: cloud.brokerUrl, username: r.mqtt.username, password: r.mqtt.password, intervalMs: 100 },
  };
  original = stringify(base);
  writeFileSync(file, original, { mode: 0o600 });
  running = await runAgent(loadConfig(file), testLog, { applyCheckMs: WINDOW_MS });
  await answeringAgain();
}, 30_000);

afterAll(async () => {
  await running?.stop();
  await sim?.close();
  await cloud?.close();
  tmp.cleanup();
});

describe('a config pushed from the cloud', () => {
  it('cannot delete a file outside the data directory through alarms.controlSocket', async () => {
    const victim = join(outside, 'victim.txt');
    writeFileSync(victim, 'precious');
    const a = await push({ ...base, alarms: { controlSocket: victim } });
    expect(a.status).toBe('failed'); // the cloud records a refusal as failed, with the gateway's reasons
    expect(a.answer).toMatchObject({ ok: false });
    expect(a.text).toContain('alarms.controlSocket');
    expect(a.text).toContain("a pushed config cannot name files elsewhere");
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    // Inside the data directory, a file that is not a socket is refused too: the agent would remove it.
    writeFileSync(join(data, 'notes.txt'), 'the technician\'s notes');
    const b = await push({ ...base, alarms: { controlSocket: 'notes.txt' } });
    expect(b.status).toBe('failed'); // the cloud records a refusal as failed, with the gateway's reasons
    expect(b.text).toMatch(/alarms\.controlSocket: .*notes\.txt exists and is not a socket/);
    expect(existsSync(join(data, 'notes.txt'))).toBe(true);
  });

  it('cannot read a file into the cloud through a device profile, and no answer quotes a file', async () => {
    writeFileSync(join(outside, 'key.pem'), KEY);
    const dev = (profile: string) => ({ ...base, buses: [{ ...base.buses[0], devices: [{ ...base.buses[0].devices[0], profile }] }] });
    const a = await push(dev(join(outside, 'key.pem')));
    expect(a.status).toBe('failed'); // the cloud records a refusal as failed, with the gateway's reasons
    expect(a.text).toContain('buses[0].devices[0].profile');
    // Inside the data directory a path is allowed, but what the file holds never comes back.
    writeFileSync(join(data, 'key.pem'), KEY, { mode: 0o600 });
    writeFileSync(join(data, 'secrets.yaml'), 'password: [hunter2-do-not-leak\n  api: {x\n', { mode: 0o600 });
    for (const profile of ['./key.pem', 'secrets.yaml', 'gateway.yaml']) {
      const b = await push(dev(profile));
      expect(b.status).toBe('failed'); // the cloud records a refusal as failed, with the gateway's reasons
      expect(b.text).toContain('buses[0].devices[0].profile');
      for (const secret of ['MIIEvQ', 'BEGIN PRIVATE', 'hunter2', base.sync.password]) expect(b.text).not.toContain(secret);
    }
    const c = await push(dev('secrets.yaml'));
    expect(c.text).toMatch(/not valid YAML or JSON \(line \d+, column \d+: /);
  });

  it('cannot move the buffer, change the login or open a file as a serial port', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...base, buffer: { path: '/etc/hostname/buffer.db' } }, /buffer\.path: a pushed config may not move the buffer; change it on the box, got "\/etc\/hostname\/buffer\.db"/],
      [{ ...base, buffer: { path: '/proc/nope/buffer.db' } }, /buffer\.path: a pushed config may not move the buffer/],
      [{ ...base, sync: { ...base.sync, password: 'guessed' } }, /sync\.password: a pushed config may not change the gateway's MQTT login; re-enrol instead/],
      [{ ...base, sync: { ...base.sync, username: 'gw-other' } }, /sync\.username: a pushed config may not change the gateway's MQTT login/],
      [{ ...base, buses: [{ name: 'rs485', link: 'rtu', path: '/etc/passwd', devices: base.buses[0].devices }] }, /buses\[0\]\.path: a pushed config may only name a serial device \(under \/dev\), got "\/etc\/passwd"/],
    ];
    for (const [config, reason] of cases) {
      const a = await push(config);
      expect(a.status).toBe('failed'); // the cloud records a refusal as failed, with the gateway's reasons
      expect(a.text).toMatch(reason);
      expect(a.text).not.toContain('guessed');
    }
    // Nothing changed on the box.
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(running.agent.loaded.config.sync.url).toBe(cloud.brokerUrl);
  });

  it('without the login keeps the gateway\'s own, is kept once it reaches the cloud and its bus, and is written 0600', async () => {
    const { username: _u, password: _p, ...noLogin } = base.sync;
    const a = await push({ ...base, sync: { ...noLogin, intervalMs: 150 } });
    expect(a.status).toBe('done');
    await waitFor(() => running.configApply?.result === 'confirmed', WINDOW_MS + 10_000, 'the apply confirmed');
    expect(running.configApply).toMatchObject({ result: 'confirmed', command: String(a.id) });
    expect(running.agent.loaded.config.sync.intervalMs).toBe(150);
    expect(running.agent.loaded.config.sync.password).toBe(base.sync.password);
    const written = readFileSync(file, 'utf8');
    expect(written).toContain('intervalMs: 150');
    expect(written).toContain(`password: ${base.sync.password}`);
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}.last-good`)).toBe(0o600);
    expect(readFileSync(`${file}.last-good`, 'utf8')).toBe(original);
    // The status carries the running config, redacted, and the outcome.
    const status = JSON.parse(running.agent.sync.statusMessage(true));
    expect(status.config.sync).toMatchObject({ username: GW, password: '[redacted]', intervalMs: 150 });
    expect(JSON.stringify(status)).not.toContain(base.sync.password);
    expect(status.configApply).toMatchObject({ result: 'confirmed' });
    base.sync.intervalMs = 150;
    original = written;
  }, 30_000);

  it('that loses the broker is rolled back by the gateway itself, and the cloud is told why', async () => {
    await answeringAgain();
    const closed = await freePort();
    const a = await push({ ...base, sync: { ...base.sync, url: `mqtt://127.0.0.1:${closed}` } });
    expect(a.status).toBe('done');
    const t0 = Date.now();
    await waitFor(() => running.configApply?.result === 'rolled_back', WINDOW_MS + 10_000, 'the rollback');
    expect(Date.now() - t0).toBeLessThan(WINDOW_MS + 5000);
    expect(running.configApply!.reason).toMatch(new RegExp(`did not reach the cloud within 3 s \\(broker mqtt://127\\.0\\.0\\.1:${closed}: `));
    expect(running.agent.loaded.config.sync.url).toBe(cloud.brokerUrl);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(mode(file)).toBe(0o600);
    const event = await waitFor(async () => (await cloud.store.telemetry.listEvents({ gateway: GW, limit: 100 })).find((e) => e.kind === 'event' && e.type === 'config_rolled_back'), 15_000, 'the rollback event in the cloud');
    expect(event).toMatchObject({ details: { command: String(a.id), reason: expect.stringMatching(/did not reach the cloud/) } });
    expect((event as { message: string }).message).toMatch(/rolled back to the last good config/);
    // What an operator reads in GET …/config: the failed apply and the config the box runs again.
    const state = await waitFor(async () => {
      const c = await cloud.store.commands.getConfig(GW);
      return c.answer?.status === 'rolled_back' ? c : null;
    }, 15_000, 'the rolled-back answer in the config state');
    expect(state.answer).toMatchObject({ command: a.id, ok: false, message: expect.stringMatching(/did not reach the cloud/) });
    expect(state.running).toMatchObject({ sync: { url: cloud.brokerUrl, password: '[redacted]' } });
  }, 40_000);

  it('that loses the bus is rolled back, while a bus already dead before is no reason to', async () => {
    await answeringAgain();
    const closed = await freePort();
    const deadBus = { name: 'spare', link: 'tcp', host: '127.0.0.1', port: closed, timeoutMs: 300, devices: [{ id: 'fg-9', profile: 'flood-gauge', unit: 9, pollMs: 200 }] };
    // A new bus with nothing answering yet is not a regression: kept.
    const ok = await push({ ...base, buses: [...base.buses, deadBus] });
    expect(ok.status).toBe('done');
    await waitFor(() => running.configApply?.command === String(ok.id) && running.configApply.result === 'confirmed', WINDOW_MS + 10_000, 'the apply with a new dead bus confirmed');
    // The working bus pointed at a closed port: rolled back.
    const bad = await push({ ...base, buses: [{ ...base.buses[0], port: closed }, deadBus] });
    expect(bad.status).toBe('done');
    await waitFor(() => running.configApply?.command === String(bad.id) && running.configApply.result === 'rolled_back', WINDOW_MS + 10_000, 'the rollback');
    expect(running.configApply!.reason).toBe('bus lan: no device answered within 3 s (under the last good config fg-1 did)');
    expect(running.agent.loaded.config.buses.map((b) => b.port)).toEqual([sim.port, closed]);
    const events = await waitFor(async () => {
      const evs = (await cloud.store.telemetry.listEvents({ gateway: GW, limit: 100 })).filter((e) => e.kind === 'event' && e.type === 'config_rolled_back');
      return evs.length >= 2 ? evs : undefined;
    }, 15_000, 'the second rollback event');
    expect(JSON.stringify(events)).toContain('bus lan: no device answered');
  }, 40_000);

  it('keeps the buffer and its WAL files 0600', () => {
    for (const f of ['edge.db', 'edge.db-wal', 'edge.db-shm']) expect(mode(join(data, f))).toBe(0o600);
  });
});
