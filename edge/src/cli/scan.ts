/**
 * `lifeline scan`: find the units that answer on a bus. Each unit gets one
 * small read (holding register 0); an exception reply counts too (the device
 * is there, it just has nothing at 0). With `--baud auto` the common serial
 * settings are tried in turn until one finds units.
 *
 *   for each setting ─▶ for each unit ─▶ read 1 register ─▶ answers | exception (alive) | garbled | silent
 *                                          (progress bar on stderr; results on stdout)
 *   each unit found ─▶ function 43/14 read device identification (vendor, product code, revision) when it answers
 *   each unit found ─▶ every shipped Modbus profile's read plan ─▶ profiles whose every read answers
 *                      with values inside their points' ranges (most points first): the proposals
 *
 *   --meters dlt645|cjt188: a meter bus instead, searched by wildcard address reads (meter-scan.ts)
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ErrorCodes, LifelineError, isLifelineError } from '@lifeline/shared';
import { checkOneLink, commFailure, likelyCause, linkOptions, openLink, parseBaud, type LinkArgs } from './field.js';
import { summary } from './commands.js';

/** Serial settings tried by `--baud auto`, most common in the field first. */
export const COMMON_SETTINGS: readonly { baud: number; parity: 'none' | 'even' | 'odd' }[] = [
  { baud: 9600, parity: 'none' },
  { baud: 9600, parity: 'even' },
  { baud: 19200, parity: 'none' },
  { baud: 19200, parity: 'even' },
  { baud: 4800, parity: 'none' },
  { baud: 2400, parity: 'none' },
  { baud: 38400, parity: 'none' },
  { baud: 115200, parity: 'none' },
  { baud: 57600, parity: 'none' },
  { baud: 9600, parity: 'odd' },
];

/** Serial settings tried by `scan --meters … --baud auto`: meters almost always use even parity. */
export const METER_SETTINGS: readonly { baud: number; parity: 'none' | 'even' | 'odd' }[] = [
  { baud: 2400, parity: 'even' },
  { baud: 1200, parity: 'even' },
  { baud: 4800, parity: 'even' },
  { baud: 9600, parity: 'even' },
];

/** `1-247`, `1,3,10-20` → sorted unique unit ids. */
export function parseUnits(text: string): number[] {
  const units = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || lo > hi || lo < 0 || hi > 255) throw new InvalidArgumentError(`expected unit ids 0..255 like 1-247 or 1,3,10-20, got ${JSON.stringify(text)}`);
    for (let u = lo; u <= hi; u++) units.add(u);
  }
  return [...units].sort((a, b) => a - b);
}

/** A unit that answered. */
export interface FoundUnit {
  unit: number;
  /** `serial /dev/ttyUSB0 9600 8N1`, `tcp 10.0.0.5:502`. */
  where: string;
  /** registers: normal reply; exception: the device refused (but is there). */
  answer: 'registers' | 'exception';
  /** Holding register 0, or the exception's text. */
  detail: string;
  /** What the unit says it is (function 43/14), by object name (`vendor`, `product code`, `revision`, …); absent when it does not answer 43. */
  identification?: Record<string, string>;
  /** Shipped profiles whose every read this unit answers within range, most points first (--no-profiles: not tried). */
  profiles?: string[];
}

/**
 * The unit's basic device identification (function 43/14, code 01 from object 0, following
 * `more follows`), or undefined when it refuses function 43 or does not answer it in time.
 */
export async function identify(link: import('../links/link.js').ModbusLink, unit: number): Promise<Record<string, string> | undefined> {
  const [{ request }, { DEVICE_ID_OBJECTS }] = await Promise.all([import('../links/link.js'), import('@lifeline/shared/protocols')]);
  const out: Record<string, string> = {};
  let objectId = 0;
  // A unit that keeps saying "more follows" without moving on is cut off after a few rounds.
  for (let round = 0; round < 8; round++) {
    let res;
    try {
      res = await request(link, unit, { functionCode: 43, readDeviceId: 1, objectId });
    } catch (err) {
      if (isLifelineError(err) && err.code !== ErrorCodes.LinkDown) return Object.keys(out).length ? out : undefined;
      throw err;
    }
    if (!res || res.functionCode !== 43) return undefined;
    for (const o of res.objects) out[DEVICE_ID_OBJECTS[o.id] ?? `object 0x${o.id.toString(16).padStart(2, '0')}`] = o.value;
    if (!res.moreFollows || res.nextObjectId <= objectId) break;
    objectId = res.nextObjectId;
  }
  return out;
}

