/**
 * SL 651-2014 message bodies (报文正文): serial number, send time, then the
 * identifier-led items of the report, in both encodings.
 *
 *   HEX/BCD:  serial×2  sendTime×6 (YYMMDDhhmmss BCD)  [F1 F1 station×5 type]  [F0 F0 obsTime×5]  (id def data…)…
 *   ASCII:    "0034" "170718110016" " ST 0011223344 H TT 1707181100 PJ 4.0 Z 10.490 …"
 *
 * A HEX element is `id, def, data`: def's high 5 bits = data bytes, low 3 bits =
 * decimal places; data is BCD, FF… when the value is missing, FF + BCD when it
 * is negative. Exceptions: 45H (status, HEX), F4H/F5H–FCH (hourly arrays of HEX
 * values), F2F2/F3F3 (manual text / picture to the end of the body), FFxx
 * (user-defined two-byte identifiers). In a 31H uniform-interval report the
 * identifier after the time step (04H) is followed by one value per step.
 *
 * `buildSl651Body(parseSl651Body(f))` gives f.body back byte for byte.
 */
import { frameInvalid, hexByte, toHex } from '../bytes.js';
import { SL651_ELEMENTS, SL651_ELEMENTS_BY_CODE, Sl651Special } from './elements.js';
import type { Sl651Encoding, Sl651Frame } from './frame.js';

/** Station address and type (F1F1 / ST). */
export interface Sl651StationItem {
  kind: 'station';
  /** 10 hex digits. */
  station: string;
  /** Station type code (an ASCII letter: 0x50 P rainfall, 0x48 H river…). */
  stationType: number;
  /** Frame byte offset of the identifier. */
  offset: number;
}

/** Observation time (F0F0 / TT): the elements after it were observed then. */
export interface Sl651TimeItem {
  kind: 'time';
  /** `YYYY-MM-DD hh:mm`, 20YY. */
  time: string;
  offset: number;
}

/** One element (要素). */
export interface Sl651ElementItem {
  kind: 'element';
  /** Identifier byte (0xFFxx for user-defined ones; -1 for an ASCII mnemonic not in the table). */
  id: number;
  /** Mnemonic (ASCII identifier), or `0x39`-style when the table does not name it. */
  code: string;
  /** What it measures ('' when unknown). */
  name: string;
  unit: string;
  /** HEX form: the data-definition byte. */
  def?: number;
  /** The value; null when the station sent "no data" (FF…). For arrays and series: the last value. */
  value: number | null;
  /** F4H/F5H–FCH hourly arrays and 31H series: every value in order. */
  values?: (number | null)[];
  /** 31H uniform-interval series: values follow one definition byte. */
  series?: boolean;
  /** ASCII form: the value as written. */
  text?: string;
  /** The data as sent: hex bytes (HEX form) or the characters (ASCII). */
  raw: string;
  offset: number;
}

/** F2F2 manual entry / F3F3 picture: bytes to the end of the body. */
export interface Sl651RestItem {
  kind: 'rest';
  /** 0xF2 manual entry or 0xF3 picture. */
  id: number;
  data: Uint8Array;
  offset: number;
}

/** An item of a body, in wire order. */
export type Sl651Item = Sl651StationItem | Sl651TimeItem | Sl651ElementItem | Sl651RestItem;

/** A parsed body. */
export interface Sl651Body {
  encoding: Sl651Encoding;
  /** Serial number (流水号), 0..65535. */
  serial: number;
  /** Send time (发报时间), `YYYY-MM-DD hh:mm:ss`, 20YY. */
  sendTime: string;
  items: Sl651Item[];
}

function bad(field: string, offset: number, message: string): never {
  throw frameInvalid(`${field} (byte ${offset}): ${message}`);
}

function isBcd(b: number): boolean {
  return (b >> 4) <= 9 && (b & 15) <= 9;
}

/** BCD digits of bytes [at, at+n), or a thrown error naming `field`. */
function bcdDigits(b: Uint8Array, at: number, n: number, field: string, base: number): string {
  let s = '';
  for (let i = at; i < at + n; i++) {
    if (!isBcd(b[i])) bad(field, base + i, `${hexByte(b[i])} is not BCD`);
    s += (b[i] >> 4).toString() + (b[i] & 15).toString();
  }
  return s;
}

