/**
 * `lifeline simulate`: serve simulated devices driven by a profile, so a
 * technician can try a new profile (with `lifeline read`) or a gateway
 * config before any field device is wired.
 *
 *   --tcp <port>           Modbus TCP; with --devices N each device on its own port (port, port+1, ...)
 *                          or, with --same-port, N units on one port (a serial server);
 *                          meters: one transparent serial server (a 4G DTU) in front of their bus
 *   --pty <path> --baud n  one RS-485 bus on a pty (socat), byte timing faithful to the baud;
 *                          N devices are units unit..unit+N-1 (meters: addresses from the unit)
 *   --fault <spec>         inject a fault into every device, e.g. silent:probability=0.1, slow:delayMs=300
 *   --sl651 <host:port>    SL 651 stations: connect OUT to a centre (a gateway's sl651-listen port) and
 *                          report every --every seconds, as field RTUs do; N stations get consecutive addresses
 *
 * Runs until Ctrl-C, then prints what it served.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { selfName, summary } from './commands.js';

interface SimulateOpts {
  profile: string[];
  tcp?: number;
  host: string;
  pty?: string;
  baud?: number;
  parity?: 'none' | 'even' | 'odd';
  unit: number;
  address?: string;
  devices: number;
  samePort?: boolean;
  rtuOverTcp?: boolean;
  fault: string[];
  seed?: number;
  sl651?: string;
  station?: string;
  every?: number;
}

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
    return n;
  };
}
const collect = (v: string, prev: string[]) => [...prev, v];

/** Register `simulate` on the program. */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(summary('simulate'))
    .requiredOption('-p, --profile <name|file>', 'profile to simulate (repeat for a mixed bus)', collect, [])
    .option('--tcp <port>', 'serve Modbus TCP on this port (0: any free port); meters: a transparent serial server', int('--tcp', 0, 65535))
    .option('--host <address>', 'address to listen on with --tcp', '127.0.0.1')
    .option('--pty <path>', 'serve a serial bus on a pty created at this path (needs socat)')
    .option('--baud <n>', 'baud rate of the pty bus (default: the profile\'s, else 9600)', int('--baud', 300, 921600))
    .option('--parity <p>', 'parity of the pty bus: even, odd or none (default: the profile\'s, else even)', (v: string) => {
      if (v !== 'even' && v !== 'odd' && v !== 'none') throw new InvalidArgumentError(`--parity must be even, odd or none, got ${JSON.stringify(v)}`);
      return v;
    })
    .option('--unit <n>', 'unit id of the first device (meters: address = unit, zero-padded)', int('--unit', 1, 247), 1)
    .option('--address <digits>', 'meter address of the first device (12 digits DL/T 645, 14 CJ/T 188)')
    .option('--devices <n>', 'how many devices to serve', int('--devices', 1, 5000), 1)
    .option('--same-port', 'with --tcp: serve all devices on one port as units unit, unit+1, ...')
    .option('--rtu-over-tcp', 'with --tcp: speak RTU framing over TCP (a transparent serial server)')
    .option('--fault <spec>', 'inject a fault into every device (repeatable): silent, exception:code=4, crc, slow:delayMs=300, frozen:point=x, spike:point=x,value=9, fixed:point=x,value=1, disconnect:forMs=5000', collect, [])
    .option('--seed <n>', 'seed of the simulated signals (default: each device\'s unit)', int('--seed', 0, 2 ** 31))
    .option('--sl651 <host:port>', 'SL 651 station profiles: connect to this centre (a gateway\'s sl651-listen port) and report, as a field RTU does')
    .option('--station <address>', 'with --sl651: station address of the first station, 10 hex digits (default 00 + the unit as 8 digits)')
    .option('--every <s>', 'with --sl651: seconds between timed reports (default: the profile\'s defaultPollMs)', int('--every', 1, 86400))
    .action(async (opts: SimulateOpts) => {
      const sim = await startSimulation(opts);
      for (const line of sim.lines) console.log(line);
      console.log('Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      const served = await sim.stop();
      console.log(`stopped; ${served} ${sim.counted ?? 'request(s) served'}.`);
    });
}

/** A running simulation: what to print, and how to stop it (resolves to the requests served). */
export interface Simulation {
  lines: string[];
  stop(): Promise<number>;
  /** What `stop` counts, when not requests served (stations count the reports they sent). */
  counted?: string;
}

