/**
 * `pnpm bench tcp [--devices 500] [--seconds 10]`
 *
 * 500 simulated Modbus TCP devices, each on its own port, served by one fast
 * simulator process (startTcpFleet). Two pollers run against it, one after the
 * other, each in its own process so CPU and peak RSS are its own:
 *
 *   gateway   the agent's read path: one BusPoller + ModbusTcpLink per device (read plan,
 *             pipelined requests, decode to readings, readings handed to the event bus)
 *   baseline  bare modbus-serial: one client per device, the same block reads, no decoding
 *
 * Each polls every device once a second (30 points × 500 = 15,000 points/s, the load of
 * Neuron's published test), then flat-out. Prints, as its last line:
 *
 *   {"points_per_s":..,"registers_per_s":..,"baseline_registers_per_s":..,"flatout_ratio":..,
 *    "rss_mb":..,"baseline_rss_mb":..,"cpu_cores_at_15k":..,"baseline_cpu_cores_at_15k":..}
 *
 * points_per_s and registers_per_s are the gateway's flat-out figures; flatout_ratio =
 * registers_per_s / baseline_registers_per_s; CPU = the poller process's CPU time / wall
 * time during the 1 s phase; RSS = the poller process's peak.
 *
 *   bench (orchestrator) ──fork──▶ simulator (500 ports)
 *                        ──fork──▶ gateway poller ──┐  one after the other,
 *                        ──fork──▶ baseline poller ─┘  against the same simulator
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { SimulatedDevice, startTcpFleet } from '@lifeline/devices';
import { mixedProfile } from './_mixed-profile.js';
import { EventBus } from '../edge/src/events/event-bus.js';
import type { Bus } from '../edge/src/config/schema.js';
import { planReads } from '../edge/src/poller/plan.js';
import { BusPoller } from '../edge/src/poller/poller.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

/** What a poller child reports. */
interface PollerReport {
  at15k: { points_per_s: number; registers_per_s: number; cpu_cores: number };
  flat: { points_per_s: number; registers_per_s: number };
  rss_mb: number;
}

const role = args[0];
if (role === '--sim-child') {
  const n = Number(args[1]);
  const profile = mixedProfile();
  const fleet = await startTcpFleet({ devices: Array.from({ length: n }, (_, i) => new SimulatedDevice(profile, 1, { seed: i + 1 })) });
  process.on('message', (m: string) => {
    if (m === 'stop') void fleet.close().then(() => process.exit(0));
  });
  process.send!({ ports: fleet.ports });
} else if (role === '--poller-child') {
  const kind = args[1] as 'gateway' | 'baseline';
  const seconds = Number(args[2]);
  process.once('message', (m: { ports: number[] }) => {
    void (kind === 'gateway' ? gateway(m.ports, seconds) : baseline(m.ports, seconds)).then((report) => {
      process.send!(report, () => process.exit(0));
    });
  });
  process.send!('ready');
} else {
  await main();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU cores used between two cpuUsage() samples over `wallMs`. */
function cores(from: NodeJS.CpuUsage, wallMs: number): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000 / wallMs;
}

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

/** The agent's read path, one BusPoller (and link) per device. */
async function gateway(ports: number[], seconds: number): Promise<PollerReport> {
  const profile = mixedProfile();
  const log = pino({ level: 'silent' });
  const events = new EventBus(log);
  let points = 0;
  let registers = 0;
  const perPoll = planReads(profile).reduce((n, b) => n + b.count, 0);
  // The pipeline's input: count what arrives.
  events.on('readings', (batch) => {
    points += batch.length;
    registers += perPoll;
  });
  const profiles = new Map([['dev', profile]]);
  const pollers = (pollMs: number | undefined) =>
    ports.map((port) => {
      const bus = { name: `d${port}`, link: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000, devices: [{ id: 'dev', profile: profile.id, unit: 1 }] } as Bus;
      return new BusPoller(bus, profiles, events, log, pollMs === undefined ? {} : { pollMs });
    });
  const measure = async (ms: number) => {
    const p0 = points;
    const r0 = registers;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(ms);
    const wall = performance.now() - t0;
    return { points_per_s: ((points - p0) * 1000) / wall, registers_per_s: ((registers - r0) * 1000) / wall, cpu_cores: cores(c0, wall) };
  };

  // Phase 1: each device once a second (the profile's default), starts spread over the second.
  let running = pollers(undefined);
  for (const p of running) {
    await p.start();
    await sleep(1000 / ports.length);
  }
  await sleep(3000);
  const at15k = await measure(seconds * 1000);
  for (const p of running) await p.stop();

  // Phase 2: flat-out, each device polled again as soon as its last poll is in.
  running = pollers(0);
  for (const p of running) await p.start();
  await sleep(2000);
  const flat = await measure(seconds * 1000);
  for (const p of running) await p.stop();
  return { at15k, flat, rss_mb: peakRssMb() };
}

