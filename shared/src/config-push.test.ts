import { describe, expect, it } from 'vitest';
import { mergePushedConfig, pushedConfigIssues } from './config-push.js';
import { redactSecrets } from './redact.js';

const running = {
  gateway: { id: 'gw-1' },
  buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: 502, devices: [{ id: 'd1', profile: 'profiles/own.yaml', unit: 1 }] }],
  buffer: { path: '/srv/lifeline/buffer.db' },
  alarms: { controlSocket: 'ctl.sock' },
  sync: { transport: 'mqtt', url: 'mqtt://cloud:1883', username: 'gw-1', password: 's3cret-pw', tls: { ca: 'ca.pem', cert: 'gw.crt', key: 'gw.key' } },
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reshape the config freely
const clone = () => structuredClone(running) as any;
const messages = (pushed: unknown, run: unknown = running) => pushedConfigIssues(pushed, run).map((i) => `${i.path}: ${i.message}`);

describe('pushedConfigIssues', () => {
  it('accepts the running config back unchanged, and redacted as the cloud shows it', () => {
    expect(messages(clone())).toEqual([]);
    expect(messages(redactSecrets(clone()))).toEqual([]);
  });

  it('accepts a config that leaves out the buffer and the login (the gateway keeps its own)', () => {
    const p = clone();
    delete p.buffer;
    delete p.sync.username;
    delete p.sync.password;
    delete p.sync.tls;
    expect(messages(p)).toEqual([]);
  });

  it('refuses moving the buffer, naming the field and both paths', () => {
    const p = clone();
    p.buffer.path = '/etc/hostname/buffer.db';
    expect(messages(p)).toEqual(['buffer.path: a pushed config may not move the buffer; change it on the box, got "/etc/hostname/buffer.db" (it runs "/srv/lifeline/buffer.db")']);
  });

  it('refuses a changed MQTT login or TLS identity without echoing the value', () => {
    const p = clone();
    p.sync.password = 'other-pw';
    p.sync.tls.key = 'stolen.key';
    const m = messages(p);
    expect(m).toEqual([
      "sync.password: a pushed config may not change the gateway's MQTT login; re-enrol instead",
      "sync.tls.key: a pushed config may not change the gateway's private key; re-enrol instead",
    ]);
    expect(m.join()).not.toContain('other-pw');
  });

  it('refuses absolute and .. paths in every path field, and allows relative ones', () => {
    const p = clone();
    p.alarms.controlSocket = '/tmp/x/victim.txt';
    p.buses[0].devices[0].profile = '/tmp/x/key.pem';
    p.buses[0].devices.push({ id: 'd2', profile: '../../etc/passwd.yaml', unit: 2 });
    p.buses[0].devices.push({ id: 'd3', profile: 'flood-gauge', unit: 3 });
    p.buses[0].devices.push({ id: 'd4', profile: 'site/pump.yaml', unit: 4 });
    p.sync.tls.ca = 'C:\\ca.pem';
    expect(messages(p).map((m) => m.split(':')[0])).toEqual(['alarms.controlSocket', 'sync.tls.ca', 'buses[0].devices[0].profile', 'buses[0].devices[1].profile']);
    expect(messages(p)[0]).toBe(`alarms.controlSocket: must be a path relative to the gateway's data directory, without "..": a pushed config cannot name files elsewhere, got "/tmp/x/victim.txt"`);
  });

  it('refuses a login when the running config is unknown, and a rename', () => {
    expect(messages({ ...clone(), buffer: undefined, sync: { url: 'mqtt://x:1', username: 'u' } }, null)[0]).toMatch(/^sync\.username: .*has not reported its config yet/);
    expect(messages({ ...clone(), gateway: { id: 'gw-2' } })).toEqual(['gateway.id: a gateway cannot rename itself: it is "gw-1", got "gw-2"']);
    expect(messages('buses: []')).toEqual([{ path: '', message: 'must be a whole gateway config (a mapping)' }].map((i) => `${i.path}: ${i.message}`));
  });
});

describe('mergePushedConfig', () => {
  it('fills in the buffer, the login and the TLS identity the push left out', () => {
    const p = clone();
    delete p.buffer;
    delete p.sync.username;
    delete p.sync.password;
    delete p.sync.tls;
    p.sync.url = 'mqtt://cloud:8883';
    const merged = mergePushedConfig(p, running) as typeof running;
    expect(merged.buffer).toEqual(running.buffer);
    expect(merged.sync).toEqual({ ...running.sync, url: 'mqtt://cloud:8883' });
    expect(p.buffer).toBeUndefined(); // not modified
  });

  it('puts the running value back wherever the push says [redacted]', () => {
    const merged = mergePushedConfig(redactSecrets(clone()), running);
    expect(merged).toEqual(running);
  });
});
