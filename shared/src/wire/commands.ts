/**
 * Downlink commands and their answers (JSON, docs/wire-protocol.md §9).
 *
 *   cloud sendCommand ─▶ lifeline/<gw>/down/cmd  {id, type, …}  ─▶ gateway: check, run once, log
 *   cloud (store, waiter) ◀─ lifeline/<gw>/up/reply {id, ok, status, …} ◀──┘
 *
 * Authenticated by the channel: a gateway reads only its own command topic and
 * the cloud takes an answer only from the gateway it addressed. Idempotent by
 * `id`: a command seen again is answered with the first answer, never run twice.
 */
import { Type, type Static } from '@sinclair/typebox';
import { literalUnion } from '../validate.js';

const id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', description: 'Command id, unique per gateway; a repeat is answered, not run again' });
const gateway = Type.String({ minLength: 1, maxLength: 128 });
const common = {
  id,
  /** Addressee; a gateway refuses a command naming another gateway. */
  gateway,
  /** Cloud clock when sent, epoch ms. */
  ts: Type.Integer({ minimum: 0 }),
  /** Who asked (an operator, a service). */
  by: Type.String({ minLength: 1, maxLength: 128 }),
  /** Refused as `expired` if it arrives later than this (epoch ms, gateway clock). */
  expiresAt: Type.Optional(Type.Integer({ minimum: 0 })),
};

/** Desired-state config update: the whole gateway config. */
export const ConfigCommandSchema = Type.Object({ ...common, type: Type.Literal('config'), config: Type.Object({}, { additionalProperties: true }) }, { additionalProperties: false });
/** Acknowledge an alarm (ISA-18.2). */
export const AlarmAckCommandSchema = Type.Object({ ...common, type: Type.Literal('alarm_ack'), alarmId: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
/** Shelve an alarm until a time. */
export const AlarmShelveCommandSchema = Type.Object(
  { ...common, type: Type.Literal('alarm_shelve'), alarmId: Type.String({ minLength: 1, maxLength: 256 }), untilTs: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
/** Write a value to a writable point of a device. */
export const PointWriteCommandSchema = Type.Object(
  { ...common, type: Type.Literal('point_write'), device: Type.String({ minLength: 1, maxLength: 128 }), point: Type.String({ minLength: 1, maxLength: 128 }), value: Type.Number() },
  { additionalProperties: false },
);

/** Any downlink command. */
export const CommandSchema = Type.Union([ConfigCommandSchema, AlarmAckCommandSchema, AlarmShelveCommandSchema, PointWriteCommandSchema]);
/** A downlink command. */
export type Command = Static<typeof CommandSchema>;
/** The command kinds. */
export const commandTypes = ['config', 'alarm_ack', 'alarm_shelve', 'point_write'] as const;
/** A command without the fields the sender fills in (id, gateway, ts). */
export type CommandRequest = Command extends infer C ? (C extends Command ? Omit<C, 'id' | 'gateway' | 'ts'> : never) : never;

/** How a command ended. */
export const commandStatuses = ['done', 'rejected', 'failed', 'expired'] as const;
/** `done`: carried out; `rejected`: refused as invalid (nothing changed); `failed`: tried and failed; `expired`: arrived too late. */
export type CommandStatus = (typeof commandStatuses)[number];

/** The gateway's answer to a command. */
export const CommandAnswerSchema = Type.Object(
  {
    id,
    gateway,
    /** Gateway clock when answered, epoch ms. */
    ts: Type.Integer({ minimum: 0 }),
    ok: Type.Boolean(),
    status: literalUnion(commandStatuses),
    message: Type.String({ maxLength: 4096 }),
    /** Why a config was rejected: every issue, with its path. */
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), { maxItems: 1000 })),
    /** The config the gateway runs after the command (hash of its canonical JSON). */
    running: Type.Optional(Type.Object({ hash: Type.String({ maxLength: 128 }) })),
    /** True when this answer repeats the answer to an earlier copy of the command. */
    duplicate: Type.Optional(Type.Boolean()),
    /** For a point write: the value read back from the device after writing (in the point's unit). */
    readBack: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);
/** The gateway's answer to a command. */
export type CommandAnswer = Static<typeof CommandAnswerSchema>;
