/**
 * `pnpm bench soak [--minutes 30] [--devices 500] [--warmup-minutes 5] [--demo-seconds 120]
 *                  [--sample-s 10] [--agent build|tsx] [--artifact x.tar.gz] [--node-flags "…"] [--samples file.jsonl]`
 *
 * Memory of the agent over time, the agent running as its own process (`lifeline run`):
 *
 *   bench ──spawn──▶ far side (bench/_alarm-latency-cloud.ts): embedded MQTT broker (aedes, login required,
 *        │           the gateway enrolled) and a cloud that acknowledges every batch as it arrives
 *        ├─spawn──▶ Modbus simulator fleet (bench/_sim-server.ts): N devices, one port each
 *        └─spawn──▶ the agent: `lifeline run --config <generated>` ─ poll ─ detect ─ buffer (SQLite) ─ sync ─▶ far side
 *                   sampled every --sample-s over its control socket ({"op":"status"}: memory, polls)
 *
 * Two phases, each with its own agent process:
 *   1. demo site: edge/examples/gateway.yaml against its simulators (scripts/demo-site.ts, in this
 *      process) for --demo-seconds; rss_demo_site_mb is the peak of the samples. 0 skips it.
 *   2. fleet: --devices simulated devices of the 30-point mixed profile (bench/_mixed-profile.ts,
 *      with detector defaults on 24 of the 30 points), each on its own TCP port and bus, polled once
 *      a second: 500 devices are 15,000 points/s. After --warmup-minutes (default 5, or a sixth of
 *      --minutes when that is shorter) it samples for --minutes. Start and end figures are the medians
 *      of the first and the last minute of samples (or of a sixth of the run, if shorter), so one
 *      sample caught before or after a garbage collection does not decide the growth.
 *      rss_500_devices_mb is the peak of all samples after the warm-up. Also the post-collection floor's
 *      growth (rss_floor_growth_pct: lowest sample of the first 5 minutes against the last 5) and the agent's
 *      CPU (cpu_pct of one core, cpu_ms_per_1k_points), from /proc/PID/stat: bench/_soak-stats.ts.
 *
 * The agent: the packed build (dist/lifeline-edge-<version>-linux-<arch>.tar.gz, made by `pnpm build`,
 * unpacked into a temp directory) when it exists, else `node --import tsx edge/src/cli/main.ts`;
 * `--artifact` names another packed build (e.g. main's, kept aside, for before/after side by side);
 * `--agent` forces one. The JSON says which ("agent") and the build's commit. The build runs as a box runs
 * it: its bin/lifeline, with the node flags and MALLOC_ARENA_MAX that it sets, and the flags `lifeline service
 * install` sizes from each phase's config (edge/src/agent/footprint.ts: --lite-mode for the demo site).
 * `--node-flags` adds Node/V8 flags after those (e.g. "--max-semi-space-size=16" to measure without one).
 *
 * Ends with one JSON line: {"minutes","points_per_s","rss_start_mb","rss_end_mb","rss_growth_pct",
 * "heap_growth_pct","rss_demo_site_mb","rss_500_devices_mb",…}.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { controlRequest, controlSocketPath } from '../edge/src/alarms/control.js';
import type { AgentStatus } from '../edge/src/agent/status.js';
import { agentNodeFlags } from '../edge/src/agent/footprint.js';
import { loadConfig } from '../edge/src/config/load.js';
import { startDemoSite, type SiteBus } from '../scripts/demo-site.js';
import { mixedProfileSource } from './_mixed-profile.js';
import { parseProcStatCpuS, round1, soakFigures } from './_soak-stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const args = process.argv.slice(2);
const str = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const num = (name: string, d: number, min = 0): number => {
  const raw = str(name);
  const v = raw === undefined ? d : Number(raw);
  if (!Number.isFinite(v) || v < min) {
    console.error(`--${name}: expected a number ≥ ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return v;
};
const MINUTES = num('minutes', 30, 0.5);
const DEVICES = Math.round(num('devices', 500, 1));
const WARMUP_MIN = num('warmup-minutes', Math.min(5, MINUTES / 6));
const DEMO_S = num('demo-seconds', 120);
const SAMPLE_S = num('sample-s', 10, 1);
const AGENT = str('agent');
if (AGENT !== undefined && AGENT !== 'build' && AGENT !== 'tsx') {
  console.error(`--agent: expected build or tsx, got ${JSON.stringify(AGENT)}`);
  process.exit(2);
}
/** Node/V8 flags for the agent's node (`--node-flags "--max-semi-space-size=1 --optimize-for-size"`). */
const NODE_FLAGS = (str('node-flags') ?? '').split(/\s+/).filter(Boolean);
const SAMPLES_FILE = str('samples');
/** Another packed build to run (e.g. one of main's, to measure before and after side by side). */
const ARTIFACT = str('artifact') === undefined ? undefined : resolve(str('artifact')!);

