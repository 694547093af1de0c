/**
 * Escalation: an alarm of a rule's escalation levels (orange and red by
 * default) still unacknowledged `afterMinutes` after it was raised is told to
 * the step's receivers. Nothing is kept in memory: each check derives what is
 * due from the stored alarm state (active_unacked, raisedAt) and queues it
 * under a key that names the rule, step, alarm and raise, so a cloud restart
 * neither loses an escalation (the next check finds it due) nor doubles it
 * (the key is already in the outbox). An ack (active_acked) or a clear stops
 * the steps not yet due; a new raise escalates afresh (a new raisedAt).
 *
 *   every checkMs ─▶ rules with escalation ─▶ alarms active_unacked at their levels ─▶ rule matches? in maintenance? ─▶
 *     each step with raisedAt + afterMinutes ≤ now ─▶ dispatcher.queue(key = esc:<rule>:<gateway>:<alarmId>:<raisedAt>:s<step>:r<receiver>)
 *
 * Escalations are sent at once, quiet hours or not: they exist because something urgent is waiting.
 */
import { AlarmLevel, watchStage, type AlarmTransition } from '@lifeline/shared';
import type { Logger } from 'pino';
import type { AlarmInfo, Store } from '../store/store.js';
import { isCloudAlarm } from '../cloud-alarms.js';
import type { WebhookDispatcher } from '../webhooks.js';
import type { AlarmPayload } from './messages.js';
import { AlarmRouter, allSites } from './router.js';
import { PeriodicCheck, type PeriodicOptions } from './periodic.js';
import { ruleMatches } from './rules.js';

/** Check interval (default 15 s) and clock. */
export type EscalationOptions = PeriodicOptions;

export class Escalator extends PeriodicCheck {
  constructor(
    private readonly store: Pick<Store, 'alarms' | 'registry'>, private readonly dispatcher: WebhookDispatcher, log: Logger, opts: EscalationOptions = {},
    private readonly suppressed?: (gateway: string, device: string, point: string) => Promise<boolean>,
  ) {
    super(log, 'escalation', opts, 15_000);
  }

  /** Queue every escalation step due now; the number of outbox rows new. */
  protected async scan(): Promise<number> {
    const rules = this.dispatcher.router.current.filter((r) => r.enabled && r.escalation);
    if (!rules.length) return 0;
    const now = this.now();
    const hooks = new Map(this.dispatcher.receivers().map((h) => [h.id, h]));
    const levels = [...new Set(rules.flatMap((r) => r.escalation!.levels))];
    const alarms = await this.store.alarms.listAlarms({ state: ['active_unacked'], level: levels, limit: 10_000 });
    if (!alarms.length) return 0;
    const sites = await allSites(this.store.registry);
    // A gateway's raise is stamped on its clock (cloud = gateway + offset, from its status): uncorrected, a gateway a
    // year ahead would never escalate and one a year behind at once.
    const offsets = new Map((await this.store.registry.listGateways()).map((g) => [g.id, g.clockOffsetMs ?? 0]));
    let queued = 0;
    for (const a of alarms) {
      // A yellow watch is not escalated: it is confirmed by its orange alarm (then escalated as that) or withdrawn.
      if (a.raisedAt === null || (a.level === AlarmLevel.Yellow && a.raisedCause !== null && watchStage(a.raisedCause) === 'raised')) continue;
      const site = sites.get(`${a.gateway}\0${a.device}`) ?? null;
      const subject = AlarmRouter.subject(a.gateway, isCloudAlarm(a) ? 'cloud' : 'edge', a.level, site);
      const raisedAt = isCloudAlarm(a) ? a.raisedAt : a.raisedAt + (offsets.get(a.gateway) ?? 0);
      let inMaintenance: boolean | undefined;
      for (const rule of rules) {
        const e = rule.escalation!;
        if (!e.levels.includes(a.level) || !ruleMatches(rule, subject)) continue;
        for (const [step, s] of e.steps.entries()) {
          if (raisedAt + s.afterMinutes * 60_000 > now) break;
          inMaintenance ??= this.suppressed ? await this.suppressed(a.gateway, a.device, a.point).catch(() => false) : false;
          if (inMaintenance) break;
          const payload: AlarmPayload = {
            type: 'alarm.transition', gateway: a.gateway, epoch: 0, transition: transitionOf(a), site,
            escalation: { ruleId: rule.id, rule: rule.name, step, afterMinutes: s.afterMinutes },
          };
          for (const id of s.receivers) {
            const hook = hooks.get(id);
            if (!hook) continue;
            const n = await this.dispatcher.queue(hook, `esc:${rule.id}:${a.gateway}:${a.alarmId}:${a.raisedAt}:s${step}:r${id}`, payload, Date.now());
            if (n) this.log.info({ rule: rule.id, step, alarm: a.id, receiver: id }, 'alarm escalated');
            queued += n;
          }
        }
      }
    }
    return queued;
  }
}

/** The alarm as it stands, in the shape of a transition (what receivers format), dated at its raise. */
function transitionOf(a: AlarmInfo): AlarmTransition {
  return {
    kind: 'alarm', seq: 0, alarmId: a.alarmId, device: a.device, point: a.point, ts: a.raisedAt ?? a.since, from: a.state, to: a.state,
    level: a.level as AlarmLevel, detector: a.detector, cause: a.cause, value: a.value,
  };
}
