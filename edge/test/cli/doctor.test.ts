/**
 * `lifeline doctor` through the real CLI against real things: a broker of its own
 * that wants a login (right and wrong password), a closed port, a missing serial
 * device, certificates made by openssl that expire soon or not, and the clock and
 * disk of this machine.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startMosquitto, tempDir } from '../../../test/helpers.js';
import { jsonLines, lifeline } from '../field/cli-run.js';

const tmp = tempDir();
let broker: Awaited<ReturnType<typeof startMosquitto>>;

function cert(name: string, days: number): string {
  const file = join(tmp.dir, `${name}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(tmp.dir, `${name}.key`), '-out', file, '-days', String(days), '-subj', `/CN=${name}`], { stdio: 'ignore' });
  return file;
}

function config(name: string, sync: string, extra = ''): string {
  const file = join(tmp.dir, `${name}.yaml`);
  writeFileSync(
    file,
    `gateway: { id: gw-doc }
buses:
  - name: cabinet
    link: rtu
    path: /dev/ttyLIFELINE-missing
    devices: [{ id: flood-1, profile: flood-gauge, unit: 1 }]
  - name: lan
    link: tcp
    host: 127.0.0.1
    port: 5020
    devices: [{ id: water-1, profile: water-pressure-station, unit: 2 }]
buffer: { path: edge.db${extra} }
sync: ${sync}
`,
  );
  return file;
}

beforeAll(async () => {
  const passwd = join(tmp.dir, 'passwd');
  execFileSync('mosquitto_passwd', ['-c', '-b', passwd, 'tech', 'right-password']);
  // Started as root, mosquitto reads its files as the mosquitto user.
  chmodSync(tmp.dir, 0o755);
  chmodSync(passwd, 0o644);
  broker = await startMosquitto(`allow_anonymous false\npassword_file ${passwd}\n`);
}, 30_000);

afterAll(async () => {
  await broker?.stop();
  tmp.cleanup();
});

describe('lifeline doctor', () => {
  it('reports each check as ok / warn / fail with what to fix, and exits 1 when one fails', async () => {
    cert('client', 10);
    cert('ca', 400);
    const file = config('good', `{ transport: mqtt, url: ${broker.url}, username: tech, password: right-password }`, ', diskBudgetBytes: 1048576');
    const r = await lifeline(tmp.dir, 'doctor', '--config', file, '--json');
    const f = jsonLines(r.stdout) as { check: string; status: string; message: string; fix?: string }[];
    expect(f.map((x) => x.check)).toEqual(['serial', 'clock', 'disk', 'broker', 'certs']);
    expect(f[0]).toMatchObject({ status: 'fail', message: 'bus cabinet: /dev/ttyLIFELINE-missing does not exist' });
    expect(f[0].fix).toContain('/dev/serial/by-id/');
    // This machine's clock: whatever it is, it is said, and a warning says what to do.
    expect(['ok', 'warn']).toContain(f[1].status);
    if (f[1].status === 'warn') expect(f[1].fix).toBeTruthy();
    expect(f[2]).toMatchObject({ status: 'ok' });
    expect(f[2].message).toMatch(/MB free of .*; budget 1\.0 MB fits/);
    expect(f[3]).toMatchObject({ status: 'ok', message: `127.0.0.1:${broker.port}: MQTT CONNECT as tech accepted` });
    expect(f[4]).toMatchObject({ status: 'ok', message: 'no TLS files configured (sync.tls)' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('1 check(s) failed: serial');

    const text = await lifeline(tmp.dir, 'doctor', '--config', file);
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/^fail  serial  bus cabinet: \/dev\/ttyLIFELINE-missing does not exist\n +fix: plug in the RS-485 adapter/);
    expect(text.stdout).toMatch(/\nok    broker  127\.0\.0\.1:\d+: MQTT CONNECT as tech accepted\n/);
  }, 60_000);

  it('says how long the TLS certificates have left', async () => {
    // The client certificate makes mqtt.js speak TLS: against this plain broker the connection fails, and says so.
    const file = config('tls', `{ transport: mqtt, url: ${broker.url}, username: tech, password: right-password, tls: { ca: ca.pem, cert: client.pem, key: client.key } }`);
    const f = jsonLines((await lifeline(tmp.dir, 'doctor', '--config', file, '--json')).stdout) as { check: string; status: string; message: string; fix?: string }[];
    expect(f.find((x) => x.check === 'broker')).toMatchObject({ status: 'fail' });
    expect(f.find((x) => x.check === 'broker')!.message).toContain('with the client certificate failed');
    expect(f.find((x) => x.check === 'broker')!.fix).toContain('mqtts://');
    f.splice(0, 4);
    expect(f[0].status).toBe('ok');
    expect(f[0].message).toMatch(/^sync\.tls\.ca .*ca\.pem \(CN=ca\) valid for 39\d more days$/);
    expect(f[1].status).toBe('warn');
    expect(f[1].message).toMatch(/^sync\.tls\.cert .*client\.pem \(CN=client\) expires in \d day\(s\)/);
    expect(f[1].fix).toContain('new client certificate');
  }, 60_000);

  it('fails the broker on a wrong password and on a closed port, saying what to fix', async () => {
    const wrong = config('wrong', `{ transport: mqtt, url: ${broker.url}, username: tech, password: wrong }`);
    const w = jsonLines((await lifeline(tmp.dir, 'doctor', '--config', wrong, '--json')).stdout).find((x) => x.check === 'broker')!;
    expect(w.status).toBe('fail');
    expect(w.message).toMatch(/MQTT CONNECT as tech failed \(.*(Not authorized|Bad username or password)/i);
    expect(w.fix).toContain('lifeline enroll');
    const port = await freePort();
    const closed = config('closed', `{ transport: mqtt, url: mqtt://127.0.0.1:${port} }`);
    const c = jsonLines((await lifeline(tmp.dir, 'doctor', '--config', closed, '--json')).stdout);
    expect(c.find((x) => x.check === 'broker')).toMatchObject({ status: 'fail', message: `127.0.0.1:${port}: TCP connect failed (ECONNREFUSED)` });
    expect(c.find((x) => x.check === 'certs')).toMatchObject({ status: 'ok', message: 'no TLS files configured (sync.tls)' });
    expect(c.find((x) => x.check === 'disk')).toMatchObject({ status: 'warn' });
    const bad = join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'gateway: { id: 7 }\n');
    expect((await lifeline(tmp.dir, 'doctor', '--config', bad)).status).toBe(2);
  }, 60_000);
});
