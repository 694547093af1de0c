/**
 * Actions: alarms switch outputs.
 *
 *   AlarmManager ─onChange(alarm)─▶ outputs whose rules match ─▶ demand (mode) ─▶ min on-time
 *        ─▶ row saved (SQLite) ─▶ backend.set(on) ─▶ output_log + onSwitch listeners
 *
 * Modes: `follow` is on while a matching alarm is active at or above the rule's
 * level; `latching` stays on until every such alarm is back to normal (cleared
 * and acknowledged); `momentary` pulses `pulseMs` each time one rises to the
 * level. Shelved alarms switch nothing (an operator silenced them); alarms
 * suppressed for chattering or a flood still do (the hazard is real, only the
 * annunciation is reduced).
 *
 * Pending actions survive a kill -9: the commanded state, the end of a minimum
 * on-time or of a pulse, and an unconfirmed Modbus write are in the `outputs`
 * table, written right after the backend is switched (same tick); at start they
 * are restored and the demand is recomputed from the restored alarms.
 */
import { AlarmLevel } from '@lifeline/shared';
import type { AlarmStore } from '../alarms/store.js';
import { describeLevel, levelOf } from '../detect/levels.js';
import type { AlarmListener } from '../alarms/manager.js';
import type { AlarmRecord, OutputRow } from '../alarms/types.js';
import { formatDuration } from '../alarms/duration.js';
import type { Logger } from '../log.js';
import type { OutputBackend } from './backends.js';
import { globToRegExp, type ActionConfig, type OutputConfig, type OutputMode } from './config.js';

/** One switching, as told to onSwitch listeners. */
export interface OutputSwitchEvent {
  output: string;
  on: boolean;
  /** Epoch ms. */
  ts: number;
  /** performance.now() right after the backend was switched. */
  hr: number;
  backend: string;
  reason: string;
}

/** An output's state for the CLI and status. */
export interface OutputStatus {
  name: string;
  backend: string;
  mode: OutputMode;
  failSafe: 'on' | 'off';
  on: boolean;
  since: number;
  holdUntil: number;
  pulseUntil: number;
  pending: boolean;
}

/** What the engine needs. */
export interface ActionEngineOptions {
  outputs: readonly OutputConfig[];
  actions: readonly ActionConfig[];
  store: AlarmStore;
  /** The alarm records (the manager's). */
  alarms: () => Iterable<Readonly<AlarmRecord>>;
  /** Subscribes to alarm changes (the manager's onChange). */
  subscribe: (l: AlarmListener) => () => void;
  /** Makes the backend of an output, initialised to `initial`. */
  backendFor: (o: OutputConfig, initial: boolean) => OutputBackend;
  clock?: () => number;
  log?: Logger;
}

interface Rule {
  alarm?: RegExp;
  device?: RegExp;
  point?: RegExp;
  detector?: string;
  level: AlarmLevel;
}

interface Runtime {
  cfg: OutputConfig;
  mode: OutputMode;
  backend: OutputBackend;
  row: OutputRow;
  rules: Rule[];
  /** Lamp test from the CLI: on until then. */
  testUntil: number;
  timer?: NodeJS.Timeout;
  timerAt: number;
  retry?: NodeJS.Timeout;
  retryMs: number;
  inflight?: Promise<void>;
}

const matches = (r: Rule, a: Readonly<AlarmRecord>) =>
  (!r.alarm || r.alarm.test(a.id)) && (!r.device || r.device.test(a.device)) && (!r.point || r.point.test(a.point)) && (!r.detector || r.detector === a.detector);

/** Switches the outputs of one gateway from its alarms. */
export class ActionEngine {
  private readonly outputs = new Map<string, Runtime>();
  private readonly switchListeners: ((e: OutputSwitchEvent) => void)[] = [];
  private readonly clock: () => number;
  private off?: () => void;
  private stopped = false;

