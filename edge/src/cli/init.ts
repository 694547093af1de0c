/**
 * `lifeline init`: a commented gateway config for this box.
 *
 *   flags (--gateway, --broker, --bus, --device …) ─┐
 *   or prompts (@inquirer/prompts) when stdin is a  ─┴─▶ answers ─▶ renderConfig (YAML with comments)
 *   terminal and --gateway is not given                              ─▶ validateConfig (the agent's loader: field + value)
 *                                                                    ─▶ written 0600 | exit 2, nothing written
 *
 * It never overwrites a file unless --force; over a box's config it keeps the MQTT login
 * enroll wrote there (same gateway and broker). The result is checked exactly as
 * `lifeline run` will load it, so what init writes is what the agent accepts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { validateConfig } from '../config/load.js';
import { writeSecretFile } from '../config/write.js';
import { summary } from './commands.js';

/** One bus as init writes it. */
export interface InitBus {
  name: string;
  link: 'tcp' | 'rtu' | 'rtu-over-tcp';
  host?: string;
  port?: number;
  path?: string;
  baud?: number;
  devices: { id: string; profile: string; unit: number }[];
}

/** Everything init asks. */
export interface InitAnswers {
  gateway: string;
  name?: string;
  broker: string;
  username?: string;
  password?: string;
  buffer: string;
  diskBudgetBytes: number;
  buses: InitBus[];
}

const bad = (m: string) => new LifelineError(ErrorCodes.ConfigInvalid, m);
const q = (s: string) => JSON.stringify(s);

/** `name=tcp:host:port`, `name=rtu-over-tcp:host:port` or `name=rtu:/dev/ttyUSB0[:baud]`. */
export function parseBusSpec(spec: string): InitBus {
  const m = /^([A-Za-z0-9][A-Za-z0-9_-]*)=(tcp|rtu-over-tcp|rtu):(.+)$/.exec(spec);
  if (!m) throw bad(`--bus: expected name=tcp:host:port, name=rtu-over-tcp:host:port or name=rtu:/dev/ttyUSB0[:baud], got ${q(spec)}`);
  const [, name, link, rest] = m;
  if (link === 'rtu') {
    const [path, baud] = rest.split(/:(?=\d+$)/);
    return { name, link, path, ...(baud ? { baud: Number(baud) } : {}), devices: [] };
  }
  const hp = /^(.+):(\d+)$/.exec(rest);
  if (!hp) throw bad(`--bus ${name}: expected host:port after ${link}:, got ${q(rest)}`);
  return { name, link: link as InitBus['link'], host: hp[1], port: Number(hp[2]), devices: [] };
}

/** `id=profile@bus:unit`. */
export function parseDeviceSpec(spec: string): { bus: string; id: string; profile: string; unit: number } {
  const m = /^([^=]+)=([^@]+)@([^:]+):(\d+)$/.exec(spec);
  if (!m) throw bad(`--device: expected id=profile@bus:unit, e.g. flood-1=flood-gauge@cabinet:1, got ${q(spec)}`);
  return { id: m[1], profile: m[2], bus: m[3], unit: Number(m[4]) };
}

/** The config file's text: every section with a comment saying what it is and what to change. */
export function renderConfig(a: InitAnswers): string {
  const lines = [
    `# Gateway config written by lifeline init on ${new Date().toISOString().slice(0, 10)}.`,
    '# Check it with: lifeline check --config <this file>; add devices with: lifeline device add',
    '',
    '# Who this gateway is: the id is its MQTT topic prefix (lifeline enroll sets it).',
    'gateway:',
    `  id: ${a.gateway}`,
    ...(a.name ? [`  name: ${q(a.name)}`] : []),
    '',
    '# The RS-485 buses and network links, and the devices on each (one line per device).',
    'buses:',
  ];
  for (const b of a.buses) {
    lines.push(`  - name: ${b.name}`, `    link: ${b.link}`);
    if (b.link === 'rtu') {
      lines.push(`    path: ${b.path}          # the serial adapter; /dev/serial/by-id/... survives re-plugging`);
      lines.push(`    baud: ${b.baud ?? 9600}`);
    } else {
      lines.push(`    host: ${b.host}`, `    port: ${b.port}`);
    }
    lines.push('    timeoutMs: 1000           # reply timeout per request', '    devices:');
    for (const d of b.devices) lines.push(`      - { id: ${d.id}, profile: ${d.profile}, unit: ${d.unit} }`);
  }
  lines.push(
    '',
    '# Store-and-forward: readings wait here while the cloud is out of reach.',
    'buffer:',
    `  path: ${a.buffer}`,
    `  diskBudgetBytes: ${a.diskBudgetBytes}   # past it, old telemetry is thinned; alarms and events never`,
    '',
    '# The cloud broker (lifeline enroll sets the login; keep this file mode 600).',
    'sync:',
    '  transport: mqtt',
    `  url: ${a.broker}`,
    ...(a.username ? [`  username: ${q(a.username)}`] : []),
    ...(a.password ? [`  password: ${q(a.password)}`] : []),
    '',
  );
  return lines.join('\n');
}

