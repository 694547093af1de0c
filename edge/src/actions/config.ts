/**
 * The `outputs` and `actions` sections of the gateway config: what the gateway
 * can switch (GPIO relays, sirens, beacons; coils and registers of Modbus
 * devices) and which alarms switch it.
 *
 *     outputs:
 *       - name: underpass-beacon
 *         gpio: { pin: 17 }
 *         mode: follow          # follow | latching | momentary
 *         failSafe: on          # state when the agent stops or starts without a saved state
 *         minOnMs: 10000
 *     actions:
 *       - output: underpass-beacon
 *         when: { device: flood-1, point: ponding_depth, level: red }
 */
import { Type, type Static } from '@sinclair/typebox';
import { didYouMean, type ValidationIssue } from '@lifeline/shared';
import type { Profile } from '@lifeline/devices';
import { levelNames } from '../detect/levels.js';

/** How an output follows its alarms. */
export const outputModes = ['follow', 'latching', 'momentary'] as const;
/**
 * `follow`: on while a matching alarm is active at or above the level;
 * `latching`: on from the raise until every matching alarm is back to normal (cleared and acknowledged);
 * `momentary`: a pulse of `pulseMs` each time a matching alarm rises to the level.
 */
export type OutputMode = (typeof outputModes)[number];

export const GpioOutputSchema = Type.Object(
  {
    pin: Type.Integer({ minimum: 0, maximum: 4095, description: 'GPIO line number (sysfs numbering, as onoff uses it)' }),
    activeLow: Type.Optional(Type.Boolean({ description: 'The output is on when the line is low (default false)' })),
  },
  { additionalProperties: false },
);

export const ModbusOutputSchema = Type.Object(
  {
    device: Type.String({ minLength: 1, description: 'Device id on this gateway' }),
    point: Type.String({ minLength: 1, description: 'A writable point (access: rw) of its profile: a coil or a holding register' }),
    on: Type.Optional(Type.Number({ description: 'Value written to switch on, in the point unit (default 1)' })),
    off: Type.Optional(Type.Number({ description: 'Value written to switch off (default 0)' })),
  },
  { additionalProperties: false },
);

export const OutputSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 64, description: 'Output name, unique on the gateway' }),
    description: Type.Optional(Type.String()),
    gpio: Type.Optional(GpioOutputSchema),
    modbus: Type.Optional(ModbusOutputSchema),
    mode: Type.Optional(Type.Union(outputModes.map((m) => Type.Literal(m)), { description: 'follow (default), latching or momentary' })),
    failSafe: Type.Optional(Type.Union([Type.Literal('off'), Type.Literal('on')], { description: 'State on agent stop and on a first start (default off)' })),
    minOnMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'Once on, stays on at least this long (default 0)' })),
    pulseMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000, description: 'Pulse length of a momentary output' })),
    test: Type.Optional(Type.Boolean({ description: 'Test mode: decisions are recorded, the hardware is never switched (default false)' })),
  },
  { additionalProperties: false },
);
/** One output as configured. */
export type OutputConfig = Static<typeof OutputSchema>;

export const ActionSchema = Type.Object(
  {
    output: Type.String({ minLength: 1, description: 'Name of an output' }),
    when: Type.Object(
      {
        alarm: Type.Optional(Type.String({ minLength: 1, description: 'Alarm id, `*` matches any run of characters, e.g. flood-1/*' })),
        device: Type.Optional(Type.String({ minLength: 1, description: 'Device id (`*` allowed)' })),
        point: Type.Optional(Type.String({ minLength: 1, description: 'Point name (`*` allowed)' })),
        detector: Type.Optional(Type.String({ minLength: 1, description: 'threshold, rate, stuck, range, anomaly, rainstorm, multivariate, modal, comm_loss, flood' })),
        level: Type.Union(levelNames.map((n) => Type.Literal(n)), { description: 'Lowest level that switches the output' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
/** One rule: alarms matching `when` drive `output`. */
export type ActionConfig = Static<typeof ActionSchema>;

/** Device → profile lookup the checks need. */
type Profiles = ReadonlyMap<string, Readonly<Profile>>;

/**
 * What the schema cannot say: one backend per output, unique names and pins,
 * momentary outputs need a pulse, Modbus targets exist and are writable,
 * actions name existing outputs.
 */
export function actionsConfigIssues(outputs: readonly OutputConfig[] | undefined, actions: readonly ActionConfig[] | undefined, profiles: Profiles): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const names = new Map<string, number>();
  const pins = new Map<number, number>();
  (outputs ?? []).forEach((o, i) => {
    const at = `outputs[${i}]`;
    const first = names.get(o.name);
    if (first !== undefined) out.push({ path: `${at}.name`, message: `duplicate output name ${JSON.stringify(o.name)}, also outputs[${first}]` });
    else names.set(o.name, i);
    if (!!o.gpio === !!o.modbus) out.push({ path: at, message: 'needs exactly one of gpio or modbus' });
    if (o.gpio) {
      const p = pins.get(o.gpio.pin);
      if (p !== undefined) out.push({ path: `${at}.gpio.pin`, message: `pin ${o.gpio.pin} is already used by outputs[${p}]` });
      else pins.set(o.gpio.pin, i);
    }
    if ((o.mode ?? 'follow') === 'momentary' && o.pulseMs === undefined) out.push({ path: `${at}.pulseMs`, message: 'is required for a momentary output' });
    if (o.mode !== 'momentary' && o.pulseMs !== undefined) out.push({ path: `${at}.pulseMs`, message: `only applies to momentary outputs, this one is ${o.mode ?? 'follow'}` });
    if (o.modbus) {
      const profile = profiles.get(o.modbus.device);
      if (!profile) out.push({ path: `${at}.modbus.device`, message: `no device ${JSON.stringify(o.modbus.device)} on this gateway${didYouMean(o.modbus.device, profiles.keys())}` });
      else if (profile.protocol !== 'modbus') out.push({ path: `${at}.modbus.device`, message: `${o.modbus.device} speaks ${profile.protocol}, not modbus` });
      else {
        const point = profile.points.find((p) => p.name === o.modbus!.point);
        if (!point) out.push({ path: `${at}.modbus.point`, message: `profile ${profile.id} has no point ${JSON.stringify(o.modbus.point)}${didYouMean(o.modbus.point, profile.points.map((p) => p.name))}` });
        else if (point.access !== 'rw') out.push({ path: `${at}.modbus.point`, message: `${profile.id}.${point.name} is read-only (access: r)` });
        else if (point.table !== 'coil' && point.table !== 'holding') out.push({ path: `${at}.modbus.point`, message: `${point.name} is in the ${point.table} table, which cannot be written` });
      }
    }
  });
  (actions ?? []).forEach((a, i) => {
    if (!names.has(a.output)) out.push({ path: `actions[${i}].output`, message: `no output named ${JSON.stringify(a.output)}${didYouMean(a.output, names.keys())}` });
  });
  return out;
}

/** `flood-1/*` → a RegExp matching whole ids; only `*` is special. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