function formatTime(d: string): string {
  // YYMMDDhhmm[ss] → 20YY-MM-DD hh:mm[:ss]
  const base = `20${d.slice(0, 2)}-${d.slice(2, 4)}-${d.slice(4, 6)} ${d.slice(6, 8)}:${d.slice(8, 10)}`;
  return d.length > 10 ? `${base}:${d.slice(10, 12)}` : base;
}

function checkTime(t: string, withSeconds: boolean, field: string, offset: number): void {
  const mo = Number(t.slice(5, 7));
  const day = Number(t.slice(8, 10));
  const h = Number(t.slice(11, 13));
  const mi = Number(t.slice(14, 16));
  const s = withSeconds ? Number(t.slice(17, 19)) : 0;
  if (mo < 1 || mo > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 59) bad(field, offset, `${t} is not a valid time`);
}

/** Parse the body of a frame; offsets in errors and items are frame offsets. */
export function parseSl651Body(f: Pick<Sl651Frame, 'encoding' | 'body' | 'bodyOffset' | 'functionCode'>): Sl651Body {
  return f.encoding === 'ascii' ? parseAsciiBody(f) : parseHexBody(f);
}

function parseHexBody(f: Pick<Sl651Frame, 'body' | 'bodyOffset' | 'functionCode'>): Sl651Body {
  const b = f.body;
  const o = f.bodyOffset;
  if (b.length < 8) bad('body', o, `a body starts with serial (2) and send time (6), got ${b.length} bytes`);
  const serial = (b[0] << 8) | b[1];
  const sendTime = formatTime(bcdDigits(b, 2, 6, 'send time', o));
  checkTime(sendTime, true, 'send time', o + 2);
  const items: Sl651Item[] = [];
  let i = 8;
  while (i < b.length) {
    const at = o + i;
    const id = b[i];
    if (i + 1 >= b.length) bad('element', at, `identifier ${hexByte(id)} without a data-definition byte`);
    const next = b[i + 1];
    if (id === Sl651Special.ObservationTime && next === id) {
      if (i + 7 > b.length) bad('observation time', at, `F0F0 needs 5 bytes, ${b.length - i - 2} remain`);
      const time = formatTime(bcdDigits(b, i + 2, 5, 'observation time', o));
      checkTime(time, false, 'observation time', at + 2);
      items.push({ kind: 'time', time, offset: at });
      i += 7;
      continue;
    }
    if (id === Sl651Special.Station && next === id) {
      if (i + 8 > b.length) bad('station', at, `F1F1 needs 6 bytes (address, type), ${b.length - i - 2} remain`);
      items.push({ kind: 'station', station: toHex(b, i + 2, i + 7).replace(/ /g, ''), stationType: b[i + 7], offset: at });
      i += 8;
      continue;
    }
    if ((id === Sl651Special.Manual || id === Sl651Special.Picture) && next === id) {
      items.push({ kind: 'rest', id, data: b.subarray(i + 2), offset: at });
      break;
    }
    let ident = id;
    let defAt = i + 1;
    if (id === Sl651Special.Extension) {
      ident = 0xff00 | next;
      defAt = i + 2;
      if (defAt >= b.length) bad('element', at, `user-defined identifier FF${toHex(b, i + 1, i + 2)} without a data-definition byte`);
    }
    const def = b[defAt];
    const len = def >> 3;
    const dec = def & 7;
    if (len === 0) bad('data definition', o + defAt, `${hexByte(def)} after identifier ${codeOf(ident)} gives 0 data bytes`);
    const d0 = defAt + 1;
    const prev = items[items.length - 1];
    const series = f.functionCode === 0x31 && prev?.kind === 'element' && prev.id === 0x04;
    if (series) {
      const rest = b.length - d0;
      if (rest === 0 || rest % len !== 0) bad('element', at, `31H series ${codeOf(ident)}: ${rest} data bytes are not a whole number of ${len}-byte values`);
      const values: (number | null)[] = [];
      for (let k = d0; k < b.length; k += len) values.push(decodeValue(b, k, len, dec, ident, o));
      items.push(elementItem(ident, def, values[values.length - 1], toHex(b, d0, b.length), at, { values, series: true }));
      break;
    }
    if (d0 + len > b.length) bad('element', at, `${codeOf(ident)} definition ${hexByte(def)} says ${len} data bytes, ${b.length - d0} remain`);
    if (ident === Sl651Special.FiveMinuteRain) {
      const values = Array.from(b.subarray(d0, d0 + len), (v) => (v === 0xff ? null : v / 10));
      items.push(elementItem(ident, def, lastOf(values), toHex(b, d0, d0 + len), at, { values }));
    } else if (ident >= Sl651Special.FiveMinuteLevelFirst && ident <= Sl651Special.FiveMinuteLevelLast) {
      if (len % 2 !== 0) bad('data definition', o + defAt, `${codeOf(ident)} carries 2-byte values, definition ${hexByte(def)} gives ${len} bytes`);
      const values: (number | null)[] = [];
      for (let k = d0; k < d0 + len; k += 2) {
        const v = (b[k] << 8) | b[k + 1];
        values.push(v === 0xffff ? null : v / 100);
      }
      items.push(elementItem(ident, def, lastOf(values), toHex(b, d0, d0 + len), at, { values }));
    } else {
      items.push(elementItem(ident, def, decodeValue(b, d0, len, dec, ident, o), toHex(b, d0, d0 + len), at));
    }
    i = d0 + len;
  }
  return { encoding: 'hex', serial, sendTime, items };
}

