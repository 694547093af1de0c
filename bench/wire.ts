/**
 * `pnpm bench wire [--seed N] [--window S] [--backlog N] [--float32]`
 *
 * Replays one day of the demo site through the telemetry batch codec and prints,
 * as its last line, `{"bytes_per_reading":..,"json_bytes_per_reading":..,...}`.
 *
 *   day of signals (seeded) ──▶ readings in poll order, seq 1..N
 *        ├─▶ live: one batch per 1 s tick (and per --window s) ──▶ encode ──▶ bytes
 *        ├─▶ backlog: batches of --backlog readings (10,000)   ──▶ encode ──▶ bytes
 *        └─▶ one JSON object per reading (the comparison)
 *
 * Every batch is decoded again and compared with its input, so the figure is for
 * a lossless encoding. `bytes_per_reading` is the backlog figure (the format's
 * compactness with enough readings per batch to amortise names and headers);
 * live per-second batches are reported beside it, because with ~5.6 readings a
 * second the per-batch header and series names dominate them.
 *
 * The site (device profiles in devices/profiles): a flood gauge (water_level m
 * ×0.001 1 s, rainfall mm ×0.1 10 s, ponding_depth m ×0.01 1 s), a pipe pressure
 * station (pressure MPa ×0.001 1 s, flow_rate m3/h ×0.1 1 s, water_temperature °C
 * ×0.1 10 s) and a smart lamp post (lamp_on, dimming 10 s; voltage V ×0.1,
 * current A ×0.01, power W ×0.1, leakage_current mA ×0.1, tilt deg ×0.01,
 * door_open 5 s), all on one RS-485 bus polled in turn. Values are register
 * integers × scale, as the edge decoder computes them (`raw * scale`); noise is
 * a few register counts; the lamps burn from dusk to dawn; a rain storm in the
 * afternoon lifts the river and floods the underpass; the lamp controller drops
 * off the bus for two minutes at night (NaN, quality Bad).
 */
import { gaussian, prng } from '../shared/src/random.js';
import { Quality, type Reading } from '../shared/src/reading.js';
import { decodeLive, decodeTelemetryBatch, encodeTelemetryBatch, type SeriesDictionary } from '../shared/src/wire/index.js';
import { LiveDictionary } from '../edge/src/sync/live-dictionary.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench wire: --${name} needs a positive number, got ${process.argv[i + 1]}`);
    process.exit(2);
  }
  return v;
}

const seed = arg('seed', 1);
const windowS = arg('window', 10);
const backlogSize = arg('backlog', 10_000);
/**
 * --float32: pressure and flow_rate as IEEE float32 registers, as the
 * water-pressure-station profile declares them (noisy floats, not decimals).
 */
const float32 = process.argv.includes('--float32');

const rand = prng(seed);
const gauss = (): number => gaussian(rand);

/** 2025-11-25 00:00 in China Standard Time (UTC+8). */
const DAY_START = 1764000000000;
const DAY_S = 86_400;

/** A register reading as the edge decoder produces it: round(x / scale) clamped to the register, × scale. */
function reg(x: number, scale: number, noiseCounts: number, min = 0, max = 65535): number {
  let raw = Math.round(x / scale + gauss() * noiseCounts);
  raw = Math.max(min, Math.min(max, raw));
  return raw * scale;
}

// ----- the day's physics, second by second ------------------------------------------
const hourOf = (t: number) => t / 3600;
/** Rain intensity mm/h: a storm from 14:00 to 16:30 peaking at 28 mm/h around 15:00. */
function rainRate(t: number): number {
  const h = hourOf(t);
  if (h < 14 || h > 16.5) return 0;
  const x = (h - 14) / 2.5;
  return 28 * Math.sin(Math.PI * x) ** 2 * (0.7 + 0.6 * rand());
}
/** Water demand 0..1: night low, morning and evening peaks. */
function demand(t: number): number {
  const h = hourOf(t);
  const peak = (c: number, w: number) => Math.exp(-(((h - c) / w) ** 2));
  return 0.25 + 0.6 * peak(7.8, 1.2) + 0.45 * peak(12, 1) + 0.7 * peak(19.5, 1.6);
}
const isNight = (t: number) => hourOf(t) >= 18.5 || hourOf(t) < 6;

const rain = new Float64Array(DAY_S); // mm fallen in each second
const tips = new Int32Array(DAY_S + 1); // cumulative 0.1 mm bucket tips
let bucket = 0;
for (let t = 0; t < DAY_S; t++) {
  rain[t] = rainRate(t) / 3600;
  bucket += rain[t];
  tips[t + 1] = tips[t];
  while (bucket >= 0.1) {
    bucket -= 0.1;
    tips[t + 1]++;
  }
}
// River: semidiurnal tide-like swing plus a lagged response to the storm; underpass: ponds while it rains faster than it drains.
const river = new Float64Array(DAY_S);
const pond = new Float64Array(DAY_S);
let surge = 0;
let depth = 0;
for (let t = 0; t < DAY_S; t++) {
  surge += rain[t] * 0.018 - surge / 9000;
  river[t] = 2.4 + 0.12 * Math.sin((2 * Math.PI * (t / 3600 - 4)) / 12.42) + surge;
  depth = Math.max(0, depth + rain[t] * 0.004 - 0.000004);
  pond[t] = depth;
}

