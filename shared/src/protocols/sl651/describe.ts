/**
 * SL 651-2014 frames field by field, for `lifeline decode --protocol sl651`.
 * Both encodings; the body is read with the same codec the listener uses.
 */
import { hexByte, toHex } from '../bytes.js';
import type { FrameDescription, FrameField, FrameValue } from '../describe.js';
import { parseSl651Body } from './body.js';
import { SL651_END_NAMES, SL651_FUNCTIONS, SL651_STATION_TYPES } from './elements.js';
import { parseSl651Frame } from './frame.js';

/** The function code in words. */
export function describeSl651Function(fn: number): string {
  return SL651_FUNCTIONS[fn] ?? `function ${hexByte(fn)}`;
}

/** Describe one SL 651 frame. Throws FRAME_INVALID naming the field and byte offset. */
export function describeSl651(b: Uint8Array): FrameDescription {
  const f = parseSl651Frame(b);
  const body = parseSl651Body(f);
  const up = f.direction === 'up';
  const hex = f.encoding === 'hex';
  const fields: FrameField[] = [];
  const notes: string[] = [];
  // Where each header field sits, per encoding.
  const at = hex
    ? { start: [0, 2], centre: up ? [2, 3] : [7, 8], station: up ? [3, 8] : [2, 7], password: [8, 10], fn: [10, 11], ul: [11, 13], stx: [13, 14], pkt: [14, 17], serial: 2, time: 6 }
    : { start: [0, 1], centre: up ? [1, 3] : [11, 13], station: up ? [3, 13] : [1, 11], password: [13, 17], fn: [17, 19], ul: [19, 23], stx: [23, 24], pkt: [24, 30], serial: 4, time: 12 };
  const raw = (r: number[] | readonly number[]) => toHex(b, r[0], r[1]);
  fields.push({ name: 'start', value: hex ? '7E 7E (HEX/BCD frame)' : 'SOH (ASCII frame)', raw: raw(at.start) });
  const centreField = { name: 'centre address', value: f.centre, raw: raw(at.centre) };
  const stationField = { name: 'station address', value: f.station, raw: raw(at.station) };
  if (up) fields.push(centreField, stationField);
  else fields.push(stationField, centreField);
  fields.push({ name: 'password', value: f.password, raw: raw(at.password) });
  fields.push({ name: 'function', value: `${hexByte(f.functionCode)} ${describeSl651Function(f.functionCode)}`, raw: raw(at.fn) });
  const L = f.body.length + (f.packet ? (hex ? 3 : 6) : 0);
  fields.push({ name: 'direction + length', value: `${up ? 'up (station → centre)' : 'down (centre → station)'}, ${L} ${hex ? 'bytes' : 'characters'}`, raw: raw(at.ul) });
  fields.push({ name: 'start of text', value: f.packet ? 'SYN (one packet of several)' : 'STX', raw: raw(at.stx) });
  if (f.packet) fields.push({ name: 'packet', value: `${f.packet.seq} of ${f.packet.total}`, raw: raw(at.pkt) });
  const o = f.bodyOffset;
  const bodyRaw = (from: number, to: number) => (hex ? toHex(b, o + from, o + to) : String.fromCharCode(...b.subarray(o + from, o + to)));
  fields.push({ name: 'serial number', value: body.serial, raw: bodyRaw(0, at.serial) });
  fields.push({ name: 'send time', value: body.sendTime, raw: bodyRaw(at.serial, at.serial + at.time) });
  const values: FrameValue[] = [];
  for (const it of body.items) {
    if (it.kind === 'station') {
      fields.push({ name: 'station (F1F1 / ST)', value: it.station, ...(hex ? { raw: toHex(b, it.offset, it.offset + 7) } : {}) });
      fields.push({ name: 'station type', value: `${String.fromCharCode(it.stationType)}: ${SL651_STATION_TYPES[it.stationType] ?? 'not in the standard\'s table'}`, ...(hex ? { raw: toHex(b, it.offset + 7, it.offset + 8) } : {}) });
      if (it.station !== f.station) notes.push(`the body names station ${it.station}, the header ${f.station}`);
    } else if (it.kind === 'time') {
      fields.push({ name: 'observation time (F0F0 / TT)', value: it.time, ...(hex ? { raw: toHex(b, it.offset, it.offset + 7) } : {}) });
    } else if (it.kind === 'rest') {
      fields.push({ name: it.id === 0xf2 ? 'manual entry (F2F2)' : 'picture (F3F3)', value: `${it.data.length} bytes` });
    } else {
      const label = `${it.code}${it.id >= 0 ? ` (${it.id > 0xff ? 'FF' + toHex(Uint8Array.of(it.id & 0xff)) : toHex(Uint8Array.of(it.id))}H)` : ''}${it.name ? ' ' + it.name : ''}`;
      const def = it.def === undefined ? '' : ` [def ${hexByte(it.def)}: ${it.def >> 3} bytes, ${it.def & 7} decimals]`;
      const shown = it.values ? it.values.map((v) => (v === null ? '—' : String(v))).join(' ') : it.value === null ? 'no data (FF)' : String(it.value);
      fields.push({ name: label, value: `${shown}${it.unit && (it.values || it.value !== null) ? ' ' + it.unit : ''}${def}`, raw: it.raw });
      if (!it.values) values.push({ name: it.name || it.code, value: it.value, unit: it.unit });
      if (!it.name) notes.push(`element ${it.code} is not in the decoder's table: its value is read by its ${hex ? 'data-definition byte' : 'text'}, without a unit`);
    }
  }
  fields.push({ name: 'end', value: SL651_END_NAMES[f.end] ?? hexByte(f.end), raw: toHex(b, f.bodyOffset + f.body.length, f.bodyOffset + f.body.length + 1) });
  fields.push({ name: 'crc', value: `${f.crc.toString(16).toUpperCase().padStart(4, '0')} (ok)`, raw: hex ? toHex(b, b.length - 2, b.length) : String.fromCharCode(...b.subarray(b.length - 4)) });
  return { protocol: 'sl651', fields, ...(values.length ? { values } : {}), notes };
}
