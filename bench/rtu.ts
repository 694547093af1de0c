/**
 * `pnpm bench rtu [--seconds 20] [--baud 9600] [--turnaround 5]`
 *
 * Sixteen simulated slaves on one RS-485 bus at 9600 baud 8E1 (the pty
 * simulator, byte-timed, in its own process), polled flat-out by the gateway's
 * BusPoller over its RTU link. Prints, as its last line:
 *
 *   {"bus_efficiency":..,"naive_requests_ratio":..,...}
 *
 *   bus_efficiency       = useful line time / elapsed time, where useful line time is the
 *                          theoretical minimum for the transactions that took place:
 *                          (request + reply bytes) × 11 bits / baud + the 3.5-character silence
 *                          the master leaves before each request + the slave's turnaround per
 *                          reply (the turnaround runs from the end of the request, so the gap
 *                          before a reply is the turnaround, not another silence)
 *   naive_requests_ratio = requests a one-request-per-point poller needs per round
 *                          ÷ requests our read plans need per round
 *
 *   poller (this process) ══ pty ══ socat ══ SerialLine (child process: byte timing, turnaround, stats)
 *
 * The mixed point map: the shipped Modbus profiles (lamp post controller,
 * flood gauge, water-pressure station, bridge monitor, gas detector, drainage
 * manhole, utility tunnel, heat station), two of each.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { rtuTiming } from '@lifeline/shared/protocols';
import { SimulatedDevice, isModbusProfile, listProfiles, loadProfile, startPtySimulator, type ModbusProfile, type SerialLineStats } from '@lifeline/devices';
import { EventBus } from '../edge/src/events/event-bus.js';
import type { Bus } from '../edge/src/config/schema.js';
import { planReads } from '../edge/src/poller/plan.js';
import { BusPoller } from '../edge/src/poller/poller.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

/** Sixteen units, two of each shipped Modbus profile. */
function busProfiles(): { unit: number; profile: ModbusProfile }[] {
  const modbus = listProfiles()
    .map((name) => loadProfile(name))
    .filter(isModbusProfile);
  return Array.from({ length: 16 }, (_, i) => ({ unit: i + 1, profile: modbus[i % modbus.length] as ModbusProfile }));
}

if (args[0] === '--sim-child') {
  // The bus: a byte-timed pty simulator, told stats and stop over IPC.
  const [, path, baud, turnaround] = args;
  const devices = busProfiles().map(({ unit, profile }) => new SimulatedDevice(profile, unit));
  const sim = await startPtySimulator({ devices, path, baud: Number(baud), parity: 'even', turnaroundMs: Number(turnaround) });
  process.on('message', (m: string) => {
    if (m === 'stats') process.send!({ stats: { ...sim.line.stats }, charMs: sim.line.charMs, silenceMs: sim.line.silenceMs });
    if (m === 'stop') void sim.close().then(() => process.exit(0));
  });
  process.send!('ready');
} else {
  await main();
}

async function main(): Promise<void> {
  const seconds = opt('seconds', 20);
  const baud = opt('baud', 9600);
  const turnaroundMs = opt('turnaround', 5);
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-rtu-'));
  const path = join(dir, 'ttyBENCH');
  const child = fork(fileURLToPath(import.meta.url), ['--sim-child', path, String(baud), String(turnaroundMs)], { execArgv: ['--import', 'tsx'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const stats = () =>
    new Promise<{ stats: SerialLineStats; charMs: number; silenceMs: number }>((resolve) => {
      child.once('message', (m) => resolve(m as { stats: SerialLineStats; charMs: number; silenceMs: number }));
      child.send('stats');
    });

  const units = busProfiles();
  const bus = {
    name: 'bench',
    link: 'rtu',
    path,
    baud,
    parity: 'even',
    timeoutMs: 500,
    retries: 1,
    devices: units.map(({ unit, profile }) => ({ id: `dev-${unit}`, profile: profile.id, unit })),
  } as Bus;
  const profiles = new Map(units.map(({ unit, profile }) => [`dev-${unit}`, profile]));
  const events = new EventBus(pino({ level: 'silent' }));
  let points = 0;
  let polls = 0;
  let lost = 0;
  events.on('readings', (batch) => {
    polls++;
    points += batch.length;
  });
  events.on('comm', (c) => {
    if (!c.ok) lost++;
  });
  const poller = new BusPoller(bus, profiles, events, pino({ level: 'silent' }), { pollMs: 0 });
  await poller.start();
  await new Promise((r) => setTimeout(r, 3000)); // warm-up: every slave polled a few times
  const a = await stats();
  const p0 = points;
  const n0 = polls;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = await stats();
  const elapsedMs = performance.now() - t0;
  await poller.stop();
  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });

  const d = (k: keyof SerialLineStats) => b.stats[k] - a.stats[k];
  const timing = rtuTiming(baud, 8, 'even', 1);
  const usefulMs = (d('bytesIn') + d('bytesOut')) * timing.charMs + d('requests') * timing.silenceMs + d('replies') * turnaroundMs;
  const naive = units.reduce((n, u) => n + u.profile.points.length, 0);
  const planned = units.reduce((n, u) => n + planReads(u.profile).length, 0);
  const figures = {
    bus_efficiency: round(usefulMs / elapsedMs, 3),
    naive_requests_ratio: round(naive / planned, 2),
    naive_requests_per_round: naive,
    planned_requests_per_round: planned,
    transactions_per_s: round(d('replies') / (elapsedMs / 1000), 1),
    polls_per_s: round((polls - n0) / (elapsedMs / 1000), 2),
    points_per_s: round((points - p0) / (elapsedMs / 1000), 1),
    collisions: d('collisions'),
    silence_violations: d('silenceViolations'),
    bad_frames: d('badFrames'),
    unanswered: d('requests') - d('replies'),
    comm_lost_events: lost,
    baud,
    turnaround_ms: turnaroundMs,
    seconds: round(elapsedMs / 1000, 1),
  };
  console.error(
    `16 slaves, ${baud} 8E1: ${figures.transactions_per_s} transactions/s, ${figures.polls_per_s} device polls/s, ` +
      `${planned} requests per round instead of ${naive} (one per point)`,
  );
  console.log(JSON.stringify(figures));
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
