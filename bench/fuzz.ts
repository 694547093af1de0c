/**
 * `pnpm bench fuzz [--runs N] [--seed N] [--only NAME]` — long fuzzing of every decoder
 * a stranger's bytes reach; not in CI (the seeded tests beside each codec run a few
 * thousand inputs in seconds: shared/src/wire/fuzz.test.ts, shared/src/wire/live.test.ts,
 * shared/src/protocols/fuzz.test.ts).
 *
 *   seed corpus (valid messages) ─▶ pick one ─▶ 1–4 mutations ─▶ decoder
 *        ▲                                                         │ result, or which check refused it
 *        └──── kept when it shows a new outcome ◀──────────────────┘ any other exception: a crash (exit 1)
 *
 * Feedback without instrumentation: an input is kept in the corpus when its outcome
 * is new — it decoded, or a check not seen yet refused it (the error text with its
 * numbers stripped names the field and the rule). Mutating what got past one check
 * reaches the next. Coverage-guided fuzzing with Jazzer.js was not set up (see
 * docs/decisions.md). Ends with one JSON line: per decoder, inputs, inputs/s,
 * outcomes seen, corpus size and crashes.
 */
import { isLifelineError } from '../shared/src/errors.js';
import { prng } from '../shared/src/random.js';
import { Quality, type Reading } from '../shared/src/reading.js';
import {
  Lane,
  RejectReason,
  decodeDownlink,
  decodeLive,
  decodeUplink,
  encodeAck,
  encodeEventBatch,
  encodeLive,
  encodeReject,
  encodeTelemetryBatch,
  type SeriesDictionary,
} from '../shared/src/wire/index.js';
import { buildCjt188ReadReply, parseCjt188ReadReply, parseCjt188Frame } from '../shared/src/protocols/cjt188/frame.js';
import { buildDlt645ReadReply, parseDlt645Frame, parseDlt645ReadReply } from '../shared/src/protocols/dlt645/frame.js';
import { buildRtuResponse, parseRtuResponse } from '../shared/src/protocols/modbus/rtu.js';
import { writeCrc } from '../shared/src/protocols/modbus/crc.js';
import { sum8 } from '../shared/src/protocols/bytes.js';
import { buildTcpResponse, parseTcpResponse } from '../shared/src/protocols/modbus/tcp.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench fuzz: --${name} needs a positive integer, got ${process.argv[i + 1]}`);
    process.exit(2);
  }
  return v;
}
const runs = arg('runs', 10_000_000);
const seed = arg('seed', 1);
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;

const T0 = 1_764_000_000_000;
const readings: Reading[] = Array.from({ length: 12 }, (_, i) => ({
  device: `dev-${i % 3}`,
  point: ['level', 'flow', 'temp'][i % 3],
  ts: T0 + Math.floor(i / 3) * 1000,
  value: i % 5 === 4 ? NaN : (2400 + i) * 0.001,
  ...(i % 5 === 4 ? { quality: Quality.Bad } : {}),
}));
const dict: SeriesDictionary = {
  id: 77,
  t0: T0,
  seq0: 1,
  period: 250_000,
  epoch: 5,
  series: [
    { device: 'dev-0', point: 'level', codec: { kind: 'decimal', mul: true, k: 3, ref: 2400 } },
    { device: 'dev-1', point: 'flow', codec: { kind: 'decimal', mul: true, k: 3, ref: 2401 } },
    { device: 'dev-2', point: 'temp', codec: { kind: 'float' } },
  ],
};
const lookup = (id: number) => (id === dict.id ? dict : undefined);

/** Each decoder: valid seeds and the call. A result or LifelineError is an answer; anything else is a crash. */
const targets: Array<{ name: string; seeds: Uint8Array[]; decode: (b: Uint8Array) => unknown; repair?: (b: Uint8Array) => Uint8Array }> = [
  {
    name: 'wire_uplink',
    seeds: [
      encodeTelemetryBatch({ gateway: 'gw', epoch: 5, firstSeq: 1, lastSeq: 12, readings }, { compress: 'never' }),
      encodeTelemetryBatch({ gateway: 'gw', epoch: 5, firstSeq: 1, lastSeq: 12, readings }, { compress: 'always' }),
      encodeTelemetryBatch({ gateway: 'gw', epoch: 5, firstSeq: 1, lastSeq: 12, readings, dictionary: dict }, { compress: 'never' }),
      encodeEventBatch({ gateway: 'gw', firstSeq: 3, lastSeq: 3, events: [{ kind: 'event', seq: 3, ts: T0, type: 'device_offline', message: 'x' }] }, { compress: 'never' }),
    ],
    decode: (b) => decodeUplink(b, { gateway: 'gw' }),
  },
  {
    name: 'wire_live',
    seeds: [encodeLive(dict, { firstSeq: 5, readings: readings.slice(0, 3) })!, encodeLive(dict, { firstSeq: 9, readings: [readings[2], readings[0], readings[4]] })!],
    decode: (b) => decodeLive(b, 'gw', lookup),
  },
  {
    name: 'wire_downlink',
    seeds: [
      encodeAck({ gateway: 'gw', ts: T0, epoch: 5, telemetry: 100, events: 3, range: { lane: Lane.Telemetry, firstSeq: 90, lastSeq: 100 }, dictionary: 77 }),
      encodeReject({ gateway: 'gw', ts: T0, lane: Lane.Telemetry, firstSeq: 1, lastSeq: 9, reason: RejectReason.Malformed, detail: 'bad' }),
      encodeReject({ gateway: 'gw', ts: T0, lane: Lane.Telemetry, reason: RejectReason.UnknownDictionary, dictionary: 77, detail: 'names please' }),
    ],
    decode: (b) => decodeDownlink(b),
  },
  {
    name: 'modbus_rtu_reply',
    seeds: [buildRtuResponse(1, { functionCode: 3, registers: [1, 2, 3, 65535] }), buildRtuResponse(1, { functionCode: 1, bits: [1, 0, 1] })],
    // CRC repaired after mutation, so the checks behind it run.
    repair: (b) => (b.length >= 3 ? (writeCrc(b, 0, b.length - 2), b) : b),
    decode: (b) => {
      parseRtuResponse(b);
      return parseRtuResponse(b, { unitId: 1, request: { functionCode: 3, address: 0, quantity: 4 } });
    },
  },
  {
    name: 'modbus_tcp_reply',
    seeds: [buildTcpResponse(1, 1, { functionCode: 3, registers: [9, 8, 7] }), buildTcpResponse(2, 1, { functionCode: 16, address: 1, quantity: 2 })],
    decode: (b) => parseTcpResponse(b),
  },
  {
    name: 'dlt645_reply',
    seeds: [buildDlt645ReadReply('000102030425', '00010000', 1206.42), buildDlt645ReadReply('000102030425', '0203FF00', [1.5, -0.5, 0.25, 0.75], { preamble: 0 })],
    repair: repairSum,
    decode: (b) => {
      parseDlt645Frame(b);
      return parseDlt645ReadReply(b);
    },
  },
  {
    name: 'cjt188_reply',
    seeds: [
      buildCjt188ReadReply(0x10, '78330011223344', { values: { currentFlow: 12.5, settlementFlow: 10 }, time: '2024-01-02 03:04:05' }),
      buildCjt188ReadReply(0x20, '00000000000001', { values: { currentHeat: 99, supplyTemperature: 60.5 } }),
    ],
    repair: repairSum,
    decode: (b) => {
      parseCjt188Frame(b);
      return parseCjt188ReadReply(b);
    },
  },
];

