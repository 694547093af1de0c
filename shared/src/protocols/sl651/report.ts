/**
 * What a centre does with SL 651 reports: read the observations out of a
 * station's frame, and answer it.
 *
 *   station ──32H timed report──▶ centre      (30H test, 31H uniform, 33H added, 34H hourly, 35H manual alike)
 *   station ◀──32H reply, same serial and send time, ESC (stay on line) or EOT (hang up)── centre
 *
 * The reply echoes the report's serial number and send time, as the published
 * exchanges do (test/vectors in report.test.ts). 2FH link keep-alive frames get
 * no reply (they only keep the channel open).
 */
import { frameInvalid } from '../bytes.js';
import { buildSl651Body, parseSl651Body, type Sl651Body, type Sl651BuildItem } from './body.js';
import { Sl651Ctl } from './elements.js';
import { buildSl651Frame, type Sl651Encoding, type Sl651Frame } from './frame.js';

/** Function codes of the reports a station sends on its own, which the centre answers. */
export const SL651_REPORT_FUNCTIONS: ReadonlySet<number> = new Set([0x30, 0x31, 0x32, 0x33, 0x34, 0x35]);

/** Link keep-alive. */
export const SL651_KEEP_ALIVE = 0x2f;

/** One element's value at one observation time. */
export interface Sl651Observation {
  /** Element identifier byte (-1: ASCII mnemonic not in the table). */
  id: number;
  /** Its mnemonic (PJ, Z…). */
  code: string;
  /** Observation time `YYYY-MM-DD hh:mm` (F0F0 / TT), or the send time's minutes when the report has none. */
  time: string;
  /** null: the station sent "no data". */
  value: number | null;
}

/**
 * The scalar observations of a report body, each with the observation time
 * in force before it. Arrays (F4H…FCH) and 31H series are left out: they are
 * shown by `lifeline decode` but not mapped to points here.
 */
export function sl651Observations(body: Sl651Body): { station?: string; stationType?: number; observations: Sl651Observation[] } {
  let time = body.sendTime.slice(0, 16);
  let station: string | undefined;
  let stationType: number | undefined;
  const observations: Sl651Observation[] = [];
  for (const it of body.items) {
    if (it.kind === 'time') time = it.time;
    else if (it.kind === 'station') {
      station = it.station;
      stationType = it.stationType;
    } else if (it.kind === 'element' && !it.values) observations.push({ id: it.id, code: it.code, time, value: it.value });
  }
  return { ...(station === undefined ? {} : { station, stationType }), observations };
}

/** What a station reports (the simulator's and the tests' builder). */
export interface Sl651ReportInit {
  encoding?: Sl651Encoding;
  centre: number;
  station: string;
  password: string;
  /** 0x32 timed report by default. */
  functionCode?: number;
  serial: number;
  /** `YYYY-MM-DD hh:mm:ss`. */
  sendTime: string;
  /** Station type code, e.g. 0x50 ('P') rainfall, 0x48 ('H') river. */
  stationType: number;
  /** `YYYY-MM-DD hh:mm`. */
  observedAt: string;
  /** Elements in order: id and value (format from the table unless `def` is given). */
  elements: ReadonlyArray<{ id: number; value: number | null; def?: number }>;
}

/** A station's report frame (F1F1 station, F0F0 time, elements), ending ETX. */
export function buildSl651Report(r: Sl651ReportInit): Uint8Array {
  const encoding = r.encoding ?? 'hex';
  const items: Sl651BuildItem[] = [
    { kind: 'station', station: r.station, stationType: r.stationType },
    { kind: 'time', time: r.observedAt },
    ...r.elements.map((e) => ({ kind: 'element' as const, id: e.id, value: e.value, ...(e.def === undefined ? {} : { def: e.def }) })),
  ];
  const body = buildSl651Body({ encoding, serial: r.serial, sendTime: r.sendTime, items });
  return buildSl651Frame({
    encoding,
    direction: 'up',
    centre: r.centre,
    station: r.station,
    password: r.password,
    functionCode: r.functionCode ?? 0x32,
    body,
    end: Sl651Ctl.ETX,
  });
}

/**
 * The centre's reply to an up frame: same addresses, password and function
 * code, down flag, the report's serial and send time, and `end` (ESC: done,
 * stay on line; EOT: hang up; ACK for a packet of several that is not the last).
 */
export function buildSl651Reply(frame: Sl651Frame, end: number = Sl651Ctl.ESC): Uint8Array {
  if (frame.direction !== 'up') throw frameInvalid('direction: only an up frame (station → centre) is answered');
  const body = parseSl651Body(frame);
  return buildSl651Frame({
    encoding: frame.encoding,
    direction: 'down',
    centre: frame.centre,
    station: frame.station,
    password: frame.password,
    functionCode: frame.functionCode,
    body: buildSl651Body({ encoding: frame.encoding, serial: body.serial, sendTime: body.sendTime, items: [] }),
    end,
  });
}
