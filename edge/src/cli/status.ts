/**
 * `lifeline status`: what the running agent is doing, asked on its control socket.
 *
 *   status ─{"op":"status"}─▶ control socket (alarms/control.ts) ─▶ Agent.status() (agent/status.ts)
 *          ◀─ buses, devices, buffer, sync, config, active alarms, memory ─┘
 *
 * No agent answering is exit 1 ("agent not running"); a bad config is exit 2.
 */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { controlRequest } from '../alarms/control.js';
import { formatDuration } from '../alarms/duration.js';
import type { AgentStatus } from '../agent/status.js';
import { ago, configOptions, formatAlarms, load, socketOf, table, time, type Common } from './alarms.js';
import { summary } from './commands.js';

const since = (ts: number | null, now: number) => (ts === null ? 'never' : `${time(ts)} (${ago(ts, now)})`);

/** The snapshot for a technician: a header, one line per device, then buffer, sync and alarms. */
export function formatStatus(s: AgentStatus): string {
  const now = s.now;
  const out: string[] = [];
  out.push(`${s.gateway}: agent running (pid ${s.pid}, up ${formatDuration(Math.max(0, now - s.startedAt))})`);
  out.push(`config   ${s.config.file ? relative(process.cwd(), s.config.file) || s.config.file : '(not from a file)'}${s.config.hash ? ` · version ${s.config.hash.slice(0, 12)}` : ''}`);
  const rows = s.buses.flatMap((b) =>
    b.devices.map((d) => [
      b.name,
      b.link,
      d.id,
      d.profile,
      d.online === null ? 'waiting' : d.online ? 'online' : 'OFFLINE',
      since(d.lastGoodTs, now),
      `${d.polls}/${d.failures}`,
      d.online === false ? d.lastError || '-' : '-',
    ]),
  );
  out.push('');
  out.push(table(['BUS', 'LINK', 'DEVICE', 'PROFILE', 'STATE', 'LAST GOOD READ', 'POLLS/FAIL', 'ERROR'], rows));
  out.push('');
  const lane = (name: string, l: { depth: number; oldestTs: number | null }) => `${l.depth} ${name}${l.depth && l.oldestTs !== null ? ` (oldest ${ago(l.oldestTs, now)})` : ''}`;
  out.push(`buffer   ${lane('readings', s.buffer.telemetry)}, ${lane('events', s.buffer.events)} not yet acknowledged by the cloud · ${(s.buffer.diskBytes / 1e6).toFixed(1)} MB ${s.buffer.inMemory ? `IN MEMORY (lost at a restart): ${s.buffer.path} was read-only at start, its backlog waits for fsck` : `on disk (${s.buffer.path})`}`);
  const d = s.buffer.disk;
  if (d?.deleted)
    out.push(`disk     BUFFER FILE DELETED under the running agent: it writes on into the deleted file, lost (unsent readings, alarm states) when it stops · restart it once the backlog above has gone out`);
  if (d?.full)
    out.push(`disk     FULL OR FAILING since ${since(d.since, now)} (${d.lastError}) · ${d.droppedReadings} reading(s) could not be stored · check free space (df) and whether the file system went read-only (mount, dmesg)`);
  const y = s.sync;
  out.push(
    `sync     ${y.connected ? 'connected' : 'NOT connected'} to ${y.url}${!y.connected && y.error ? ` (${y.error})` : ''} · unacked batches: ${y.unacked.telemetry} telemetry, ${y.unacked.events} events · last ack ${y.lastAckAt === null ? 'never' : ago(y.lastAckAt, now)}${y.clockOffsetMs === null ? '' : ` · cloud clock ${y.clockOffsetMs >= 0 ? '+' : ''}${y.clockOffsetMs} ms`}`,
  );
  // An agent older than the memory field answers without it.
  if (s.memory) out.push(`memory   ${(s.memory.rss / 2 ** 20).toFixed(1)} MB resident · heap ${(s.memory.heapUsed / 2 ** 20).toFixed(1)} of ${(s.memory.heapTotal / 2 ** 20).toFixed(1)} MB`);
  out.push(`alarms   ${s.alarms.length} not normal`);
  if (s.alarms.length) out.push(formatAlarms(s.alarms, now));
  return out.join('\n');
}

/** Register `status` on the program. */
export function registerStatus(program: Command): void {
  configOptions(program.command('status').description(summary('status')))
    .option('--json', 'JSON output: the snapshot as the agent answers it')
    .action(async (opts: Common) => {
      const { loaded } = load(opts);
      const socket = socketOf(loaded);
      const res = await controlRequest(socket, { op: 'status' });
      if (!res) throw new LifelineError(ErrorCodes.LinkDown, `agent not running: nothing answers on ${socket} (start it with lifeline run, or lifeline service install)`);
      if (!res.ok) throw new LifelineError(ErrorCodes.LinkDown, `the agent on ${socket} refused status: ${res.message}`);
      const { ok: _ok, ...snapshot } = res;
      console.log(opts.json ? JSON.stringify(snapshot) : formatStatus(snapshot as unknown as AgentStatus));
    });
}
