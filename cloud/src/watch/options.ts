/**
 * Thresholds of the alarms the cloud raises by watching its registry
 * (CloudWatch): what "silent", "stale", "too deep", "too far off" mean.
 * Validated once when the cloud starts; every bad field reported together.
 */
import { ErrorCodes, LifelineError } from '@lifeline/shared';

/** The cloud's alarm thresholds (CloudOptions.alarms); every field optional. */
export interface CloudAlarmOptions {
  /** Run the watch on this node (default true). In a multi-node cloud, run it on one node only. */
  watch?: boolean;
  /**
   * How often a gateway is expected to be heard from, ms (default 30,000: the edge's status period;
   * its data usually flows more often). Match it to the gateways' status interval.
   */
  heartbeatMs?: number;
  /** Heartbeats without a status or a reading before the gateway is called silent (default 3). */
  silentAfterHeartbeats?: number;
  /**
   * A device whose newest reading is older than this while its gateway reports is stale, ms
   * (default 300,000). At least the silent window, so a dead gateway is called silent before its devices go stale.
   */
  staleAfterMs?: number;
  /**
   * A device the gateway's running config gives a poll interval (pollMs) is stale only after
   * max(staleAfterMs, staleAfterPolls × pollMs): a meter read every 15 min is not stale after 5 (default 5).
   */
  staleAfterPolls?: number;
  /** Unsent readings queued on a gateway above which it alarms (default 100,000). */
  backlogDepth?: number;
  /** Age of the oldest unsent reading on a gateway above which it alarms, ms (default 900,000 = 15 min). */
  backlogAgeMs?: number;
  /** |cloud clock − gateway clock| above which the gateway alarms, ms (default 60,000). */
  clockOffsetMs?: number;
  /** How often the watch looks, ms (default heartbeatMs / 4). */
  checkEveryMs?: number;
}

/** The options with every default filled in. */
export type CloudAlarmSettings = Required<CloudAlarmOptions>;

export const cloudAlarmDefaults = {
  watch: true,
  heartbeatMs: 30_000,
  silentAfterHeartbeats: 3,
  staleAfterMs: 300_000,
  staleAfterPolls: 5,
  backlogDepth: 100_000,
  backlogAgeMs: 900_000,
  clockOffsetMs: 60_000,
} as const;

/** Fill in the defaults and check every field; one ConfigInvalid error lists every bad one (`alarms.<field>: …, got <value>`). */
export function cloudAlarmSettings(o: CloudAlarmOptions = {}): CloudAlarmSettings {
  const errors: string[] = [];
  const int = (field: keyof CloudAlarmOptions, fallback: number, min: number): number => {
    const v = o[field];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      errors.push(`alarms.${field}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return v;
  };
  if (o.watch !== undefined && typeof o.watch !== 'boolean') errors.push(`alarms.watch: expected true or false, got ${JSON.stringify(o.watch)}`);
  const heartbeatMs = int('heartbeatMs', cloudAlarmDefaults.heartbeatMs, 100);
  const silentAfterHeartbeats = int('silentAfterHeartbeats', cloudAlarmDefaults.silentAfterHeartbeats, 1);
  const staleAfterMs = int('staleAfterMs', cloudAlarmDefaults.staleAfterMs, 100);
  const s: CloudAlarmSettings = {
    watch: o.watch ?? cloudAlarmDefaults.watch,
    heartbeatMs,
    silentAfterHeartbeats,
    staleAfterMs,
    staleAfterPolls: int('staleAfterPolls', cloudAlarmDefaults.staleAfterPolls, 1),
    backlogDepth: int('backlogDepth', cloudAlarmDefaults.backlogDepth, 1),
    backlogAgeMs: int('backlogAgeMs', cloudAlarmDefaults.backlogAgeMs, 1000),
    clockOffsetMs: int('clockOffsetMs', cloudAlarmDefaults.clockOffsetMs, 1000),
    checkEveryMs: int('checkEveryMs', Math.max(50, Math.floor(heartbeatMs / 4)), 10),
  };
  // A device of a dead gateway would otherwise go stale first: N device alarms, the storm this rule exists to avoid.
  if (!errors.length && staleAfterMs < heartbeatMs * silentAfterHeartbeats) {
    errors.push(
      `alarms.staleAfterMs: must be at least heartbeatMs × silentAfterHeartbeats (${heartbeatMs * silentAfterHeartbeats}), got ${staleAfterMs}`,
    );
  }
  if (errors.length) throw new LifelineError(ErrorCodes.ConfigInvalid, errors.join('; '));
  return Object.freeze(s);
}
