/**
 * `lifeline alarms`: what the gateway is alarming about, and the operator's
 * answers to it, on site.
 *
 *   alarms [list]            ─▶ reads the buffer file (read-only; WAL lets it in while the agent writes)
 *   alarms log [id]          ─▶ same, the transition log
 *   alarms outputs           ─▶ same, output states and recent switching
 *   alarms ack|shelve|unshelve <id> ─▶ control socket of the running agent
 *                                     └─ no agent: applied to the file directly (nobody else writes it)
 *   alarms test-output <name> ─▶ control socket (a lamp test needs the running agent)
 *
 * An id may be abbreviated to any unique prefix or part (`ack ponding`).
 * Bad input (unknown id, bad duration) exits 2; a failure to reach the file or agent exits 1.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { AlarmLevel, ErrorCodes, LifelineError, isLifelineError, type AlarmState } from '@lifeline/shared';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { describeLevel } from '../detect/levels.js';
import { resolveAlarmsConfig } from '../alarms/config.js';
import { controlRequest, controlSocketPath, type ControlRequest, type ControlResponse } from '../alarms/control.js';
import { formatDuration, parseDuration } from '../alarms/duration.js';
import type { AlarmLogEntry, AlarmRecord, OutputLogEntry, OutputRow } from '../alarms/types.js';
import { summary } from './commands.js';

export interface Common {
  config?: string;
  dataDir?: string;
  json?: boolean;
  user?: string;
}

/** The config: --config, $LIFELINE_CONFIG, /etc/lifeline/gateway.yaml, else the demo's example. */
export function findConfig(given?: string): { file: string; how: string; dataDir?: string } {
  if (given) return { file: given, how: '--config' };
  if (process.env.LIFELINE_CONFIG) return { file: process.env.LIFELINE_CONFIG, how: '$LIFELINE_CONFIG' };
  if (existsSync('/etc/lifeline/gateway.yaml')) return { file: '/etc/lifeline/gateway.yaml', how: 'default' };
  const example = resolve(dirname(fileURLToPath(import.meta.url)), '../../examples/gateway.yaml');
  // The demo keeps its data in the repository's var/: the example's data directory is the repository.
  return { file: example, how: 'the demo example (pass --config for a real gateway)', dataDir: resolve(dirname(example), '../..') };
}

export function load(opts: Common): { loaded: LoadedConfig; file: string; how: string } {
  const { file, how, dataDir } = findConfig(opts.config);
  return { loaded: loadConfig(file, { dataDir: opts.dataDir ?? dataDir }), file, how };
}

/** `--config` and `--data-dir`, as every command that reads the gateway config takes them. */
export function configOptions(c: Command): Command {
  return c
    .option('-c, --config <file>', 'gateway config (default: $LIFELINE_CONFIG, /etc/lifeline/gateway.yaml, else the demo example)')
    .option('--data-dir <dir>', "the agent's data directory, as given to lifeline run (default: the config file's directory)");
}

/** Bad input exits 2 with the message alone. */
function badInput(cmd: Command, e: unknown): never {
  if (isLifelineError(e) && (e.code === ErrorCodes.RequestInvalid || e.code === ErrorCodes.NotFound)) {
    cmd.error(`error: ${e.message.replace(/^[A-Z_]+: /, '')}`, { exitCode: 2, code: e.code });
  }
  throw e;
}

/** Opens the buffer file read-only. */
async function readFile<T>(loaded: LoadedConfig, fn: (s: import('../alarms/store.js').AlarmStore) => T): Promise<T> {
  const path = loaded.config.buffer.path;
  if (!existsSync(path)) {
    throw new LifelineError(ErrorCodes.NotFound, `no buffer file at ${path}: the agent has not run with this config yet`);
  }
  const { AlarmStore } = await import('../alarms/store.js');
  const { store, close } = AlarmStore.openReadonly(path);
  try {
    return fn(store);
  } finally {
    close();
  }
}

export function socketOf(loaded: LoadedConfig): string {
  const { config } = loaded;
  return controlSocketPath(config.gateway.id, config.buffer.path, resolveAlarmsConfig(config.alarms).controlSocket);
}