const MB = 2 ** 20;
/** Readings per answered poll of one fleet device. */
const POINTS_PER_POLL = (mixedProfileSource().points as unknown[]).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (m: string) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}`);
const load1 = () => round1(loadavg()[0]);

/** How the agent is started: the packed build if there is one (or asked for), else tsx. */
interface Launcher {
  kind: 'build' | 'tsx';
  commit?: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

function launcher(tmp: string): Launcher {
  const { version } = JSON.parse(readFileSync(join(root, 'edge/package.json'), 'utf8')) as { version: string };
  const tarball = ARTIFACT ?? join(root, 'dist', `lifeline-edge-${version}-linux-${process.arch}.tar.gz`);
  if (AGENT === 'build' || ARTIFACT !== undefined || (AGENT === undefined && existsSync(tarball))) {
    if (!existsSync(tarball)) throw new Error(`--agent build: no ${tarball}; run \`pnpm build\` first`);
    const dir = join(tmp, 'artifact');
    mkdirSync(dir);
    const r = spawnSync('tar', ['-xzf', tarball, '-C', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`unpacking ${tarball} failed: ${r.stderr}`);
    const [name] = readdirSync(dir); // lifeline-edge-<version>-linux-<arch>, whatever the tarball is called
    const build = JSON.parse(readFileSync(join(dir, name, 'BUILD.json'), 'utf8')) as { commit?: string };
    // bin/lifeline itself, as a box runs it (its node flags and MALLOC_ARENA_MAX: scripts/pack-edge.mjs), with this
    // node; --node-flags go after its own flags (LIFELINE_NODE_FLAGS), so a flag under test overrides the build's.
    const env: Record<string, string> = { LIFELINE_NODE: process.execPath };
    return { kind: 'build', commit: build.commit, command: join(dir, name, 'bin/lifeline'), args: [], env };
  }
  return { kind: 'tsx', command: process.execPath, args: [...NODE_FLAGS, '--import', 'tsx', join(root, 'edge/src/cli/main.ts')] };
}

/** The far side: broker + acknowledging cloud, its gateway enrolled. */
async function startFarSide(gateway: string): Promise<{ url: string; username: string; password: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, '_alarm-latency-cloud.ts'), gateway], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout! }).once('line', res);
    child.once('exit', (code) => rej(new Error(`the far side exited (${code})`)));
    setTimeout(() => rej(new Error('the far side did not start within 60 s')), 60_000).unref();
  });
  return { ...(JSON.parse(line) as { url: string; username: string; password: string }), stop: () => child.kill('SIGTERM') };
}

/** The simulator fleet in its own process: one port per device. */
async function startFleet(n: number, profileFile: string): Promise<{ ports: number[]; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, '_sim-server.ts'), String(n), profileFile, '0'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout! }).once('line', res);
    child.once('exit', (code) => rej(new Error(`the simulator exited (${code})`)));
    setTimeout(() => rej(new Error('the simulator did not start within 60 s')), 60_000).unref();
  });
  return { ports: (JSON.parse(line) as { ports: number[] }).ports, stop: () => child.kill('SIGTERM') };
}