function lastOf(values: (number | null)[]): number | null {
  for (let k = values.length - 1; k >= 0; k--) if (values[k] !== null) return values[k];
  return null;
}

/** Status 45H is 32 bits HEX; everything else BCD with FF = none and a leading FF = negative. */
function decodeValue(b: Uint8Array, at: number, len: number, dec: number, id: number, o: number): number | null {
  let allFF = true;
  for (let k = at; k < at + len; k++) if (b[k] !== 0xff) allFF = false;
  if (allFF) return null;
  if (id === 0x45) {
    if (len > 6) bad(`element ${codeOf(id)}`, o + at, `status of ${len} bytes does not fit a number exactly`);
    let v = 0;
    for (let k = at; k < at + len; k++) v = v * 256 + b[k];
    return v;
  }
  let from = at;
  let negative = false;
  if (b[at] === 0xff && len > 1) {
    negative = true;
    from = at + 1;
  }
  const digits = bcdDigits(b, from, at + len - from, `element ${codeOf(id)}`, o);
  if (digits.length > 15) bad(`element ${codeOf(id)}`, o + at, `${digits.length} digits do not fit a number exactly`);
  const n = Number(digits);
  const v = dec === 0 ? n : Number((n / 10 ** dec).toFixed(dec));
  return negative ? -v : v;
}

function codeOf(id: number): string {
  const e = SL651_ELEMENTS.get(id);
  if (e) return `${e.code} (${hexByte(id)})`;
  return id > 0xff ? `0xFF${toHex(Uint8Array.of(id & 0xff))}` : hexByte(id);
}

function elementItem(
  id: number,
  def: number | undefined,
  value: number | null,
  raw: string,
  offset: number,
  extra: { values?: (number | null)[]; series?: boolean; text?: string; code?: string } = {},
): Sl651ElementItem {
  const e = id >= 0 ? SL651_ELEMENTS.get(id) : undefined;
  const special =
    id === Sl651Special.FiveMinuteRain
      ? { code: 'DRP', name: '5 min rainfalls of the last hour', unit: 'mm' }
      : id >= Sl651Special.FiveMinuteLevelFirst && id <= Sl651Special.FiveMinuteLevelLast
        ? { code: `DRZ${id - 0xf4}`, name: `5 min relative water levels ${id - 0xf4} of the last hour`, unit: 'm' }
        : undefined;
  const { code: extraCode, ...rest } = extra;
  return {
    kind: 'element',
    id,
    code: e?.code ?? special?.code ?? extraCode ?? (id > 0xff ? `FF${toHex(Uint8Array.of(id & 0xff))}` : `${toHex(Uint8Array.of(id))}`),
    name: e?.name ?? special?.name ?? '',
    unit: e?.unit ?? special?.unit ?? '',
    ...(def === undefined ? {} : { def }),
    value,
    ...rest,
    raw,
    offset,
  };
}