/** Sends an operator action to the agent; with no agent running, applies it to the file. */
async function operate(loaded: LoadedConfig, req: Exclude<ControlRequest, { op: 'list' | 'outputs' | 'test-output' | 'status' }>): Promise<ControlResponse & { offline?: boolean }> {
  const res = await controlRequest(socketOf(loaded), req);
  if (res) return res;
  const path = loaded.config.buffer.path;
  if (!existsSync(path)) throw new LifelineError(ErrorCodes.NotFound, `no buffer file at ${path}: the agent has not run with this config yet`);
  // No agent: this process is the only writer. The manager alone (no outputs): the agent
  // recomputes its outputs from the alarms when it starts.
  const [{ EdgeBuffer }, { AlarmStore }, { AlarmManager }, { bufferSink }] = await Promise.all([
    import('../buffer/buffer.js'),
    import('../alarms/store.js'),
    import('../alarms/manager.js'),
    import('../alarms/journal.js'),
  ]);
  const buffer = new EdgeBuffer(path);
  try {
    const cfg = resolveAlarmsConfig(loaded.config.alarms);
    const m = new AlarmManager({ gateway: loaded.config.gateway.id, config: cfg, store: new AlarmStore(buffer.alarmTables(), cfg.logKeep), sink: bufferSink(buffer) });
    m.start();
    const id = m.resolveId(req.id);
    const r = req.op === 'ack' ? m.ack(id, req.user) : req.op === 'shelve' ? m.shelve(id, req.untilTs, req.user) : m.unshelve(id, req.user);
    return { ok: true, ...r, offline: true };
  } finally {
    buffer.close();
  }
}

function answer(cmd: Command, res: ControlResponse & { offline?: boolean }, json?: boolean): void {
  if (!res.ok) badInput(cmd, new LifelineError(res.code as (typeof ErrorCodes)[keyof typeof ErrorCodes], res.message));
  if (json) console.log(JSON.stringify(res));
  else console.log(`${res.message}${res.offline ? ' (agent not running: written to the buffer file; outputs follow when it starts)' : ''}`);
}

/** Local time, to the second: what the technician's watch says. */
export const time = (ts: number) => {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};
export const ago = (ts: number, now: number) => (now >= ts ? `${formatDuration(now - ts)} ago` : `in ${formatDuration(ts - now)}`);
const levelText = (l: AlarmLevel) => (l === AlarmLevel.Normal ? '-' : describeLevel(l));

/** Aligned columns, widest cell per column. */
export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** One alarm per line, for a technician. */
export function formatAlarms(alarms: readonly AlarmRecord[], now: number): string {
  const rows = alarms.map((a) => {
    let note = a.cause;
    if (a.state === 'shelved' && a.shelvedUntil !== null) note = `shelved by ${a.shelvedBy ?? '?'} until ${time(a.shelvedUntil)} (${formatDuration(Math.max(0, a.shelvedUntil - now))} left); ${a.cause}`;
    else if (a.state === 'suppressed') note = `suppressed (${a.suppressedBy === 'chatter' ? 'chattering' : 'alarm flood'}); ${a.cause}`;
    else if (a.state === 'active_acked' && a.ackedBy) note = `acknowledged by ${a.ackedBy}; ${a.cause}`;
    return [a.state, levelText(a.level), a.id, a.value === null ? '-' : String(Number(a.value.toPrecision(6))), `${time(a.since)} (${ago(a.since, now)})`, note];
  });
  return table(['STATE', 'LEVEL', 'ALARM', 'VALUE', 'SINCE', 'CAUSE'], rows);
}

const order: Record<AlarmState, number> = { active_unacked: 0, cleared_unacked: 1, active_acked: 2, suppressed: 3, shelved: 4, out_of_service: 5, normal: 6 };

