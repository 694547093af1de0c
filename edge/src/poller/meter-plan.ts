/**
 * Meter read plans and decoding: what to ask a DL/T 645 or CJ/T 188 meter, and
 * how its replies become point values in the profile's units. Shared by the
 * agent's MeterPoller and `lifeline read`.
 *
 *   DL/T 645 profile ─▶ one read (0x11) per point's data identifier ─▶ parseDlt645ReadReply ─▶ value × scale
 *   CJ/T 188 profile ─▶ one read (0x01, DI 901F) for every point    ─▶ parseCjt188ReadReply ─▶ field, unit code
 *                                                                         converted to the codec unit, × scale
 *
 * A CJ/T 188 meter says its unit per field (kWh or MWh, m3 or L...): values
 * are converted to the unit the profile was written for (docs/profiles.md),
 * so a meter that reports MWh still feeds a kWh point. A unit of another
 * quantity, or an FF-filled field, gives a Bad reading with the reason.
 */
import { Quality } from '@lifeline/shared';
import {
  CJT188_DI_READ,
  DLT645_DATA_IDS,
  buildCjt188ReadRequest,
  buildDlt645ReadRequest,
  cjt188MeterKind,
  formatDataId,
  parseCjt188ReadReply,
  parseDlt645ReadReply,
  toHex,
} from '@lifeline/shared/protocols';
import { CJT188_FIELD_UNITS, type Cjt188Point, type Cjt188Profile, type Dlt645Point, type Dlt645Profile, type MeterProfile } from '@lifeline/devices';
import type { MeterRequest } from '../links/meter.js';

/** A point of a meter profile. */
export type MeterPoint = Dlt645Point | Cjt188Point;

/** One point's value out of a reply. */
export interface MeterPointValue {
  point: MeterPoint;
  /** In the point's unit; NaN when the meter gave none. */
  value: number;
  /** The bytes it came from, hex (DL/T 645: 0x33 offset removed; CJ/T 188: value and unit code as sent). */
  raw: string;
  /** Bad (no value) or Uncertain (outside the sensor's range, unknown unit code); absent when Good. */
  quality?: Quality.Bad | Quality.Uncertain;
  /** Why it is not Good, short. */
  note?: string;
}

/** One request to a meter and the points its reply serves. */
export interface MeterRead {
  readonly req: MeterRequest;
  readonly points: readonly MeterPoint[];
  /** Values of `points` from a reply frame. Throws FRAME_INVALID (malformed, wrong meter or DI) or DEVICE_EXCEPTION (error reply). */
  decode(reply: Uint8Array): MeterPointValue[];
}

/** Per-instance settings of a meter plan. */
export interface MeterPlanOptions {
  /** Extra quiet time the bus needs after this meter answered, ms. */
  gapMs?: number;
}

/** The reads that cover every point of a meter at `address`. */
export function planMeterReads(profile: Readonly<MeterProfile>, address: string, opts: MeterPlanOptions = {}): MeterRead[] {
  return profile.protocol === 'dlt645' ? planDlt645(profile, address, opts) : [planCjt188(profile, address, opts)];
}

/**
 * `value × scale` without binary noise: a decimal scale divides by its
 * inverse (as the Modbus decoder does), and the result keeps 15 significant
 * digits (meters send at most 8), so 0.1483 kW × 1000 is 148.3 W, not
 * 148.29999999999998, and 123.4 L/h is 0.1234 m3/h.
 */
export function applyScale(value: number, scale = 1): number {
  if (scale === 1) return value;
  const inverse = Math.round(1 / scale);
  const v = scale < 1 && Math.abs(1 / scale - inverse) < 1e-9 ? value / inverse : value * scale;
  return Number(v.toPrecision(15));
}

/** Range check as for Modbus points: outside the sensor's range is Uncertain. */
function withRange(v: MeterPointValue): MeterPointValue {
  const r = v.point.range;
  if (!v.quality && Number.isFinite(v.value) && r && (v.value < r[0] || v.value > r[1])) {
    return { ...v, quality: Quality.Uncertain, note: `outside the sensor range ${r[0]}..${r[1]}` };
  }
  return v;
}

