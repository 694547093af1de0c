/**
 * The alarms concern of the cloud store: each alarm's current state (derived
 * by the telemetry store as transitions commit), its history and operators'
 * comments.
 */
import type { AlarmState, LaneEvent } from '@lifeline/shared';

/** An alarm's current state, derived from the transitions its gateway sent. */
export interface AlarmInfo {
  /** Cloud id, used in API paths. */
  id: number;
  gateway: string;
  /** The gateway's stable alarm id, e.g. `flood-1/water_level/threshold`. */
  alarmId: string;
  device: string;
  point: string;
  detector: string;
  /** 0 normal … 4 red. */
  level: number;
  state: AlarmState;
  /** Epoch ms of the last transition. */
  since: number;
  /** The last transition's cause (after an acknowledgement: who acknowledged). */
  cause: string;
  value: number | null;
  /** Epoch ms it last left normal. */
  raisedAt: number | null;
  /** The cause it last left normal with, kept across later transitions (null for alarms raised before the cloud kept it). */
  raisedCause: string | null;
  /** Of its device, from the registry. */
  kind: string | null;
  district: string | null;
  /** The point's label in its profile (e.g. 下穿通道积水深度), null when it has none or the device is unknown. */
  pointLabel: string | null;
}

/** Alarm list filter; every field optional, lists are OR-ed, fields AND-ed. */
export interface AlarmFilter {
  state?: AlarmState[];
  /** Minimum level. */
  minLevel?: number;
  level?: number[];
  kind?: string[];
  district?: string[];
  gateway?: string;
  device?: string;
  limit: number;
}

/** An operator comment on an alarm. */
export interface AlarmComment {
  id: number;
  alarm: number;
  ts: number;
  user: string;
  text: string;
}

/** Alarms (current state and history) and their comments. */
export interface AlarmStore {
  listAlarms(f: AlarmFilter): Promise<AlarmInfo[]>;
  getAlarm(id: number): Promise<AlarmInfo | undefined>;
  /** An alarm by its gateway and the gateway's alarm id. */
  findAlarm(gateway: string, alarmId: string): Promise<AlarmInfo | undefined>;
  /** Every transition of one alarm, oldest first. */
  alarmHistory(id: number): Promise<LaneEvent[]>;
  addComment(c: Omit<AlarmComment, 'id'>): Promise<AlarmComment>;
  listComments(alarm: number): Promise<AlarmComment[]>;
}
