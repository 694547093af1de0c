/**
 * `lifeline watch [--device id]`: a live table of the running agent's values, alarm levels and
 * per-device comm quality, redrawn every --interval until Ctrl-C.
 *
 *   every interval ─{"op":"status"}─▶ control socket ─▶ Agent.status(): devices with their latest
 *                  ◀── values, polls / failed polls, last poll duration, last good read, alarms ──┘
 *   ─▶ one row per point: value and unit (from the profile), its alarm level; the device's first
 *      row carries its comm quality (state, success rate, latency, last good read)
 *
 * On a terminal the screen is redrawn in place; piped, each frame is printed after the last;
 * `--json` prints one JSON object per refresh. No agent answering at the start is exit 1; an
 * agent that goes away later is shown as such and asked again at the next refresh.
 */
import type { Command } from 'commander';
import { AlarmLevel, ErrorCodes, LifelineError } from '@lifeline/shared';
import { controlRequest } from '../alarms/control.js';
import type { AlarmRecord } from '../alarms/types.js';
import type { AgentStatus, DeviceStatus } from '../agent/status.js';
import type { LoadedConfig } from '../config/load.js';
import { describeLevel } from '../detect/levels.js';
import { ago, configOptions, load, socketOf, table, time, type Common } from './alarms.js';
import { summary } from './commands.js';
import { intIn } from './field.js';

/** One point as watch shows it. */
export interface WatchPoint {
  point: string;
  value: number | null;
  unit: string;
  /** Highest level of the point's alarms that are not normal: `red (I)`, or null. */
  alarm: string | null;
}

/** One device as watch shows it. */
export interface WatchDevice {
  id: string;
  bus: string;
  online: boolean | null;
  /** Share of polls answered since the agent started, 0..1 (null: not polled yet). */
  successRate: number | null;
  polls: number;
  failedPolls: number;
  /** Duration of its last poll, ms. */
  latencyMs: number | null;
  lastGoodTs: number | null;
  points: WatchPoint[];
}

/** What one refresh shows. */
export interface WatchFrame {
  gateway: string;
  now: number;
  devices: WatchDevice[];
}

const levelOf = (alarms: readonly AlarmRecord[]) => {
  const top = Math.max(AlarmLevel.Normal, ...alarms.map((a) => a.level));
  return top === AlarmLevel.Normal ? (alarms.length ? alarms[0].state : null) : describeLevel(top);
};

/** The frame for a status snapshot: devices (only `device` when given), their points with units from the profiles. */
export function watchFrame(s: AgentStatus, loaded: LoadedConfig, device?: string): WatchFrame {
  const devices: WatchDevice[] = [];
  for (const bus of s.buses) {
    for (const d of bus.devices as DeviceStatus[]) {
      if (device && d.id !== device) continue;
      const profile = loaded.profiles.get(d.id);
      const unitOf = (point: string) => (profile?.points.find((p) => p.name === point) as { unit?: string } | undefined)?.unit ?? '';
      const alarms = s.alarms.filter((a) => a.device === d.id);
      const values = d.values ?? [];
      const points: WatchPoint[] = values.map((v) => ({ point: v.point, value: v.value, unit: unitOf(v.point), alarm: levelOf(alarms.filter((a) => a.point === v.point)) }));
      // Alarms on no point read (comm loss, a multivariate detector): a row of their own.
      for (const a of alarms) if (!values.some((v) => v.point === a.point)) points.push({ point: a.point, value: null, unit: '', alarm: `${levelOf([a])} ${a.detector}` });
      const failed = d.failedPolls ?? 0;
      devices.push({
        id: d.id,
        bus: bus.name,
        online: d.online,
        successRate: d.polls + failed ? d.polls / (d.polls + failed) : null,
        polls: d.polls,
        failedPolls: failed,
        latencyMs: d.polls + failed ? (d.lastPollMs ?? null) : null,
        lastGoodTs: d.lastGoodTs,
        points,
      });
    }
  }
  return { gateway: s.gateway, now: s.now, devices };
}

const fmt = (v: number | null) => (v === null ? '-' : String(Number(v.toPrecision(7))));

