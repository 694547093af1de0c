/**
 * The cloud refuses a pushed config that would reach into the box (issue #11
 * items 3–5) before it is ever sent: the gateway refuses it again on its side
 * (test/e2e/config-apply.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from './helpers.js';

let t: TestCloud;
const running = {
  gateway: { id: 'gw-p' },
  buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: 5020, devices: [{ id: 'flood-1', profile: 'flood-gauge', unit: 1 }] }],
  buffer: { path: '/srv/lifeline/buffer.db' },
  sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:1883', username: 'gw-p', password: '[redacted]' },
};

beforeAll(async () => {
  t = await testCloud();
  await t.cloud.store.registry.saveGatewayStatus({ gateway: 'gw-p', online: true, ts: Date.now(), devices: [], config: running });
});
afterAll(async () => t.close());

describe('a pushed config is data, never a path into the box', () => {
  const push = (body: unknown) => t.call('PUT', '/api/v1/gateways/gw-p/config', { as: 'technician', body });
  const { buffer: _b, ...withoutBuffer } = running;

  it.each([
    ['deletes a file through the control socket', { ...withoutBuffer, alarms: { controlSocket: '/tmp/x/victim.txt' } }, 'alarms.controlSocket'],
    ['reads a file through a profile path', { ...withoutBuffer, buses: [{ ...running.buses[0], devices: [{ id: 'flood-1', profile: '/tmp/x/key.pem', unit: 1 }] }] }, 'buses[0].devices[0].profile'],
    ['climbs out of the data directory', { ...withoutBuffer, buses: [{ ...running.buses[0], devices: [{ id: 'flood-1', profile: '../../etc/passwd.yaml', unit: 1 }] }] }, 'buses[0].devices[0].profile'],
    ['moves the buffer', { ...running, buffer: { path: '/etc/hostname/buffer.db' } }, 'buffer.path'],
    ['changes the login', { ...running, sync: { ...running.sync, username: 'gw-other' } }, 'sync.username'],
  ])('refuses one that %s', async (_what, body, path) => {
    const r = await push(body);
    expect([r.status, r.json.error]).toEqual([400, 'CONFIG_INVALID']);
    expect(r.json.details.map((d: { path: string }) => d.path)).toContain(path);
    expect((await t.cloud.store.commands.listCommands({ gateway: 'gw-p', limit: 10 })).length).toBe(0);
  });

  it('takes the running config read back, unchanged, and one that leaves the buffer and login out', async () => {
    const state = (await t.call('GET', '/api/v1/gateways/gw-p/config', { as: 'technician' })).json;
    expect(state.running).toEqual(running);
    expect((await push(state.running)).status).toBe(202);
    const { password: _p, username: _u, ...sync } = running.sync;
    expect((await push({ ...withoutBuffer, sync })).status).toBe(202);
  });
});
