/**
 * `pnpm chaos [--short] [--seconds N] [--seed N]` — the sync contract under
 * failure, with real processes:
 *
 *   Modbus simulator (20 flood gauges, in this process)
 *        ▲ polled every 100 ms
 *   `lifeline run` (child process) ── mqtt ──▶ TCP proxy (cut = partition) ──▶ Mosquitto (own config, free port)
 *                                                                                    │
 *                                                cloud ingest (IngestWorker + SQLite store, in this process)
 *
 * Meanwhile it kill -9s the agent, restarts Mosquitto, restarts the ingest
 * worker and cuts the network (the proxy refuses and drops every connection)
 * for a while. Then it stops the devices, waits until the cloud has committed
 * everything the gateway's database holds, and reconciles: every telemetry and
 * event seq the gateway wrote must be in the cloud exactly once, and no alarm
 * may be committed after telemetry read more than 2 s after it.
 * Final line: {"kills","broker_restarts","partitions","ingest_restarts","readings","events","lost","duplicated","alarms_late"}.
 * Exit code 1 if anything was lost, duplicated or late.
 *
 * Mosquitto's max_queued_messages (default 1000, silently dropping to a slow
 * subscriber) is raised in the generated config, but nothing relies on it: the
 * gateway resends whatever the cloud has not acknowledged end to end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { IngestWorker, SqliteStore, wrapTelemetry, type Store } from '@lifeline/cloud';
import { SimulatedDevice, loadProfile, startTcpSimulator } from '@lifeline/devices';
import { inspectBuffer } from '@lifeline/edge';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const short = argv.includes('--short');
const num = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const SECONDS = num('seconds', short ? 24 : 600);
/** Partition length: minutes in the full run, seconds in the short one. */
const PARTITION_MS = num('partition-seconds', short ? 4 : 120) * 1000;
let seed = num('seed', 7);
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const say = (msg: string) => console.error(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitPort(port: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port}`);
    await sleep(50);
  }
}

/** A TCP proxy the script controls: `cut()` drops every connection and refuses new ones. */
class TcpProxy {
  private server?: Server;
  private sockets = new Set<Socket>();
  private isCut = false;
  constructor(readonly port: number, private readonly target: number) {}
  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.isCut) return client.destroy();
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }
  cut(): void {
    this.isCut = true;
    for (const s of this.sockets) s.destroy();
  }
  heal(): void {
    this.isCut = false;
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server?.close(r));
  }
}

class Mosquitto {
  private proc?: ChildProcess;
  constructor(private readonly conf: string, readonly port: number) {}
  async start(): Promise<void> {
    this.proc = spawn('mosquitto', ['-c', this.conf], { stdio: 'ignore' });
    await waitPort(this.port);
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-chaos-'));
  const brokerPort = await freePort();
  const proxyPort = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${brokerPort} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // The default (1000) silently drops messages to a slow subscriber; the end-to-end ack covers it anyway.
      'max_queued_messages 100000',
      'max_inflight_messages 100',
      'log_dest none',
    ].join('\n') + '\n',
  );
  const broker = new Mosquitto(conf, brokerPort);
  await broker.start();
  const proxy = new TcpProxy(proxyPort, brokerPort);
  await proxy.start();

  // The cloud: a store whose commits are logged with their time, for the alarm-order check.
  const store = new SqliteStore(join(dir, 'cloud.db'));
  await store.migrate();
  const commits: { lane: 'telemetry' | 'events'; at: number; wall: number; maxTs: number; seqs: string; alarms: { seq: number; ts: number }[] }[] = [];
  const logged = loggingStore(store, commits);
  let ingest = new IngestWorker({ url: `mqtt://127.0.0.1:${brokerPort}`, store: logged, log: log.child({ part: 'ingest' }) });
  await ingest.start();

  const profile = loadProfile('flood-gauge');
  const devices = Array.from({ length: 20 }, (_, i) => new SimulatedDevice(profile, i + 1));
  const sim = await startTcpSimulator({ devices });
  const gatewayId = 'chaos-gw';
  const dbPath = join(dir, 'edge.db');
  const cfgPath = join(dir, 'gateway.yaml');
  writeFileSync(
    cfgPath,
    stringify({
      gateway: { id: gatewayId },
      buses: [{ name: 'sim', link: 'tcp', host: '127.0.0.1', port: sim.port, timeoutMs: 500, devices: devices.map((d, i) => ({ id: `fg-${i + 1}`, profile: 'flood-gauge', unit: i + 1, pollMs: 100 })) }],
      detectors: { points: devices.map((_, i) => ({ device: `fg-${i + 1}`, point: 'rainfall', threshold: { high: { yellow: 0.55, red: 0.7 }, deadband: 0.02 } })) },
      buffer: { path: dbPath },
      sync: { transport: 'mqtt', url: `mqtt://127.0.0.1:${proxyPort}`, intervalMs: 200, ackTimeoutMs: 3000, batchMaxReadings: 2000 },
    }),
  );

  let agent: ChildProcess | undefined;
  const startAgent = () => {
    agent = spawn(process.execPath, ['--import', 'tsx', join(root, 'edge/src/cli/main.ts'), 'run', '--config', cfgPath], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, LOG_LEVEL: process.env.AGENT_LOG_LEVEL ?? 'error' },
    });
  };
  const killAgent = async () => {
    const a = agent;
    if (!a || a.exitCode !== null) return;
    const exited = new Promise((r) => a.once('exit', r));
    a.kill('SIGKILL');
    await exited;
  };

  const counts = { kills: 0, broker_restarts: 0, partitions: 0, ingest_restarts: 0 };
  let code = 1;
  try {
    startAgent();
    const end = Date.now() + SECONDS * 1000;
    say(`running ${SECONDS} s; broker :${brokerPort}, proxy :${proxyPort}, partitions of ${PARTITION_MS / 1000} s`);
    // Each kind of fault at least once, then at random.
    const kinds = ['kill', 'broker', 'ingest', 'partition'] as const;
    let step = 0;
    await sleep(short ? 3000 : 10_000);
    while (Date.now() < end) {
      const kind = step < kinds.length ? kinds[step] : kinds[Math.floor(rnd() * kinds.length)];
      step++;
      if (kind === 'kill') {
        say('kill -9 the agent');
        await killAgent();
        counts.kills++;
        await sleep(500 + rnd() * 1500);
        startAgent();
      } else if (kind === 'broker') {
        say('restart the broker');
        await broker.stop();
        counts.broker_restarts++;
        await sleep(1000 + rnd() * 2000);
        await broker.start();
      } else if (kind === 'ingest') {
        say('restart the cloud ingest');
        await ingest.stop();
        counts.ingest_restarts++;
        await sleep(500 + rnd() * 1500);
        ingest = new IngestWorker({ url: `mqtt://127.0.0.1:${brokerPort}`, store: logged, log: log.child({ part: 'ingest' }) });
        await ingest.start();
      } else {
        say(`cut the network for ${PARTITION_MS / 1000} s`);
        proxy.cut();
        counts.partitions++;
        await sleep(PARTITION_MS);
        proxy.heal();
      }
      await sleep((short ? 2000 : 15_000) * (0.5 + rnd()));
    }

    // Stop the devices: no new readings. Wait for the gateway to drain, then reconcile.
    say('stopping the devices; waiting for the gateway to drain');
    await sim.close();
    // The gateway's file, read-only while the agent writes it (WAL): the last seq each lane wrote and what it has had acked.
    const edge = () => {
      const file = inspectBuffer(dbPath);
      try {
        const { telemetry, events } = file.lanes();
        return { telemetry: telemetry.lastSeq, events: events.lastSeq, ackedT: telemetry.acked, ackedE: events.acked };
      } finally {
        file.close();
      }
    };
    const cloudUpTo = (lane: string) =>
      (store.db.prepare('SELECT up_to FROM committed WHERE gateway = ? AND lane = ?').get(gatewayId, lane) as { up_to: number } | undefined)?.up_to ?? 0;
    const deadline = Date.now() + (short ? 60_000 : 300_000);
    let e = edge();
    let stable = 0;
    for (;;) {
      await sleep(1000);
      const now = edge();
      const done = cloudUpTo('telemetry') >= now.telemetry && cloudUpTo('events') >= now.events && now.ackedT >= now.telemetry && now.ackedE >= now.events;
      stable = done && now.telemetry === e.telemetry && now.events === e.events ? stable + 1 : 0;
      e = now;
      if (stable >= 2) break;
      if (Date.now() > deadline) {
        say(`gave up waiting: edge ${JSON.stringify(now)}, cloud telemetry ${cloudUpTo('telemetry')}, events ${cloudUpTo('events')}`);
        break;
      }
    }
    await killAgent();
    agent = undefined;
    e = edge();

    // Readings carry no seq in the cloud; (series, ts) is unique at the source (one poll, one ts per device).
    const rows = (store.db.prepare('SELECT COUNT(*) n, COUNT(DISTINCT series || \':\' || ts) u FROM readings').get() as { n: number; u: number });
    const cloudEvents = (store.db.prepare('SELECT COUNT(*) n FROM events WHERE gateway = ?').get(gatewayId) as { n: number }).n;
    const lost = Math.max(0, e.telemetry - rows.u) + Math.max(0, e.events - cloudEvents);
    const duplicated = rows.n - rows.u + Math.max(0, cloudEvents - e.events);
    // An alarm is late if telemetry read more than 2 s after it was committed before it.
    let alarmsLate = 0;
    let alarms = 0;
    const telemetryCommits = commits.filter((c) => c.lane === 'telemetry');
    for (const c of commits) {
      if (c.lane !== 'events') continue;
      for (const a of c.alarms) {
        alarms++;
        if (telemetryCommits.some((t) => t.at < c.at && t.maxTs > a.ts + 2000)) {
          alarmsLate++;
          if (process.env.CHAOS_DEBUG) {
            const t = telemetryCommits.find((t) => t.at < c.at && t.maxTs > a.ts + 2000)!;
            const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 23);
            say(`late alarm seq ${a.seq} ts ${hhmm(a.ts)} committed ${hhmm(c.wall)} (events ${c.seqs}); telemetry ${t.seqs} up to ${hhmm(t.maxTs)} committed ${hhmm(t.wall)} before it`);
          }
        }
      }
    }
    const result = {
      ...counts,
      readings: e.telemetry,
      events: e.events,
      alarms,
      lost,
      duplicated,
      alarms_late: alarmsLate,
    };
    say(`cloud: ${rows.n} reading rows (${rows.u} distinct), ${cloudEvents} events; ingest ${JSON.stringify(ingest.counters)}`);
    console.log(JSON.stringify(result));
    code = lost === 0 && duplicated === 0 && alarmsLate === 0 && e.telemetry > 0 && counts.kills > 0 && counts.partitions > 0 ? 0 : 1;
  } finally {
    await killAgent();
    await ingest.stop().catch(() => {});
    await sim.close().catch(() => {});
    await proxy.close();
    await broker.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return code;
}

/** The store, with each commit's time, newest reading time and alarms written down. */
function loggingStore(store: Store, commits: { lane: 'telemetry' | 'events'; at: number; wall: number; maxTs: number; seqs: string; alarms: { seq: number; ts: number }[] }[]): Store {
  return wrapTelemetry(store, (telemetry) => ({
    async commitTelemetry(batch) {
      const r = await telemetry.commitTelemetry(batch);
      let maxTs = -Infinity;
      for (const x of batch.readings) if (x.ts > maxTs) maxTs = x.ts;
      if (!r.duplicate) commits.push({ lane: 'telemetry', at: performance.now(), wall: Date.now(), maxTs, seqs: `${batch.firstSeq}..${batch.lastSeq}`, alarms: [] });
      return r;
    },
    async commitEvents(batch) {
      const r = await telemetry.commitEvents(batch);
      if (!r.duplicate) commits.push({ lane: 'events', at: performance.now(), wall: Date.now(), maxTs: -Infinity, seqs: `${batch.firstSeq}..${batch.lastSeq}`, alarms: batch.events.filter((x) => x.kind === 'alarm').map((x) => ({ seq: x.seq, ts: x.ts })) });
      return r;
    },
  }));
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