// ----- polling: one RS-485 bus, devices and register blocks in turn ---------------------
interface Block {
  device: string;
  everyS: number;
  points: Array<[string, (t: number) => number]>;
}
let voltageDrift = 0;
const lampDown = (t: number) => t >= 3 * 3600 + 12 * 60 && t < 3 * 3600 + 14 * 60;
const dim = (t: number) => (!isNight(t) ? 0 : hourOf(t) >= 23 || hourOf(t) < 5 ? 50 : 100);
const lampCurrent = (t: number) => (dim(t) === 0 ? 0.02 : 0.68 * (dim(t) / 100));
const blocks: Block[] = [
  {
    device: 'flood-1',
    everyS: 1,
    points: [
      ['water_level', (t) => reg(river[t], 0.001, 1.5)],
      ['rainfall', (t) => (t % 10 === 0 ? (tips[t + 1] - tips[Math.max(0, t - 599)]) * 0.1 : NaN)],
      ['ponding_depth', (t) => reg(pond[t], 0.01, 0.4)],
    ],
  },
  {
    device: 'pipe-1',
    everyS: 1,
    points: [
      ['pressure', (t) => (float32 ? Math.fround(0.34 - 0.05 * demand(t) + gauss() * 0.0015) : reg(0.34 - 0.05 * demand(t), 0.001, 1.5))],
      ['flow_rate', (t) => (float32 ? Math.fround(120 + 260 * demand(t) + gauss() * 0.3) : reg(120 + 260 * demand(t), 0.1, 3))],
      ['water_temperature', (t) => (t % 10 === 0 ? reg(14.5 + 0.6 * Math.sin((2 * Math.PI * (hourOf(t) - 9)) / 24), 0.1, 0.4, -32768, 32767) : NaN)],
    ],
  },
  { device: 'lamp-1', everyS: 10, points: [['lamp_on', (t) => (isNight(t) ? 1 : 0)]] },
  { device: 'lamp-1', everyS: 5, points: [['door_open', (t) => (t >= 10 * 3600 && t < 10 * 3600 + 1200 ? 1 : 0)]] },
  { device: 'lamp-1', everyS: 10, points: [['dimming', (t) => dim(t)]] },
  {
    device: 'lamp-1',
    everyS: 5,
    points: [
      [
        'voltage',
        (t) => {
          voltageDrift += gauss() * 0.05 - voltageDrift * 0.01;
          return reg(228 + 3 * Math.sin((2 * Math.PI * (hourOf(t) - 3)) / 24) + voltageDrift, 0.1, 3);
        },
      ],
      ['current', (t) => reg(lampCurrent(t), 0.01, 0.8)],
      ['power', (t) => reg(228 * lampCurrent(t) * 0.95, 0.1, 3)],
      ['leakage_current', (t) => reg(1.2 + (hourOf(t) > 14 && hourOf(t) < 20 ? 0.6 : 0), 0.1, 1)],
      ['tilt', (t) => reg(0.35, 0.01, 0.8, -32768, 32767)],
    ],
  },
];

/** Readings of the whole day in poll order, and the tick (second) of each. */
const readings: Reading[] = [];
const tickOf: number[] = [];
for (let t = 0; t < DAY_S; t++) {
  // The poll cycle starts on the tick; each block's reply lands after the previous one.
  let at = DAY_START + t * 1000 + 3;
  for (const b of blocks) {
    if (t % b.everyS !== 0) continue;
    at += 18 + Math.floor(rand() * 9); // request + reply at 9600 baud + device turnaround
    if (rand() < 0.001) at += 300; // a timeout and retry now and then
    const down = b.device === 'lamp-1' && lampDown(t);
    for (const [point, f] of b.points) {
      const v = f(t);
      if (Number.isNaN(v) && !down) continue; // not due this tick
      readings.push(down ? { device: b.device, point, ts: at, value: NaN, quality: Quality.Bad } : { device: b.device, point, ts: at, value: v });
      tickOf.push(t);
    }
  }
}

// ----- encode ---------------------------------------------------------------------------
function sameReading(a: Reading, b: Reading): boolean {
  return a.device === b.device && a.point === b.point && a.ts === b.ts && Object.is(a.value, b.value) && a.quality === b.quality;
}

let mismatches = 0;
let encodeMs = 0;
let decodeMs = 0;
/** Bytes of `readings` sent as consecutive batches cut by `cut(i)` (true: reading i starts a new batch). */
function encodeAll(startsBatch: (i: number) => boolean): { bytes: number; batches: number } {
  let bytes = 0;
  let batches = 0;
  let start = 0;
  for (let i = 1; i <= readings.length; i++) {
    if (i < readings.length && !startsBatch(i)) continue;
    const slice = readings.slice(start, i);
    const batch = { gateway: 'gw-demo', firstSeq: start + 1, lastSeq: i, readings: slice };
    const t0 = performance.now();
    const wire = encodeTelemetryBatch(batch);
    const t1 = performance.now();
    const back = decodeTelemetryBatch(wire);
    decodeMs += performance.now() - t1;
    encodeMs += t1 - t0;
    if (back.readings.length !== slice.length || back.readings.some((r, j) => !sameReading(r, slice[j])) || back.seqs[0] !== start + 1) mismatches++;
    bytes += wire.length;
    batches++;
    start = i;
  }
  return { bytes, batches };
}

