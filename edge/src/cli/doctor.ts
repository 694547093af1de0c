/**
 * `lifeline doctor`: what on this box would stop the agent, each with what to fix.
 *
 *   config ─▶ serial   each serial bus's device node: exists, a character device, readable and writable by this user (dialout)
 *          ─▶ clock    timedatectl (NTPSynchronized) ─else▶ chronyc tracking ─else▶ unknown
 *          ─▶ disk     statfs of the buffer's filesystem against buffer.diskBudgetBytes
 *          ─▶ broker   TCP connect to sync.url, then an MQTT CONNECT with the configured login / TLS files
 *          ─▶ certs    expiry of sync.tls.ca and sync.tls.cert
 *
 * Each check is one line: ok | warn | fail, what was found, and for warn/fail what to do.
 * Exit 1 when any check fails (a warning alone is exit 0); 2 for a bad config.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync, statfsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import type { GatewayConfig } from '../config/schema.js';
import { configOptions, load, type Common } from './alarms.js';
import { summary } from './commands.js';

/** The outcome of one check. */
export interface Finding {
  check: 'serial' | 'clock' | 'disk' | 'broker' | 'certs';
  status: 'ok' | 'warn' | 'fail';
  /** What was found. */
  message: string;
  /** What to do about it (warn and fail). */
  fix?: string;
}

const run = (cmd: string, args: string[]) =>
  new Promise<string | null>((done) => execFile(cmd, args, { timeout: 5000 }, (err, stdout) => done(err ? null : stdout)));

/** Serial buses: the device node exists, is a character device, and this user may read and write it. */
export async function checkSerial(config: Readonly<GatewayConfig>): Promise<Finding[]> {
  const serial = config.buses.filter((b) => b.link === 'rtu' || b.link === 'meter');
  if (!serial.length) return [{ check: 'serial', status: 'ok', message: 'no serial buses in the config' }];
  const user = userInfo().username;
  const groups = (await run('id', ['-Gn']))?.trim().split(/\s+/) ?? [];
  return serial.map((b): Finding => {
    const path = b.path!;
    if (!existsSync(path)) return { check: 'serial', status: 'fail', message: `bus ${b.name}: ${path} does not exist`, fix: 'plug in the RS-485 adapter, or set the bus path to one of ls /dev/serial/by-id/ /dev/ttyUSB* /dev/ttyS*' };
    if (!statSync(path).isCharacterDevice()) return { check: 'serial', status: 'fail', message: `bus ${b.name}: ${path} is not a serial device (not a character device)`, fix: 'set the bus path to the adapter\'s device node' };
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
      return { check: 'serial', status: 'ok', message: `bus ${b.name}: ${path} readable and writable by ${user}` };
    } catch {
      const inDialout = groups.includes('dialout');
      return {
        check: 'serial',
        status: 'fail',
        message: `bus ${b.name}: ${user} may not read and write ${path}${inDialout ? ' (already in dialout: log in again, or the node belongs to another group)' : ` (${user} is not in the dialout group)`}`,
        fix: inDialout ? `ls -l ${path} shows its group; add ${user} to it` : `sudo usermod -aG dialout ${user}, then log in again (the service's user: lifeline service install does it)`,
      };
    }
  });
}

/** Whether the clock is kept by NTP: timedatectl, else chrony, else unknown. */
export async function checkClock(): Promise<Finding> {
  const fix = 'enable NTP: sudo timedatectl set-ntp true (or install chrony); readings are stamped with this clock';
  const synced = await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
  if (synced !== null && synced.trim() === 'yes') return { check: 'clock', status: 'ok', message: 'synchronised (timedatectl: NTPSynchronized=yes)' };
  const chrony = await run('chronyc', ['tracking']);
  if (chrony !== null) {
    const leap = /Leap status\s*:\s*(.+)/.exec(chrony)?.[1].trim();
    if (leap === 'Normal') return { check: 'clock', status: 'ok', message: 'synchronised (chronyc tracking: leap status Normal)' };
    return { check: 'clock', status: 'warn', message: `not synchronised (chronyc tracking: leap status ${leap ?? 'unknown'})`, fix };
  }
  if (synced !== null) return { check: 'clock', status: 'warn', message: 'not synchronised (timedatectl: NTPSynchronized=no)', fix };
  return { check: 'clock', status: 'warn', message: 'unknown: neither timedatectl nor chronyc answers here', fix: 'check the clock is kept by NTP some other way; readings are stamped with this clock' };
}

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;

/** Free space on the buffer's filesystem against the buffer's disk budget. */
export function checkDisk(config: Readonly<GatewayConfig>): Finding {
  const path = config.buffer.path;
  if (path === ':memory:') return { check: 'disk', status: 'warn', message: 'buffer.path is :memory: — nothing survives a restart', fix: 'set buffer.path to a file' };
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  const total = fs.blocks * fs.bsize;
  const used = ['', '-wal'].reduce((n, s) => n + (existsSync(path + s) ? statSync(path + s).size : 0), 0);
  const budget = config.buffer.diskBudgetBytes;
  const where = `${dir}: ${mb(free)} free of ${mb(total)}; buffer uses ${mb(used)}`;
  if (free < Math.min(50e6, total * 0.02)) return { check: 'disk', status: 'fail', message: `${where}: nearly full`, fix: 'free space on that filesystem; the buffer stops storing readings when it is full' };
  if (budget === undefined) return { check: 'disk', status: 'warn', message: `${where}; no buffer.diskBudgetBytes: an outage fills the disk`, fix: `set buffer.diskBudgetBytes (e.g. ${Math.floor((free * 0.5) / 1e6) * 1e6}, half the free space)` };
  if (budget - used > free) return { check: 'disk', status: 'warn', message: `${where}; the budget ${mb(budget)} does not fit in what is free`, fix: `lower buffer.diskBudgetBytes to at most ${Math.floor((free + used) / 1e6) * 1e6} or free space` };
  return { check: 'disk', status: 'ok', message: `${where}; budget ${mb(budget)} fits` };
}