/** Register `alarms` and its subcommands on the program. */
export function registerAlarms(program: Command): void {
  const alarms = program
    .command('alarms')
    .description(summary('alarms'));
  const common = (c: Command) => configOptions(c).option('--json', 'JSON output');
  const withUser = (c: Command) => c.option('--user <name>', 'who is acting (default: the login name)');

  common(alarms.command('list', { isDefault: true }).description('alarms that are not normal, most urgent first').option('--all', 'include alarms back to normal')).action(
    async (opts: Common & { all?: boolean }) => {
      const { loaded, file, how } = load(opts);
      const all = await readFile(loaded, (s) => s.loadAlarms());
      const shown = all
        .filter((a) => opts.all || a.state !== 'normal')
        .sort((a, b) => order[a.state] - order[b.state] || b.level - a.level || b.since - a.since);
      if (opts.json) return console.log(JSON.stringify(shown));
      const agent = (await controlRequest(socketOf(loaded), { op: 'outputs' }, 2000).catch(() => null)) ? 'agent running' : 'agent NOT running';
      console.log(`${loaded.config.gateway.id}: ${shown.length} alarm(s)${opts.all ? '' : ' not normal'} · ${agent} · config ${relative(process.cwd(), file) || file} (${how})`);
      if (shown.length) console.log(formatAlarms(shown, Date.now()));
    },
  );

  withUser(common(alarms.command('ack <id>').description('acknowledge an alarm (active → acknowledged, cleared → normal)'))).action(
    async (id: string, opts: Common, cmd: Command) => {
      const { loaded } = load(opts);
      try {
        answer(cmd, await operate(loaded, { op: 'ack', id, user: opts.user ?? userInfo().username }), opts.json);
      } catch (e) {
        badInput(cmd, e);
      }
    },
  );

  withUser(
    common(
      alarms
        .command('shelve <id>')
        .description('shelve an alarm: hidden and its outputs released until the time is up')
        .requiredOption('--for <duration>', 'how long, e.g. 30m, 2h, 1h30m (at most alarms.shelve.maxMs)'),
    ),
  ).action(async (id: string, opts: Common & { for: string }, cmd: Command) => {
    const { loaded } = load(opts);
    try {
      const ms = parseDuration(opts.for, '--for');
      answer(cmd, await operate(loaded, { op: 'shelve', id, untilTs: Date.now() + ms, user: opts.user ?? userInfo().username }), opts.json);
    } catch (e) {
      badInput(cmd, e);
    }
  });

  withUser(common(alarms.command('unshelve <id>').description('end a shelving now'))).action(async (id: string, opts: Common, cmd: Command) => {
    const { loaded } = load(opts);
    try {
      answer(cmd, await operate(loaded, { op: 'unshelve', id, user: opts.user ?? userInfo().username }), opts.json);
    } catch (e) {
      badInput(cmd, e);
    }
  });

  common(alarms.command('log [id]').description('recent transitions, newest first').option('--limit <n>', 'how many (default 30)', '30')).action(
    async (id: string | undefined, opts: Common & { limit: string }, cmd: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) cmd.error(`error: --limit: expected a positive integer, got ${JSON.stringify(opts.limit)}`, { exitCode: 2 });
      const { loaded } = load(opts);
      const entries: AlarmLogEntry[] = await readFile(loaded, (s) => s.recentLog(limit, id));
      if (opts.json) return console.log(JSON.stringify(entries));
      console.log(
        table(
          ['TIME', 'ALARM', 'FROM → TO', 'LEVEL', 'SENT', 'CAUSE'],
          entries.map((e) => [time(e.ts), e.alarmId, `${e.from} → ${e.to}`, levelText(e.level), e.eventSeq === null ? 'local' : `#${e.eventSeq}`, e.user ? `${e.cause} [${e.user}]` : e.cause]),
        ),
      );
    },
  );

  common(alarms.command('outputs').description('outputs: state, backend, pending timers, and recent switching')).action(async (opts: Common) => {
    const { loaded } = load(opts);
    const { rows, log } = await readFile(loaded, (s) => ({ rows: s.loadOutputs(), log: s.recentOutputLog(20) as OutputLogEntry[] }));
    if (opts.json) return console.log(JSON.stringify({ outputs: rows, log }));
    const now = Date.now();
    const cfg = new Map((loaded.config.outputs ?? []).map((o) => [o.name, o]));
    console.log(
      table(
        ['OUTPUT', 'STATE', 'MODE', 'FAIL-SAFE', 'SINCE', 'PENDING'],
        [...cfg.values()].map((o) => {
          const r: OutputRow | undefined = rows.find((x) => x.name === o.name);
          const pending = [
            r?.pending ? 'write not confirmed' : '',
            r && r.on && r.holdUntil > now ? `held on ${formatDuration(r.holdUntil - now)}` : '',
            r && r.pulseUntil > now ? `pulse ends in ${formatDuration(r.pulseUntil - now)}` : '',
          ].filter(Boolean);
          return [o.name, r ? (r.on ? 'ON' : 'off') : '(never started)', `${o.mode ?? 'follow'}${o.test ? ' (test mode)' : ''}`, o.failSafe ?? 'off', r ? time(r.since) : '-', pending.join(', ') || '-'];
        }),
      ),
    );
    if (log.length) {
      console.log('\nrecent switching (newest first):');
      console.log(table(['TIME', 'OUTPUT', 'TO', 'BACKEND', 'REASON'], log.map((e) => [time(e.ts), e.output, e.on ? 'ON' : 'off', e.backend, e.reason])));
    }
  });

  withUser(common(alarms.command('test-output <name>').description('lamp test: switch an output on for a while (needs the running agent)').option('--for <duration>', 'how long (default 5s)', '5s'))).action(
    async (name: string, opts: Common & { for: string }, cmd: Command) => {
      const { loaded } = load(opts);
      try {
        const forMs = parseDuration(opts.for, '--for');
        const res = await controlRequest(socketOf(loaded), { op: 'test-output', name, forMs, user: opts.user ?? userInfo().username });
        if (!res) throw new LifelineError(ErrorCodes.LinkDown, `the agent is not running (no answer on ${socketOf(loaded)}): a lamp test needs it`);
        answer(cmd, res, opts.json);
      } catch (e) {
        badInput(cmd, e);
      }
    },
  );
}

