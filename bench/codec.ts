/**
 * `pnpm bench codec [--seconds N] [--registers N]`: raw speed of the pure Modbus codecs.
 *
 *   tcp_frames_per_s   one FC3 request encoded (into a reused buffer) + one FC3 response cut out of a
 *                      socket-like stream by MbapFrameExtractor (64 KiB chunks, frames straddling
 *                      chunk edges), parsed against its request and every register read — per frame.
 *   rtu_crc_mb_per_s   CRC-16/MODBUS over a 1 MiB buffer.
 *
 * Single thread, no I/O. Final line: one JSON object.
 */
import {
  MbapFrameExtractor,
  type ModbusRequest,
  buildTcpResponse,
  crc16,
  encodeTcpRequest,
  parseTcpResponse,
  registerAt,
} from '@lifeline/shared/protocols';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const seconds = opt('seconds', 2);
const registers = opt('registers', 10);

// ── TCP: a stream of 4096 distinct responses, cut into 64 KiB chunks like socket reads ──
const FRAMES = 4096;
const request: ModbusRequest = { functionCode: 3, address: 100, quantity: registers };
const parts: Uint8Array[] = [];
for (let t = 0; t < FRAMES; t++) {
  parts.push(buildTcpResponse(t, 1, { functionCode: 3, registers: Array.from({ length: registers }, (_, i) => (t * 31 + i) & 0xffff) }));
}
const stream = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
{
  let o = 0;
  for (const p of parts) {
    stream.set(p, o);
    o += p.length;
  }
}
const CHUNK = 65536;
const chunks: Uint8Array[] = [];
for (let o = 0; o < stream.length; o += CHUNK) chunks.push(stream.slice(o, o + CHUNK));

const out = new Uint8Array(12);
const expect = { transactionId: 0, unitId: 1, request };
let checksum = 0;
let parsed = 0;
const onFrame = (buf: Uint8Array, start: number, end: number, tx: number): void => {
  expect.transactionId = tx;
  const r = parseTcpResponse(buf, expect, start, end);
  if (r.functionCode === 3) for (let i = 0; i < r.count; i++) checksum = (checksum + registerAt(r, i)) | 0;
  parsed++;
};

function tcpRound(x: MbapFrameExtractor): void {
  for (let t = 0; t < FRAMES; t++) encodeTcpRequest(out, 0, t, 1, request);
  for (const c of chunks) x.push(c, onFrame);
}

function measure(round: () => void, perRound: number): number {
  // Warm up so the JIT has optimised the hot paths before timing.
  const warmEnd = performance.now() + 300;
  while (performance.now() < warmEnd) round();
  let n = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  while (performance.now() < until) {
    round();
    n += perRound;
  }
  return n / ((performance.now() - t0) / 1000);
}

const x = new MbapFrameExtractor();
const tcpFramesPerS = measure(() => tcpRound(x), FRAMES);
if (x.pending !== 0 || parsed % FRAMES !== 0) throw new Error(`extractor lost frames: pending ${x.pending}, parsed ${parsed}`);

// ── CRC ──
const MB = 1 << 20;
const block = new Uint8Array(MB);
for (let i = 0; i < MB; i++) block[i] = (i * 2654435761) >>> 24;
let crcSink = 0;
const crcMbPerS = measure(() => {
  crcSink ^= crc16(block);
}, 1);

console.error(`(checksums ${checksum} ${crcSink}: keep the work observable)`);
console.log(
  JSON.stringify({
    tcp_frames_per_s: Math.round(tcpFramesPerS),
    rtu_crc_mb_per_s: Math.round(crcMbPerS * 10) / 10,
    registers_per_frame: registers,
  }),
);