/** Shipped Modbus profiles whose every read `unit` answers with values inside their points' ranges, most points first. */
export async function proposeProfiles(link: import('../links/link.js').ModbusLink, unit: number): Promise<string[]> {
  const [{ listProfiles, loadProfile, isModbusProfile }, { planReads }, { decodePoint }, { request }, { wordsOf }] = await Promise.all([
    import('@lifeline/devices'),
    import('../poller/plan.js'),
    import('../poller/decode.js'),
    import('../links/link.js'),
    import('./read.js'),
  ]);
  const fc = { coil: 1, discrete: 2, holding: 3, input: 4 } as const;
  const matches: { id: string; points: number }[] = [];
  for (const name of listProfiles()) {
    const profile = loadProfile(name);
    if (!isModbusProfile(profile)) continue;
    let ok = true;
    for (const block of planReads(profile)) {
      let words: number[];
      try {
        words = wordsOf(await request(link, unit, { functionCode: fc[block.table], address: block.start, quantity: block.count }));
      } catch {
        ok = false;
        break;
      }
      ok = block.points.every(({ point, offset }) => {
        const v = decodePoint(point, words, offset);
        const range = (point as { range?: [number, number] }).range;
        return Number.isFinite(v) && (!range || (v >= range[0] && v <= range[1]));
      });
      if (!ok) break;
    }
    if (ok) matches.push({ id: profile.id, points: profile.points.length });
  }
  return matches.sort((a, b) => b.points - a.points).map((m) => m.id);
}

interface ScanOpts extends Omit<LinkArgs, 'baud'> {
  units: number[];
  profiles: boolean;
  baud?: string;
  json?: boolean;
  meters?: 'dlt645' | 'cjt188';
}

