/**
 * The `alarms` section of the gateway config: how the alarm manager suppresses
 * noise (chattering, floods), how long an operator may shelve an alarm, the
 * communication-loss alarm, and the local control socket of the CLI.
 *
 *     alarms:
 *       chatter: { count: 5, windowMs: 60000, releaseMs: 300000 }
 *       flood:   { count: 10, windowMs: 600000, clearCount: 5, passLevel: red, level: orange }
 *       shelve:  { maxMs: 86400000 }
 *       commLoss: { level: yellow }
 *       restoreGraceMs: 30000
 *
 * Every field is optional; `resolveAlarmsConfig` fills in the defaults, so the
 * validated config stays as the technician wrote it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { AlarmLevel } from '@lifeline/shared';
import { levelNames, levelOf, type LevelName } from '../detect/levels.js';

const Level = (description: string) => Type.Union(levelNames.map((n) => Type.Literal(n)), { description });

/** Chattering: an alarm raised `count` times within `windowMs` is suppressed until quiet for `releaseMs`. */
export const ChatterSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'Default true' })),
    count: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000, description: 'Raises within windowMs that make an alarm chatter (default 5)' })),
    windowMs: Type.Optional(Type.Integer({ minimum: 1000, description: 'Window for counting raises (default 60000)' })),
    releaseMs: Type.Optional(Type.Integer({ minimum: 1000, description: 'Suppressed until no raise for this long (default 300000)' })),
  },
  { additionalProperties: false },
);

/** Alarm flood: many alarms on one gateway in a short window raise one summary alarm. */
export const FloodSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'Default true' })),
    count: Type.Optional(Type.Integer({ minimum: 2, maximum: 100_000, description: 'Alarms raised within windowMs that make a flood (default 10, after ISA-18.2)' })),
    windowMs: Type.Optional(Type.Integer({ minimum: 1000, description: 'Window for counting raises (default 600000: 10 min)' })),
    clearCount: Type.Optional(Type.Integer({ minimum: 0, description: 'The flood ends when fewer raises than this remain in the window (default count / 2)' })),
    passLevel: Type.Optional(Level('During a flood, new alarms at or above this level are still annunciated (default red)')),
    level: Type.Optional(Level('Level of the summary alarm (default orange)')),
  },
  { additionalProperties: false },
);

/** The `alarms` section. */
export const AlarmsConfigSchema = Type.Object(
  {
    chatter: Type.Optional(ChatterSchema),
    flood: Type.Optional(FloodSchema),
    shelve: Type.Optional(
      Type.Object(
        { maxMs: Type.Optional(Type.Integer({ minimum: 60_000, description: 'Longest shelving an operator may ask for (default 86400000: 24 h)' })) },
        { additionalProperties: false },
      ),
    ),
    commLoss: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ description: 'Raise <device>/comm/comm_loss when a device stops answering (default true)' })),
          level: Type.Optional(Level('Level of a communication-loss alarm (default yellow)')),
        },
        { additionalProperties: false },
      ),
    ),
    restoreGraceMs: Type.Optional(
      Type.Integer({ minimum: 0, description: 'After a restart, an active alarm whose detector has not confirmed it within this time is cleared (default 30000)' }),
    ),
    controlSocket: Type.Optional(Type.String({ minLength: 1, description: 'Unix socket of the local control channel, inside the data directory (default: beside the buffer file)' })),
    logKeep: Type.Optional(Type.Integer({ minimum: 1000, description: 'Transitions kept in the local alarm log (default 100000)' })),
  },
  { additionalProperties: false },
);
/** The `alarms` section as written. */
export type AlarmsConfig = Static<typeof AlarmsConfigSchema>;

/** The `alarms` section with every default filled in. */
export interface ResolvedAlarmsConfig {
  chatter: { enabled: boolean; count: number; windowMs: number; releaseMs: number };
  flood: { enabled: boolean; count: number; windowMs: number; clearCount: number; passLevel: AlarmLevel; level: AlarmLevel };
  shelve: { maxMs: number };
  commLoss: { enabled: boolean; level: AlarmLevel };
  restoreGraceMs: number;
  controlSocket?: string;
  logKeep: number;
}

/** Fills in the defaults of an `alarms` section (absent: all defaults). */
export function resolveAlarmsConfig(c: AlarmsConfig | undefined = {}): ResolvedAlarmsConfig {
  const floodCount = c.flood?.count ?? 10;
  const lvl = (n: LevelName | undefined, d: AlarmLevel) => (n ? levelOf(n) : d);
  return {
    chatter: {
      enabled: c.chatter?.enabled ?? true,
      count: c.chatter?.count ?? 5,
      windowMs: c.chatter?.windowMs ?? 60_000,
      releaseMs: c.chatter?.releaseMs ?? 300_000,
    },
    flood: {
      enabled: c.flood?.enabled ?? true,
      count: floodCount,
      windowMs: c.flood?.windowMs ?? 600_000,
      clearCount: c.flood?.clearCount ?? Math.floor(floodCount / 2),
      passLevel: lvl(c.flood?.passLevel, AlarmLevel.Red),
      level: lvl(c.flood?.level, AlarmLevel.Orange),
    },
    shelve: { maxMs: c.shelve?.maxMs ?? 86_400_000 },
    commLoss: { enabled: c.commLoss?.enabled ?? true, level: lvl(c.commLoss?.level, AlarmLevel.Yellow) },
    restoreGraceMs: c.restoreGraceMs ?? 30_000,
    controlSocket: c.controlSocket,
    logKeep: c.logKeep ?? 100_000,
  };
}

/** What the schema cannot say about an `alarms` section. */
export function alarmsConfigIssues(c: AlarmsConfig | undefined): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (!c) return out;
  const r = resolveAlarmsConfig(c);
  if (r.flood.clearCount >= r.flood.count) {
    out.push({ path: 'alarms.flood.clearCount', message: `must be below count (${r.flood.count}), got ${r.flood.clearCount}` });
  }
  return out;
}
