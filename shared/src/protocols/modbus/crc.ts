/**
 * CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), table-driven: one table
 * lookup per byte. On the wire the CRC is sent low byte first.
 */

const TABLE = /* @__PURE__ */ (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/MODBUS of bytes [start, end). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  const t = TABLE;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ t[(crc ^ bytes[i]) & 0xff];
  return crc;
}

/** Write the CRC of bytes [start, end) at `end` (low byte first); returns end + 2. */
export function writeCrc(bytes: Uint8Array, start: number, end: number): number {
  const crc = crc16(bytes, start, end);
  bytes[end] = crc & 0xff;
  bytes[end + 1] = crc >>> 8;
  return end + 2;
}

/** The CRC carried in the last two bytes of [start, end) (low byte first). */
export function storedCrc(bytes: Uint8Array, end: number): number {
  return bytes[end - 2] | (bytes[end - 1] << 8);
}
