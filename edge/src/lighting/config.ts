/**
 * The `lighting` section of the gateway config: lamp schedules by the sun or
 * the clock, in the site's time (gateway.timeZone, default Asia/Shanghai).
 *
 *     lighting:
 *       schedules:
 *         - name: guanghe-rd
 *           devices: [lamp-2, lamp-3, lamp-4]
 *           on: dusk              # sunset | dusk | HH:MM
 *           onOffsetMin: -10      # ten minutes before dusk
 *           off: dawn             # sunrise | dawn | HH:MM
 *           dim: [{ at: "00:00", percent: 50 }]
 */
import { Type, type Static } from '@sinclair/typebox';
import { didYouMean, type ValidationIssue } from '@lifeline/shared';
import type { Profile } from '@lifeline/devices';
import { type Moment, type NightPlan, type SunEvent } from '../schedule/nights.js';
import { isTimeZone } from '../schedule/zone.js';

/** The zone a schedule's clock times are in when the config names none: China Standard Time. */
export const defaultTimeZone = 'Asia/Shanghai';

const offset = (what: string) => Type.Optional(Type.Integer({ minimum: -720, maximum: 720, description: `Minutes after (negative: before) the ${what} moment, default 0` }));

export const LightingScheduleSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, description: 'What the schedule is called in logs, e.g. guanghe-rd' })),
    devices: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Lamp controllers (device ids) switched by this schedule' }),
    on: Type.String({ description: 'When the lamps switch on: sunset, dusk (civil, sun 6° down) or a local time HH:MM' }),
    onOffsetMin: offset('on'),
    off: Type.String({ description: 'When the lamps switch off: sunrise, dawn (civil, sun 6° down) or a local time HH:MM' }),
    offOffsetMin: offset('off'),
    percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Dimming when switched on, % (default 100)' })),
    dim: Type.Optional(
      Type.Array(
        Type.Object(
          {
            at: Type.String({ description: 'Local time HH:MM, e.g. "00:00"; applies in the night it falls in' }),
            percent: Type.Number({ minimum: 0, maximum: 100, description: 'Dimming from then on, %' }),
          },
          { additionalProperties: false },
        ),
        { description: 'Dimming steps during the night, e.g. 50 % after midnight' },
      ),
    ),
    switchPoint: Type.Optional(Type.String({ minLength: 1, description: 'Writable point that switches the lamp, 1 on / 0 off (default lamp_on)' })),
    dimPoint: Type.Optional(Type.String({ minLength: 1, description: 'Writable point taking the dimming in % (default dimming; left alone when the profile has none and the schedule dims nothing)' })),
  },
  { additionalProperties: false },
);
/** One schedule as configured. */
export type LightingSchedule = Static<typeof LightingScheduleSchema>;

export const LightingConfigSchema = Type.Object(
  {
    schedules: Type.Array(LightingScheduleSchema, { minItems: 1 }),
  },
  { additionalProperties: false, description: 'Lamp schedules by sunset/sunrise or the clock, computed on the gateway (works offline)' },
);
export type LightingConfig = Static<typeof LightingConfigSchema>;

const clock = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