/** Register `scan` on the program. */
export function registerScan(program: Command): void {
  linkOptions(
    program
      .command('scan')
      .description(summary('scan'))
      .addOption(new Option('--units <list>', 'unit ids to try, e.g. 1-247 or 1,3,10-20').argParser(parseUnits).default(parseUnits('1-247'), '1-247'))
      .option('--no-profiles', 'do not try the shipped profiles on the units found')
      .addOption(new Option('--meters <protocol>', 'a meter bus: find DL/T 645 or CJ/T 188 meters by wildcard address reads (serial, or a serial server by --tcp)').choices(['dlt645', 'cjt188']))
      .option('--json', 'one JSON object per unit found'),
    'baud rate, or "auto" to try the common settings (default 9600)',
  ).action(async (opts: ScanOpts, cmd: Command) => {
    const auto = opts.baud === 'auto';
    const args: LinkArgs = { ...opts, baud: auto ? undefined : parseBaud(cmd, opts.baud) };
    checkOneLink(cmd, args);
    if (opts.meters) return scanMeters(args, opts.meters, auto, !!opts.json);
    if (auto && args.tcp) cmd.error('error: --baud auto applies to --serial and --rtu-over-tcp', { exitCode: 2 });
    const settings = auto ? COMMON_SETTINGS : [{ baud: args.baud ?? 9600, parity: args.parity ?? ('even' as const) }];
    const { found, garbled, tried } = await scan(args, opts.units, settings, !opts.json, opts.profiles);
    if (opts.json) for (const f of found) console.log(JSON.stringify(f));
    else {
      for (const f of found) {
        console.log(`unit ${String(f.unit).padStart(3)}  ${f.answer === 'registers' ? 'answers' : 'answers with an exception'}  ${f.detail}  (${f.where})`);
        if (f.identification) console.log(`          identifies as: ${Object.entries(f.identification).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        if (f.profiles) console.log(`          ${f.profiles.length ? `profiles that read within range: ${f.profiles.join(', ')}` : 'no shipped profile reads within range'}`);
      }
      for (const g of garbled) console.log(`unit ${String(g.unit).padStart(3)}  garbled reply  ${g.detail}  (${g.where})`);
      if (found.length) console.log(`${found.length} unit(s) found: ${found.map((f) => f.unit).join(', ')}`);
    }
    if (!found.length) {
      const range = opts.units.length === 1 ? `unit ${opts.units[0]}` : `units ${opts.units[0]}..${opts.units[opts.units.length - 1]}`;
      throw new LifelineError(
        ErrorCodes.DeviceTimeout,
        `no unit answered on ${tried.join(', ')} (${range}); likely cause: ${
          garbled.length
            ? 'replies were garbled: wrong baud rate or parity, or two devices share a unit id'
            : args.tcp
              ? 'no device behind this address, or the gateway\'s serial side is not wired'
              : 'wrong baud rate or parity (try --baud auto), A/B wires swapped, or the devices are unpowered'
        }`,
      );
    }
  });
}

/** `scan --meters`: each setting in turn until meters answer; one line (or JSON object) per meter. */
async function scanMeters(args: LinkArgs, protocol: 'dlt645' | 'cjt188', auto: boolean, json: boolean): Promise<void> {
  const [{ findMeters, noMeters }, { openMeterLink }] = await Promise.all([import('./meter-scan.js'), import('./field.js')]);
  const settings = auto ? METER_SETTINGS : [{ baud: args.baud, parity: args.parity }];
  const tried: string[] = [];
  const progress = !json && process.stderr.isTTY;
  for (const s of settings) {
    const link = await openMeterLink({ ...args, baud: s.baud, parity: s.parity }, protocol);
    tried.push(link.where);
    let result;
    try {
      result = await findMeters(link, protocol, { progress: progress ? (n, f) => process.stderr.write(`\rscanning ${link.where}: ${n} address read(s), ${f} meter(s) found `) : undefined });
    } catch (err) {
      throw commFailure(err, link);
    } finally {
      if (progress) process.stderr.write('\r\x1b[K');
      await link.close();
    }
    if (!result.found.length && !result.unresolved.length) continue;
    for (const m of result.found) {
      if (json) console.log(JSON.stringify(m));
      else console.log(`meter ${m.address}  answers its address read${m.meterType ? `  type ${m.meterType}` : ''}  (${m.where})`);
    }
    if (!json) console.log(`${result.found.length} meter(s) found in ${result.requests} address read(s)${result.found.length ? `: ${result.found.map((m) => m.address).join(', ')}` : ''}`);
    if (result.unresolved.length) {
      console.error(`warning: replies to ${result.unresolved.slice(0, 5).join(', ')}${result.unresolved.length > 5 ? ' …' : ''} stayed garbled: two meters with one address, or a noisy line (check termination)`);
    }
    if (result.found.length) return;
  }
  throw noMeters(protocol, tried.join(', '));
}

/** Try every unit under each setting; stop at the first setting that finds units. */
export async function scan(
  args: LinkArgs,
  units: number[],
  settings: readonly { baud: number; parity: 'none' | 'even' | 'odd' }[],
  progress: boolean,
  profiles = false,
): Promise<{ found: FoundUnit[]; garbled: { unit: number; where: string; detail: string }[]; tried: string[] }> {
  const [{ request }, cliProgress] = await Promise.all([import('../links/link.js'), import('cli-progress')]);
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'scanning {setting} |{bar}| {value}/{total} | found {found}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = units.length * settings.length;
  if (progress) bar.start(total, 0, { setting: '', found: 0 });
  const found: FoundUnit[] = [];
  const garbled: { unit: number; where: string; detail: string }[] = [];
  const tried: string[] = [];
  const probe = { functionCode: 3 as const, address: 0, quantity: 1 };
  let done = 0;
  try {
    for (const s of settings) {
      // Serial: enough for the 15 characters of request and reply plus a slow device's turnaround.
      const timeout = args.timeout ?? (args.tcp ? 300 : Math.max(100, Math.ceil((15 * 11 * 1000) / s.baud) + 60));
      const link = await openLink(args, { baud: s.baud, parity: s.parity, timeout });
      tried.push(link.where);
      if (progress) bar.update(done, { setting: link.where, found: found.length });
      try {
        for (const unit of units) {
          try {
            const res = await request(link, unit, probe);
            const reg = res && res.functionCode === 3 ? (res.data[0] << 8) | res.data[1] : 0;
            found.push({ unit, where: link.where, answer: 'registers', detail: `holding 0 = ${reg} (0x${reg.toString(16).toUpperCase().padStart(4, '0')})` });
          } catch (err) {
            if (!isLifelineError(err)) throw err;
            if (err.code === ErrorCodes.DeviceException) {
              found.push({ unit, where: link.where, answer: 'exception', detail: err.message.replace(/^.*: unit \d+ /, '') });
            } else if (err.code === ErrorCodes.FrameInvalid) {
              garbled.push({ unit, where: link.where, detail: `${err.message.replace(/^.* on [^:]+: /, '')}; ${likelyCause(err, link)}` });
            } else if (err.code === ErrorCodes.LinkDown) {
              throw commFailure(err, link);
            }
          }
          done++;
          if (progress) bar.update(done, { setting: link.where, found: found.length });
        }
        for (const f of found) {
          if (f.where !== link.where) continue;
          const id = await identify(link, f.unit);
          if (id) f.identification = id;
          if (profiles) f.profiles = await proposeProfiles(link, f.unit);
        }
      } finally {
        await link.close();
      }
      if (found.length) break;
    }
  } finally {
    if (progress) {
      bar.update(total, { found: found.length });
      bar.stop();
    }
  }
  return { found, garbled, tried };
}
