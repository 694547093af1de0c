/**
 * Event lane codec: alarm transitions and gateway events, sent ahead of any
 * telemetry backlog. Rare and varied, so the body is JSON (UTF-8) inside the same
 * binary envelope as telemetry (version, gateway, seq range, CRC-32, deflate).
 *
 *   events ──▶ JSON {"events":[…]} ──▶ frameBatch(type 2) ──▶ wire
 *   wire ──▶ openBatch ──▶ JSON.parse ──▶ schema + seq checks ──▶ events
 *
 * JSON cannot carry NaN, ±Infinity or −0: such a `value` travels as the string
 * "NaN", "Infinity", "-Infinity" or "-0".
 */
import { Type, type Static } from '@sinclair/typebox';
import { ErrorCodes, LifelineError } from '../errors.js';
import { AlarmLevel } from '../reading.js';
import { formatIssues, literalUnion, schemaIssues, type ValidationIssue } from '../validate.js';
import { ByteReader, utf8 } from './bytes.js';
import { MessageType, WireLimits, frameBatch, guard, openBatch, type BatchEncodeOptions } from './envelope.js';

/** Alarm states after ISA-18.2. */
export const alarmStates = [
  'normal',
  'active_unacked',
  'active_acked',
  'cleared_unacked',
  'shelved',
  'suppressed',
  'out_of_service',
] as const;
/** One ISA-18.2 alarm state. */
export type AlarmState = (typeof alarmStates)[number];

/** One alarm state change, with why it happened. */
export interface AlarmTransition {
  kind: 'alarm';
  /** Event-lane seq. */
  seq: number;
  /** Stable id of the alarm, e.g. `flood-1/water_level/threshold`. */
  alarmId: string;
  device: string;
  point: string;
  /** When the transition happened, epoch ms (gateway clock). */
  ts: number;
  from: AlarmState;
  to: AlarmState;
  level: AlarmLevel;
  /** Which detector raised it: `threshold`, `rate`, `stuck`, `range`, `comm_loss`, `anomaly`, … */
  detector: string;
  /** Human-readable cause, e.g. `water_level 3.214 m above red 3.2 m for 5 s`. */
  cause: string;
  /** The point's value at the transition; null when there is none (e.g. an operator action). */
  value: number | null;
  /** Who caused it, for operator actions (acknowledge, shelve). */
  user?: string;
}

/** A gateway event that is not an alarm transition (device offline, config applied, gap recorded, …). */
export interface GatewayEvent {
  kind: 'event';
  /** Event-lane seq. */
  seq: number;
  /** epoch ms (gateway clock). */
  ts: number;
  /** snake_case event type, e.g. `device_offline`. */
  type: string;
  device?: string;
  point?: string;
  message: string;
  /** Flat structured detail. */
  details?: Record<string, string | number | boolean>;
}

/** Anything the event lane carries. */
export type LaneEvent = AlarmTransition | GatewayEvent;

/** An event-lane batch. */
export interface EventBatch {
  gateway: string;
  /** ≥ 1. */
  firstSeq: number;
  /** firstSeq − 1 for an empty range. */
  lastSeq: number;
  /** In seq order; each event's seq lies in firstSeq..lastSeq. */
  events: LaneEvent[];
  /** Buffer epoch of the sender (envelope flag `Epoch`); omit for none. */
  epoch?: number;
}

const name = Type.String({ minLength: 1, maxLength: WireLimits.maxNameBytes });
const text = Type.String({ maxLength: 4096 });
const wireValue = Type.Union([Type.Number(), Type.Null(), literalUnion(['NaN', 'Infinity', '-Infinity', '-0'] as const)]);
const int = Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER });
const seq = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

const AlarmTransitionWire = Type.Object(
  {
    kind: Type.Literal('alarm'),
    seq,
    alarmId: Type.String({ minLength: 1, maxLength: 256 }),
    device: name,
    point: name,
    ts: int,
    from: literalUnion(alarmStates),
    to: literalUnion(alarmStates),
    level: Type.Integer({ minimum: AlarmLevel.Normal, maximum: AlarmLevel.Red }),
    detector: Type.String({ minLength: 1, maxLength: 64 }),
    cause: text,
    value: wireValue,
    user: Type.Optional(name),
  },
  { additionalProperties: false },
);

const GatewayEventWire = Type.Object(
  {
    kind: Type.Literal('event'),
    seq,
    ts: int,
    type: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' }),
    device: Type.Optional(name),
    point: Type.Optional(name),
    message: text,
    details: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean()]), {
        maxProperties: 64,
      }),
    ),
  },
  { additionalProperties: false },
);

/** JSON Schema of the event-lane body (published in docs/wire-protocol.md). */
export const EventBodySchema = Type.Object(
  { events: Type.Array(Type.Union([AlarmTransitionWire, GatewayEventWire]), { maxItems: WireLimits.maxEvents }) },
  { additionalProperties: false },
);
type EventBodyWire = Static<typeof EventBodySchema>;