/** One agent process on a config, asked for its status over the control socket. */
class AgentProcess {
  private proc: ChildProcess;
  private tail: string[] = [];
  exited = false;
  /** The node flags sized from the config, as `lifeline service install` writes them into the unit (agent/footprint.ts). */
  readonly sizedFlags: string[];
  constructor(run: Launcher, configFile: string, readonly socket: string) {
    this.sizedFlags = agentNodeFlags(loadConfig(configFile));
    // The build: through bin/lifeline's LIFELINE_NODE_FLAGS, as the unit does, then --node-flags (the last of a flag wins).
    const env = run.kind === 'build' ? { ...run.env, LIFELINE_NODE_FLAGS: [...this.sizedFlags, ...NODE_FLAGS].join(' ') } : {};
    const args = run.kind === 'build' ? run.args : [...this.sizedFlags, ...run.args];
    this.proc = spawn(run.command, [...args, 'run', '--config', configFile], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env, LOG_LEVEL: process.env.AGENT_LOG_LEVEL ?? 'warn' },
    });
    createInterface({ input: this.proc.stderr! }).on('line', (l) => {
      this.tail.push(l);
      if (this.tail.length > 20) this.tail.shift();
    });
    this.proc.once('exit', () => (this.exited = true));
  }
  /** Anonymous (the process's own) and file-backed (node's binary, shared libraries: shared with every node) RSS, MB. */
  rssSplit(): { anonMb: number; fileMb: number } | null {
    try {
      const st = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(st)?.[1] ?? NaN);
      return { anonMb: round1(kb('RssAnon') / 1024), fileMb: round1(kb('RssFile') / 1024) };
    } catch {
      return null; // not Linux, or the process is gone
    }
  }
  /** CPU seconds (user + system, every thread) the agent has used; null where /proc has none. */
  cpuS(): number | null {
    try {
      return parseProcStatCpuS(readFileSync(`/proc/${this.proc.pid}/stat`, 'utf8'));
    } catch {
      return null;
    }
  }
  get lastLines(): string {
    return this.tail.join('\n');
  }
  async status(timeoutMs = 5000): Promise<AgentStatus | null> {
    if (this.exited) throw new Error(`the agent exited; its last lines:\n${this.lastLines}`);
    const r = await controlRequest(this.socket, { op: 'status' }, timeoutMs).catch(() => null);
    return r && r.ok ? (r as unknown as AgentStatus) : null;
  }
  async ready(ms = 240_000): Promise<AgentStatus> {
    const end = Date.now() + ms;
    for (;;) {
      const s = await this.status();
      if (s) return s;
      if (Date.now() > end) throw new Error(`the agent did not answer on ${this.socket} within ${ms / 1000} s:\n${this.lastLines}`);
      await sleep(500);
    }
  }
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
    await gone;
    clearTimeout(t);
  }
}

interface Sample {
  phase: 'demo' | 'fleet';
  t: number;
  rssMb: number;
  /** RSS split from /proc (null where there is none): anonymous memory, and file pages (node's binary: shared). */
  anonMb: number | null;
  fileMb: number | null;
  heapMb: number;
  heapTotalMb: number;
  externalMb: number;
  polls: number;
  depth: number;
  load: number;
  /** CPU seconds the agent has used so far (null where /proc has none). */
  cpuS: number | null;
}

/** The largest of one field of the samples (null if none has it). */
const peak = (xs: Sample[], k: 'rssMb' | 'anonMb'): number | null => {
  const v = xs.map((x) => x[k]).filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? Math.max(...v) : null;
};

