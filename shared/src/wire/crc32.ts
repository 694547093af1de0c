/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, initial value and final
 * XOR 0xFFFFFFFF): the checksum of zlib, gzip and PNG, so any language has it.
 * `crc32(utf8("123456789")) === 0xCBF43926`.
 *
 * Slicing-by-8 (eight 256-entry tables, 8 bytes a step): about four times the
 * speed of the byte-at-a-time table, which mattered for cold reads (every frame
 * a query decodes, even for one cut minute, is checked whole).
 */

const T = (() => {
  const t = new Uint32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  // t[s·256 + n]: the CRC of byte n followed by s zero bytes.
  for (let s = 1; s < 8; s++) for (let n = 0; n < 256; n++) t[s * 256 + n] = (t[(s - 1) * 256 + n] >>> 8) ^ t[t[(s - 1) * 256 + n] & 0xff];
  return t;
})();

/** CRC-32 of `data`, as an unsigned 32-bit integer. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff | 0;
  const n = data.length;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    c =
      T[1792 + (a & 0xff)] ^ T[1536 + ((a >>> 8) & 0xff)] ^ T[1280 + ((a >>> 16) & 0xff)] ^ T[1024 + (a >>> 24)] ^
      T[768 + data[i + 4]] ^ T[512 + data[i + 5]] ^ T[256 + data[i + 6]] ^ T[data[i + 7]];
  }
  for (; i < n; i++) c = T[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