function toWire(v: number | null): number | string | null {
  if (v === null) return null;
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0 && 1 / v < 0) return '-0';
  return v;
}

function fromWire(v: number | string | null): number | null {
  if (typeof v !== 'string') return v;
  return v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : -0;
}

function checkEvents(body: EventBodyWire, firstSeq: number, lastSeq: number, what: string): void {
  // Validate each event against the schema of its kind: a union's errors would only say "expected union value".
  let issues: ValidationIssue[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray(body.events)) {
    issues.push({ path: 'events', message: 'body must be an object {"events": [...]}' });
  } else {
    const extra = Object.keys(body).filter((k) => k !== 'events');
    if (extra.length) issues.push({ path: extra[0], message: 'unexpected property' });
    if (body.events.length > WireLimits.maxEvents) issues.push({ path: 'events', message: `${body.events.length} events exceed the limit ${WireLimits.maxEvents}` });
    body.events.forEach((e: unknown, i) => {
      const kind = (e as { kind?: unknown } | null)?.kind;
      const schema = kind === 'alarm' ? AlarmTransitionWire : kind === 'event' ? GatewayEventWire : undefined;
      if (!schema) issues.push({ path: `events[${i}].kind`, message: `must be "alarm" or "event", got ${JSON.stringify(kind) ?? 'nothing'}` });
      else issues.push(...schemaIssues(schema, e).map((x) => ({ path: x.path ? `events[${i}].${x.path}` : `events[${i}]`, message: x.message })));
    });
  }
  issues = issues.slice(0, 20);
  if (issues.length) {
    throw new LifelineError(ErrorCodes.PayloadInvalid, `${what}: ${issues.length} error(s):\n${formatIssues(issues)}`, { details: issues });
  }
  let prev = firstSeq - 1;
  body.events.forEach((e, i) => {
    if (e.seq <= prev || e.seq > lastSeq) {
      throw new LifelineError(ErrorCodes.PayloadInvalid, `${what}: events[${i}].seq: ${e.seq} must be above ${prev} and at most lastSeq ${lastSeq}`);
    }
    prev = e.seq;
    for (const f of ['device', 'point', 'user'] as const) {
      const s = (e as Record<string, unknown>)[f];
      if (typeof s === 'string' && utf8(s).length > WireLimits.maxNameBytes) {
        throw new LifelineError(ErrorCodes.PayloadInvalid, `${what}: events[${i}].${f}: longer than ${WireLimits.maxNameBytes} UTF-8 bytes`);
      }
    }
  });
}

/** Encodes an event-lane batch; throws PAYLOAD_INVALID (`encode: …`) naming a bad field. */
export function encodeEventBatch(batch: EventBatch, options?: BatchEncodeOptions): Uint8Array {
  const { gateway, firstSeq, lastSeq } = batch;
  if (typeof gateway !== 'string' || gateway.length === 0 || utf8(gateway).length > WireLimits.maxNameBytes) {
    throw new LifelineError(ErrorCodes.PayloadInvalid, `encode: gateway: must be a non-empty string of at most ${WireLimits.maxNameBytes} UTF-8 bytes`);
  }
  if (!Number.isSafeInteger(firstSeq) || firstSeq < 1 || !Number.isSafeInteger(lastSeq) || lastSeq < firstSeq - 1) {
    throw new LifelineError(ErrorCodes.PayloadInvalid, `encode: seq range ${firstSeq}..${lastSeq}: firstSeq must be ≥ 1 and lastSeq ≥ firstSeq - 1`);
  }
  if (!Array.isArray(batch.events)) throw new LifelineError(ErrorCodes.PayloadInvalid, 'encode: events: must be an array');
  const body: EventBodyWire = {
    events: batch.events.map((e) => (e?.kind === 'alarm' ? { ...e, value: toWire(e.value) } : e)) as EventBodyWire['events'],
  };
  checkEvents(body, firstSeq, lastSeq, 'encode');
  return frameBatch(MessageType.Events, gateway, firstSeq, lastSeq, utf8(JSON.stringify(body)), options, batch.epoch);
}

/** Decodes an event-lane batch; any malformed or forged input throws PAYLOAD_INVALID. */
export function decodeEventBatch(bytes: Uint8Array): EventBatch {
  return guard('event batch', () => {
    const { header, body } = openBatch(bytes, MessageType.Events, 'event batch');
    const r: ByteReader = new ByteReader(body, 'event body');
    let json: string;
    try {
      json = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      r.fail('body', 'invalid UTF-8', 0);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      r.fail('body', `invalid JSON (${(e as Error).message})`, 0);
    }
    checkEvents(parsed as EventBodyWire, header.firstSeq, header.lastSeq, 'event body');
    const events = (parsed as EventBodyWire).events.map((e) =>
      e.kind === 'alarm' ? ({ ...e, value: fromWire(e.value) } as AlarmTransition) : (e as GatewayEvent),
    );
    return { gateway: header.gateway, firstSeq: header.firstSeq, lastSeq: header.lastSeq, events, ...(header.epoch !== undefined ? { epoch: header.epoch } : {}) };
  });
}
