/**
 * The cloud's watch over its gateways: alarms for what a gateway did NOT say
 * (it went quiet, a device stopped, its backlog grew, its clock drifted), with
 * the same ISA-18.2 lifecycle as the gateway's own, each cleared when the
 * cause goes away. What a gateway did say (a refused batch, a rolled-back
 * config) is alarmed by the ingest worker as it arrives.
 *
 *   every checkEveryMs: registry.listGateways + registry.listDevices + alarms.listAlarms(active)   (three queries, whatever the size)
 *        │
 *        ├─ per gateway: revoked? ─▶ clear its watch alarms, raise nothing
 *        │               silent?  ─▶ cloud/gateway/silent (one, its devices named); its other rules left as they are
 *        │               else     ─▶ cloud/gateway/clock, cloud/gateway/backlog, cloud/device/<id>/stale
 *        │                           (a device's quiet counted from no earlier than its gateway's return)
 *        └─ raise what is wanted and not active (and not in maintenance), clear what is active and not wanted ─▶ CloudAlarms ─▶ event lane, SSE, webhooks
 *
 * Times a gateway reports (status ts, reading ts, backlog oldest) are on its
 * clock; they are moved to the cloud's with the gateway's clock offset.
 */
import type { Logger } from 'pino';
import { AlarmLevel } from '@lifeline/shared';
import { CloudAlarms, cloudAlarmIds, CLOUD_ALARM_PREFIX, type CloudAlarmScope } from '../cloud-alarms.js';
import type { AlarmInfo, AlarmStore, CommandStore, DeviceInfo, GatewayInfo, RegistryStore } from '../store/store.js';
import type { CloudAlarmSettings } from './options.js';
import type { Maintenance } from '../maintenance.js';

/** Levels of the watch's alarms: a silent gateway hides all its devices, so it ranks above one stale device. */
export const cloudWatchLevels = {
  silent: AlarmLevel.Orange,
  stale: AlarmLevel.Yellow,
  backlog: AlarmLevel.Yellow,
  clock: AlarmLevel.Blue,
} as const;

/** Devices named in a silent gateway's cause before "and N more" (a cause is a line, not a list). */
const MAX_NAMED_DEVICES = 50;

const DEVICE_PREFIX = `${CLOUD_ALARM_PREFIX}device/`;
const GATEWAY_RULES: readonly string[] = [cloudAlarmIds.gatewaySilent, cloudAlarmIds.gatewayBacklog, cloudAlarmIds.gatewayClock];

/** Alarm ids this watch owns (and so may clear); the ingest's (batches rejected, config apply) are not its to touch. */
export function isWatchAlarm(alarmId: string): boolean {
  return GATEWAY_RULES.includes(alarmId) || (alarmId.startsWith(DEVICE_PREFIX) && alarmId.endsWith('/stale'));
}

/** An alarm a pass wants active. */
interface Wanted {
  level: AlarmLevel;
  cause: string;
  scope?: CloudAlarmScope;
}

/** What one pass decided for one gateway: `judged` ids are settled by `wanted`; others are left as they are. */
interface Verdict {
  judged: Set<string>;
  wanted: Map<string, Wanted>;
  /** The gateway reports (online and not silent): its devices were judged. */
  reporting: boolean;
  /** Cause written when a judged alarm clears, per alarm id. */
  clearCause: (alarmId: string) => string;
}

/** What a pass did, for logs and tests. */
export interface WatchPass {
  raised: { gateway: string; alarmId: string }[];
  cleared: { gateway: string; alarmId: string }[];
}

export interface CloudWatchDeps {
  /** Only the three lists a pass reads. */
  store: { registry: Pick<RegistryStore, 'listGateways' | 'listDevices'>; alarms: Pick<AlarmStore, 'listAlarms'>; commands?: Pick<CommandStore, 'getConfig'> };
  /** Writes the transitions; built on the live-wrapped store so they reach SSE and webhooks. */
  alarms: CloudAlarms;
  settings: CloudAlarmSettings;
  log: Logger;
  /** Epoch ms now; tests inject theirs. */
  clock?: () => number;
  /** Nothing is raised for a gateway, device or point under a maintenance window (maintenance.ts). */
  maintenance?: Pick<Maintenance, 'covering'>;
}

