/**
 * Alarms the cloud raises about a gateway itself (its batches refused, …),
 * with the same ISA-18.2 lifecycle as the gateway's own alarms. They are
 * written as alarm transitions in the gateway's cloud event lane
 * (epoch CLOUD_EPOCH), so the alarms table, history, SSE and webhooks treat
 * them exactly like transitions a gateway sent.
 *
 *   ingest (reject / commit again) ─▶ raise / clear ─▶ store.telemetry.commitEvents(epoch −1) ─▶ alarms, live hub
 *   API (ack)                      ─▶ ack ──────────┘   (not sent to the gateway: it does not know this alarm)
 */
import { ErrorCodes, isLifelineError, type AlarmLevel, type AlarmState, type AlarmTransition } from '@lifeline/shared';
import { CLOUD_EPOCH, type AlarmInfo, type Store } from './store/store.js';

/** Alarm ids of cloud alarms start with this; the gateway's own never do (theirs start with a device id). */
export const CLOUD_ALARM_PREFIX = 'cloud/';

/** The cloud's alarm ids: one per cause and gateway. */
export const cloudAlarmIds = {
  /** The cloud refused a batch of the gateway; clears when one commits again. */
  batchesRejected: `${CLOUD_ALARM_PREFIX}sync/batches_rejected`,
  /** No status and no data from the gateway for N heartbeats (one alarm, its devices named in the cause). */
  gatewaySilent: `${CLOUD_ALARM_PREFIX}gateway/silent`,
  /** The gateway's unsent backlog is too deep or its oldest item too old. */
  gatewayBacklog: `${CLOUD_ALARM_PREFIX}gateway/backlog`,
  /** The gateway's clock is off the cloud's by more than the limit. */
  gatewayClock: `${CLOUD_ALARM_PREFIX}gateway/clock`,
  /** The last config pushed to the gateway was rolled back; clears when a later apply is confirmed. */
  configApply: `${CLOUD_ALARM_PREFIX}gateway/config_apply`,
  /** The gateway's buffer disk is full or failing (its status says so); clears when it takes writes again. */
  gatewayDisk: `${CLOUD_ALARM_PREFIX}gateway/disk`,
  /** Statuses of the gateway keep alternating between buffer epochs: two boxes share its identity. */
  gatewayIdentity: `${CLOUD_ALARM_PREFIX}gateway/identity`,
  /** A device stopped reporting while its gateway reports. */
  deviceStale: (device: string) => `${CLOUD_ALARM_PREFIX}device/${device}/stale`,
} as const;

/** What a cloud alarm is about below the gateway: device-scoped alarms list under their device. */
export interface CloudAlarmScope {
  device?: string;
  point?: string;
}

export function isCloudAlarm(a: Pick<AlarmInfo, 'alarmId'>): boolean {
  return a.alarmId.startsWith(CLOUD_ALARM_PREFIX);
}

export class CloudAlarms {
  constructor(private readonly store: Pick<Store, 'alarms' | 'telemetry'>) {}

  /** Raise (or keep raised) `alarmId` of `gateway`; nothing is written if it is already active. */
  async raise(gateway: string, alarmId: string, level: AlarmLevel, cause: string, at = Date.now(), scope: CloudAlarmScope = {}): Promise<void> {
    const now = await this.store.alarms.findAlarm(gateway, alarmId);
    if (now && (now.state === 'active_unacked' || now.state === 'active_acked' || now.state === 'shelved')) return;
    await this.transition(gateway, alarmId, now?.state ?? 'normal', 'active_unacked', level, cause, at, undefined, scope);
  }

  /** The cause went away: active_unacked → cleared_unacked, active_acked → normal. */
  async clear(gateway: string, alarmId: string, cause: string, at = Date.now()): Promise<void> {
    const now = await this.store.alarms.findAlarm(gateway, alarmId);
    if (!now) return;
    const to: AlarmState | undefined = now.state === 'active_unacked' ? 'cleared_unacked' : now.state === 'active_acked' || now.state === 'shelved' ? 'normal' : undefined;
    if (to) await this.transition(gateway, alarmId, now.state, to, now.level as AlarmLevel, cause, at, undefined, now);
  }

  /** An operator acknowledged it: active_unacked → active_acked, cleared_unacked → normal. */
  async ack(alarm: AlarmInfo, user: string, at = Date.now()): Promise<AlarmState> {
    const to: AlarmState = alarm.state === 'cleared_unacked' ? 'normal' : 'active_acked';
    await this.transition(alarm.gateway, alarm.alarmId, alarm.state, to, alarm.level as AlarmLevel, `acknowledged by ${user}`, at, user, alarm);
    return to;
  }

  private async transition(
    gateway: string, alarmId: string, from: AlarmState, to: AlarmState, level: AlarmLevel, cause: string, at: number, user?: string, scope: CloudAlarmScope = {},
  ): Promise<void> {
    // Two ingest workers may write the same gateway's cloud lane at once: the loser's range overlaps, it takes the next seq.
    for (let attempt = 0; ; attempt++) {
      const seq = (await this.store.telemetry.laneCommitted(gateway, 'events', CLOUD_EPOCH)) + 1;
      const e: AlarmTransition = { kind: 'alarm', seq, alarmId, device: scope.device ?? '', point: scope.point ?? '', ts: at, from, to, level, detector: 'cloud', cause, value: null, ...(user ? { user } : {}) };
      try {
        await this.store.telemetry.commitEvents({ gateway, epoch: CLOUD_EPOCH, firstSeq: seq, lastSeq: seq, events: [e] });
        return;
      } catch (err) {
        if (attempt >= 3 || !isLifelineError(err) || err.code !== ErrorCodes.PayloadInvalid) throw err;
      }
    }
  }
}
