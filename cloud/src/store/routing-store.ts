/**
 * The routing concern of the cloud store: which alarm goes to which receiver
 * (rules: match, receivers, quiet hours, de-duplication, escalation), which
 * receivers get a daily digest, and the event-lane reads the notification
 * side needs: a mark per gateway epoch of the events whose notifications are
 * queued, so transitions committed just before a crash (after the commit,
 * before the outbox row) are queued at the next start; and the transitions of
 * a day, for a digest.
 *
 *   API (admin) ─▶ addRule / updateRule / deleteRule / setDigest ─▶ alarm_rules, receiver_digests
 *   webhooks.ts  ─▶ listRules, markQueued (after each batch), lagging + alarmsInLane (catch-up: committed > mark)
 *   escalation.ts / digest.ts ─▶ listRules / listDigests / alarmsBetween
 *
 * A rule's spec is kept whole as JSON (it is validated at the API, notify/rules.ts).
 */
import type { AlarmTransition } from '@lifeline/shared';

/** Where an alarm came from: a gateway's own detectors, or the cloud's watch (CLOUD_EPOCH). */
export type AlarmSource = 'edge' | 'cloud';

/** What a rule matches; every field optional (absent: any), lists OR-ed, fields AND-ed. */
export interface RuleMatch {
  /** Lifeline kinds of the device (lamp_post, bridge, …), as the registry has them. */
  kinds?: string[];
  districts?: string[];
  /** City grid-management units. */
  gridUnits?: string[];
  gateways?: string[];
  /** Only transitions at or above this level (1 blue … 4 red). */
  minLevel?: number;
  sources?: AlarmSource[];
}

/** Quiet hours: between `from` and `to` local time only levels ≥ `minLevel` go at once; the rest are held until `to`. */
export interface QuietHours {
  /** `HH:MM`, local time. */
  from: string;
  /** `HH:MM`, local time; before `from` means the window runs past midnight (22:00–07:00). */
  to: string;
  /** IANA zone, default Asia/Shanghai. */
  timeZone: string;
  /** Levels at or above this are sent at once even in quiet hours. */
  minLevel: number;
}

/** One escalation step: receivers told when the alarm is still unacknowledged `afterMinutes` after it was raised. */
export interface EscalationStep {
  afterMinutes: number;
  receivers: number[];
}

/** Escalation of unacknowledged alarms of these levels, step by step. */
export interface Escalation {
  /** Levels escalated (default [3, 4]: orange and red). */
  levels: number[];
  /** Steps by ascending afterMinutes. */
  steps: EscalationStep[];
}

/** A routing rule as written by an admin. */
export interface RuleSpec {
  name: string;
  enabled: boolean;
  match: RuleMatch;
  /** Receivers (webhook record ids) told of every matching transition. */
  receivers: number[];
  quietHours: QuietHours | null;
  /** The same alarm raised again within this many minutes of its previous raise is not told again (its whole episode); 0 = off. */
  dedupMinutes: number;
  escalation: Escalation | null;
}

/** A stored rule. */
export interface AlarmRule extends RuleSpec {
  id: number;
  createdBy: string;
  createdAt: number;
  updatedBy: string;
  updatedAt: number;
}

/** A receiver's daily digest: at `at` local time, the last 24 h in one message. */
export interface DigestSubscription {
  receiverId: number;
  /** `HH:MM`, local time. */
  at: string;
  timeZone: string;
  createdBy: string;
  createdAt: number;
}

/** An alarm transition of the event lane, with where it came from. */
export interface LaneAlarm {
  gateway: string;
  epoch: number;
  transition: AlarmTransition;
}

/** Rules, digest subscriptions, and the event-lane reads of notification. */
export interface RoutingStore {
  addRule(spec: RuleSpec, by: string, at: number): Promise<AlarmRule>;
  /** Replace a rule's spec; undefined when there is no such rule. */
  updateRule(id: number, spec: RuleSpec, by: string, at: number): Promise<AlarmRule | undefined>;
  deleteRule(id: number): Promise<boolean>;
  getRule(id: number): Promise<AlarmRule | undefined>;
  /** By id. */
  listRules(): Promise<AlarmRule[]>;
  /** Create or replace a receiver's digest. */
  setDigest(d: DigestSubscription): Promise<void>;
  deleteDigest(receiverId: number): Promise<boolean>;
  listDigests(): Promise<DigestSubscription[]>;
  /**
   * The notifications of events `firstSeq`…`lastSeq` of a gateway epoch are queued: the mark moves to
   * `lastSeq` when it reaches `firstSeq − 1` (a lane's first batch starts it), else it stays (catch-up covers the gap).
   */
  markQueued(gateway: string, epoch: number, firstSeq: number, lastSeq: number): Promise<void>;
  /** Event lanes whose committed prefix is past their mark (none yet counts as 0): what a crash may have left unqueued. */
  lagging(limit: number): Promise<{ gateway: string; epoch: number; mark: number; committed: number }[]>;
  /** Alarm transitions of one lane with mark < seq ≤ upTo, by seq; at most `limit`. */
  alarmsInLane(gateway: string, epoch: number, mark: number, upTo: number, limit: number): Promise<LaneAlarm[]>;
  /** Raise the mark to `upTo` (never lowers it). */
  setMark(gateway: string, epoch: number, upTo: number): Promise<void>;
  /** Alarm transitions with `from` ≤ ts < `to`, oldest first; at most `limit`. */
  alarmsBetween(from: number, to: number, limit: number): Promise<LaneAlarm[]>;
}