/** Start what the options ask for. Bad options throw CONFIG_INVALID (exit 2). */
export async function startSimulation(opts: SimulateOpts): Promise<Simulation> {
  const bad = (msg: string) => new LifelineError(ErrorCodes.ConfigInvalid, msg);
  if (opts.sl651 !== undefined) return startSl651Stations(opts, bad);
  if ((opts.tcp === undefined) === (opts.pty === undefined)) throw bad('simulate: give exactly one of --tcp <port> or --pty <path>');
  if (opts.pty === undefined && (opts.baud !== undefined || opts.parity !== undefined)) throw bad('simulate: --baud and --parity apply to --pty only');
  // Loaded on demand, like the agent: other commands do not need the simulators.
  const { SimulatedDevice, loadProfile, lintProfile, formatLint, parseBehaviourSpec, startPtySimulator, startSerialServerSimulator, startTcpFleet, startTcpSimulator } = await import(
    '@lifeline/devices'
  );
  const profiles = opts.profile.map((p) => loadProfile(p));
  let faults;
  try {
    faults = opts.fault.map((f) => parseBehaviourSpec(f));
  } catch (e) {
    throw bad(`simulate: --fault ${(e as Error).message}`);
  }
  const lines: string[] = [];
  for (const p of profiles) {
    const issues = lintProfile(p);
    if (issues.length) lines.push(`profile ${p.id}: ${issues.length} lint warning(s) (it runs, but should not ship like this):\n  ${formatLint(issues).replace(/\n/g, '\n  ')}`);
  }
  const protocols = new Set(profiles.map((p) => p.protocol));
  if (protocols.size > 1) throw bad(`simulate: one bus speaks one protocol; these profiles speak ${[...protocols].join(' and ')}`);
  const protocol = profiles[0].protocol;
  if (protocol === 'sl651') throw bad(`simulate: ${profiles[0].id} is an SL 651 station: it reports to a centre, give --sl651 <host:port> (a gateway's sl651-listen port) instead of --tcp or --pty`);

  const devices = Array.from({ length: opts.devices }, (_, i) => {
    const profile = profiles[i % profiles.length];
    // Modbus TCP devices each on their own port keep one unit id; meters share one serial server.
    const sameUnit = opts.tcp !== undefined && !opts.samePort && protocol === 'modbus';
    const unit = sameUnit ? opts.unit : opts.unit + i;
    if (unit > 247) throw bad(`simulate: --unit ${opts.unit} + --devices ${opts.devices} runs past unit 247`);
    const address = i === 0 ? opts.address : undefined;
    const d = new SimulatedDevice(profile, unit, { seed: opts.seed !== undefined ? opts.seed + i : unit + i, address });
    for (const f of faults) d.inject(f);
    return d;
  });
  const what = (d: (typeof devices)[number]) =>
    `${d.profile.id} ${d.profile.protocol === 'modbus' ? `unit ${d.unit}` : `address ${d.address}`}`;

  if (opts.pty !== undefined) {
    const sim = await startPtySimulator({ devices, path: opts.pty, baud: opts.baud, parity: opts.parity });
    lines.push(
      `serial bus on ${opts.pty} at ${sim.line.baud} baud, parity ${sim.line.parity} (${sim.line.charMs.toFixed(3)} ms per character): ${devices.map(what).join(', ')}`,
      protocol === 'modbus'
        ? `read it with: ${selfName()} read --serial ${opts.pty} --baud ${sim.line.baud} --parity ${sim.line.parity} --unit ${devices[0].unit} --profile ${profiles[0].id}`
        : `read it with: ${selfName()} read --serial ${opts.pty} --baud ${sim.line.baud} --parity ${sim.line.parity} --address ${devices[0].address} --profile ${profiles[0].id}`,
    );
    return {
      lines,
      stop: async () => {
        await sim.close();
        return sim.line.stats.replies;
      },
    };
  }
  if (protocol !== 'modbus' && opts.rtuOverTcp) throw bad(`simulate: ${profiles[0].id} is a ${protocol} meter: --rtu-over-tcp is Modbus framing; meters on --tcp are served through a transparent serial server`);
  if (protocol !== 'modbus') {
    // Meters on TCP: a transparent serial server in front of their bus, as a 4G DTU is.
    const sim = await startSerialServerSimulator({ devices, port: opts.tcp, host: opts.host, baud: opts.baud, parity: opts.parity });
    lines.push(`serial server (${protocol}, transparent) on ${sim.host}:${sim.port}: ${devices.map(what).join(', ')}`);
    lines.push(`read it with: ${selfName()} read --tcp ${sim.host}:${sim.port} --address ${devices[0].address} --profile ${profiles[0].id}`);
    return {
      lines,
      stop: async () => {
        await sim.close();
        return sim.replies();
      },
    };
  }
  const framing = opts.rtuOverTcp ? ('rtu' as const) : ('mbap' as const);
  const label = framing === 'rtu' ? 'RTU over TCP' : 'Modbus TCP';
  if (opts.samePort || devices.length === 1) {
    const sim = await startTcpSimulator({ devices, port: opts.tcp, host: opts.host, framing });
    lines.push(`${label} on ${sim.host}:${sim.port}: ${devices.map(what).join(', ')}`);
    lines.push(`read it with: ${selfName()} read --${framing === 'rtu' ? 'rtu-over-tcp' : 'tcp'} ${sim.host}:${sim.port} --unit ${devices[0].unit} --profile ${profiles[0].id}`);
    return {
      lines,
      stop: async () => {
        await sim.close();
        return sim.served();
      },
    };
  }
  const fleet = await startTcpFleet({ devices, basePort: opts.tcp, host: opts.host, framing });
  const ports = fleet.ports;
  const contiguous = ports.every((p, i) => i === 0 || p === ports[i - 1] + 1);
  lines.push(
    `${label}: ${devices.length} devices (${[...new Set(profiles.map((p) => p.id))].join(', ')}), unit ${opts.unit} each, on ${opts.host} ports ${contiguous ? `${ports[0]}-${ports[ports.length - 1]}` : ports.join(',')}`,
  );
  return {
    lines,
    stop: async () => {
      const served = fleet.served();
      await fleet.close();
      return served;
    },
  };
}