// ─── ASCII ─────────────────────────────────────────────────────────────────

const NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;

function parseAsciiBody(f: Pick<Sl651Frame, 'body' | 'bodyOffset' | 'functionCode'>): Sl651Body {
  const b = f.body;
  const o = f.bodyOffset;
  for (let k = 0; k < b.length; k++) if (b[k] < 0x20 || b[k] > 0x7e) bad('body', o + k, `${hexByte(b[k])} is not a printable ASCII character`);
  const text = String.fromCharCode(...b);
  if (text.length < 16) bad('body', o, `an ASCII body starts with serial (4) and send time (12), got ${text.length} characters`);
  if (!/^[0-9A-F]{4}$/.test(text.slice(0, 4))) bad('serial', o, `expected 4 upper-case hex characters, found "${text.slice(0, 4)}"`);
  if (!/^[0-9]{12}$/.test(text.slice(4, 16))) bad('send time', o + 4, `expected 12 digits YYMMDDhhmmss, found "${text.slice(4, 16)}"`);
  const serial = parseInt(text.slice(0, 4), 16);
  const sendTime = formatTime(text.slice(4, 16));
  checkTime(sendTime, true, 'send time', o + 4);
  const items: Sl651Item[] = [];
  if (text.length === 16) return { encoding: 'ascii', serial, sendTime, items };
  if (text[16] !== ' ') bad('body', o + 16, `expected a space after the send time, found "${text[16]}"`);
  // Tokens with their offsets; exactly one space between tokens (the builder's spelling).
  const tokens: Array<{ t: string; at: number }> = [];
  let k = 17;
  while (k <= text.length) {
    const sp = text.indexOf(' ', k);
    const end = sp < 0 ? text.length : sp;
    if (end === k) bad('body', o + k, 'two spaces in a row or a trailing space');
    tokens.push({ t: text.slice(k, end), at: o + k });
    k = end + 1;
  }
  let t = 0;
  const need = (what: string, at: number) => {
    if (t >= tokens.length) bad(what, at, 'missing at the end of the body');
    return tokens[t++];
  };
  while (t < tokens.length) {
    const { t: code, at } = tokens[t++];
    if (code === 'ST') {
      const addr = need('station', at);
      const type = need('station type', addr.at);
      if (!/^[0-9A-F]{10}$/.test(addr.t)) bad('station', addr.at, `expected 10 upper-case hex characters, found "${addr.t}"`);
      if (type.t.length !== 1) bad('station type', type.at, `expected one letter, found "${type.t}"`);
      items.push({ kind: 'station', station: addr.t, stationType: type.t.charCodeAt(0), offset: at });
    } else if (code === 'TT') {
      const v = need('observation time', at);
      if (!/^[0-9]{10}$/.test(v.t)) bad('observation time', v.at, `expected 10 digits YYMMDDhhmm, found "${v.t}"`);
      const time = formatTime(v.t);
      checkTime(time, false, 'observation time', v.at);
      items.push({ kind: 'time', time, offset: at });
    } else if (code === 'DRP' || /^DRZ[1-8]$/.test(code)) {
      const v = need(code, at);
      const width = code === 'DRP' ? 2 : 4;
      if (!new RegExp(`^[0-9A-F]{${12 * width}}$`).test(v.t)) bad(code, v.at, `expected ${12 * width} upper-case hex characters, found "${v.t}"`);
      const values: (number | null)[] = [];
      for (let p = 0; p < v.t.length; p += width) {
        const x = parseInt(v.t.slice(p, p + width), 16);
        values.push(x === (width === 2 ? 0xff : 0xffff) ? null : x / (width === 2 ? 10 : 100));
      }
      const id = code === 'DRP' ? Sl651Special.FiveMinuteRain : 0xf4 + Number(code.slice(3));
      items.push(elementItem(id, undefined, lastOf(values), v.t, at, { values, text: v.t }));
    } else {
      if (!/^[A-Z][A-Z0-9]*$/.test(code)) bad('identifier', at, `expected an element mnemonic (PJ, Z, VT…), found "${code}"`);
      const v = need(`element ${code}`, at);
      if (!NUMBER.test(v.t)) bad(`element ${code}`, v.at, `expected a number, found "${v.t}"`);
      const e = SL651_ELEMENTS_BY_CODE.get(code);
      items.push(elementItem(e ? e.id : -1, undefined, Number(v.t), v.t, at, { text: v.t, code }));
    }
  }
  return { encoding: 'ascii', serial, sendTime, items };
}

