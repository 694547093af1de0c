/**
 * Meter slave logic: DL/T 645-2007 electricity meters and CJ/T 188-2004
 * water / heat meters answering on a serial bus. Frames are built and parsed
 * by the shared codecs (shared/src/protocols), so the simulator and the
 * gateway cannot disagree on the format.
 *
 *   request frame ─▶ parse ─▶ meters whose address matches (AA wildcards) ─▶ behaviours ─▶ reply frame
 *
 * DL/T 645: read data (0x11) by data identifier, including the DI1 = FF block
 * reads of per-phase values; read address (0x13). CJ/T 188: read data (0x01,
 * DI 901F in either wire order); read address (0x03, DI 810A).
 */
import {
  CJT188_DI_READ,
  Cjt188Control,
  DLT645_DATA_IDS,
  Dlt645Control,
  buildCjt188Frame,
  buildCjt188ReadReply,
  buildDlt645ErrorReply,
  buildDlt645Frame,
  buildDlt645ReadReply,
  dlt645BlockItems,
  parseCjt188Frame,
  parseDlt645Frame,
} from '@lifeline/shared/protocols';
import type { Cjt188Field, Cjt188Profile, Dlt645Profile } from '../profile.js';
import type { SimAction, SimRequest } from './behaviours.js';
import type { SimulatedDevice } from './device.js';

/** What a meter does with a request: its reply (already transformed by behaviours), silence, or a dropped link. */
export type MeterAnswer =
  | { kind: 'reply'; dev: SimulatedDevice; bytes: Uint8Array }
  | { kind: 'silent'; dev?: SimulatedDevice }
  | { kind: 'disconnect'; dev: SimulatedDevice; forMs?: number };

/** DL/T 645 error byte: no requested data. */
const ERR_NO_DATA = 0x02;
/** DL/T 645 error byte: other error. */
const ERR_OTHER = 0x01;

/** Wake-up preamble the simulated meters put before each reply. */
const PREAMBLE = 4;

function addressMatches(pattern: string, actual: string): boolean {
  if (pattern.length !== actual.length) return false;
  for (let i = 0; i < pattern.length; i += 2) {
    const pair = pattern.slice(i, i + 2);
    if (pair !== 'AA' && pair !== actual.slice(i, i + 2)) return false;
  }
  return true;
}

function request(protocol: 'dlt645' | 'cjt188', control: number): SimRequest {
  return { protocol, functionCode: control, table: undefined, address: 0, quantity: 0 };
}

/** Overlay several replies as a bus collision garbles them (only the first one's length survives). */
function collide(replies: Uint8Array[]): Uint8Array {
  const out = Uint8Array.from(replies[0]);
  for (const r of replies.slice(1)) for (let i = 0; i < out.length && i < r.length; i++) out[i] &= r[i];
  return out;
}

/** Answer one complete DL/T 645 frame on a bus of meters. Returns silent when nobody answers. */
export function serveDlt645Frame(devices: readonly SimulatedDevice[], frame: Uint8Array): MeterAnswer {
  let f;
  try {
    f = parseDlt645Frame(frame);
  } catch {
    return { kind: 'silent' }; // a meter ignores a frame it cannot read
  }
  if (f.fromMeter) return { kind: 'silent' };
  // 999999999999 is the broadcast address: meters act but never answer.
  if (f.address === '999999999999') return { kind: 'silent' };
  const hits = devices.filter((d) => d.profile.protocol === 'dlt645' && addressMatches(f.address, d.address));
  if (hits.length === 0) return { kind: 'silent' };
  const answers: MeterAnswer[] = hits.map((dev) => answerDlt645(dev, f.control, f.data));
  const replies = answers.filter((a): a is Extract<MeterAnswer, { kind: 'reply' }> => a.kind === 'reply');
  if (replies.length > 1) return { kind: 'reply', dev: replies[0].dev, bytes: collide(replies.map((r) => r.bytes)) };
  return replies[0] ?? answers[0];
}

function answerDlt645(dev: SimulatedDevice, control: number, data: Uint8Array): MeterAnswer {
  dev.served++;
  const req = request('dlt645', control);
  const action = dev.behaviours.length ? dev.actionFor(req) : undefined;
  const done = (bytes: Uint8Array): MeterAnswer => {
    dev.transformReply(bytes, PREAMBLE, bytes.length, 'dlt645');
    return { kind: 'reply', dev, bytes };
  };
  if (action) {
    const a = act(dev, action);
    if (a) return a;
    return done(buildDlt645ErrorReply(dev.address, (action as { code: number }).code & 0xff, { preamble: PREAMBLE }));
  }
  if (control === 0x13) {
    // Read communication address: the reply carries the address bytes as DATA.
    const addr = new Uint8Array(6);
    for (let i = 0; i < 6; i++) addr[5 - i] = parseInt(dev.address.slice(i * 2, i * 2 + 2), 16);
    return done(buildDlt645Frame(dev.address, 0x93, addr, { preamble: PREAMBLE }));
  }
  if (control !== Dlt645Control.Read) return done(buildDlt645ErrorReply(dev.address, ERR_OTHER, { preamble: PREAMBLE }));
  if (data.length < 4) return done(buildDlt645ErrorReply(dev.address, ERR_OTHER, { preamble: PREAMBLE }));
  const di = (data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)) >>> 0;
  const profile = dev.profile as Dlt645Profile;
  dev.refresh();
  const valueOfDi = (id: number): number | undefined => {
    const i = profile.points.findIndex((p) => parseInt(p.di, 16) === id);
    return i < 0 ? undefined : dev.values[i] / (profile.points[i].scale ?? 1);
  };
  const items = DLT645_DATA_IDS.has(di) ? [di] : dlt645BlockItems(di).map((d) => d.id);
  const values = items.map(valueOfDi);
  if (items.length === 0 || values.some((v) => v === undefined)) return done(buildDlt645ErrorReply(dev.address, ERR_NO_DATA, { preamble: PREAMBLE }));
  try {
    return done(buildDlt645ReadReply(dev.address, di, values as number[], { preamble: PREAMBLE }));
  } catch {
    // A value the format cannot carry (e.g. a spike past its digits): the meter reports an error.
    return done(buildDlt645ErrorReply(dev.address, ERR_OTHER, { preamble: PREAMBLE }));
  }
}