/** 'HH:MM' → minutes after midnight, or undefined. */
function clockMinutes(s: string): number | undefined {
  const m = clock.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** A moment from its config text, or undefined when the text is none of `events` or HH:MM. */
function moment(text: string, offsetMin: number | undefined, events: readonly SunEvent[]): Moment | undefined {
  if ((events as readonly string[]).includes(text)) return { at: text as SunEvent, offsetMin: offsetMin ?? 0 };
  const minutes = clockMinutes(text);
  return minutes === undefined ? undefined : { at: { minutes }, offsetMin: offsetMin ?? 0 };
}

const onEvents = ['sunset', 'dusk'] as const satisfies readonly SunEvent[];
const offEvents = ['sunrise', 'dawn'] as const satisfies readonly SunEvent[];

/** The night plan of a validated schedule. */
export function nightPlan(s: LightingSchedule): NightPlan {
  return {
    on: moment(s.on, s.onOffsetMin, onEvents)!,
    off: moment(s.off, s.offOffsetMin, offEvents)!,
    percent: s.percent ?? 100,
    dim: (s.dim ?? []).map((d) => ({ minutes: clockMinutes(d.at)!, percent: d.percent })),
  };
}

/** The points a schedule writes on each device: the switch, and the dimming when the profile has it or the schedule dims. */
export function schedulePoints(s: LightingSchedule, profile: Readonly<Profile> | undefined): { switchPoint: string; dimPoint?: string } {
  const switchPoint = s.switchPoint ?? 'lamp_on';
  const dimPoint = s.dimPoint ?? 'dimming';
  const dims = s.dimPoint !== undefined || s.percent !== undefined || (s.dim?.length ?? 0) > 0;
  return { switchPoint, dimPoint: dims || profile?.points.some((p) => p.name === dimPoint) ? dimPoint : undefined };
}

/** What the config around the lighting section says that the checks need. */
export interface LightingContext {
  location?: { lon: number; lat: number };
  profiles: ReadonlyMap<string, Readonly<Profile>>;
  /** Modbus outputs by index (alarm actions): a point has one owner. */
  outputs?: readonly ({ name: string; modbus?: { device: string; point: string } } | undefined)[];
}

/**
 * What the schema cannot say: moments and clock times well-formed, the site's
 * position known when the sun is asked, devices that exist with writable switch
 * and dimming points, and one owner per lamp (two schedules, or a schedule and
 * an alarm output, would fight over it every transition).
 */
export function lightingConfigIssues(lighting: LightingConfig | undefined, ctx: LightingContext): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  if (!lighting) return out;
  const owners = new Map<string, string>();
  (ctx.outputs ?? []).forEach((o, i) => o?.modbus && owners.set(`${o.modbus.device}.${o.modbus.point}`, `outputs[${i}] (${o.name})`));
  lighting.schedules.forEach((s, i) => {
    if (!s) return;
    const at = `lighting.schedules[${i}]`;
    const on = moment(s.on, 0, onEvents);
    const off = moment(s.off, 0, offEvents);
    if (!on) out.push({ path: `${at}.on`, message: `must be sunset, dusk or a local time HH:MM (00:00..23:59), got ${JSON.stringify(s.on)}` });
    if (!off) out.push({ path: `${at}.off`, message: `must be sunrise, dawn or a local time HH:MM (00:00..23:59), got ${JSON.stringify(s.off)}` });
    const sun = [on, off].find((m) => m && typeof m.at === 'string');
    if (sun && !ctx.location) out.push({ path: 'gateway.location', message: `is required by ${at}: ${sun.at} depends on the site's longitude and latitude` });
    if (on && off && typeof on.at === 'object' && typeof off.at === 'object' && on.at.minutes + (s.onOffsetMin ?? 0) === off.at.minutes + (s.offOffsetMin ?? 0)) {
      out.push({ path: `${at}.off`, message: `switches off at the moment it switches on (${s.on}), so the lamps would never light` });
    }
    (s.dim ?? []).forEach((d, j) => {
      if (clockMinutes(d.at) === undefined) out.push({ path: `${at}.dim[${j}].at`, message: `must be a local time HH:MM (00:00..23:59), got ${JSON.stringify(d.at)}` });
    });
    s.devices.forEach((id, j) => {
      const path = `${at}.devices[${j}]`;
      const profile = ctx.profiles.get(id);
      if (!profile) {
        out.push({ path, message: `no device ${JSON.stringify(id)} on this gateway${didYouMean(id, ctx.profiles.keys())}` });
        return;
      }
      if (profile.protocol !== 'modbus') {
        out.push({ path, message: `${id} is a ${profile.protocol} meter; lamps are switched over Modbus` });
        return;
      }
      const { switchPoint, dimPoint } = schedulePoints(s, profile);
      for (const [field, name] of [['switchPoint', switchPoint], ['dimPoint', dimPoint]] as const) {
        if (name === undefined) continue;
        const point = profile.points.find((p) => p.name === name);
        const why = !point
          ? `has no point ${JSON.stringify(name)}${didYouMean(name, profile.points.map((p) => p.name))}`
          : point.access !== 'rw' || (point.table !== 'coil' && point.table !== 'holding')
            ? `point ${name} is not a writable coil or holding register`
            : undefined;
        if (why) out.push({ path: `${at}.${field}`, message: `${id}'s profile ${profile.id} ${why}` });
        const key = `${id}.${name}`;
        const owner = owners.get(key);
        if (owner) out.push({ path, message: `${key} is already switched by ${owner}: one owner per lamp` });
        else owners.set(key, at);
      }
    });
  });
  return out;
}

/** gateway.timeZone must be a zone Intl knows: a typo would shift every clock time of every schedule. */
export function timeZoneIssues(timeZone: string | undefined): ValidationIssue[] {
  if (timeZone === undefined || isTimeZone(timeZone)) return [];
  return [{ path: 'gateway.timeZone', message: `is not a time zone this gateway knows (an IANA name, e.g. ${defaultTimeZone}), got ${JSON.stringify(timeZone)}` }];
}
