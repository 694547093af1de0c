/**
 * Enrolment end to end: a technician makes a one-time token in the cloud;
 * `lifeline enroll` on the gateway spends it and writes the credentials into
 * the gateway config; the agent then syncs through the embedded broker,
 * which admits no anonymous client and pins the gateway to its own topics.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCloud } from '@lifeline/cloud';
import { Agent, loadConfig } from '@lifeline/edge';
import { SimulatedDevice, loadProfile, startTcpSimulator } from '@lifeline/devices';
import { main } from '../../edge/src/cli/main.js';
import { tempDir, testLog, waitFor } from '../helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

describe('lifeline enroll', () => {
  it('enrols a gateway whose agent then syncs with its own credentials', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const cloud = await startCloud({ log: testLog, port: 0, dbPath: join(tmp.dir, 'cloud.db'), adminToken: 'e2e-admin', brokerAllowAnonymous: false });
    cleanups.push(() => cloud.close());
    const sim = await startTcpSimulator({ devices: [new SimulatedDevice(loadProfile('flood-gauge'), 1)] });
    cleanups.push(() => sim.close());

    const configFile = join(tmp.dir, 'gateway.yaml');
    writeFileSync(
      configFile,
      `# the technician's notes stay
gateway:
  id: not-yet-enrolled # replaced by enroll
buses:
  - name: lan
    link: tcp
    host: 127.0.0.1
    port: ${sim.port}
    devices:
      - { id: enr-flood, profile: flood-gauge, unit: 1, pollMs: 200 }
buffer:
  path: edge.db
sync:
  transport: mqtt
  url: mqtt://127.0.0.1:1
  intervalMs: 100
`,
    );
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${cloud.apiUrl}${path}`, { ...init, headers: { authorization: 'Bearer e2e-admin', 'content-type': 'application/json', ...(init.headers ?? {}) } });
    const { token } = (await (await api('/api/v1/enrolments', { method: 'POST', body: JSON.stringify({ note: 'e2e' }) })).json()) as { token: string };

    const credentials = join(tmp.dir, 'credentials.json');
    const logged: string[] = [];
    const origLog = console.log;
    console.log = (...a: unknown[]) => void logged.push(a.join(' '));
    let code: number;
    try {
      code = await main(['node', 'lifeline', 'enroll', '--cloud', cloud.apiUrl, '--token', token, '--gateway', 'gw-enrolled', '--name', 'E2E box', '--out', credentials, '--config', configFile]);
    } finally {
      console.log = origLog;
    }
    expect(code).toBe(0);
    expect(logged[0]).toMatch(/enrolled as gw-enrolled/);
    const creds = JSON.parse(readFileSync(credentials, 'utf8'));
    expect(creds).toMatchObject({ gateway: 'gw-enrolled', mqtt: { url: cloud.brokerUrl, username: 'gw-enrolled' } });
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    const yaml = readFileSync(configFile, 'utf8');
    expect(yaml).toContain("# the technician's notes stay");
    // Edited in place: the comment keeps its column, the flow map and every other line stay as written.
    expect(yaml).toContain('  id: gw-enrolled      # replaced by enroll\n');
    expect(yaml).toContain(`      - { id: enr-flood, profile: flood-gauge, unit: 1, pollMs: 200 }\nbuffer:\n  path: edge.db\n`);
    expect(yaml).toContain(`password: ${creds.mqtt.password}`);
    // The config now holds the password: readable by the gateway's user only, whatever it was before.
    expect(statSync(configFile).mode & 0o777).toBe(0o600);

    // The token is spent: a second enrolment with it is bad input (exit 2).
    const errors: string[] = [];
    const origErr = console.error;
    console.error = (...a: unknown[]) => void errors.push(a.join(' '));
    try {
      expect(await main(['node', 'lifeline', 'enroll', '--cloud', cloud.apiUrl, '--token', token, '--out', join(tmp.dir, 'x.json')])).toBe(2);
    } finally {
      console.error = origErr;
    }
    expect(errors.join('\n')).toMatch(/refused the enrolment \(401/);

    const agent = new Agent(loadConfig(configFile), testLog);
    await agent.start();
    cleanups.push(() => agent.stop());
    await waitFor(
      async () => {
        const res = await api(`/api/v1/readings?device=enr-flood&point=water_level&from=0&to=${Date.now() + 60_000}`);
        return ((await res.json()) as unknown[]).length > 0;
      },
      15_000,
      'readings of the enrolled gateway',
    );
    const gw = (await (await api('/api/v1/gateways/gw-enrolled')).json()) as { name: string };
    expect(gw.name).toBe('E2E box');
  });
});
