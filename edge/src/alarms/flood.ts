/**
 * Alarm-flood suppression (ISA-18.2): when `flood.count` alarms are raised on one
 * gateway within `flood.windowMs`, the gateway raises one summary alarm
 * `<gateway>/alarms/flood` and new alarms below `flood.passLevel` are suppressed
 * until fewer than `flood.clearCount` raises remain in the window.
 *
 *   raise ─▶ countRaise ─▶ count reached ─▶ summary raised (the manager's onCondition)
 *   tick  ─▶ expire ─▶ window thinned out ─▶ summary cleared, flood-suppressed alarms released
 *
 * The window is kept in the store's meta table, so a restart inside a flood stays in it.
 */
import { AlarmLevel } from '@lifeline/shared';
import { describeLevel } from '../detect/levels.js';
import type { ResolvedAlarmsConfig } from './config.js';
import { formatDuration } from './duration.js';
import { trimWindow } from './raise-window.js';
import type { AlarmStore } from './store.js';
import type { ConditionInput } from './types.js';

/** Detector kind (and last id segment) of the flood summary alarm. */
export const FLOOD_DETECTOR = 'flood';

interface FloodState {
  active: boolean;
  /** Raise times within the window. */
  raises: number[];
  /** Raises since the flood began. */
  total: number;
}

/** The alarm-flood window of one gateway. */
export class AlarmFlood {
  private state: FloodState = { active: false, raises: [], total: 0 };
  /** Id of the flood summary alarm. */
  readonly alarmId: string;

  constructor(
    private readonly gateway: string,
    private readonly config: ResolvedAlarmsConfig['flood'],
    private readonly store: Pick<AlarmStore, 'getMeta' | 'setMeta' | 'later'>,
  ) {
    this.alarmId = `${gateway}/alarms/${FLOOD_DETECTOR}`;
  }

  /** Reads the window back from the store (after a restart). */
  restore(): void {
    const f = this.store.getMeta('flood');
    if (f) this.state = JSON.parse(f) as FloodState;
  }

  /** True while the gateway is in an alarm flood. */
  get active(): boolean {
    return this.state.active;
  }

  /** Whether a new alarm at `level` is suppressed now. */
  suppresses(level: AlarmLevel): boolean {
    return this.state.active && level < this.config.passLevel;
  }

  /** The cause recorded when an alarm is suppressed by the flood. */
  suppressedCause(cause: string): string {
    return `alarm flood (${this.alarmId}), suppressed below ${describeLevel(this.config.passLevel)}; ${cause}`;
  }

  /** Counts one raise at `ts`; returns the summary alarm's condition when this raise starts a flood. */
  countRaise(ts: number): ConditionInput | null {
    const { config: flood, state } = this;
    if (!flood.enabled) return null;
    state.raises.push(ts);
    trimWindow(state.raises, ts, flood.windowMs);
    // Bounded memory: only the count matters once past the limit.
    if (state.raises.length > flood.count * 4) state.raises.splice(0, state.raises.length - flood.count * 4);
    if (state.active) state.total++;
    else if (state.raises.length >= flood.count) {
      state.active = true;
      state.total = state.raises.length;
      this.save();
      const n = state.raises.length;
      return this.summary(
        ts,
        flood.level,
        n,
        `alarm flood: ${n} alarms raised within ${formatDuration(flood.windowMs)}; new alarms below ${describeLevel(flood.passLevel)} are suppressed until fewer than ${flood.clearCount} remain in the window`,
      );
    }
    this.save();
    return null;
  }

  /** Thins the window at `now`; returns the summary alarm's clear when the flood ends. */
  expire(now: number): ConditionInput | null {
    const { config: flood, state } = this;
    if (!state.active) return null;
    trimWindow(state.raises, now, flood.windowMs);
    if (state.raises.length >= flood.clearCount && flood.enabled) return null;
    const total = state.total;
    state.active = false;
    state.total = 0;
    this.save();
    return this.summary(now, AlarmLevel.Normal, total, `alarm flood over: ${total} alarms raised during it`);
  }

  private summary(ts: number, level: AlarmLevel, value: number, cause: string): ConditionInput {
    return { alarmId: this.alarmId, device: this.gateway, point: 'alarms', detector: FLOOD_DETECTOR, ts, level, value, cause };
  }

  private save(): void {
    const json = JSON.stringify(this.state);
    this.store.later(() => this.store.setMeta('flood', json));
  }
}