/** SL 651 stations that connect to a centre and report (the push counterpart of the servers above). */
async function startSl651Stations(opts: SimulateOpts, bad: (msg: string) => LifelineError): Promise<Simulation> {
  if (opts.tcp !== undefined || opts.pty !== undefined) throw bad('simulate: --sl651 connects to a centre; --tcp and --pty serve a bus: give one or the other');
  const m = /^(.+):(\d{1,5})$/.exec(opts.sl651 ?? '');
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw bad(`simulate: --sl651 must be host:port, got ${JSON.stringify(opts.sl651)}`);
  if (opts.station !== undefined && !/^[0-9A-F]{10}$/.test(opts.station)) throw bad(`simulate: --station must be 10 upper-case hex digits, got ${JSON.stringify(opts.station)}`);
  if (opts.fault.length) throw bad('simulate: --fault applies to served devices, not to SL 651 stations');
  const { Sl651Station, loadProfile } = await import('@lifeline/devices');
  const profiles = opts.profile.map((p) => loadProfile(p));
  const notSl651 = profiles.find((p) => p.protocol !== 'sl651');
  if (notSl651) throw bad(`simulate: --sl651 simulates SL 651 stations; ${notSl651.id} speaks ${notSl651.protocol}`);
  const first = opts.station ? parseInt(opts.station.slice(2), 10) : opts.unit;
  const prefix = opts.station ? opts.station.slice(0, 2) : '00';
  if (opts.station && !/^\d{8}$/.test(opts.station.slice(2))) throw bad('simulate: with --devices, --station must end in 8 decimal digits to count from');
  const stations = Array.from({ length: opts.devices }, (_, i) => {
    const profile = profiles[i % profiles.length];
    if (profile.protocol !== 'sl651') throw bad(`simulate: ${profile.id} is not an SL 651 station`);
    return new Sl651Station({
      profile,
      station: `${prefix}${String(first + i).padStart(8, '0')}`,
      host: m[1],
      port: Number(m[2]),
      intervalMs: opts.every !== undefined ? opts.every * 1000 : undefined,
      seed: opts.seed !== undefined ? opts.seed + i : first + i,
    });
  });
  await Promise.all(stations.map((s) => s.start()));
  return {
    lines: [`SL 651 station(s) reporting to ${opts.sl651}: ${stations.map((s) => `${s.opts.profile.id} station ${s.opts.station}`).join(', ')}`],
    counted: 'report(s) sent',
    stop: async () => {
      await Promise.all(stations.map((s) => s.stop()));
      return stations.reduce((n, s) => n + s.sent, 0);
    },
  };
}
