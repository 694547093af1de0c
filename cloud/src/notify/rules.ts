/**
 * Alarm routing rules, as pure functions: the rule schema and its checks
 * (every error listed with field and value, like the gateway config), which
 * rules a transition matches, and the local clock of quiet hours and digests.
 *
 *   API body ─▶ ruleIssues (schema, then receivers exist, HH:MM, zone, steps) ─▶ RuleSpec (defaults filled)
 *   transition + site ─▶ ruleMatches(rule) ─▶ receivers ─▶ quietHold (send now, or at the end of quiet hours)
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { lifelineKinds, literalUnion, schemaIssues, show, type ValidationIssue } from '@lifeline/shared';
import type { AlarmSource, QuietHours, RuleSpec } from '../store/store.js';

/** The zone of quiet hours and digests when none is given: Jining's. */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

const Clock = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, local time' });
const Level = Type.Integer({ minimum: 1, maximum: 4, description: '1 blue … 4 red' });
const ReceiverIds = Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 50, description: 'receiver ids (GET /api/v1/webhooks)' });
const Names = (what: string) => Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 200, description: what });

/** A rule as an admin writes it (POST / PUT /api/v1/rules). */
export const RuleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
    match: Type.Optional(
      Type.Object(
        {
          kinds: Type.Optional(Type.Array(literalUnion(lifelineKinds, 'lifeline kind'), { minItems: 1, maxItems: 20 })),
          districts: Type.Optional(Names('districts, e.g. 任城区')),
          gridUnits: Type.Optional(Names('city grid units')),
          gateways: Type.Optional(Names('gateway ids')),
          minLevel: Type.Optional(Level),
          sources: Type.Optional(Type.Array(literalUnion(['edge', 'cloud'] as const, 'edge: a gateway\'s detectors; cloud: the cloud\'s watch'), { minItems: 1, maxItems: 2 })),
        },
        { additionalProperties: false, description: 'absent fields match anything; lists OR-ed, fields AND-ed' },
      ),
    ),
    receivers: ReceiverIds,
    quietHours: Type.Optional(
      Type.Object(
        {
          from: Clock, to: Clock,
          timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: `IANA zone, default ${DEFAULT_TIME_ZONE}` })),
          minLevel: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'sent at once at or above this level (default 4: red); the rest held to the end (5: hold all)' })),
        },
        { additionalProperties: false, description: 'absent: none' },
      ),
    ),
    dedupMinutes: Type.Optional(Type.Number({ minimum: 0, maximum: 1440, description: 'a raise within this many minutes of the previous raise is not told, nor its clear or ack (default 0: off)' })),
    escalation: Type.Optional(
      Type.Object(
        {
          levels: Type.Optional(Type.Array(Level, { minItems: 1, maxItems: 4, description: 'default [3, 4]: orange and red' })),
          steps: Type.Array(
            Type.Object({ afterMinutes: Type.Number({ exclusiveMinimum: 0, maximum: 10_080 }), receivers: ReceiverIds }, { additionalProperties: false }),
            { minItems: 1, maxItems: 5, description: 'by ascending afterMinutes, counted from the raise' },
          ),
        },
        { additionalProperties: false, description: 'absent: none' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type RuleBodyInput = Static<typeof RuleBody>;

/** A digest subscription as written (PUT /api/v1/webhooks/:id/digest). */
export const DigestBody = Type.Object(
  { at: Clock, timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: `IANA zone, default ${DEFAULT_TIME_ZONE}` })) },
  { additionalProperties: false },
);

