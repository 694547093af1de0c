/**
 * What `pnpm bench fuzz` and bench/fuzz.test.ts fuzz: every decoder a stranger's
 * bytes reach — a meter's or a PLC's reply, an SL 651 station's report, the wire
 * format both ways, a gateway config or device profile file, a body posted to the
 * HTTP API. Each takes bytes and answers, or refuses with a LifelineError (the API:
 * a 4xx); anything else is a crash.
 */
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
import { SL651_PUBLISHED_FRAMES, parseSl651Body, parseSl651Frame, sl651Crc } from '../shared/src/protocols/sl651/index.js';
import type { FuzzTarget } from './_fuzz-engine.js';
import { apiBodies, apiBodyChecks } from './_fuzz-api.js';
import { loaderTargets } from './_fuzz-loaders.js';


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

/** Each decoder of bytes from the field or the wire: valid seeds and the call. */
const decoders: FuzzTarget[] = [
  {
    name: 'wire_uplink',
    seeds: [
      encodeTelemetryBatch({ gateway: 'gw', epoch: 5, firstSeq: 1, lastSeq: 12, readings }, { compress: 'never' }),
      encodeTelemetryBatch({ gateway: 'gw', epoch: 5, firstSeq: 1, lastSeq: 12, readings }, { compress: 'always' }),
      encodeTelemetryBatch({ gateway: 'gw', epoch: 5, firstSeq: 1, lastSeq: 12, readings, dictionary: dict }, { compress: 'never' }),
      encodeEventBatch({ gateway: 'gw', firstSeq: 3, lastSeq: 3, events: [{ kind: 'event', seq: 3, ts: T0, type: 'device_offline', message: 'x' }] }, { compress: 'never' }),
    ],
    run: (b) => decodeUplink(b, { gateway: 'gw' }),
  },
  {
    name: 'wire_live',
    seeds: [encodeLive(dict, { firstSeq: 5, readings: readings.slice(0, 3) })!, encodeLive(dict, { firstSeq: 9, readings: [readings[2], readings[0], readings[4]] })!],
    run: (b) => decodeLive(b, 'gw', lookup),
  },
  {
    name: 'wire_downlink',
    seeds: [
      encodeAck({ gateway: 'gw', ts: T0, epoch: 5, telemetry: 100, events: 3, range: { lane: Lane.Telemetry, firstSeq: 90, lastSeq: 100 }, dictionary: 77 }),
      encodeReject({ gateway: 'gw', ts: T0, lane: Lane.Telemetry, firstSeq: 1, lastSeq: 9, reason: RejectReason.Malformed, detail: 'bad' }),
      encodeReject({ gateway: 'gw', ts: T0, lane: Lane.Telemetry, reason: RejectReason.UnknownDictionary, dictionary: 77, detail: 'names please' }),
    ],
    run: (b) => decodeDownlink(b),
  },
  {
    name: 'modbus_rtu_reply',
    seeds: [buildRtuResponse(1, { functionCode: 3, registers: [1, 2, 3, 65535] }), buildRtuResponse(1, { functionCode: 1, bits: [1, 0, 1] })],
    // CRC repaired after mutation, so the checks behind it run.
    repair: (b) => (b.length >= 3 ? (writeCrc(b, 0, b.length - 2), b) : b),
    run: (b) => {
      parseRtuResponse(b);
      return parseRtuResponse(b, { unitId: 1, request: { functionCode: 3, address: 0, quantity: 4 } });
    },
  },
  {
    name: 'modbus_tcp_reply',
    seeds: [buildTcpResponse(1, 1, { functionCode: 3, registers: [9, 8, 7] }), buildTcpResponse(2, 1, { functionCode: 16, address: 1, quantity: 2 })],
    run: (b) => parseTcpResponse(b),
  },
  {
    name: 'dlt645_reply',
    seeds: [buildDlt645ReadReply('000102030425', '00010000', 1206.42), buildDlt645ReadReply('000102030425', '0203FF00', [1.5, -0.5, 0.25, 0.75], { preamble: 0 })],
    repair: repairSum,
    run: (b) => {
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
    run: (b) => {
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


/** SL 651 frames as a station sends them (hex and ASCII), CRC repaired after mutation. */
const sl651: FuzzTarget = {
  name: 'sl651_frame',
  seeds: Object.values(SL651_PUBLISHED_FRAMES).map((h) => Uint8Array.from(Buffer.from(h, 'hex'))),
  repair: (b) => {
    // Hex frames end in a big-endian CRC16 over everything before it.
    if (b.length > 4 && b[0] === 0x7e && b[1] === 0x7e) {
      const crc = sl651Crc(b, 0, b.length - 2);
      b[b.length - 2] = crc >> 8;
      b[b.length - 1] = crc & 0xff;
    }
    return b;
  },
  run: (b) => parseSl651Body(parseSl651Frame(b)),
};

/** Every target, by name; a fresh set per call (the API targets hold a server while open). */
export function fuzzTargets(): FuzzTarget[] {
  return [...decoders, sl651, ...loaderTargets(), apiBodies(), apiBodyChecks()];
}