/** TCP connect to the broker, then an MQTT CONNECT with the configured login and TLS files. */
export async function checkBroker(config: Readonly<GatewayConfig>, timeoutMs = 5000): Promise<Finding> {
  const url = new URL(config.sync.url);
  const secure = url.protocol === 'mqtts:' || url.protocol === 'wss:';
  const port = Number(url.port || (url.protocol === 'ws:' ? 80 : url.protocol === 'wss:' ? 443 : secure ? 8883 : 1883));
  const host = url.hostname;
  const tcp = await new Promise<string | null>((done) => {
    const s = createConnection({ host, port });
    s.setTimeout(timeoutMs, () => (s.destroy(), done(`no answer within ${timeoutMs} ms`)));
    s.once('connect', () => (s.destroy(), done(null)));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
  if (tcp) return { check: 'broker', status: 'fail', message: `${host}:${port}: TCP connect failed (${tcp})`, fix: 'check sync.url, the network (ping, the 4G link) and that the broker runs; a firewall may block the port' };
  if (config.sync.transport === 'aws-iot') return { check: 'broker', status: 'ok', message: `${host}:${port}: TCP connect ok (AWS IoT: the MQTT login is checked by the agent)` };
  const { default: mqtt } = await import('mqtt');
  const tls = config.sync.tls;
  let files: Record<string, Buffer> = {};
  try {
    if (tls) files = { ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}), cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
  } catch (e) {
    return { check: 'broker', status: 'fail', message: `cannot read the TLS files: ${(e as Error).message}`, fix: 'check sync.tls paths and that this user may read them' };
  }
  // Its own client id: the agent's (lifeline-<gateway>) would throw the running agent off the broker.
  const client = mqtt.connect(config.sync.url, {
    clientId: `lifeline-doctor-${config.gateway.id}-${randomBytes(3).toString('hex')}`,
    username: config.sync.username,
    password: config.sync.password,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    ...(tls ? { ...files, rejectUnauthorized: true } : {}),
  });
  const refused = await new Promise<string | null>((done) => {
    client.once('connect', () => done(null));
    client.once('error', (e) => done(e.message));
    client.once('close', () => done('connection closed before CONNACK'));
  });
  client.end(true);
  const who = config.sync.username ? `as ${config.sync.username}` : 'without a login';
  if (refused) {
    return {
      check: 'broker',
      status: 'fail',
      message: `${host}:${port}: MQTT CONNECT ${who}${tls ? ' with the client certificate' : ''} failed (${refused})`,
      fix: /auth|password/i.test(refused)
        ? 'the login is wrong or revoked: run lifeline enroll again, or check sync.username / sync.password'
        : 'check sync.url\'s port and scheme (mqtts:// with sync.tls: the client certificate makes the connection TLS) and that the broker accepts this gateway',
    };
  }
  return { check: 'broker', status: 'ok', message: `${host}:${port}: MQTT CONNECT ${who}${tls ? ' with the client certificate' : ''} accepted` };
}

/** Days until the configured TLS certificates expire. */
export function checkCerts(config: Readonly<GatewayConfig>, now = Date.now()): Finding[] {
  const tls = config.sync.tls;
  if (!tls) return [{ check: 'certs', status: 'ok', message: 'no TLS files configured (sync.tls)' }];
  const day = 86_400_000;
  return (['ca', 'cert'] as const)
    .filter((k) => tls[k] !== undefined)
    .map((k): Finding => {
      const file = tls[k]!;
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(readFileSync(file));
      } catch (e) {
        return { check: 'certs', status: 'fail', message: `sync.tls.${k} ${file}: not a readable PEM certificate (${(e as Error).message})`, fix: `put the PEM file at ${file}` };
      }
      const end = Date.parse(cert.validTo);
      const days = Math.floor((end - now) / day);
      const what = `sync.tls.${k} ${file} (${cert.subject.replace(/\n/g, ', ')})`;
      const renew = k === 'cert' ? 'ask the cloud operator for a new client certificate (lifeline enroll again)' : 'install the broker\'s current CA certificate';
      if (end <= now) return { check: 'certs', status: 'fail', message: `${what} expired ${cert.validTo}`, fix: renew };
      if (days < 30) return { check: 'certs', status: 'warn', message: `${what} expires in ${days} day(s), ${cert.validTo}`, fix: renew };
      return { check: 'certs', status: 'ok', message: `${what} valid for ${days} more days` };
    });
}

/** The findings as lines: `ok   serial  …`, and `       fix: …` under warn and fail. */
export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `${f.status.padEnd(4)}  ${f.check.padEnd(6)}  ${f.message}${f.fix ? `\n              fix: ${f.fix}` : ''}`).join('\n');
}

/** Register `doctor` on the program. */
export function registerDoctor(program: Command): void {
  configOptions(program.command('doctor').description(summary('doctor')))
    .option('--json', 'one JSON object per finding: check, status, message, fix')
    .action(async (opts: Common) => {
      const { config } = load(opts).loaded;
      const findings = [...(await checkSerial(config)), await checkClock(), checkDisk(config), await checkBroker(config), ...checkCerts(config)];
      if (opts.json) for (const f of findings) console.log(JSON.stringify(f));
      else console.log(formatFindings(findings));
      const failed = findings.filter((f) => f.status === 'fail');
      if (failed.length) throw new LifelineError(ErrorCodes.LinkDown, `${failed.length} check(s) failed: ${failed.map((f) => f.check).join(', ')}`);
    });
}