function sampleOf(phase: Sample['phase'], t0: number, s: AgentStatus, split: { anonMb: number; fileMb: number } | null, cpuS: number | null): Sample {
  const polls = s.buses.reduce((n, b) => n + b.devices.reduce((m, d) => m + d.polls, 0), 0);
  const m = s.memory;
  return {
    phase,
    t: round1((Date.now() - t0) / 1000),
    rssMb: round1(m.rss / MB),
    anonMb: split?.anonMb ?? null,
    fileMb: split?.fileMb ?? null,
    heapMb: round1(m.heapUsed / MB),
    heapTotalMb: round1(m.heapTotal / MB),
    externalMb: round1(m.external / MB),
    polls,
    depth: s.buffer.telemetry.depth,
    load: load1(),
    cpuS,
  };
}

/** Sample an agent every SAMPLE_S until `ms` has passed; a missed answer is counted, not fatal. */
async function sampleFor(agent: AgentProcess, phase: Sample['phase'], t0: number, ms: number, into: Sample[], missed: { n: number }): Promise<void> {
  const end = Date.now() + ms;
  let next = Date.now();
  while (Date.now() < end) {
    next += SAMPLE_S * 1000;
    const s = await agent.status();
    if (s) {
      const x = sampleOf(phase, t0, s, agent.rssSplit(), agent.cpuS());
      into.push(x);
      if (SAMPLES_FILE) appendFileSync(SAMPLES_FILE, `${JSON.stringify(x)}\n`);
      if (into.length % Math.max(1, Math.round(60 / SAMPLE_S)) === 0)
        say(`${phase} t=${x.t}s rss ${x.rssMb} MB (anon ${x.anonMb}, file ${x.fileMb}) heap ${x.heapMb}/${x.heapTotalMb} MB ext ${x.externalMb} MB backlog ${x.depth} load ${x.load}`);
    } else missed.n++;
    await sleep(Math.max(0, next - Date.now()));
  }
}

/** The demo site: the example config against its simulators, for DEMO_S seconds. Peak RSS. */
async function demoPhase(run: Launcher, tmp: string, far: { url: string; username: string; password: string }, missed: { n: number }): Promise<{ rss: number | null; anon: number | null; flags?: string }> {
  if (DEMO_S <= 0) return { rss: null, anon: null };
  const raw = parse(readFileSync(join(root, 'edge/examples/gateway.yaml'), 'utf8')) as {
    gateway: { id: string };
    buses: SiteBus[];
    sync: Record<string, unknown>;
    buffer: { path: string };
    alarms?: { controlSocket?: string };
  };
  const site = await startDemoSite(raw.buses);
  raw.sync = { ...raw.sync, url: far.url, username: far.username, password: far.password };
  raw.buffer.path = join(tmp, 'demo-edge.db');
  const cfg = join(tmp, 'demo-gateway.yaml');
  writeFileSync(cfg, stringify(raw));
  const agent = new AgentProcess(run, cfg, controlSocketPath(raw.gateway.id, raw.buffer.path, raw.alarms?.controlSocket));
  try {
    const t0 = Date.now();
    await agent.ready();
    say(`demo site: agent up in ${round1((Date.now() - t0) / 1000)} s (node flags from its config: ${agent.sizedFlags.join(' ') || 'none'}); sampling ${DEMO_S} s`);
    const samples: Sample[] = [];
    await sampleFor(agent, 'demo', t0, DEMO_S * 1000, samples, missed);
    if (!samples.length) throw new Error('the demo-site agent answered no status sample');
    return { rss: peak(samples, 'rssMb'), anon: peak(samples, 'anonMb'), flags: agent.sizedFlags.join(' ') };
  } finally {
    await agent.stop();
    await site.close();
  }
}