  constructor(private readonly opts: ActionEngineOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** Restores output states and pending timers, opens the backends, applies the current demand. */
  start(): void {
    const now = this.clock();
    const saved = new Map(this.opts.store.loadOutputs().map((r) => [r.name, r]));
    for (const cfg of this.opts.outputs) {
      const failSafe = (cfg.failSafe ?? 'off') === 'on';
      const row: OutputRow = saved.get(cfg.name) ?? { name: cfg.name, on: failSafe, since: now, holdUntil: 0, pulseUntil: 0, pending: false, armed: [] };
      const rules = this.opts.actions
        .filter((a) => a.output === cfg.name)
        .map((a) => ({
          alarm: a.when.alarm ? globToRegExp(a.when.alarm) : undefined,
          device: a.when.device ? globToRegExp(a.when.device) : undefined,
          point: a.when.point ? globToRegExp(a.when.point) : undefined,
          detector: a.when.detector,
          level: levelOf(a.when.level),
        }));
      const backend = this.opts.backendFor(cfg, row.on);
      const rt: Runtime = { cfg, mode: cfg.mode ?? 'follow', backend, row, rules, testUntil: 0, timerAt: Infinity, retryMs: 1000 };
      this.outputs.set(cfg.name, rt);
      // A GPIO line is opened at the saved state. A device (Modbus) is told again only what
      // may not have reached it, or an 'on' we own; an 'off' it confirmed is left alone.
      if (backend.async && (row.pending || row.on)) {
        row.pending = true;
        this.apply(rt);
      }
    }
    for (const rt of this.outputs.values()) this.evaluate(rt, now, saved.has(rt.cfg.name) ? 'restored at start' : 'first start');
    this.off = this.opts.subscribe((a) => this.onAlarm(a));
  }

  /** Told of every switching (after the backend was switched). */
  onSwitch(listener: (e: OutputSwitchEvent) => void): () => void {
    this.switchListeners.push(listener);
    return () => {
      const i = this.switchListeners.indexOf(listener);
      if (i >= 0) this.switchListeners.splice(i, 1);
    };
  }

  /** Every output's state. */
  status(): OutputStatus[] {
    return [...this.outputs.values()].map((rt) => ({
      name: rt.cfg.name,
      backend: rt.backend.kind,
      mode: rt.mode,
      failSafe: rt.cfg.failSafe ?? 'off',
      on: rt.row.on,
      since: rt.row.since,
      holdUntil: rt.row.holdUntil,
      pulseUntil: rt.row.pulseUntil,
      pending: rt.row.pending,
    }));
  }

  /** The backend of an output (tests read a simulated backend's record). */
  backend(name: string): OutputBackend | undefined {
    return this.outputs.get(name)?.backend;
  }

  /** Lamp test: switches an output on for `forMs`, whatever its alarms say. */
  test(name: string, forMs: number, user: string): OutputStatus {
    const rt = this.outputs.get(name);
    if (!rt) throw new Error(`no output named ${JSON.stringify(name)}`);
    const now = this.clock();
    rt.testUntil = now + forMs;
    this.evaluate(rt, now, `test by ${user} for ${formatDuration(forMs)}`);
    return this.status().find((s) => s.name === name)!;
  }

  /** Sets every output to its fail-safe state and closes the backends. The saved rows keep the commanded state for the next start. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.off?.();
    const now = this.clock();
    for (const rt of this.outputs.values()) {
      clearTimeout(rt.timer);
      clearTimeout(rt.retry);
      const failSafe = (rt.cfg.failSafe ?? 'off') === 'on';
      try {
        await rt.inflight;
        await rt.backend.set(failSafe);
        this.opts.store.appendOutputLog({ ts: now, output: rt.cfg.name, on: failSafe, backend: rt.backend.kind, reason: 'agent stopping: fail-safe state' });
      } catch (err) {
        this.opts.log?.error({ err, output: rt.cfg.name }, 'could not set the fail-safe state');
      }
      await rt.backend.close();
    }
  }

  private onAlarm(a: Readonly<AlarmRecord>): void {
    for (const rt of this.outputs.values()) {
      if (!rt.rules.some((r) => matches(r, a))) continue;
      this.evaluate(rt, this.clock(), `${a.id} ${a.state} ${describeLevel(a.level)}`);
    }
  }

  /** Recomputes what an output should be now and switches it if that changed. */
  private evaluate(rt: Runtime, now: number, reason: string): void {
    if (this.stopped) return;
    const { row } = rt;
    let demand = false;
    let armedChanged = false;
    if (rt.mode === 'momentary') {
      const armed: string[] = [];
      for (const a of this.opts.alarms()) {
        if (a.shelvedUntil !== null) continue;
        if (rt.rules.some((r) => matches(r, a) && a.level >= r.level)) armed.push(a.id);
      }
      if (armed.some((id) => !row.armed.includes(id))) row.pulseUntil = now + (rt.cfg.pulseMs ?? 0);
      armedChanged = armed.length !== row.armed.length || armed.some((id, i) => id !== row.armed[i]);
      row.armed = armed;
      demand = row.pulseUntil > now;
    } else {
      for (const a of this.opts.alarms()) {
        if (a.shelvedUntil !== null) continue;
        const hit = rt.rules.some((r) => matches(r, a) && (rt.mode === 'latching' ? a.base !== 'normal' && a.peakLevel >= r.level : a.level >= r.level));
        if (hit) {
          demand = true;
          break;
        }
      }
    }
    if (rt.testUntil > now) demand = true;
    const want = demand || (row.on && now < row.holdUntil);
    if (want !== row.on) this.switch(rt, want, now, reason);
    else if (armedChanged) {
      const saved = { ...row, armed: [...row.armed] };
      this.opts.store.later(() => this.opts.store.saveOutput(saved));
    }
    // Wake up when a hold, a pulse or a lamp test ends.
    const next = Math.min(...[row.on ? row.holdUntil : 0, row.pulseUntil, rt.testUntil].filter((t) => t > now));
    if (next !== rt.timerAt) {
      clearTimeout(rt.timer);
      rt.timerAt = next;
      if (Number.isFinite(next)) {
        rt.timer = setTimeout(() => {
          rt.timerAt = Infinity;
          const t = this.clock();
          const why = row.pulseUntil && row.pulseUntil <= t ? 'pulse over' : rt.testUntil && rt.testUntil <= t ? 'test over' : 'minimum on-time over';
          this.evaluate(rt, t, why);
        }, next - now);
        rt.timer.unref?.();
      }
    }
  }

  private switch(rt: Runtime, on: boolean, now: number, reason: string): void {
    const { row } = rt;
    row.on = on;
    row.since = now;
    if (on) row.holdUntil = now + (rt.cfg.minOnMs ?? 0);
    row.pending = rt.backend.async;
    // The hardware first (no disk on the way to the beacon), then the record, in the same tick.
    this.apply(rt, false);
    const hr = performance.now();
    const saved = { ...row, armed: [...row.armed] };
    const logged = { ts: now, output: rt.cfg.name, on, backend: rt.backend.kind, reason };
    // Now, or with the alarm records at the end of the batch (AlarmStore.later).
    this.opts.store.later(() => {
      this.opts.store.saveOutput(saved);
      this.opts.store.appendOutputLog(logged);
    });
    this.opts.log?.info({ output: rt.cfg.name, on, backend: rt.backend.kind, reason }, on ? 'output on' : 'output off');
    const e: OutputSwitchEvent = { output: rt.cfg.name, on, ts: now, hr, backend: rt.backend.kind, reason };
    for (const l of this.switchListeners) {
      try {
        l(e);
      } catch (err) {
        this.opts.log?.error({ err }, 'output listener failed; continuing');
      }
    }
  }

  /**
   * Drives the backend to the row's state; retries (1 s doubling to 30 s) until it is
   * confirmed. `save`: persist a change of `pending` (false when the caller saves the row next).
   */
  private apply(rt: Runtime, save = true): void {
    const { row } = rt;
    const want = row.on;
    const done = () => {
      if (row.on !== want || !row.pending) return;
      row.pending = false;
      rt.retryMs = 1000;
      this.opts.store.saveOutput(row);
    };
    const failed = (err: unknown) => {
      this.opts.log?.error({ output: rt.cfg.name, on: want, err: (err as Error).message }, `output could not be switched; retrying in ${formatDuration(rt.retryMs)}`);
      if (!row.pending) {
        row.pending = true;
        if (save) this.opts.store.saveOutput(row);
      }
      clearTimeout(rt.retry);
      rt.retry = setTimeout(() => {
        if (!this.stopped && row.pending) this.apply(rt);
      }, rt.retryMs);
      rt.retry.unref?.();
      rt.retryMs = Math.min(rt.retryMs * 2, 30_000);
    };
    try {
      const r = rt.backend.set(want);
      if (r instanceof Promise) {
        rt.inflight = r.then(done, failed);
      } else if (row.pending) done();
    } catch (err) {
      failed(err);
    }
  }
}