/**
 * Live one-second ranges as the edge sends them (edge/src/sync/live-dictionary.ts): a
 * batch with names defining a series dictionary, then Live frames against it once the
 * cloud has acknowledged it (here: before the next second). Every frame is decoded
 * again with the cloud's copy of the dictionary.
 */
function encodeLiveWithDictionary(epoch: number | undefined): { bytes: number; batches: number; defines: number; defineBytes: number } {
  const dict = new LiveDictionary(epoch, {}, prng(seed + 1));
  const cloud = new Map<number, SeriesDictionary>();
  let bytes = 0;
  let batches = 0;
  let defines = 0;
  let defineBytes = 0;
  let start = 0;
  for (let i = 1; i <= readings.length; i++) {
    if (i < readings.length && tickOf[i] === tickOf[i - 1]) continue;
    const slice = readings.slice(start, i);
    const firstSeq = start + 1;
    const plan = dict.plan(firstSeq, slice);
    const t0 = performance.now();
    let back;
    let wire: Uint8Array;
    if (plan.kind === 'live') {
      wire = plan.payload;
      back = decodeLive(wire, 'gw-demo', (id) => cloud.get(id));
      liveFrameBytes += wire.length;
      liveFrames++;
    } else {
      const definition = plan.kind === 'define' ? plan.dictionary : undefined;
      wire = encodeTelemetryBatch({ gateway: 'gw-demo', epoch, firstSeq, lastSeq: i, readings: slice, dictionary: definition });
      back = decodeTelemetryBatch(wire);
      if (back.dictionary) {
        cloud.set(back.dictionary.id, back.dictionary);
        dict.acknowledged(back.dictionary.id);
        defines++;
        defineBytes += wire.length;
      }
    }
    liveCodecMs += performance.now() - t0;
    if (back.readings.length !== slice.length || back.readings.some((r, j) => !sameReading(r, slice[j])) || back.seqs[0] !== firstSeq || back.lastSeq !== i) mismatches++;
    bytes += wire.length;
    batches++;
    start = i;
  }
  return { bytes, batches, defines, defineBytes };
}

let liveCodecMs = 0;
let liveFrameBytes = 0;
let liveFrames = 0;
const n = readings.length;
/** A random buffer epoch as a gateway makes (8 varint bytes), in every batch and dictionary. */
const EPOCH = 4_503_599_627_370_497;
const liveV1 = encodeAll((i) => tickOf[i] !== tickOf[i - 1]);
const live = encodeLiveWithDictionary(EPOCH);

const liveWindow = encodeAll((i) => Math.floor(tickOf[i] / windowS) !== Math.floor(tickOf[i - 1] / windowS));
encodeMs = 0;
decodeMs = 0;
const backlog = encodeAll((i) => i % backlogSize === 0);
const enc = new TextEncoder();
let jsonBytes = 0;
for (const r of readings) jsonBytes += enc.encode(JSON.stringify(r)).length;

const round = (x: number, d = 3) => Number(x.toFixed(d));
console.log(
  `bench wire: ${n} readings in one day (seed ${seed}); live 1 s: ${live.batches} batches, ${round(live.bytes / live.batches, 1)} B/batch ` +
    `(${live.defines} dictionaries defined, ${live.defineBytes} B; version 1 without dictionary: ${round(liveV1.bytes / liveV1.batches, 1)} B/batch); ` +
    `live ${windowS} s: ${liveWindow.batches} batches; backlog: ${backlog.batches} batches of ≤ ${backlogSize}, ${round(backlog.bytes / backlog.batches, 0)} B/batch`,
);
if (mismatches) {
  console.error(`bench wire: ${mismatches} batch(es) did not decode to their input`);
  process.exitCode = 1;
}
console.log(
  JSON.stringify({
    bytes_per_reading: round(backlog.bytes / n),
    json_bytes_per_reading: round(jsonBytes / n, 1),
    live_1s_bytes_per_reading: round(live.bytes / n),
    live_1s_v1_bytes_per_reading: round(liveV1.bytes / n),
    live_dictionaries_defined: live.defines,
    live_frame_bytes_avg: round(liveFrameBytes / liveFrames, 1),
    live_codec_readings_per_s: Math.round(n / (liveCodecMs / 1000)),
    [`live_${windowS}s_bytes_per_reading`]: round(liveWindow.bytes / n),
    backlog_batch_readings: backlogSize,
    float32_pressure_flow: float32,
    readings: n,
    encode_readings_per_s: Math.round(n / (encodeMs / 1000)),
    decode_readings_per_s: Math.round(n / (decodeMs / 1000)),
    roundtrip_mismatches: mismatches,
  }),
);