function planDlt645(profile: Readonly<Dlt645Profile>, address: string, opts: MeterPlanOptions): MeterRead[] {
  return profile.points.map((point) => {
    const di = parseInt(point.di, 16);
    const item = DLT645_DATA_IDS.get(di);
    // The profile loader has already refused data identifiers the codec does not know.
    if (!item) throw new Error(`profile ${profile.id} point ${point.name}: unknown data identifier ${point.di}`);
    const req: MeterRequest = {
      address,
      frame: buildDlt645ReadRequest(address, di),
      what: `read ${formatDataId(di)} (${item.name})`,
      // 4 FE + 12 fixed bytes + DI + value.
      replyBytes: 4 + 12 + 4 + item.bytes,
      turnaroundMs: profile.turnaroundMs,
      gapMs: opts.gapMs,
    };
    return {
      req,
      points: [point],
      decode: (reply: Uint8Array): MeterPointValue[] => {
        const r = parseDlt645ReadReply(reply, { address, di });
        const raw = toHex(r.raw);
        const v = r.values[0];
        return [withRange({ point, value: applyScale(v.value, point.scale), raw })];
      },
    };
  });
}

/** Unit symbols the CJ/T 188 codec reports, as [codec unit of the quantity, factor to it]. */
const TO_CODEC_UNIT: Readonly<Record<string, readonly [string, number]>> = {
  Wh: ['kWh', 0.001],
  kWh: ['kWh', 1],
  MWh: ['kWh', 1000],
  J: ['kWh', 1 / 3.6e6],
  kJ: ['kWh', 1 / 3600],
  MJ: ['kWh', 1 / 3.6],
  GJ: ['kWh', 1000 / 3.6],
  W: ['kW', 0.001],
  kW: ['kW', 1],
  MW: ['kW', 1000],
  L: ['m3', 0.001],
  m3: ['m3', 1],
  'L/h': ['m3/h', 0.001],
  'm3/h': ['m3/h', 1],
};

function planCjt188(profile: Readonly<Cjt188Profile>, address: string, opts: MeterPlanOptions): MeterRead {
  const heat = cjt188MeterKind(profile.meterType) === 'heat';
  const req: MeterRequest = {
    address,
    frame: buildCjt188ReadRequest(profile.meterType, address, { diOrder: profile.diOrder }),
    what: `read ${CJT188_DI_READ.toString(16).toUpperCase()}`,
    // 4 FE + 13 fixed bytes + L (0x2E heat, 0x16 water and gas).
    replyBytes: 4 + 13 + (heat ? 0x2e : 0x16),
    turnaroundMs: profile.turnaroundMs,
    gapMs: opts.gapMs,
  };
  return {
    req,
    points: profile.points,
    decode: (reply: Uint8Array): MeterPointValue[] => {
      const r = parseCjt188ReadReply(reply, { address, meterType: profile.meterType });
      const status = `${hex2(r.status.st1)} ${hex2(r.status.st2)}`;
      return profile.points.map((point) => {
        if (point.field === 'valveClosed') {
          const v = r.status.valve;
          if (v === 'open' || v === 'closed') return { point, value: v === 'closed' ? 1 : 0, raw: status };
          return { point, value: NaN, raw: status, quality: Quality.Bad, note: `valve ${v}` };
        }
        if (point.field === 'batteryLow') return { point, value: r.status.batteryLow ? 1 : 0, raw: status };
        const q = r.quantities.find((x) => x.key === point.field);
        if (!q) return { point, value: NaN, raw: '', quality: Quality.Bad, note: `a ${r.meterKind} meter's reply has no ${point.field}` };
        if (q.value === null) return { point, value: NaN, raw: q.raw, quality: Quality.Bad, note: 'not available (FF)' };
        const want = CJT188_FIELD_UNITS[point.field];
        if (q.unit === '') {
          // Unknown unit code: the value is there, its unit is a guess.
          return { point, value: applyScale(q.value, point.scale), raw: q.raw, quality: Quality.Uncertain, note: `unknown unit code ${hex2(q.unitCode ?? 0)}, taken as ${want}` };
        }
        let value = q.value;
        if (q.unit !== want) {
          const conv = TO_CODEC_UNIT[q.unit];
          if (!conv || conv[0] !== want) return { point, value: NaN, raw: q.raw, quality: Quality.Bad, note: `meter reports ${q.unit}, not convertible to ${want}` };
          value = applyScale(value, conv[1]);
        }
        return withRange({ point, value: applyScale(value, point.scale), raw: q.raw });
      });
    },
  };
}

function hex2(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}