const secs = (ms: number) => (ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 100) / 10} s`);

export class CloudWatch {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = true;
  private readonly clock: () => number;
  /** Gateways the last pass found away (silent, said goodbye, never heard). */
  private readonly away = new Set<string>();
  /**
   * When each gateway was first found reporting again after being away. Its first readings come after its
   * status: until then its devices' newest readings are from before the outage, and judged by them alone
   * every device of a gateway back from an outage longer than the stale time would be called stale.
   */
  private readonly backAt = new Map<string, number>();

  constructor(private readonly deps: CloudWatchDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Check every `checkEveryMs`; a pass never overlaps the previous one. */
  start(): void {
    this.stopped = false;
    const loop = () => {
      this.running = this.check()
        .catch((err: unknown) => this.deps.log.error({ err }, 'cloud watch pass failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.deps.settings.checkEveryMs);
        });
    };
    this.timer = setTimeout(loop, this.deps.settings.checkEveryMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over the registry at `now`: raise what is due, clear what went away. */
  async check(now = this.clock()): Promise<WatchPass> {
    const { store } = this.deps;
    const [gateways, devices, active] = await Promise.all([
      store.registry.listGateways(),
      store.registry.listDevices(),
      store.alarms.listAlarms({ state: ['active_unacked', 'active_acked', 'shelved'], limit: 1_000_000 }),
    ]);
    const byGateway = new Map<string, DeviceInfo[]>();
    for (const d of devices) byGateway.set(d.gateway, [...(byGateway.get(d.gateway) ?? []), d]);
    const activeByGateway = new Map<string, AlarmInfo[]>();
    for (const a of active) if (isWatchAlarm(a.alarmId)) activeByGateway.set(a.gateway, [...(activeByGateway.get(a.gateway) ?? []), a]);

    const pass: WatchPass = { raised: [], cleared: [] };
    for (const g of gateways) {
      const mine = activeByGateway.get(g.id) ?? [];
      // Its silent alarm still active counts as away too: this watch may have started during the outage.
      const wasAway = this.away.has(g.id) || mine.some((a) => a.alarmId === cloudAlarmIds.gatewaySilent);
      // If it reports in this pass, it is back as of now.
      const backAt = wasAway ? now : this.backAt.get(g.id);
      const v = this.judge(g, byGateway.get(g.id) ?? [], mine, now, g.online ? await this.pollIntervals(g.id) : new Map(), backAt);
      this.noteReporting(g.id, v.reporting, wasAway, now);
      const isActive = new Set(mine.map((a) => a.alarmId));
      // One gateway's failed write must not keep the others unwatched.
      try {
        for (const [alarmId, w] of v.wanted) {
          if (isActive.has(alarmId)) continue;
          if (await this.deps.maintenance?.covering(g.id, w.scope?.device ?? '', w.scope?.point ?? '', now)) continue;
          await this.deps.alarms.raise(g.id, alarmId, w.level, w.cause, now, w.scope);
          pass.raised.push({ gateway: g.id, alarmId });
        }
        for (const alarmId of isActive) {
          if (!v.judged.has(alarmId) || v.wanted.has(alarmId)) continue;
          await this.deps.alarms.clear(g.id, alarmId, v.clearCause(alarmId), now);
          pass.cleared.push({ gateway: g.id, alarmId });
        }
      } catch (err) {
        this.deps.log.error({ err, gateway: g.id }, 'cloud watch could not write an alarm');
      }
    }
    if (pass.raised.length || pass.cleared.length) this.deps.log.info(pass, 'cloud watch');
    return pass;
  }

  /** Remembers which gateways are away, and when one found reporting again came back. */
  private noteReporting(gateway: string, reporting: boolean, wasAway: boolean, now: number): void {
    if (!reporting) this.away.add(gateway);
    else if (wasAway) {
      this.away.delete(gateway);
      this.backAt.set(gateway, now);
    }
  }

  /** Each device's poll interval as the gateway's running config sets it (pollMs); devices on their profile's default are absent. */
  private async pollIntervals(gateway: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const running = (await this.deps.store.commands?.getConfig(gateway).catch(() => undefined))?.running as { buses?: { devices?: { id?: unknown; pollMs?: unknown }[] }[] } | null | undefined;
    for (const bus of Array.isArray(running?.buses) ? running.buses : [])
      for (const d of Array.isArray(bus?.devices) ? bus.devices : []) if (typeof d?.id === 'string' && typeof d.pollMs === 'number' && d.pollMs > 0) out.set(d.id, d.pollMs);
    return out;
  }

  /** The rules for one gateway. */
  private judge(g: GatewayInfo, devices: DeviceInfo[], active: AlarmInfo[], now: number, pollMs: Map<string, number>, backAt = -Infinity): Verdict {
    const s = this.deps.settings;
    const judged = new Set<string>();
    const wanted = new Map<string, Wanted>();
    // A revoked gateway is no longer watched: what it had clears, nothing new is raised.
    if (g.revokedAt !== null) {
      for (const a of active) judged.add(a.alarmId);
      return { judged, wanted, reporting: false, clearCause: () => 'gateway revoked: no longer watched' };
    }
    // Its times are on its clock: cloud = gateway + offset.
    const offset = g.clockOffsetMs ?? 0;
    let newestReading: number | null = null;
    for (const d of devices) if (d.lastReadingTs !== null && (newestReading === null || d.lastReadingTs > newestReading)) newestReading = d.lastReadingTs;
    // An offline status may be the broker's last will, stamped when the broker noticed (up to 1.5 keepalives
    // late): the gateway itself was last heard in its newest reading, if it has any.
    const heard = !g.online && newestReading !== null ? newestReading : Math.max(g.lastSeen ?? -Infinity, newestReading ?? -Infinity);
    // Never heard from (enrolled, not yet connected): nothing to judge.
    if (!Number.isFinite(heard)) return { judged, wanted, reporting: false, clearCause: () => '' };
    const quietMs = now - (heard + offset);
    const silentMs = s.heartbeatMs * s.silentAfterHeartbeats;

    judged.add(cloudAlarmIds.gatewaySilent);
    if (quietMs >= silentMs) {
      // One alarm for the gateway, naming its devices; their own rules wait, so no device alarm storm.
      const ids = devices.map((d) => d.id).sort();
      const named = ids.slice(0, MAX_NAMED_DEVICES).join(', ') + (ids.length > MAX_NAMED_DEVICES ? ` and ${ids.length - MAX_NAMED_DEVICES} more` : '');
      wanted.set(cloudAlarmIds.gatewaySilent, {
        level: cloudWatchLevels.silent,
        cause: `no status or data for ${secs(quietMs)} (${s.silentAfterHeartbeats} heartbeats of ${secs(s.heartbeatMs)}); its devices: ${named || 'none known'}`,
      });
      return { judged, wanted, reporting: false, clearCause: () => '' };
    }

    judged.add(cloudAlarmIds.gatewayClock);
    if (g.clockOffsetMs !== null && Math.abs(g.clockOffsetMs) > s.clockOffsetMs) {
      wanted.set(cloudAlarmIds.gatewayClock, {
        level: cloudWatchLevels.clock,
        cause: `gateway clock ${secs(Math.abs(g.clockOffsetMs))} ${g.clockOffsetMs > 0 ? 'behind' : 'ahead of'} the cloud's (limit ${secs(s.clockOffsetMs)})`,
      });
    }

    judged.add(cloudAlarmIds.gatewayBacklog);
    if (g.backlog) {
      const ageMs = g.backlog.oldestTs === null ? 0 : Math.max(0, now - (g.backlog.oldestTs + offset));
      const deep = g.backlog.depth > s.backlogDepth;
      const old = ageMs > s.backlogAgeMs;
      if (deep || old) {
        wanted.set(cloudAlarmIds.gatewayBacklog, {
          level: cloudWatchLevels.backlog,
          cause: `backlog of ${g.backlog.depth} readings (limit ${s.backlogDepth}), oldest ${secs(ageMs)} old (limit ${secs(s.backlogAgeMs)})`,
        });
      }
    }

    // A gateway that said goodbye (its last will) is about to be silent: its devices are not judged meanwhile.
    if (g.online) {
      for (const d of devices) {
        if (d.lastReadingTs === null) continue; // never reported: the edge's own communication alarm covers a device that never answers
        const id = cloudAlarmIds.deviceStale(d.id);
        judged.add(id);
        const ageMs = now - (d.lastReadingTs + offset);
        // Quiet while its gateway reports: since its newest reading or its gateway's return, whichever is later.
        const quietMs = Math.min(ageMs, now - backAt);
        // A slow device (a meter read every 15 min) is judged by its own interval, never below the floor.
        const staleMs = Math.max(s.staleAfterMs, s.staleAfterPolls * (pollMs.get(d.id) ?? 0));
        if (quietMs > staleMs) {
          wanted.set(id, {
            level: cloudWatchLevels.stale,
            cause: quietMs < ageMs
              ? `no reading for ${secs(ageMs)}, none in the ${secs(quietMs)} since its gateway reports again (stale after ${secs(staleMs)})`
              : `no reading for ${secs(ageMs)} (stale after ${secs(staleMs)}) while its gateway reports`,
            scope: { device: d.id },
          });
        }
      }
    }
    return {
      judged,
      wanted,
      reporting: g.online,
      clearCause: (id) =>
        id === cloudAlarmIds.gatewaySilent ? 'gateway heard again' : id === cloudAlarmIds.gatewayClock ? 'clock back within the limit'
          : id === cloudAlarmIds.gatewayBacklog ? 'backlog back within the limits' : 'device reports again',
    };
  }
}
