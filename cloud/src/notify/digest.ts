/**
 * The daily digest: at a receiver's set local time, one message summarising
 * the 24 h before it (alarms raised by level, lifeline kind and district, how
 * many are still active, the worst ones). A receiver some rule names gets the
 * alarms its rules match; any other, the alarms at or above its minLevel. The
 * key `digest:<receiver>:<date>` makes it once per day through restarts and
 * across cloud processes: a check after the time builds it and queues it, and
 * the outbox refuses the key a second time.
 *
 *   every checkMs ─▶ subscriptions whose local time has come today ─▶ transitions of [at − 24 h, at) ─▶ summary ─▶ dispatcher.queue
 */
import { AlarmLevel, watchStage, type AlarmTransition } from '@lifeline/shared';
import type { Logger } from 'pino';
import { CLOUD_EPOCH, type DigestSubscription, type Store, type WebhookRecord } from '../store/store.js';
import type { WebhookDispatcher } from '../webhooks.js';
import { isCloudAlarm } from '../cloud-alarms.js';
import type { DigestPayload } from './messages.js';
import { AlarmRouter, allSites, type Site } from './router.js';
import { PeriodicCheck, type PeriodicOptions } from './periodic.js';
import { clockMs, localClock, ruleMatches } from './rules.js';

/** Check interval (default 1 min) and clock. */
export type DigestOptions = PeriodicOptions;

const DAY = 86_400_000;
const isRaise = (e: AlarmTransition) => e.to === 'active_unacked' && (e.from === 'normal' || e.from === 'cleared_unacked');

/**
 * The raises of a time-ordered list of transitions, a yellow watch (shared/src/alarm-watch.ts) counted
 * not as raised but at the alarm that confirms it (its escalation above yellow), and not at all when withdrawn.
 */
export function raisesOf<T extends { gateway: string; transition: AlarmTransition }>(rows: readonly T[]): T[] {
  const watching = new Set<string>();
  return rows.filter(({ gateway, transition: t }) => {
    const key = `${gateway}\0${t.alarmId}`;
    if (isRaise(t) && watchStage(t.cause) === 'raised') {
      watching.add(key);
      return false;
    }
    if (!watching.has(key)) return isRaise(t);
    const confirmed = t.level > AlarmLevel.Yellow && t.to === 'active_unacked';
    if (confirmed || t.level === AlarmLevel.Normal || watchStage(t.cause) === 'withdrawn') watching.delete(key);
    return confirmed;
  });
}

/** Counts of a key, most first. */
function tally<K extends string>(keys: string[], name: K): ({ count: number } & Record<K, string>)[] {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, count]) => ({ [name]: k, count }) as { count: number } & Record<K, string>);
}

export class Digester extends PeriodicCheck {
  /** `receiver:date` built by this process (a restart builds once more; the outbox key keeps it one message). */
  private readonly done = new Set<string>();

  constructor(private readonly store: Pick<Store, 'routing' | 'alarms' | 'registry'>, private readonly dispatcher: WebhookDispatcher, log: Logger, opts: DigestOptions = {}) {
    super(log, 'digest', opts, 60_000);
  }

  /** Queue the digests whose time has come today; the number of outbox rows new. */
  protected async scan(): Promise<number> {
    const now = this.now();
    const hooks = new Map(this.dispatcher.receivers().map((h) => [h.id, h]));
    let queued = 0;
    for (const sub of await this.store.routing.listDigests()) {
      const hook = hooks.get(sub.receiverId);
      if (!hook) continue;
      const local = localClock(now, sub.timeZone);
      if (local.msOfDay < clockMs(sub.at) || this.done.has(`${hook.id}:${local.date}`)) continue;
      const to = now - (local.msOfDay - clockMs(sub.at));
      const payload = await this.summary(hook, sub, local.date, to - DAY, to);
      queued += await this.dispatcher.queue(hook, `digest:${hook.id}:${local.date}`, payload, Date.now());
      this.done.add(`${hook.id}:${local.date}`);
      this.log.info({ receiver: hook.id, date: local.date, raised: payload.raised }, 'daily digest queued');
    }
    return queued;
  }

  /** The digest of [from, to) for one receiver. */
  async summary(hook: WebhookRecord, sub: DigestSubscription, date: string, from: number, to: number): Promise<DigestPayload> {
    const router = this.dispatcher.router;
    const rules = router.current.filter((r) => r.enabled && r.receivers.includes(hook.id));
    const sites = await allSites(this.store.registry);
    const wanted = (gateway: string, source: 'edge' | 'cloud', level: number, site: Site | null) =>
      router.isRuled(hook.id) ? rules.some((r) => ruleMatches(r, AlarmRouter.subject(gateway, source, level, site))) : level >= Math.max(1, hook.minLevel);
    const raised = raisesOf(await this.store.routing.alarmsBetween(from, to, 100_000))
      .map((a) => ({ ...a, site: sites.get(`${a.gateway}\0${a.transition.device}`) ?? null }))
      .filter((a) => wanted(a.gateway, a.epoch === CLOUD_EPOCH ? 'cloud' : 'edge', a.transition.level, a.site));
    const active = (await this.store.alarms.listAlarms({ state: ['active_unacked', 'active_acked'], limit: 100_000 })).filter((a) =>
      wanted(a.gateway, isCloudAlarm(a) ? 'cloud' : 'edge', a.level, sites.get(`${a.gateway}\0${a.device}`) ?? null),
    );
    const levels = tally(raised.map((a) => String(a.transition.level)), 'level').map((r) => ({ level: Number(r.level), count: r.count })).sort((a, b) => b.level - a.level);
    const worst = [...raised].sort((a, b) => b.transition.level - a.transition.level || b.transition.ts - a.transition.ts).slice(0, 5);
    return {
      type: 'alarm.digest', date, timeZone: sub.timeZone, from, to, raised: raised.length, byLevel: levels,
      byKind: tally(raised.map((a) => a.site?.kind ?? ''), 'kind'),
      byDistrict: tally(raised.map((a) => a.site?.district ?? ''), 'district'),
      active: active.length,
      worst: worst.map((a) => ({ gateway: a.gateway, device: a.transition.device, name: a.site?.name ?? null, alarmId: a.transition.alarmId, level: a.transition.level, cause: a.transition.cause, ts: a.transition.ts })),
    };
  }
}