// ─── building ──────────────────────────────────────────────────────────────

function timeDigits(t: string, withSeconds: boolean, field: string): string {
  const re = withSeconds ? /^20(\d\d)-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)$/ : /^20(\d\d)-(\d\d)-(\d\d) (\d\d):(\d\d)$/;
  const m = re.exec(t);
  if (!m) throw frameInvalid(`${field}: must be "20YY-MM-DD hh:mm${withSeconds ? ':ss' : ''}", got "${t}"`);
  return m.slice(1).join('');
}

function pushBcd(out: number[], digits: string): void {
  for (let i = 0; i < digits.length; i += 2) out.push(parseInt(digits.slice(i, i + 2), 16));
}

/** The data-definition byte of an element: its table format, or `bytes`/`decimals` given. */
export function sl651Definition(id: number, format?: { bytes: number; decimals: number }): number {
  if (format) return (format.bytes << 3) | format.decimals;
  const e = SL651_ELEMENTS.get(id);
  if (!e) throw frameInvalid(`element ${hexByte(id)}: not in the table, give its bytes and decimals`);
  return (Math.ceil(e.digits / 2) << 3) | e.decimals;
}

function encodeValue(out: number[], v: number | null, def: number, id: number): void {
  const len = def >> 3;
  const dec = def & 7;
  const field = `element ${codeOf(id)}`;
  if (v === null) {
    for (let k = 0; k < len; k++) out.push(0xff);
    return;
  }
  if (!Number.isFinite(v)) throw frameInvalid(`${field}: must be a finite number or null, got ${v}`);
  if (id === 0x45) {
    if (!Number.isInteger(v) || v < 0 || v >= 256 ** len) throw frameInvalid(`${field}: status must fit ${len} bytes, got ${v}`);
    for (let k = len - 1; k >= 0; k--) out.push(Math.floor(v / 256 ** k) % 256);
    return;
  }
  const negative = v < 0 || Object.is(v, -0);
  const width = negative ? len - 1 : len;
  const n = Math.round(Math.abs(v) * 10 ** dec);
  const digits = String(n).padStart(width * 2, '0');
  if (digits.length > width * 2 || width < 1) throw frameInvalid(`${field}: ${v} does not fit ${len} bytes with ${dec} decimals${negative ? ' and a sign byte' : ''}`);
  if (negative) out.push(0xff);
  pushBcd(out, digits);
}

/** The body bytes of `body` in its encoding (the inverse of parseSl651Body). Throws FRAME_INVALID naming the bad item. */
export function buildSl651Body(body: Omit<Sl651Body, 'items'> & { items: readonly Sl651BuildItem[] }): Uint8Array {
  if (!Number.isInteger(body.serial) || body.serial < 0 || body.serial > 0xffff) throw frameInvalid(`serial: must be 0..65535, got ${body.serial}`);
  const send = timeDigits(body.sendTime, true, 'sendTime');
  return body.encoding === 'ascii' ? buildAsciiBody(body.serial, send, body.items) : buildHexBody(body.serial, send, body.items);
}

/** An item to build: parsed items work as they are; new elements need only id and value. */
export type Sl651BuildItem =
  | Omit<Sl651StationItem, 'offset'>
  | Omit<Sl651TimeItem, 'offset'>
  | Omit<Sl651RestItem, 'offset'>
  | (Pick<Sl651ElementItem, 'id' | 'value'> & Partial<Omit<Sl651ElementItem, 'kind' | 'offset'>> & { kind: 'element' });

function checkStation(s: string, type: number, ascii: boolean): void {
  if (!/^[0-9A-F]{10}$/.test(s)) throw frameInvalid(`station: must be 10 upper-case hex digits, got "${s}"`);
  // A letter code by the standard; the HEX form carries whatever byte the station sends.
  const [lo, hi] = ascii ? [0x21, 0x7e] : [0, 0xff];
  if (!Number.isInteger(type) || type < lo || type > hi) throw frameInvalid(`stationType: must be ${ascii ? 'a printable ASCII character code' : 'a byte'}, got ${type}`);
}

