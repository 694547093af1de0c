/**
 * `lifeline device`: the devices of a gateway config, edited in place.
 *
 *   device list              ─▶ loadConfig ─▶ one line per device (bus, link, profile, unit/address, poll)
 *   device add|remove        ─▶ text ─appendYamlItem/removeYamlItem (yaml-edit.ts: comments kept)─▶ new text
 *                                 ─▶ validateConfig (every error: field + value) ─▶ written (0600, atomic) | exit 2, file untouched
 *   device test <id>         ─▶ the device's bus settings ─▶ readDevice (read.ts: every point once)
 *                                 ─▶ each value against its point's range in the profile ─▶ table | JSON lines
 *
 * The agent reads its config when it starts: after add/remove, restart it (`systemctl restart lifeline`).
 * Exit codes: 0 ok; 1 a device did not answer or a value is outside its range; 2 bad input or config.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import type { Profile } from '@lifeline/devices';
import { loadConfig, validateConfig, type LoadedConfig } from '../config/load.js';
import type { Bus } from '../config/schema.js';
import { writeSecretFile } from '../config/write.js';
import { YamlEditError, appendYamlItem, removeYamlItem } from '../config/yaml-edit.js';
import { configOptions, findConfig, table } from './alarms.js';
import { intIn, type LinkArgs } from './field.js';
import { summary } from './commands.js';
import { readDevice, type PointReading } from './read.js';

interface ConfigOpts {
  config?: string;
  dataDir?: string;
  json?: boolean;
}

const bad = (message: string) => new LifelineError(ErrorCodes.ConfigInvalid, message);

function configFile(opts: ConfigOpts): { file: string; dataDir?: string } {
  const { file, dataDir } = findConfig(opts.config);
  return { file: resolve(file), dataDir: opts.dataDir ?? dataDir };
}

/** Edit the config text, validate the result as the agent would load it, then write it; a bad result leaves the file as it was. */
function edit(opts: ConfigOpts, change: (text: string, raw: { buses?: { name?: string; devices?: { id?: string }[] }[] }) => string): LoadedConfig {
  const { file, dataDir } = configFile(opts);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw bad(`cannot read config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let out: string;
  let raw: unknown;
  try {
    out = change(text, (parse(text) ?? {}) as never);
    raw = parse(out);
  } catch (e) {
    if (e instanceof YamlEditError) throw bad(`${file}: cannot edit in place (${e.message}); edit it by hand`);
    throw e;
  }
  const loaded = validateConfig(raw, `${file} (after the edit; not written)`, dirname(file), { dataDir: dataDir ?? dirname(file) });
  writeSecretFile(file, out); // it may hold the MQTT password: 0600, and never half-written
  return { ...loaded, file };
}

function whereIs(raw: { buses?: { name?: string; devices?: { id?: string }[] }[] }, id: string): { bus: number; device: number } {
  for (const [b, bus] of (raw.buses ?? []).entries()) {
    const d = (bus.devices ?? []).findIndex((x) => x.id === id);
    if (d >= 0) return { bus: b, device: d };
  }
  throw bad(`device: no device ${JSON.stringify(id)} in the config (lifeline device list shows them)`);
}

/** How to reach a bus, as `read`'s connection options. */
export function linkArgsOf(bus: Readonly<Bus>): LinkArgs {
  const server = { host: bus.host ?? '', port: bus.port ?? 0 };
  const serial = { serial: bus.path, baud: bus.baud, parity: bus.parity, dataBits: bus.dataBits, stopBits: bus.stopBits };
  const timeout = bus.timeoutMs;
  switch (bus.link) {
    case 'tcp':
    case 'meter-over-tcp':
      return { tcp: server, timeout };
    case 'rtu-over-tcp':
      return { rtuOverTcp: server, timeout };
    case 'rtu':
    case 'meter':
      return { ...serial, timeout };
    default:
      throw bad(`buses ${bus.name}: link ${bus.link} is not polled (its stations report to the gateway): nothing to test`);
  }
}

/** Why a value is flagged: outside the point's range in the profile, or no value. */
export function flagOf(r: PointReading, range: readonly [number, number] | undefined): string {
  if (r.error) return `no value: ${r.error}`;
  if (r.value === null) return 'no value';
  if (range && (r.value < range[0] || r.value > range[1])) return `outside range ${range[0]}..${range[1]}`;
  if (r.quality) return r.quality;
  return '';
}

/** Register `device` and its subcommands on the program. */
export function registerDevice(program: Command): void {
  const device = program.command('device').description(summary('device'));
  const common = configOptions;

  common(device.command('list', { isDefault: true }).description('the devices of the config: bus, link, profile, unit or address, poll interval').option('--json', 'one JSON object per device')).action(
    (opts: ConfigOpts) => {
      const { file, dataDir } = configFile(opts);
      const { config, profiles } = loadConfig(file, { dataDir });
      const rows = config.buses.flatMap((b) =>
        b.devices.map((d) => ({ bus: b.name, link: b.link, id: d.id, profile: d.profile, unit: d.unit ?? null, address: d.address ?? d.station ?? null, pollMs: d.pollMs ?? profiles.get(d.id)?.defaultPollMs ?? null, name: d.name ?? null })),
      );
      if (opts.json) for (const r of rows) console.log(JSON.stringify(r));
      else
        console.log(
          table(
            ['BUS', 'LINK', 'DEVICE', 'PROFILE', 'UNIT/ADDRESS', 'POLL', 'NAME'],
            rows.map((r) => [r.bus, r.link, r.id, r.profile, String(r.unit ?? r.address ?? '-'), r.pollMs === null ? '-' : `${r.pollMs} ms`, r.name ?? '']),
          ),
        );
    },
  );

  common(
    device
      .command('add <id>')
      .description('add a device to a bus of the config (comments kept; validated before it is written)')
      .requiredOption('--bus <name>', 'the bus it is wired to (lifeline device list shows them)')
      .requiredOption('--profile <name|file>', 'shipped profile name, or a profile file relative to the config')
      .option('--unit <id>', 'Modbus: unit id', intIn(0, 247))
      .option('--address <digits>', 'meters: the address printed on the meter (12 or 14 digits)')
      .option('--station <hex>', 'SL 651 stations: the remote station address, 10 hex digits')
      .option('--poll-ms <ms>', 'poll interval (default: the profile\'s)', intIn(100, 86_400_000))
      .option('--name <text>', 'what people call it, e.g. 洸河路下穿通道积水监测'),
  ).action((id: string, opts: ConfigOpts & { bus: string; profile: string; unit?: number; address?: string; station?: string; pollMs?: number; name?: string }) => {
    const item: Record<string, string | number> = { id, profile: opts.profile };
    if (opts.unit !== undefined) item.unit = opts.unit;
    if (opts.address !== undefined) item.address = opts.address;
    if (opts.station !== undefined) item.station = opts.station;
    if (opts.pollMs !== undefined) item.pollMs = opts.pollMs;
    if (opts.name !== undefined) item.name = opts.name;
    const loaded = edit(opts, (text, raw) => {
      const b = (raw.buses ?? []).findIndex((x) => x.name === opts.bus);
      if (b < 0) throw bad(`--bus: no bus named ${JSON.stringify(opts.bus)} in the config; it has ${(raw.buses ?? []).map((x) => x.name).join(', ') || 'none'}`);
      return appendYamlItem(text, ['buses', b, 'devices'], item);
    });
    console.log(`${loaded.file}: added ${id} (${opts.profile}) to bus ${opts.bus}; restart the agent to poll it, and try it now with: lifeline device test ${id}`);
  });

  common(device.command('remove <id>').description('remove a device from the config (its line and the comment lines right above it)')).action((id: string, opts: ConfigOpts) => {
    const loaded = edit(opts, (text, raw) => {
      const at = whereIs(raw, id);
      const bus = raw.buses![at.bus]!;
      // The schema wants a device at least; say so here rather than "expected array, got null" after the edit.
      if (bus.devices!.length === 1)
        throw bad(
          `buses[${at.bus}].devices: ${id} is the only device on bus ${JSON.stringify(bus.name)} and a bus needs one at least; ` +
            `add its replacement first (lifeline device add <id> --bus ${bus.name} ...), edit its profile or unit in the file, or delete the bus`,
        );
      return removeYamlItem(text, ['buses', at.bus, 'devices'], at.device);
    });
    console.log(`${loaded.file}: removed ${id}; restart the agent for it to stop polling it`);
  });

  common(
    device
      .command('test <id>')
      .description("read every point of a configured device once, over its bus's settings, and flag values outside the profile's range (exit 1 when any is flagged)")
      .option('--json', 'one JSON object per point, with its range and flag'),
  ).action(async (id: string, opts: ConfigOpts) => {
    const { file, dataDir } = configFile(opts);
    const { config, profiles } = loadConfig(file, { dataDir });
    const bus = config.buses.find((b) => b.devices.some((d) => d.id === id));
    if (!bus) throw bad(`device: no device ${JSON.stringify(id)} in ${file} (lifeline device list shows them)`);
    const inst = bus.devices.find((d) => d.id === id)!;
    const profile = profiles.get(id)! as Readonly<Profile>;
    const rows = await readDevice({ ...linkArgsOf(bus), unit: inst.unit, address: inst.address, profile });
    const ranges = new Map(profile.points.map((p) => [p.name, (p as { range?: [number, number] }).range]));
    const checked = rows.map((r) => ({ ...r, range: ranges.get(r.point) ?? null, flag: flagOf(r, ranges.get(r.point)) }));
    if (opts.json) for (const r of checked) console.log(JSON.stringify(r));
    else {
      console.log(`${id} (${profile.id}) on bus ${bus.name}:`);
      console.log(
        table(
          ['POINT', 'VALUE', 'UNIT', 'RANGE', 'CHECK'],
          checked.map((r) => [r.point, r.value === null ? '-' : String(r.value), r.unit, r.range ? `${r.range[0]}..${r.range[1]}` : '-', r.flag || 'ok']),
        ),
      );
    }
    const flagged = checked.filter((r) => r.flag);
    if (flagged.length) throw new LifelineError(ErrorCodes.DeviceException, `${id}: ${flagged.length} of ${checked.length} point(s) flagged: ${flagged.map((r) => `${r.point} ${r.flag}`).join('; ')}`);
    if (!opts.json) console.log(`${id}: all ${checked.length} point(s) read, within range`);
  });
}