interface InitOpts {
  out: string;
  force?: boolean;
  gateway?: string;
  name?: string;
  broker?: string;
  username?: string;
  password?: string;
  bus: string[];
  device: string[];
  buffer: string;
  diskBudget: string;
  dataDir?: string;
}

/** The answers from flags alone; every missing one named. */
function fromFlags(o: InitOpts): InitAnswers {
  const missing = [!o.gateway && '--gateway', !o.broker && '--broker', !o.bus.length && '--bus', !o.device.length && '--device'].filter(Boolean);
  if (missing.length) throw bad(`init without a terminal needs ${missing.join(', ')} (or run it in a terminal to be asked)`);
  const buses = o.bus.map(parseBusSpec);
  for (const spec of o.device) {
    const d = parseDeviceSpec(spec);
    const bus = buses.find((b) => b.name === d.bus);
    if (!bus) throw bad(`--device ${d.id}: no --bus named ${q(d.bus)}; the buses are ${buses.map((b) => b.name).join(', ')}`);
    bus.devices.push({ id: d.id, profile: d.profile, unit: d.unit });
  }
  return { gateway: o.gateway!, name: o.name, broker: o.broker!, username: o.username, password: o.password, buffer: o.buffer, diskBudgetBytes: Number(o.diskBudget), buses };
}

/** The answers from prompts, flags as defaults. */
async function fromPrompts(o: InitOpts): Promise<InitAnswers> {
  const [{ input, select, confirm, number, password }, { listProfiles }] = await Promise.all([import('@inquirer/prompts'), import('@lifeline/devices')]);
  const required = (v: string) => (v.trim() ? true : 'required');
  const gateway = await input({ message: 'Gateway id (letters, digits, - and _):', default: o.gateway, validate: (v) => /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(v) || 'letters, digits, - and _, starting with a letter or digit' });
  const name = await input({ message: 'Site name (optional):', default: o.name });
  const broker = await input({ message: 'Cloud broker URL:', default: o.broker ?? 'mqtts://', validate: (v) => /^(mqtts?|wss?|tcp):\/\/.+/.test(v) || 'mqtt://host:port or mqtts://host:port' });
  const username = await input({ message: 'MQTT username (empty: set later by lifeline enroll):', default: o.username });
  const pass = username ? await password({ message: 'MQTT password:', mask: '*' }) : '';
  const buses: InitBus[] = [];
  const profiles = listProfiles();
  do {
    const busName = await input({ message: 'Bus name:', default: buses.length ? `bus${buses.length + 1}` : 'cabinet', validate: required });
    const link = await select({
      message: 'How is it reached?',
      choices: [
        { name: 'rtu: RS-485 adapter on this box', value: 'rtu' as const },
        { name: 'tcp: Modbus TCP device or gateway', value: 'tcp' as const },
        { name: 'rtu-over-tcp: serial server or 4G DTU', value: 'rtu-over-tcp' as const },
      ],
    });
    const bus: InitBus = { name: busName, link, devices: [] };
    if (link === 'rtu') {
      bus.path = await input({ message: 'Serial device:', default: '/dev/ttyUSB0', validate: required });
      bus.baud = (await number({ message: 'Baud rate:', default: 9600, min: 300, max: 921600, required: true })) ?? 9600;
    } else {
      bus.host = await input({ message: 'Host:', validate: required });
      bus.port = (await number({ message: 'Port:', default: link === 'tcp' ? 502 : 4001, min: 1, max: 65535, required: true })) ?? 502;
    }
    do {
      const id = await input({ message: 'Device id:', validate: (v) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v) || 'letters, digits, . - and _' });
      const profile = await select({ message: 'Profile:', choices: profiles.map((p) => ({ name: p, value: p })), pageSize: 10 });
      const unit = (await number({ message: 'Unit id:', default: 1, min: 1, max: 247, required: true })) ?? 1;
      bus.devices.push({ id, profile, unit });
    } while (await confirm({ message: `Another device on ${busName}?`, default: false }));
    buses.push(bus);
  } while (await confirm({ message: 'Another bus?', default: false }));
  return { gateway, name: name || undefined, broker, username: username || undefined, password: pass || undefined, buffer: o.buffer, diskBudgetBytes: Number(o.diskBudget), buses };
}