/** The frame as a terminal table. */
export function formatWatch(f: WatchFrame, intervalMs: number): string {
  const rows: string[][] = [];
  for (const d of f.devices) {
    const state = d.online === null ? 'waiting' : d.online ? 'online' : 'OFFLINE';
    const rate = d.successRate === null ? '-' : `${(100 * d.successRate).toFixed(1)}% of ${d.polls + d.failedPolls}`;
    const latency = d.latencyMs === null ? '-' : `${Math.round(d.latencyMs)} ms`;
    const good = d.lastGoodTs === null ? 'never' : ago(d.lastGoodTs, f.now);
    const points = d.points.length ? d.points : [{ point: '-', value: null, unit: '', alarm: null }];
    points.forEach((p, i) => rows.push([i ? '' : d.id, p.point, fmt(p.value), p.unit, p.alarm ?? '-', i ? '' : state, i ? '' : rate, i ? '' : latency, i ? '' : good]));
  }
  const head = `${f.gateway} · ${time(f.now)} · every ${intervalMs / 1000} s · Ctrl-C to stop`;
  if (!rows.length) return `${head}\n(no devices)`;
  return `${head}\n\n${table(['DEVICE', 'POINT', 'VALUE', 'UNIT', 'ALARM', 'STATE', 'POLLS OK', 'LATENCY', 'LAST GOOD READ'], rows)}`;
}

interface WatchOpts extends Common {
  device?: string;
  interval: number;
  count?: number;
  json?: boolean;
}

/** Register `watch` on the program. */
export function registerWatch(program: Command): void {
  configOptions(program.command('watch').description(summary('watch')))
    .option('--device <id>', 'only this device')
    .option('--interval <ms>', 'refresh every this many ms', intIn(200, 3_600_000), 1000)
    .option('--count <n>', 'stop after this many refreshes (default: until Ctrl-C)', intIn(1, 1_000_000))
    .option('--json', 'one JSON object per refresh')
    .action(async (opts: WatchOpts, cmd: Command) => {
      const { loaded } = load(opts);
      if (opts.device && !loaded.config.buses.some((b) => b.devices.some((d) => d.id === opts.device))) {
        cmd.error(`error: --device: no device ${JSON.stringify(opts.device)} in ${loaded.file ?? 'the config'} (devices: ${loaded.config.buses.flatMap((b) => b.devices.map((d) => d.id)).join(', ')})`, { exitCode: 2 });
      }
      const socket = socketOf(loaded);
      const tty = !opts.json && process.stdout.isTTY;
      let stop = false;
      let wake: () => void = () => {};
      const onSigint = () => {
        stop = true;
        wake();
      };
      process.on('SIGINT', onSigint);
      if (tty) process.stdout.write('\x1b[?25l'); // hide the cursor while redrawing
      try {
        for (let n = 0; !stop && (opts.count === undefined || n < opts.count); n++) {
          if (n) await new Promise<void>((r) => ((wake = r), setTimeout(r, opts.interval)));
          if (stop) break;
          const res = await controlRequest(socket, { op: 'status' });
          if (!res && n === 0) throw new LifelineError(ErrorCodes.LinkDown, `agent not running: nothing answers on ${socket} (start it with lifeline run, or lifeline service install)`);
          if (res && !res.ok) throw new LifelineError(ErrorCodes.LinkDown, `the agent on ${socket} refused status: ${res.message}`);
          let out: string;
          if (!res) out = opts.json ? JSON.stringify({ now: Date.now(), error: `agent not answering on ${socket}` }) : `${time(Date.now())}: agent not answering on ${socket}; asking again every ${opts.interval / 1000} s`;
          else {
            const { ok: _ok, ...snapshot } = res;
            const frame = watchFrame(snapshot as unknown as AgentStatus, loaded, opts.device);
            out = opts.json ? JSON.stringify(frame) : formatWatch(frame, opts.interval);
          }
          if (tty) process.stdout.write(`\x1b[H\x1b[2J${out}\n`);
          else console.log(opts.json || n === 0 ? out : `\n${out}`);
        }
      } finally {
        process.off('SIGINT', onSigint);
        if (tty) process.stdout.write('\x1b[?25h');
      }
    });
}