/** The fleet phase: DEVICES devices at 30 points/s each. */
async function fleetPhase(run: Launcher, tmp: string, far: { url: string; username: string; password: string }, missed: { n: number }) {
  const profileFile = join(tmp, 'bench-mixed-30.yaml');
  writeFileSync(profileFile, stringify(mixedProfileSource({ detect: true })));
  const fleet = await startFleet(DEVICES, profileFile);
  const gateway = 'gw-soak';
  const bufferPath = join(tmp, 'soak-edge.db');
  const cfg = join(tmp, 'soak-gateway.yaml');
  writeFileSync(
    cfg,
    stringify({
      gateway: { id: gateway },
      buses: fleet.ports.map((port, i) => ({ name: `bus-${i + 1}`, link: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000, devices: [{ id: `dev-${i + 1}`, profile: profileFile, unit: 1, pollMs: 1000 }] })),
      buffer: { path: bufferPath },
      sync: { transport: 'mqtt', url: far.url, username: far.username, password: far.password },
    }),
  );
  const agent = new AgentProcess(run, cfg, controlSocketPath(gateway, bufferPath));
  try {
    const t0 = Date.now();
    await agent.ready();
    say(`fleet: ${DEVICES} devices, agent up in ${round1((Date.now() - t0) / 1000)} s (node flags from its config: ${agent.sizedFlags.join(' ') || 'none'}); warm-up ${round1(WARMUP_MIN)} min, then ${MINUTES} min sampled every ${SAMPLE_S} s`);
    const warm: Sample[] = [];
    await sampleFor(agent, 'fleet', t0, WARMUP_MIN * 60_000, warm, missed);
    const samples: Sample[] = [];
    await sampleFor(agent, 'fleet', t0, MINUTES * 60_000, samples, missed);
    if (samples.length < 4) throw new Error(`only ${samples.length} samples after the warm-up`);
    return { samples, warm, flags: agent.sizedFlags.join(' ') };
  } finally {
    await agent.stop();
    fleet.stop();
  }
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'lifeline-soak-'));
  const loadStart = load1();
  let far: Awaited<ReturnType<typeof startFarSide>> | undefined;
  try {
    const run = launcher(tmp);
    say(`agent: ${run.kind === 'build' ? `packed build (commit ${run.commit})` : AGENT === 'tsx' ? 'tsx (--agent tsx)' : 'tsx (no packed build in dist/; `pnpm build` makes one)'}${NODE_FLAGS.length ? `, node flags ${NODE_FLAGS.join(' ')}` : ''}`);
    far = await startFarSide('gw-soak');
    const missed = { n: 0 };
    // The demo gateway needs its own login: a second far side, enrolled for it.
    const demoFar = DEMO_S > 0 ? await startFarSide('gw-demo-1') : undefined;
    let demo: { rss: number | null; anon: number | null; flags?: string };
    try {
      demo = demoFar ? await demoPhase(run, tmp, demoFar, missed) : { rss: null, anon: null };
    } finally {
      demoFar?.stop();
    }
    const { samples, flags: fleetFlags } = await fleetPhase(run, tmp, far, missed);
    const fig = soakFigures(samples, SAMPLE_S, POINTS_PER_POLL);
    const b = samples[samples.length - 1];
    console.log(
      JSON.stringify({
        minutes: MINUTES,
        ...fig,
        rss_demo_site_mb: demo.rss,
        rss_500_devices_mb: peak(samples, 'rssMb'),
        // Of which anonymous memory (the rest is file pages: node's own binary, ~34 MB for a bare node, shared).
        rss_demo_site_anon_mb: demo.anon,
        rss_500_devices_anon_mb: peak(samples, 'anonMb'),
        devices: DEVICES,
        warmup_minutes: round1(WARMUP_MIN),
        samples: samples.length,
        missed_samples: missed.n,
        backlog_end: b.depth,
        agent: run.kind,
        ...(run.commit ? { agent_commit: run.commit } : {}),
        ...(NODE_FLAGS.length ? { node_flags: NODE_FLAGS.join(' ') } : {}),
        // What `lifeline service install` puts in the unit for each config (agent/footprint.ts), on top of bin/lifeline's.
        ...(run.kind === 'build' ? { sized_flags_demo_site: demo.flags ?? null, sized_flags_fleet: fleetFlags } : {}),
        load_start: loadStart,
        load_end: load1(),
      }),
    );
  } finally {
    far?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
