/**
 * Who is told of an alarm transition, and when: the union of the receivers of
 * every rule it matches (notify/rules.ts), each rule applying its own quiet
 * hours and de-duplication window; receivers no rule names keep the old
 * behaviour (every transition at or above their minLevel). A receiver's own
 * minLevel stays a floor under any rule.
 *
 *   transition ─▶ subject (level, source, device kind / district / grid unit, or the gateway's for a gateway alarm)
 *       ├─▶ receivers named by no rule, level ≥ minLevel ─────────────────────────────▶ now
 *       └─▶ each matching rule ─▶ de-duplicated episode? skip ─▶ its receivers ─▶ quietRelease (now | end of quiet hours)
 *                                                                                      └─▶ per receiver: the earliest
 */
import { AlarmLevel, watchStage, type AlarmTransition } from '@lifeline/shared';
import { CLOUD_EPOCH, type AlarmRule, type Store, type WebhookRecord } from '../store/store.js';
import { quietRelease, ruleMatches, type RouteSubject } from './rules.js';

/** A device's or gateway's name and place, as the registry has them. */
export interface Site {
  name: string | null;
  district: string | null;
  kind: string | null;
  gridUnit: string | null;
}

/** The places of one gateway's devices, and of the gateway itself (for alarms about the gateway: device ''). */
export interface GatewaySites {
  gateway: Site | null;
  devices: Map<string, Site>;
  /** Each device's point labels (the profile's, e.g. 电流) by point name, where its profile gives them. */
  pointLabels: Map<string, Map<string, string>>;
}

/** One receiver to tell, and from when. */
export interface Route {
  hook: WebhookRecord;
  /** Epoch ms the outbox row is due: now, or the end of a rule's quiet hours. */
  at: number;
}

/** Every device's site keyed `gateway\0device`, and every gateway's keyed `gateway\0` (alarms about the gateway have device ''). */
export async function allSites(registry: Pick<Store['registry'], 'listDevices' | 'listGateways'>): Promise<Map<string, Site>> {
  const sites = new Map<string, Site>();
  for (const d of await registry.listDevices())
    sites.set(`${d.gateway}\0${d.id}`, { name: d.name ?? null, district: d.location?.district ?? null, kind: d.kind, gridUnit: d.location?.gridUnit ?? null });
  for (const g of await registry.listGateways()) sites.set(`${g.id}\0`, { name: g.name, district: g.location?.district ?? null, kind: g.kind, gridUnit: g.location?.gridUnit ?? null });
  return sites;
}

const isRaise = (e: AlarmTransition) => e.to === 'active_unacked' && (e.from === 'normal' || e.from === 'cleared_unacked');

export class AlarmRouter {
  private rules: AlarmRule[] = [];
  /** Receivers any rule names (its receivers or escalation steps, enabled or not): routed by rules only. */
  private ruled = new Set<number>();

  constructor(private readonly store: Pick<Store, 'routing' | 'registry' | 'alarms'>) {}

  async reload(): Promise<void> {
    this.rules = await this.store.routing.listRules();
    this.ruled = new Set(this.rules.flatMap((r) => [...r.receivers, ...(r.escalation?.steps.flatMap((s) => s.receivers) ?? [])]));
  }

  /** The rules as last loaded. */
  get current(): readonly AlarmRule[] {
    return this.rules;
  }

  /** Whether a receiver is routed by rules (else by its minLevel alone). */
  isRuled(id: number): boolean {
    return this.ruled.has(id);
  }

  /** Names and places of a gateway's devices and of the gateway. */
  async sites(gateway: string): Promise<GatewaySites> {
    const devices = new Map<string, Site>();
    const pointLabels = new Map<string, Map<string, string>>();
    for (const d of await this.store.registry.listDevices()) {
      if (d.gateway !== gateway) continue;
      devices.set(d.id, { name: d.name ?? null, district: d.location?.district ?? null, kind: d.kind, gridUnit: d.location?.gridUnit ?? null });
      const labels = new Map(d.points.flatMap((p) => (p.label ? [[p.name, p.label] as const] : [])));
      if (labels.size) pointLabels.set(d.id, labels);
    }
    const g = await this.store.registry.getGateway(gateway);
    return { devices, pointLabels, gateway: g ? { name: g.name, district: g.location?.district ?? null, kind: g.kind, gridUnit: g.location?.gridUnit ?? null } : null };
  }