/** Silence and disconnect answers of a behaviour; undefined for an exception (built by the caller). */
function act(dev: SimulatedDevice, action: SimAction): MeterAnswer | undefined {
  if (action.kind === 'silent') return { kind: 'silent', dev };
  if (action.kind === 'disconnect') return { kind: 'disconnect', dev, forMs: action.forMs };
  return undefined;
}

/** Answer one complete CJ/T 188 frame on a bus of meters. */
export function serveCjt188Frame(devices: readonly SimulatedDevice[], frame: Uint8Array, now = Date.now()): MeterAnswer {
  let f;
  try {
    f = parseCjt188Frame(frame);
  } catch {
    return { kind: 'silent' };
  }
  if (f.fromMeter) return { kind: 'silent' };
  const hits = devices.filter((d) => {
    if (d.profile.protocol !== 'cjt188') return false;
    return (f.meterType === 0xaa || f.meterType === d.profile.meterType) && addressMatches(f.address, d.address);
  });
  if (hits.length === 0) return { kind: 'silent' };
  const answers = hits.map((dev) => answerCjt188(dev, f.control, f.data, now));
  const replies = answers.filter((a): a is Extract<MeterAnswer, { kind: 'reply' }> => a.kind === 'reply');
  if (replies.length > 1) return { kind: 'reply', dev: replies[0].dev, bytes: collide(replies.map((r) => r.bytes)) };
  return replies[0] ?? answers[0];
}

const STATUS_FIELDS: readonly Cjt188Field[] = ['valveClosed', 'batteryLow'];

function answerCjt188(dev: SimulatedDevice, control: number, data: Uint8Array, now: number): MeterAnswer {
  dev.served++;
  const profile = dev.profile as Cjt188Profile;
  const req = request('cjt188', control);
  const action = dev.behaviours.length ? dev.actionFor(req) : undefined;
  const done = (bytes: Uint8Array): MeterAnswer => {
    dev.transformReply(bytes, PREAMBLE, bytes.length, 'cjt188');
    return { kind: 'reply', dev, bytes };
  };
  const di0 = data[0] ?? 0x90;
  const di1 = data[1] ?? 0x1f;
  const ser = data[2] ?? 0;
  if (action) {
    const a = act(dev, action);
    if (a) return a;
    // Abnormal reply: DI, SER, then the status word with the fault in ST1.
    const code = (action as { code: number }).code & 0xff;
    return done(buildCjt188Frame(profile.meterType, dev.address, Cjt188Control.ReadError, Uint8Array.of(di0, di1, ser, code, 0), { preamble: PREAMBLE }));
  }
  const di = (di0 << 8) | di1;
  if (control === 0x03 && (di === 0x810a || di === 0x0a81)) {
    return done(buildCjt188Frame(profile.meterType, dev.address, 0x83, Uint8Array.of(di0, di1, ser), { preamble: PREAMBLE }));
  }
  if (control !== Cjt188Control.Read || (di !== CJT188_DI_READ && di !== 0x1f90)) {
    return done(buildCjt188Frame(profile.meterType, dev.address, Cjt188Control.ReadError, Uint8Array.of(di0, di1, ser, 0, 0), { preamble: PREAMBLE }));
  }
  dev.refresh();
  const values: Record<string, number> = {};
  let st1 = 0;
  profile.points.forEach((p, i) => {
    const v = dev.values[i] / (p.scale ?? 1);
    if (p.field === 'valveClosed') st1 |= v >= 0.5 ? 0x01 : 0;
    else if (p.field === 'batteryLow') st1 |= v >= 0.5 ? 0x04 : 0;
    else if (!STATUS_FIELDS.includes(p.field)) values[p.field] = Math.max(0, v);
  });
  try {
    return done(
      buildCjt188ReadReply(
        profile.meterType,
        dev.address,
        { values, time: clock(now), status: [st1, 0], ser, diOrder: di === 0x1f90 ? '1F90' : (profile.diOrder ?? '901F') },
        { preamble: PREAMBLE },
      ),
    );
  } catch {
    return done(buildCjt188Frame(profile.meterType, dev.address, Cjt188Control.ReadError, Uint8Array.of(di0, di1, ser, 0, 0), { preamble: PREAMBLE }));
  }
}

/** The meter's clock as CJ/T 188 spells it, local time. */
function clock(ts: number): string {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
