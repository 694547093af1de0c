/**
 * `pnpm bench burst` — a bridge accelerometer burst read by the running agent
 * over a real serial line, sharing it with the ordinary polls.
 *
 *   SimulatedDevice (bridge-structural-monitor: 6,000-sample burst in holding 1000..6999,
 *   pages of ≤ 64 registers, turnaround 15 ms) ─ pty (socat) at --baud (default 115200, 8N1)
 *   ─▶ Agent: BusPoller (the bridge's points every 1 s) + BurstScheduler (a burst every --period ms)
 *
 *   burst_read_s    median time to read and reduce one whole burst (94 pages at 64 registers)
 *   poll_gap_max_ms largest gap between two polls of the bridge while bursts were read (1000 = no delay)
 *   f1_error_pct    mean |natural_frequency_1 − the simulated first mode| / mode
 *
 * Options: --baud N (default 115200), --bursts N (default 5), --period MS (default 5000).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SimulatedDevice, loadProfile, startPtySimulator } from '../devices/src/index.js';
import { Agent, validateConfig } from '../edge/src/index.js';
import type { Reading } from '../shared/src/index.js';
import { tempDir, testLog } from '../test/helpers.js';

const { values } = parseArgs({ options: { baud: { type: 'string', default: '115200' }, bursts: { type: 'string', default: '5' }, period: { type: 'string', default: '5000' } } });
const baud = Number(values.baud);
const want = Number(values.bursts);
const periodMs = Number(values.period);

const tmp = tempDir('lifeline-bench-burst-');
const path = join(tmp.dir, 'ttyBRIDGE');
const deck = new SimulatedDevice(loadProfile('bridge-structural-monitor'), 1);
deck.inject({ kind: 'fixed', point: 'temperature', value: 15 });
const sim = await startPtySimulator({ devices: [deck], path, baud, parity: 'none' });
const loaded = validateConfig(
  {
    gateway: { id: 'gw-bench' },
    buses: [{ name: 'deck', link: 'rtu', path, baud, parity: 'none', timeoutMs: 1000, devices: [{ id: 'bridge-1', profile: 'bridge-structural-monitor', unit: 1, pollMs: 1000, burst: { periodMs } }] }],
    buffer: { path: join(tmp.dir, 'edge.db') },
    sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:9', intervalMs: 1000 },
  },
  'bench config',
);
const agent = new Agent(loaded, testLog);
const f1: Reading[] = [];
const polls: number[] = [];
let firstBurst = Infinity;
agent.events.on('readings', (batch) => {
  for (const r of batch) {
    if (r.point === 'natural_frequency_1') {
      f1.push(r);
      firstBurst = Math.min(firstBurst, r.ts);
    }
    if (r.point === 'strain_1') polls.push(r.ts);
  }
});
const readMs: number[] = [];
await agent.start();
const started = Date.now();
while (f1.length < want && Date.now() - started < want * periodMs + 60_000) {
  const before = f1.length;
  await new Promise((r) => setTimeout(r, 100));
  if (f1.length > before) readMs.push(agent.bursts.stats()[0].lastReadMs);
}
await agent.stop();
await sim.close();
tmp.cleanup();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const truth = deck.burst!.frequencies[0];
const during = polls.filter((t) => t >= firstBurst);
let gap = 0;
for (let i = 1; i < during.length; i++) gap = Math.max(gap, during[i] - during[i - 1]);
const stats = agent.bursts.stats()[0];
console.error(`${f1.length} bursts at ${baud} baud, ${stats.failures} failed; ${during.length} polls during them`);
console.log(
  JSON.stringify({
    baud,
    bursts: f1.length,
    failures: stats.failures,
    burst_read_s: +(median(readMs) / 1000).toFixed(2),
    poll_gap_max_ms: gap,
    f1_error_pct: +((f1.reduce((s, r) => s + Math.abs(r.value / truth - 1), 0) / f1.length) * 100).toFixed(3),
  }),
);