  /** The site an alarm is about: its device, or the gateway for an alarm of the gateway itself. */
  static siteOf(sites: GatewaySites, device: string): Site | null {
    return device ? (sites.devices.get(device) ?? null) : sites.gateway;
  }

  /** What rules match against for this alarm. */
  static subject(gateway: string, source: RouteSubject['source'], level: number, site: Site | null): RouteSubject {
    return { gateway, level, source, kind: site?.kind ?? null, district: site?.district ?? null, gridUnit: site?.gridUnit ?? null };
  }

  /** The receivers to tell of `t` and when, `now` being the time it is queued. */
  async route(gateway: string, epoch: number, t: AlarmTransition, site: Site | null, hooks: Iterable<WebhookRecord>, now: number): Promise<Route[]> {
    const byId = new Map([...hooks].map((h) => [h.id, h]));
    const due = new Map<number, number>();
    // A yellow watch, its acknowledgement or its withdrawal pages nobody: SMS waits for the alarm that confirms it.
    const watch = [...byId.values()].some((h) => h.kind === 'sms') && (await this.isWatch(gateway, t));
    const offer = (id: number, at: number) => {
      const h = byId.get(id);
      if (h && t.level >= h.minLevel && !(watch && h.kind === 'sms')) due.set(id, Math.min(due.get(id) ?? Infinity, at));
    };
    for (const h of byId.values()) if (!this.ruled.has(h.id)) offer(h.id, now);
    const s = AlarmRouter.subject(gateway, epoch === CLOUD_EPOCH ? 'cloud' : 'edge', t.level, site);
    let history: AlarmTransition[] | undefined;
    for (const rule of this.rules) {
      if (!ruleMatches(rule, s)) continue;
      if (rule.dedupMinutes > 0) {
        history ??= await this.history(gateway, t.alarmId);
        if (deduplicated(history, t, rule.dedupMinutes * 60_000)) continue;
      }
      const release = rule.quietHours ? quietRelease(rule.quietHours, t.level, t.ts) : t.ts;
      for (const id of rule.receivers) offer(id, release > t.ts ? Math.max(now, release) : now);
    }
    return [...due].map(([id, at]) => ({ hook: byId.get(id)!, at }));
  }

  /**
   * Whether `t` belongs to a yellow watch (shared/src/alarm-watch.ts): its raise or withdrawal by its cause,
   * or another yellow transition (an acknowledgement) of an alarm the watch raised.
   */
  private async isWatch(gateway: string, t: AlarmTransition): Promise<boolean> {
    if (watchStage(t.cause) !== null) return true;
    if (t.level !== AlarmLevel.Yellow || t.detector !== 'multivariate' || t.from === 'normal') return false;
    const a = await this.store.alarms.findAlarm(gateway, t.alarmId);
    return a?.raisedCause != null && watchStage(a.raisedCause) === 'raised';
  }

  private async history(gateway: string, alarmId: string): Promise<AlarmTransition[]> {
    const a = await this.store.alarms.findAlarm(gateway, alarmId);
    if (!a) return [];
    return (await this.store.alarms.alarmHistory(a.id)).filter((e): e is AlarmTransition => e.kind === 'alarm');
  }
}

/**
 * Whether `t` belongs to a de-duplicated episode: the raise that began its episode came less than
 * `windowMs` after the raise before it (a yellow watch that was withdrawn not counted as a raise). The whole episode (raise, ack, clear) is then left untold:
 * the receivers heard of the alarm minutes ago and a clear of a raise they never saw would only confuse.
 */
export function deduplicated(history: readonly AlarmTransition[], t: AlarmTransition, windowMs: number): boolean {
  let upTo = history.findIndex((e) => e.seq === t.seq && e.ts === t.ts && e.to === t.to);
  if (upTo < 0) upTo = history.filter((e) => e.ts <= t.ts).length - 1;
  // A watch withdrawn back to normal was no alarm: its raise does not count as one the receivers heard of.
  const raises: AlarmTransition[] = [];
  for (const [i, e] of history.slice(0, upTo + 1).entries()) {
    if (isRaise(e)) raises.push(e);
    else if (i < upTo && e.to === 'normal' && watchStage(e.cause) === 'withdrawn') raises.pop();
  }
  if (upTo < 0 || (!raises.length && isRaise(t))) return false;
  const [prev, raise] = raises.slice(-2);
  return raises.length >= 2 && raise.ts - prev.ts < windowMs;
}