/** Whether Intl knows the zone. */
export function knownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Every problem of a rule body, schema first, then what a schema cannot say; `receivers` are the ids that exist. */
export function ruleIssues(body: unknown, receivers: ReadonlySet<number>): ValidationIssue[] {
  const issues = schemaIssues(RuleBody, body);
  if (issues.length) return issues;
  const b = body as RuleBodyInput;
  const missing = (path: string, ids: number[]) =>
    ids.forEach((id, i) => !receivers.has(id) && issues.push({ path: `${path}[${i}]`, message: `no receiver ${id} (GET /api/v1/webhooks lists them), got ${id}` }));
  const repeated = (path: string, ids: number[]) => {
    const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (dup.length) issues.push({ path, message: `lists a receiver twice, got ${show(ids)}` });
  };
  missing('receivers', b.receivers);
  repeated('receivers', b.receivers);
  const q = b.quietHours;
  if (q) {
    if (q.from === q.to) issues.push({ path: 'quietHours.to', message: `must differ from quietHours.from (an empty or endless quiet), got ${show(q.to)}` });
    if (q.timeZone !== undefined && !knownZone(q.timeZone)) issues.push({ path: 'quietHours.timeZone', message: `is not a time zone (an IANA name, e.g. ${DEFAULT_TIME_ZONE}), got ${show(q.timeZone)}` });
  }
  const e = b.escalation;
  if (e) {
    e.steps.forEach((s, i) => {
      missing(`escalation.steps[${i}].receivers`, s.receivers);
      repeated(`escalation.steps[${i}].receivers`, s.receivers);
      if (i > 0 && s.afterMinutes <= e.steps[i - 1].afterMinutes)
        issues.push({ path: `escalation.steps[${i}].afterMinutes`, message: `must be after the step before (${e.steps[i - 1].afterMinutes}), got ${s.afterMinutes}` });
    });
  }
  return issues;
}

/** A checked body with its defaults filled. */
export function ruleSpec(b: RuleBodyInput): RuleSpec {
  const q = b.quietHours;
  const e = b.escalation;
  return {
    name: b.name, enabled: b.enabled ?? true, match: Value.Clone(b.match ?? {}) as RuleSpec['match'], receivers: b.receivers,
    quietHours: q ? { from: q.from, to: q.to, timeZone: q.timeZone ?? DEFAULT_TIME_ZONE, minLevel: q.minLevel ?? 4 } : null,
    dedupMinutes: b.dedupMinutes ?? 0,
    escalation: e ? { levels: [...new Set(e.levels ?? [3, 4])].sort(), steps: e.steps } : null,
  };
}

/** What a rule is matched against: the transition's level and source, its device's kind and place. */
export interface RouteSubject {
  gateway: string;
  level: number;
  source: AlarmSource;
  kind: string | null;
  district: string | null;
  gridUnit: string | null;
}

const within = (list: readonly string[] | undefined, v: string | null) => !list || (v !== null && list.includes(v));

/** Whether an enabled rule matches. A rule naming districts does not match an alarm whose device has none. */
export function ruleMatches(rule: RuleSpec, s: RouteSubject): boolean {
  const m = rule.match;
  return rule.enabled && s.level >= (m.minLevel ?? 0) && within(m.kinds, s.kind) && within(m.districts, s.district) && within(m.gridUnits, s.gridUnit)
    && within(m.gateways, s.gateway) && within(m.sources, s.source);
}

const formats = new Map<string, Intl.DateTimeFormat>();
/** The zone's date and time of day at an instant. */
export function localClock(ms: number, zone: string): { date: string; msOfDay: number } {
  let f = formats.get(zone);
  if (!f) formats.set(zone, (f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })));
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, msOfDay: ((Number(p.hour) * 60 + Number(p.minute)) * 60 + Number(p.second)) * 1000 + (((ms % 1000) + 1000) % 1000) };
}

/** `HH:MM` as ms after midnight. */
export const clockMs = (hhmm: string): number => (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))) * 60_000;

const DAY = 86_400_000;

/**
 * When a transition of `level` at `ts` is to be sent under quiet hours `q`: `ts` itself outside quiet
 * hours or at a level ≥ q.minLevel, else the instant quiet hours end (the next `q.to` local time).
 */
export function quietRelease(q: QuietHours, level: number, ts: number): number {
  if (level >= q.minLevel) return ts;
  const now = localClock(ts, q.timeZone).msOfDay;
  const from = clockMs(q.from);
  const to = clockMs(q.to);
  const quiet = from < to ? now >= from && now < to : now >= from || now < to;
  return quiet ? ts + ((to - now + DAY) % DAY) : ts;
}