/** Bare modbus-serial: one client per device, the same block reads, no decoding. */
async function baseline(ports: number[], seconds: number): Promise<PollerReport> {
  const require = createRequire(fileURLToPath(new URL('../edge/package.json', import.meta.url)));
  const ModbusRTU = require('modbus-serial') as new () => {
    connectTCP(host: string, opts: { port: number }): Promise<void>;
    setID(id: number): void;
    setTimeout(ms: number): void;
    readHoldingRegisters(address: number, count: number): Promise<{ data: number[] }>;
    readInputRegisters(address: number, count: number): Promise<{ data: number[] }>;
    close(cb: () => void): void;
  };
  const blocks = planReads(mixedProfile()).map((b) => ({ table: b.table, start: b.start, count: b.count }));
  const pointsPerPoll = mixedProfile().points.length;
  let points = 0;
  let registers = 0;
  const clients: InstanceType<typeof ModbusRTU>[] = [];
  for (const port of ports) {
    const c = new ModbusRTU();
    await c.connectTCP('127.0.0.1', { port });
    c.setID(1);
    c.setTimeout(1000);
    clients.push(c);
  }
  let pollMs = 1000;
  let stop = false;
  const loop = async (c: (typeof clients)[number], offset: number) => {
    await sleep(offset);
    while (!stop) {
      const started = performance.now();
      for (const b of blocks) {
        const res = b.table === 'holding' ? await c.readHoldingRegisters(b.start, b.count) : await c.readInputRegisters(b.start, b.count);
        registers += res.data.length;
      }
      points += pointsPerPoll;
      const wait = pollMs - (performance.now() - started);
      if (wait > 0) await sleep(wait);
    }
  };
  const measure = async (ms: number) => {
    const p0 = points;
    const r0 = registers;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(ms);
    const wall = performance.now() - t0;
    return { points_per_s: ((points - p0) * 1000) / wall, registers_per_s: ((registers - r0) * 1000) / wall, cpu_cores: cores(c0, wall) };
  };
  let loops = clients.map((c, i) => loop(c, (i * 1000) / clients.length));
  await sleep(4000);
  const at15k = await measure(seconds * 1000);
  stop = true;
  await Promise.all(loops);
  stop = false;
  pollMs = 0;
  loops = clients.map((c) => loop(c, 0));
  await sleep(2000);
  const flat = await measure(seconds * 1000);
  stop = true;
  await Promise.all(loops);
  for (const c of clients) await new Promise<void>((r) => c.close(() => r()));
  return { at15k, flat, rss_mb: peakRssMb() };
}

function child(argv: string[]): ChildProcess {
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each poller process there.
  const prof = process.env.BENCH_CPU_PROF && argv[0] === '--poller-child' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  return fork(fileURLToPath(import.meta.url), argv, { execArgv: ['--import', 'tsx', ...prof] });
}

function next<T>(c: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child exited with ${code}`));
    c.once('exit', onExit);
    c.once('message', (m) => {
      c.off('exit', onExit);
      resolve(m as T);
    });
  });
}

async function runPoller(kind: 'gateway' | 'baseline', ports: number[], seconds: number): Promise<PollerReport> {
  const c = child(['--poller-child', kind, String(seconds)]);
  await next<string>(c);
  c.send({ ports });
  const report = await next<PollerReport>(c);
  await new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r(null)));
  return report;
}

async function main(): Promise<void> {
  const n = opt('devices', 500);
  const seconds = opt('seconds', 10);
  const sim = child(['--sim-child', String(n)]);
  const { ports } = await next<{ ports: number[] }>(sim);
  try {
    const gw = await runPoller('gateway', ports, seconds);
    const base = await runPoller('baseline', ports, seconds);
    const r = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
    console.error(
      `gateway: ${r(gw.at15k.points_per_s, 0)} points/s at 1 s per device on ${r(gw.at15k.cpu_cores, 3)} core; flat-out ${r(gw.flat.registers_per_s, 0)} registers/s; peak RSS ${r(gw.rss_mb)} MB\n` +
        `baseline (modbus-serial): ${r(base.at15k.points_per_s, 0)} points/s at 1 s per device on ${r(base.at15k.cpu_cores, 3)} core; flat-out ${r(base.flat.registers_per_s, 0)} registers/s; peak RSS ${r(base.rss_mb)} MB`,
    );
    console.log(
      JSON.stringify({
        points_per_s: r(gw.flat.points_per_s, 0),
        registers_per_s: r(gw.flat.registers_per_s, 0),
        baseline_registers_per_s: r(base.flat.registers_per_s, 0),
        flatout_ratio: r(gw.flat.registers_per_s / base.flat.registers_per_s, 3),
        rss_mb: r(gw.rss_mb),
        baseline_rss_mb: r(base.rss_mb),
        cpu_cores_at_15k: r(gw.at15k.cpu_cores, 4),
        baseline_cpu_cores_at_15k: r(base.at15k.cpu_cores, 4),
        points_per_s_at_15k: r(gw.at15k.points_per_s, 0),
        baseline_points_per_s_at_15k: r(base.at15k.points_per_s, 0),
        devices: n,
        seconds,
      }),
    );
  } finally {
    sim.send('stop');
  }
}