function buildHexBody(serial: number, send: string, items: readonly Sl651BuildItem[]): Uint8Array {
  const out: number[] = [serial >> 8, serial & 0xff];
  pushBcd(out, send);
  items.forEach((it, i) => {
    if (it.kind === 'station') {
      checkStation(it.station, it.stationType, false);
      out.push(0xf1, 0xf1);
      pushBcd(out, it.station);
      out.push(it.stationType);
    } else if (it.kind === 'time') {
      out.push(0xf0, 0xf0);
      pushBcd(out, timeDigits(it.time, false, `items[${i}].time`));
    } else if (it.kind === 'rest') {
      out.push(it.id, it.id, ...it.data);
    } else {
      const id = it.id;
      if (!Number.isInteger(id) || id < 0 || (id > 0xff && (id >> 8) !== 0xff) || id > 0xffff) throw frameInvalid(`items[${i}].id: must be a byte or 0xFFxx, got ${id}`);
      const def = it.def ?? sl651Definition(id);
      if (!Number.isInteger(def) || def < 8 || def > 0xff) throw frameInvalid(`items[${i}].def: must give 1..31 data bytes, got ${def}`);
      if (id > 0xff) out.push(0xff, id & 0xff, def);
      else out.push(id, def);
      const len = def >> 3;
      if (id === Sl651Special.FiveMinuteRain || (id >= Sl651Special.FiveMinuteLevelFirst && id <= Sl651Special.FiveMinuteLevelLast)) {
        const width = id === Sl651Special.FiveMinuteRain ? 1 : 2;
        const values = it.values ?? [];
        if (values.length * width !== len) throw frameInvalid(`items[${i}].values: ${codeOf(id)} needs ${len / width} values, got ${values.length}`);
        for (const v of values) {
          const x = v === null ? (width === 1 ? 0xff : 0xffff) : Math.round(v * (width === 1 ? 10 : 100));
          if (!Number.isInteger(x) || x < 0 || (v !== null && x >= (width === 1 ? 0xff : 0xffff))) throw frameInvalid(`items[${i}].values: ${v} does not fit ${width} HEX byte(s) (all ones means no data)`);
          if (width === 2) out.push(x >> 8);
          out.push(x & 0xff);
        }
      } else if (it.series) {
        for (const v of it.values ?? []) encodeValue(out, v, def, id);
      } else encodeValue(out, it.value, def, id);
    }
  });
  return Uint8Array.from(out);
}

function buildAsciiBody(serial: number, send: string, items: readonly Sl651BuildItem[]): Uint8Array {
  const tokens: string[] = [];
  items.forEach((it, i) => {
    if (it.kind === 'station') {
      checkStation(it.station, it.stationType, true);
      tokens.push('ST', it.station, String.fromCharCode(it.stationType));
    } else if (it.kind === 'time') {
      tokens.push('TT', timeDigits(it.time, false, `items[${i}].time`));
    } else if (it.kind === 'rest') {
      throw frameInvalid(`items[${i}]: manual-entry and picture items are not written in the ASCII form here`);
    } else {
      const e = SL651_ELEMENTS.get(it.id);
      const code = it.code ?? e?.code;
      if (!code || !/^[A-Z][A-Z0-9]*$/.test(code)) throw frameInvalid(`items[${i}].code: an ASCII element needs a mnemonic, got ${String(code)}`);
      let text = it.text;
      if (text === undefined) {
        if (it.value === null || !Number.isFinite(it.value)) throw frameInvalid(`items[${i}].value: must be a finite number in the ASCII form, got ${it.value}`);
        text = it.value.toFixed(e?.decimals ?? 0);
      }
      if (!(code === 'DRP' || /^DRZ[1-8]$/.test(code)) && !NUMBER.test(text)) throw frameInvalid(`items[${i}].text: must be a number, got "${text}"`);
      tokens.push(code, text);
    }
  });
  const s = serial.toString(16).toUpperCase().padStart(4, '0') + send + (tokens.length ? ' ' + tokens.join(' ') : '');
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
