/**
 * The status lane of the ingest: a gateway's retained status message (JSON on
 * `lifeline/<gw>/status`), schema-checked and addressed by the topic's gateway,
 * into the registry; its clock offset kept for the readings' time window; a
 * rolled-back config apply raised as a cloud alarm, cleared by a confirmed one; a
 * buffer disk the gateway reports full or failing (a read-only SD card) likewise; and
 * statuses that keep alternating between two buffer epochs (two boxes logged in with
 * one gateway's identity, e.g. a cloned SD card: each takes the other's MQTT session).
 */
import { AlarmLevel, GatewayStatusSchema, parseJsonIssues, type GatewayStatusMessage } from '@lifeline/shared';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { cloudAlarmIds, type CloudAlarms } from '../cloud-alarms.js';

/** Epoch switches within this window, at least IDENTITY_SWITCHES of them, mean two boxes; none in it clears. */
export const IDENTITY_WINDOW_MS = 10 * 60_000;
export const IDENTITY_SWITCHES = 4;

export class StatusHandler {
  /** Gateway clock offsets (cloud − gateway, ms) from their statuses. */
  private readonly clockOffsets = new Map<string, number>();
  /** `result\0ts` of the last config apply each gateway reported, so repeated statuses cost nothing. */
  private readonly applySeen = new Map<string, string>();
  /** Whether each gateway's last status said its disk was full: only a change goes to the store. */
  private readonly diskSeen = new Map<string, 'full' | 'deleted' | 'ok'>();
  /** Per gateway: the epoch of its last online status, when it last switched, and whether the alarm is up. */
  private readonly epochs = new Map<string, { epoch: number; switches: number[]; raised: boolean | null; quietSince: number }>();

  constructor(
    private readonly store: Pick<Store, 'registry'>,
    private readonly alarms: CloudAlarms,
    private readonly counters: { statuses: number; badStatuses: number },
    private readonly log: Logger,
  ) {}

  /** The gateway's last reported clock offset, 0 if none. */
  clockOffset(gateway: string): number {
    return this.clockOffsets.get(gateway) ?? 0;
  }

  async handle(gateway: string, payload: Buffer): Promise<void> {
    if (payload.length === 0) return; // a cleared retained message
    const { value: status, issues } = parseJsonIssues(GatewayStatusSchema, payload.toString('utf8'));
    const s = status as { gateway?: string };
    if (issues.length || s.gateway !== gateway) {
      this.counters.badStatuses++;
      this.log.warn({ gateway, issues, claimed: s?.gateway }, 'ignored a malformed status message');
      return;
    }
    this.counters.statuses++;
    const st = status as GatewayStatusMessage;
    if (typeof st.clockOffsetMs === 'number') this.clockOffsets.set(gateway, st.clockOffsetMs);
    await this.store.registry.saveGatewayStatus({ ...st, ts: st.ts || Date.now(), devices: st.devices });
    await this.configApplyAlarm(gateway, st.configApply);
    await this.diskAlarm(gateway, st.disk);
    await this.identityAlarm(gateway, st);
  }

  /**
   * One box changes its epoch only with a new buffer file (a new SD card, a corrected buffer.path):
   * rarely, and not back and forth every few seconds. Two boxes with one identity do exactly that
   * (each login takes the other's session), mixing two sites' data under one gateway.
   */
  private async identityAlarm(gateway: string, st: GatewayStatusMessage, now = Date.now()): Promise<void> {
    if (!st.online || typeof st.epoch !== 'number') return;
    let e = this.epochs.get(gateway);
    // raised: null until this process has raised or cleared it (an alarm from before a restart clears after a quiet window too).
    if (!e) this.epochs.set(gateway, (e = { epoch: st.epoch, switches: [], raised: null, quietSince: now }));
    e.switches = e.switches.filter((t) => now - t < IDENTITY_WINDOW_MS);
    if (e.epoch !== st.epoch) {
      e.switches.push(now);
      e.epoch = st.epoch;
      e.quietSince = now;
    }
    if (e.raised !== true && e.switches.length >= IDENTITY_SWITCHES) {
      await this.alarms.raise(
        gateway,
        cloudAlarmIds.gatewayIdentity,
        AlarmLevel.Orange,
        `two or more boxes report as ${gateway}: its buffer epoch switched ${e.switches.length} times within ${IDENTITY_WINDOW_MS / 60_000} min (a cloned SD card or config?); their data is mixed under one gateway`,
      );
      e.raised = true;
    } else if (e.raised !== false && e.switches.length === 0 && now - e.quietSince >= IDENTITY_WINDOW_MS) {
      await this.alarms.clear(gateway, cloudAlarmIds.gatewayIdentity, `one box again: no epoch switch for ${IDENTITY_WINDOW_MS / 60_000} min`);
      e.raised = false;
    }
  }


  /**
   * A gateway whose buffer disk is full or failing cannot store its readings, its alarms nor the
   * disk_full event: its status is the one word the cloud gets. Raised orange; cleared when it is back.
   */
  private async diskAlarm(gateway: string, d: GatewayStatusMessage['disk']): Promise<void> {
    if (!d) return;
    const state = d.full ? 'full' : d.deleted ? 'deleted' : 'ok';
    if (this.diskSeen.get(gateway) === state) return;
    if (d.full) {
      const since = typeof d.since === 'number' ? ` since ${new Date(d.since).toISOString()}` : '';
      await this.alarms.raise(gateway, cloudAlarmIds.gatewayDisk, AlarmLevel.Orange, `buffer disk full or failing${since} (${d.lastError ?? 'unknown'}); ${d.droppedReadings ?? 0} reading(s) could not be stored`);
    } else if (d.deleted) {
      await this.alarms.raise(gateway, cloudAlarmIds.gatewayDisk, AlarmLevel.Orange, 'buffer file deleted under the running agent: what it holds is lost when the agent stops');
    } else {
      await this.alarms.clear(gateway, cloudAlarmIds.gatewayDisk, 'buffer disk takes writes again');
    }
    this.diskSeen.set(gateway, state);
  }

  /**
   * A rolled-back config apply raises cloud/gateway/config_apply; a later confirmed one clears it.
   * Every status repeats the last answer: only a change is taken to the store.
   */
  private async configApplyAlarm(gateway: string, a: GatewayStatusMessage['configApply']): Promise<void> {
    if (!a) return;
    const key = `${a.result}\0${a.ts}`;
    if (this.applySeen.get(gateway) === key) return;
    if (a.result === 'rolled_back') {
      await this.alarms.raise(gateway, cloudAlarmIds.configApply, AlarmLevel.Orange, `config rolled back to the last good one: ${a.reason ?? 'no reason given'}`);
    } else {
      await this.alarms.clear(gateway, cloudAlarmIds.configApply, 'a later config apply was confirmed');
    }
    this.applySeen.set(gateway, key);
  }
}
