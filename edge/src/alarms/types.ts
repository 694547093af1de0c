/**
 * The alarm manager's data: one record per alarm (device, point, detector), and
 * the transitions it goes through, and the conditions that move it. Plain data, so
 * the store can persist it and the CLI can print it.
 */
import { AlarmLevel, type AlarmState } from '@lifeline/shared';

/** The ISA-18.2 states an alarm moves through while it is neither shelved nor suppressed. */
export type BaseState = 'normal' | 'active_unacked' | 'active_acked' | 'cleared_unacked';

/** Why an alarm is suppressed by the system: it chatters, or the gateway is in an alarm flood. */
export type SuppressedBy = 'chatter' | 'flood';

/** One alarm: the state an operator sees, and the condition underneath. */
export interface AlarmRecord {
  /** `<device>/<point>/<detector>` (a multivariate detector: its configured id). */
  id: string;
  device: string;
  /** The point that caused the latest change. */
  point: string;
  /** Detector kind: `threshold`, `rate`, `stuck`, `range`, `anomaly`, `multivariate`, `comm_loss`, `flood`. */
  detector: string;
  /** What an operator sees: the base state, or `shelved` / `suppressed` over it. */
  state: AlarmState;
  /** The ISA-18.2 state underneath shelving and suppression. */
  base: BaseState;
  /** The process condition now: the detector's level (Normal when clear). */
  level: AlarmLevel;
  /** Highest level since the alarm left `normal` (latching outputs use it); Normal when `base` is normal. */
  peakLevel: AlarmLevel;
  /** Value at the latest condition change. */
  value: number | null;
  /** Why, in words, at the latest change. */
  cause: string;
  /** When `state` last changed (epoch ms). */
  since: number;
  /** When anything of the record last changed. */
  updated: number;
  /** Start of the current episode (left normal); null when normal. */
  raisedAt: number | null;
  /** Shelved until this time (epoch ms); null when not shelved. */
  shelvedUntil: number | null;
  shelvedBy: string | null;
  suppressedBy: SuppressedBy | null;
  /** Who acknowledged the current episode, and when. */
  ackedBy: string | null;
  ackedAt: number | null;
  /** Recent raise times (for chattering), newest last, bounded. */
  raises: number[];
}

/** A detector's (or the bus layer's) condition for one alarm: the manager's input. */
export interface ConditionInput {
  /** `<device>/<point>/<detector>`, or a multivariate detector's id. */
  alarmId: string;
  device: string;
  point: string;
  /** Detector kind, e.g. `threshold`, `comm_loss`. */
  detector: string;
  /** When the condition changed (reading time, epoch ms). */
  ts: number;
  /** The level now; Normal when the condition has cleared. */
  level: AlarmLevel;
  value: number | null;
  cause: string;
  /**
   * A clear that withdraws a provisional raise (a multivariate detector's yellow watch that its
   * alarm did not confirm): back to normal at once, no acknowledgement asked, unless the alarm had
   * been higher in the same unacknowledged episode (that episode still wants its acknowledgement).
   */
  withdrawn?: boolean;
}

/** The record of an alarm first seen in `c`: normal, as if it had been there all along. */
export function newAlarmRecord(c: ConditionInput): AlarmRecord {
  return {
    id: c.alarmId,
    device: c.device,
    point: c.point,
    detector: c.detector,
    state: 'normal',
    base: 'normal',
    level: AlarmLevel.Normal,
    peakLevel: AlarmLevel.Normal,
    value: null,
    cause: '',
    since: c.ts,
    updated: c.ts,
    raisedAt: null,
    shelvedUntil: null,
    shelvedBy: null,
    suppressedBy: null,
    ackedBy: null,
    ackedAt: null,
    raises: [],
  };
}

/** One recorded transition of one alarm (the local log; `eventSeq` set when it is queued for the cloud). */
export interface AlarmLogEntry {
  /** Row id (assigned by the store). */
  id?: number;
  ts: number;
  alarmId: string;
  device: string;
  point: string;
  detector: string;
  from: AlarmState;
  to: AlarmState;
  level: AlarmLevel;
  value: number | null;
  cause: string;
  user?: string;
  /**
   * Event-lane seq it was queued under; null for a change kept local only
   * (the condition underneath a shelved or suppressed alarm).
   */
  eventSeq: number | null;
}

/** The persisted state of one output: what it was commanded to, and the pending timers. */
export interface OutputRow {
  name: string;
  /** Commanded state. */
  on: boolean;
  /** When it was last switched. */
  since: number;
  /** Minimum on-time: it may not switch off before this (epoch ms; 0 = none). */
  holdUntil: number;
  /** Momentary outputs: the pulse ends at this time (0 = no pulse). */
  pulseUntil: number;
  /** The last command has not been confirmed by the backend (a Modbus write to retry). */
  pending: boolean;
  /** Momentary outputs: alarms already at the level (a pulse fires only when one enters). */
  armed: string[];
}

/** One switching of one output, as recorded (real or simulated). */
export interface OutputLogEntry {
  id?: number;
  ts: number;
  output: string;
  on: boolean;
  /** `gpio`, `modbus`, `simulated` (no GPIO on this machine) or `test` (test mode). */
  backend: string;
  /** Why: the alarm that caused it, a minimum on-time ending, fail-safe at stop... */
  reason: string;
}