/** The meters' CS (sum8 from the first 0x68 to before the CS), repaired after mutation. */
function repairSum(b: Uint8Array): Uint8Array {
  const p = b.findIndex((x) => x !== 0xfe);
  if (p >= 0 && b.length - p >= 3) b[b.length - 2] = sum8(b, p, b.length - 2);
  return b;
}

const rand = prng(seed);
const int = (n: number) => Math.floor(rand() * n);
function mutate(b: Uint8Array): Uint8Array {
  const out = Array.from(b);
  for (let m = 1 + int(4); m > 0; m--) {
    const at = int(Math.max(1, out.length));
    switch (int(7)) {
      case 0:
        if (out.length) out[at] ^= 1 << int(8);
        break;
      case 1:
        if (out.length) out[at] = [0, 0xff, 0x80, 0x7f, int(256)][int(5)];
        break;
      case 2:
        out.splice(at, 0, int(256));
        break;
      case 3:
        out.splice(at, 1 + int(3));
        break;
      case 4:
        out.length = int(out.length + 1);
        break;
      case 5:
        out.splice(at, 0, ...out.slice(at, at + 1 + int(8)));
        break;
      case 6:
        out.splice(at, int(2), ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        break;
    }
  }
  return Uint8Array.from(out);
}

const outcomeOf = (e: unknown) =>
  (e as Error).message
    .replace(/0x[0-9a-f]+/gi, 'h')
    .replace(/\d+/g, '#')
    .replace(/"[^"]*"/g, 's')
    .replace(/\(at byte #\)/, '')
    .slice(0, 100);
const results: Record<string, { inputs: number; per_s: number; outcomes: number; corpus: number; decoded: number; crashes: number }> = {};
let crashes = 0;
for (const t of targets) {
  if (only && t.name !== only) continue;
  const seen = new Set<string>();
  const corpus = t.seeds.slice();
  // Seeds are answered (a seed refused by a stricter check, such as a reply to another request, is still a seed).
  for (const s of t.seeds) {
    try {
      t.decode(s);
    } catch (e) {
      if (!isLifelineError(e)) throw e;
    }
  }
  let decoded = 0;
  let crashed = 0;
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const mutated = mutate(corpus[int(corpus.length)]);
    // Half the time with the checksum repaired, half as is (the checksum check itself is a target too).
    const input = t.repair && rand() < 0.5 ? t.repair(mutated) : mutated;
    let outcome: string;
    try {
      t.decode(input);
      outcome = 'ok';
      decoded++;
    } catch (e) {
      if (!isLifelineError(e)) {
        crashed++;
        if (crashed <= 3) console.error(`bench fuzz: ${t.name} crashed on ${Buffer.from(input).toString('hex')}: ${(e as Error)?.stack ?? String(e)}`);
        continue;
      }
      outcome = outcomeOf(e);
    }
    if (!seen.has(outcome)) {
      seen.add(outcome);
      if (corpus.length < 4096) corpus.push(input);
    } else if (outcome === 'ok' && corpus.length < 4096 && rand() < 0.001) corpus.push(input);
    if (i > 0 && i % 1_000_000 === 0) console.error(`bench fuzz: ${t.name} ${i} inputs, ${seen.size} outcomes, corpus ${corpus.length}`);
  }
  const s = (performance.now() - start) / 1000;
  crashes += crashed;
  results[t.name] = { inputs: runs, per_s: Math.round(runs / s), outcomes: seen.size, corpus: corpus.length, decoded, crashes: crashed };
  console.error(`bench fuzz: ${t.name}: ${runs} inputs in ${s.toFixed(1)} s, ${seen.size} outcomes, ${decoded} decoded, ${crashed} crashes`);
}
if (crashes) process.exitCode = 1;
console.log(JSON.stringify({ runs_per_decoder: runs, seed, crashes, decoders: results }));