/**
 * Re-commissioning (init --force over a box's config): the login `lifeline enroll` wrote into
 * the old file is kept when the new answers give none for the same gateway and broker, since
 * a new one needs a one-time token from the operations centre. Returns the username kept.
 */
function keepLogin(out: string, a: InitAnswers): string | undefined {
  if (a.username || a.password) return undefined;
  let old: { gateway?: { id?: unknown }; sync?: { url?: unknown; username?: unknown; password?: unknown } } | null;
  try {
    old = parse(readFileSync(out, 'utf8'));
  } catch {
    return undefined; // unreadable or not YAML: nothing to keep
  }
  const s = old?.sync;
  if (old?.gateway?.id !== a.gateway || s?.url !== a.broker || typeof s?.username !== 'string' || typeof s?.password !== 'string') return undefined;
  a.username = s.username;
  a.password = s.password;
  return s.username;
}

/** Register `init` on the program. */
export function registerInit(program: Command): void {
  const many = (v: string, prev: string[]) => [...prev, v];
  program
    .command('init')
    .description(summary('init'))
    .option('-o, --out <file>', 'where to write the config', 'gateway.yaml')
    .option('--force', 'overwrite the file if it exists')
    .option('--gateway <id>', 'gateway id (given: no prompts, every answer by flags)')
    .option('--name <text>', 'site name, e.g. 洸河路下穿通道')
    .option('--broker <url>', 'cloud broker URL, e.g. mqtts://iot.example.city:8883')
    .option('--username <name>', 'MQTT username (lifeline enroll can set it later)')
    .option('--password <text>', 'MQTT password')
    .option('--bus <name=link:target>', 'a bus, repeatable: cabinet=rtu:/dev/ttyUSB0:9600, lan=tcp:10.0.0.5:502, dtu=rtu-over-tcp:10.0.0.6:4001', many, [])
    .option('--device <id=profile@bus:unit>', 'a device, repeatable: flood-1=flood-gauge@cabinet:1', many, [])
    .option('--buffer <file>', 'the buffer database, relative to the config', 'lifeline.db')
    .option('--disk-budget <bytes>', 'disk the buffer may use', '268435456')
    .option('--data-dir <dir>', "the agent's data directory, as lifeline run will be given it (default: the config file's directory); the buffer must lie inside it")
    .action(async (opts: InitOpts) => {
      const out = resolve(opts.out);
      if (existsSync(out) && !opts.force) throw bad(`--out: ${out} exists; pass --force to overwrite it`);
      const interactive = opts.gateway === undefined && process.stdin.isTTY === true;
      const answers = interactive ? await fromPrompts(opts) : fromFlags(opts);
      const kept = existsSync(out) ? keepLogin(out, answers) : undefined;
      const text = renderConfig(answers);
      validateConfig(parse(text), `the config for ${out} (not written)`, dirname(out), { dataDir: resolve(opts.dataDir ?? dirname(out)) });
      writeSecretFile(out, text);
      console.log(`${out}: written (mode 600), ${answers.buses.reduce((n, b) => n + b.devices.length, 0)} device(s) on ${answers.buses.length} bus(es)`);
      if (kept) console.log(`${out}: kept the MQTT login ${kept} (sync.username, sync.password) of the config it replaces: the box stays enrolled`);
      console.log(`next: lifeline doctor --config ${opts.out}   then   lifeline run --config ${opts.out}`);
    });
}
