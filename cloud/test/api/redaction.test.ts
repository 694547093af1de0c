/**
 * Least privilege on commands and configs: an operator reads the audit trail
 * but not config bodies or a config's errors; nobody, admin included, reads a
 * secret through any route; a config read back with `[redacted]` secrets can
 * be pushed back unchanged (the gateway keeps its own login), and a push that
 * names another login is refused without echoing it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from './helpers.js';

const SECRET = 'hunter2-sync-password';
const KEY_SECRET = 'pem-private-key-material';
const ERROR_DETAIL = 'keys/gw-r.pem line 1';
let t: TestCloud;
let configCommand: number;
let alarmId: number;

const config = (password: string | undefined = SECRET) => ({
  gateway: { id: 'gw-r', name: 'pump house' },
  buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: 5020, devices: [{ id: 'flood-r', profile: 'flood-gauge', unit: 1 }] }],
  buffer: { path: 'edge.db' },
  sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:1883', username: 'gw-r', ...(password !== undefined ? { password } : {}) },
});

beforeAll(async () => {
  t = await testCloud();
  await t.cloud.store.registry.saveGatewayStatus({ gateway: 'gw-r', online: true, ts: Date.now(), devices: [{ id: 'flood-r', profile: 'flood-gauge', points: [{ name: 'water_level', unit: 'm' }] }] });
  await t.cloud.store.telemetry.commitEvents({
    gateway: 'gw-r', firstSeq: 1, lastSeq: 1,
    events: [{ kind: 'alarm', seq: 1, alarmId: 'flood-r/water_level/threshold', device: 'flood-r', point: 'water_level', ts: Date.now(), from: 'normal', to: 'active_unacked', level: 3, detector: 'threshold', cause: 'high', value: 3 }],
  });
  alarmId = (await t.call('GET', '/api/v1/alarms', { as: 'viewer' })).json[0].id;
  expect((await t.call('POST', `/api/v1/alarms/${alarmId}/ack`, { as: 'operator', body: { comment: 'seen' } })).status).toBe(202);

  // Config commands holding a secret, as older clouds recorded them (the push route no longer takes a login): what is stored must never be read back.
  const push = async () => {
    const c = await t.cloud.commands.submit({ gateway: 'gw-r', type: 'config', alarm: null, body: { config: config() }, requestedBy: 'test-technician' });
    await t.cloud.store.commands.setDesiredConfig('gw-r', config(), 'test-technician', c.id, Date.now());
    return c.id;
  };
  configCommand = await push();
  // The gateway refuses it first, naming a file; then it runs it and reports what it runs, with a secret-named field.
  await t.cloud.commands.answer('gw-r', configCommand, { ok: false, message: 'refused', errors: [{ path: 'sync.tls.key', message: `not a PEM file: ${ERROR_DETAIL}` }] });
  await t.cloud.commands.answer('gw-r', await push(), { ok: true, message: 'applied', running: { ...config(), secret: KEY_SECRET } });
});
afterAll(async () => t.close());

describe('config bodies and answers by role', () => {
  it('shows an operator the command but not its config or its errors, and says so', async () => {
    const r = await t.call('GET', '/api/v1/commands?gateway=gw-r', { as: 'operator' });
    expect(r.status).toBe(200);
    const cmd = r.json.find((c: { id: number }) => c.id === configCommand);
    expect(cmd).toMatchObject({ type: 'config', status: 'failed', body: {}, answer: { ok: false, message: 'refused' }, withheld: ['body.config', 'answer.errors'] });
    expect(cmd.answer.errors).toBeUndefined();
    expect(r.text).not.toContain('pump house');
    expect(r.text).not.toContain(ERROR_DETAIL);
    // Alarm commands stay readable to the operator who sent them.
    expect(r.json.find((c: { type: string }) => c.type === 'alarm_ack')).toMatchObject({ body: { comment: 'seen' } });
  });

  it('shows a technician the config and its errors, with the password redacted', async () => {
    const r = await t.call('GET', '/api/v1/commands?gateway=gw-r', { as: 'technician' });
    const cmd = r.json.find((c: { id: number }) => c.id === configCommand);
    expect(cmd.body.config.sync).toEqual({ transport: 'mqtt', url: 'mqtt://127.0.0.1:1883', username: 'gw-r', password: '[redacted]' });
    expect(cmd.answer.errors).toEqual([{ path: 'sync.tls.key', message: expect.stringContaining('not a PEM file') }]);
    expect(cmd.withheld).toBeUndefined();
    const state = (await t.call('GET', '/api/v1/gateways/gw-r/config', { as: 'technician' })).json;
    expect(state.desired.sync.password).toBe('[redacted]');
    expect(state.running).toMatchObject({ secret: '[redacted]', sync: { password: '[redacted]' } });
  });

  it('lets no role read a secret through any GET route', async () => {
    const doc = (await t.call('GET', '/api/v1/openapi.json', { as: null })).json as { paths: Record<string, Record<string, { 'x-role': string; parameters: { name: string; in: string; required: boolean }[] }>> };
    let read = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      const op = ops.get;
      if (!op || path === '/api/v1/live' || path === '/api/v1/readings' || path === '/api/v1/readings.csv') continue;
      const url = path.replace('{id}', path.startsWith('/api/v1/alarms') ? String(alarmId) : 'gw-r');
      for (const as of ['viewer', 'operator', 'technician', 'admin'] as const) {
        const r = await t.call('GET', url, { as });
        if (r.status !== 200) continue;
        read++;
        expect([url, as, r.text.includes(SECRET), r.text.includes(KEY_SECRET)]).toEqual([url, as, false, false]);
      }
    }
    expect(read).toBeGreaterThan(40);
  });

  it('never echoes a login a config push names', async () => {
    const put = await t.call('PUT', '/api/v1/gateways/gw-r/config', { as: 'admin', body: config('another-password') });
    expect(put.status).toBe(400);
    expect(put.json.details).toContainEqual({ path: 'sync.password', message: "a pushed config may not change the gateway's MQTT login; re-enrol instead" });
    expect(put.text).not.toContain('another-password');
  });
});

describe('pushing back a config read from the API', () => {
  it('is taken as it is: [redacted] means the gateway keeps its own login', async () => {
    const running = (await t.call('GET', '/api/v1/gateways/gw-r/config', { as: 'technician' })).json.running;
    delete running.secret; // not a gateway config field: the test's stand-in for a secret the gateway reported
    running.gateway.name = 'pump house 2';
    const put = await t.call('PUT', '/api/v1/gateways/gw-r/config', { as: 'technician', body: running });
    expect(put.status).toBe(202);
    const stored = (await t.cloud.store.commands.getConfig('gw-r')).desired as ReturnType<typeof config>;
    expect(stored.sync.password).toBe('[redacted]');
    expect(stored.gateway.name).toBe('pump house 2');
    // Left out is the same as [redacted].
    const { password: _p, ...sync } = running.sync;
    expect((await t.call('PUT', '/api/v1/gateways/gw-r/config', { as: 'technician', body: { ...running, sync } })).status).toBe(202);
  });
});
