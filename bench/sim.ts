/**
 * `pnpm bench sim [--seconds 5] [--connections 4] [--window 64] [--registers 10] [--devices 500]`:
 * how fast the Modbus TCP simulator answers, measured on the simulator's own CPU.
 *
 *   bench process (client)  ══ pipelined FC3 requests, a window per connection ══▶  simulator process
 *                           ◀══ replies counted by size (each is 9 + 2 × registers bytes) ══
 *
 * Two runs: `single` (one device, several connections, deep pipelines) and
 * `fleet` (500 devices each on its own port, one connection each, like the
 * tcp bench). Figures per run: requests/s on the wall clock, the simulator's
 * CPU cores used (its CPU time / wall time), and requests per simulator CPU
 * second (= requests/s the simulator would serve on one full core). The
 * client shares the 2 cores, so requests/s on the wall clock is bounded by
 * the client too; the per-core figure is the simulator's own.
 * Final line: one JSON object.
 */
import { fork } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTcpRequest } from '@lifeline/shared/protocols';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const seconds = opt('seconds', 5);
const registers = opt('registers', 10);
const here = dirname(fileURLToPath(import.meta.url));

interface Usage {
  cpuMs: number;
  rssMb: number;
  served: number;
}

async function startServer(devices: number) {
  const child = fork(join(here, '_sim-server.ts'), [String(devices), 'bridge-structural-monitor', '0'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const ports = await new Promise<number[]>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { ports: number[] }).ports);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const usage = () =>
    new Promise<Usage>((resolve) => {
      child.once('message', (m) => resolve(m as Usage));
      child.send('usage');
    });
  return { ports, usage, stop: () => child.kill() };
}

/** Keep `window` requests in flight on each connection; count replies. */
async function load(ports: number[], connectionsPerPort: number, window: number, ms: number) {
  const replySize = 9 + 2 * registers;
  // One pre-built run of requests (tx ids cycle; the simulator does not care, the count is by size).
  const one = buildTcpRequest(1, 1, { functionCode: 3, address: 0, quantity: registers });
  const batch = Buffer.alloc(one.length * window);
  for (let i = 0; i < window; i++) batch.set(one, i * one.length);
  let replies = 0;
  let counting = false;
  const sockets: Socket[] = [];
  await Promise.all(
    ports.flatMap((port) =>
      Array.from(
        { length: connectionsPerPort },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = connect({ port, host: '127.0.0.1' }, () => resolve());
            s.setNoDelay(true);
            s.once('error', reject);
            let partial = 0;
            s.on('data', (chunk: Buffer) => {
              const bytes = partial + chunk.length;
              const n = Math.floor(bytes / replySize);
              partial = bytes - n * replySize;
              if (counting) replies += n;
              if (n > 0 && !s.destroyed) s.write(n === window ? batch : batch.subarray(0, n * one.length));
            });
            sockets.push(s);
          }),
      ),
    ),
  );
  for (const s of sockets) s.write(batch);
  await new Promise((r) => setTimeout(r, 1000)); // warm-up: JIT, buffers
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  counting = false;
  const wallMs = performance.now() - t0;
  for (const s of sockets) s.destroy();
  return { replies, wallMs };
}

async function run(name: string, devices: number, connectionsPerPort: number, window: number) {
  const server = await startServer(devices);
  try {
    // Measure the simulator's CPU over the counted interval only.
    await load(server.ports, connectionsPerPort, window, 200);
    const before = await server.usage();
    const t0 = performance.now();
    const { replies } = await load(server.ports, connectionsPerPort, window, seconds * 1000);
    const after = await server.usage();
    const wallMs = performance.now() - t0;
    // The load's 1 s warm-up is inside [before, after]: scale CPU to the whole interval's replies.
    const served = after.served - before.served;
    const cpuMs = after.cpuMs - before.cpuMs;
    const result = {
      requests_per_s: Math.round(replies / seconds),
      server_cpu_cores: +(cpuMs / wallMs).toFixed(3),
      requests_per_server_core_s: Math.round(served / (cpuMs / 1000)),
      server_rss_mb: +after.rssMb.toFixed(1),
    };
    console.error(`${name}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    server.stop();
  }
}

const single = await run('single', 1, opt('connections', 4), opt('window', 64));
const fleet = await run('fleet', opt('devices', 500), 1, 8);
console.log(
  JSON.stringify({
    registers,
    single_requests_per_s: single.requests_per_s,
    single_server_cpu_cores: single.server_cpu_cores,
    single_requests_per_server_core_s: single.requests_per_server_core_s,
    fleet_devices: opt('devices', 500),
    fleet_requests_per_s: fleet.requests_per_s,
    fleet_server_cpu_cores: fleet.server_cpu_cores,
    fleet_requests_per_server_core_s: fleet.requests_per_server_core_s,
    fleet_server_rss_mb: fleet.server_rss_mb,
  }),
);
process.exit(0);
