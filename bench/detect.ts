/**
 * `pnpm bench detect` — cost of each detector per reading, at full speed.
 *
 * Each detector gets a prebuilt stream of readings (a noisy daily wave with a few
 * excursions, so events do happen) through the same engine the agent uses
 * (createDetectors → onReading). Five timed rounds after a warm-up run, each round timing
 * every detector once (interleaved, so detectors compared in one run see the same load);
 * the median is reported. Ends with one JSON line of ns/reading per detector, plus the engine with
 * every per-point detector on one point ("all") and the multivariate detector per
 * reading of an 8-point device.
 *
 * A cost per reading of N ns means one core can run that detector on 1e9/N readings/s.
 * `pnpm bench detect <word> ...` times only the detectors whose names start with a word.
 */
import { gaussianSource, type Reading } from '../shared/src/index.js';
import { createDetectors } from '../edge/src/detect/index.js';

const N = 200_000;
const noise = gaussianSource(42);
const stream: Reading[] = [];
for (let i = 0; i < N; i++) {
  let v = 10 + 2 * Math.sin((2 * Math.PI * i) / 1440) + 0.2 * noise();
  if (i % 20_000 > 19_900) v += 5; // an excursion now and then
  stream.push({ device: 'd', point: 'p', ts: i * 1000, value: v });
}
// A cycle of 288 readings (a day of 5-minute readings), short enough for the anomaly
// detector's period search to find: its seasonal part then runs in full.
const daily: Reading[] = stream.map((r, i) => ({ ...r, value: 10 + 2 * Math.sin((2 * Math.PI * i) / 288) + (r.value - 10 - 2 * Math.sin((2 * Math.PI * i) / 1440)) }));
const points = ['a', 'b', 'c', 'e', 'f', 'g', 'h', 'k'];
const mv: Reading[] = [];
for (let i = 0; i < N / points.length; i++) {
  points.forEach((p, j) => mv.push({ device: 'pump', point: p, ts: i * 1000, value: 10 * j + noise() + (i % 5000 > 4900 ? 6 : 0) }));
}

const configs: Record<string, { cfg: unknown; readings: Reading[] }> = {
  threshold: { cfg: { points: [{ device: 'd', point: 'p', threshold: { high: { yellow: 12.5, red: 14 }, low: { yellow: 7 }, deadband: 0.1, onDelayMs: 2000, offDelayMs: 5000 } }] }, readings: stream },
  rate: { cfg: { points: [{ device: 'd', point: 'p', rate: { windowMs: 60_000, rise: 3, fall: 3 } }] }, readings: stream },
  stuck: { cfg: { points: [{ device: 'd', point: 'p', stuck: { epsilon: 0.01, durationMs: 600_000 } }] }, readings: stream },
  range: { cfg: { points: [{ device: 'd', point: 'p', range: { min: 0, max: 100 } }] }, readings: stream },
  anomaly: { cfg: { points: [{ device: 'd', point: 'p', anomaly: { warmup: 1000 } }] }, readings: stream },
  // The costlier setting shipped before (more shapes remembered), for comparison.
  anomaly_memory1000: { cfg: { points: [{ device: 'd', point: 'p', anomaly: { warmup: 1000, memory: 1000 } }] }, readings: stream },
  // Without the distribution-change part, to show its cost.
  anomaly_entropy0: { cfg: { points: [{ device: 'd', point: 'p', anomaly: { warmup: 1000, entropy: 0 } }] }, readings: stream },
  // Without the level part (mean of the last 150 readings against its history), to show its cost.
  anomaly_drift0: { cfg: { points: [{ device: 'd', point: 'p', anomaly: { warmup: 1000, drift: 0 } }] }, readings: stream },
  // On the 288-reading cycle (period found, seasonal part in full), and without that part.
  anomaly_cycle288: { cfg: { points: [{ device: 'd', point: 'p', anomaly: { warmup: 1000 } }] }, readings: daily },
  anomaly_cycle288_season0: { cfg: { points: [{ device: 'd', point: 'p', anomaly: { warmup: 1000, season: 0 } }] }, readings: daily },
  // ARTime (edge/src/detect/artime.ts): one ART pass per block of warmup/104 readings (9 here).
  artime: { cfg: { points: [{ device: 'd', point: 'p', artime: { warmup: 1000 } }] }, readings: stream },
  // Its worst case: a warm-up of ≤ 207 readings makes blocks of 1 reading, an ART pass on every reading.
  artime_warmup100: { cfg: { points: [{ device: 'd', point: 'p', artime: { warmup: 100 } }] }, readings: stream },
  // The published description's variant (`published`, fast commit), in its worst case too.
  artime_published_warmup100: { cfg: { points: [{ device: 'd', point: 'p', artime: { warmup: 100, published: true, beta: 1 } }] }, readings: stream },
  all: {
    cfg: {
      points: [
        {
          device: 'd',
          point: 'p',
          threshold: { high: { yellow: 12.5, red: 14 }, deadband: 0.1 },
          rate: { windowMs: 60_000, rise: 3, fall: 3 },
          stuck: { epsilon: 0.01, durationMs: 600_000 },
          range: { min: 0, max: 100 },
          anomaly: { warmup: 1000 },
        },
      ],
    },
    readings: stream,
  },
  multivariate: { cfg: { multivariate: [{ device: 'pump', points, warmup: 600 }] }, readings: mv },
  // Without the two-point vote (one point decides), to show its cost.
  multivariate_vote0: { cfg: { multivariate: [{ device: 'pump', points, warmup: 600, vote: 0 }] }, readings: mv },
  // Dating the onset of a raise (issue 17): the band exit (no extra state) and BOCPD (8 × 100 run lengths).
  multivariate_band: { cfg: { multivariate: [{ device: 'pump', points, warmup: 600, onset: 'band' }] }, readings: mv },
  multivariate_bocpd: { cfg: { multivariate: [{ device: 'pump', points, warmup: 600, onset: 'bocpd' }] }, readings: mv },
  // The CUSUM raise (issue 17), with the onset dating off so its own cost shows beside multivariate_off.
  multivariate_off: { cfg: { multivariate: [{ device: 'pump', points, warmup: 600, onset: 'off', watch: 0 }] }, readings: mv },
  multivariate_cusum: { cfg: { multivariate: [{ device: 'pump', points, warmup: 600, onset: 'off', cusum: 8, watch: 0 }] }, readings: mv },
  // The yellow watch before the alarm (issue 17, session 8; the default since session 11): the same CUSUM, no extra state per point.
  multivariate_watch: { cfg: { multivariate: [{ device: 'pump', points, warmup: 600, onset: 'off', watch: 8, watchGate: 1 }] }, readings: mv },
};

function time(cfg: unknown, readings: Reading[]): number {
  const set = createDetectors(cfg);
  let events = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < readings.length; i++) events += set.onReading(readings[i]).length;
  const ns = Number(process.hrtime.bigint() - t0);
  if (events < 0) console.error(events); // keep the loop observable
  return ns / readings.length;
}

// `pnpm bench detect artime anomaly` times only the detectors whose names start with one of the words.
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const out: Record<string, number> = {};
const chosen = Object.entries(configs).filter(([name]) => only.length === 0 || only.some((w) => name.startsWith(w)));
for (const [, { cfg, readings }] of chosen) time(cfg, readings); // JIT warm-up
// Five rounds, each timing every chosen detector once: on a shared machine whose load comes
// and goes, detectors compared in one run then see the same load.
const runs: Record<string, number[]> = {};
for (let round = 0; round < 5; round++) for (const [name, { cfg, readings }] of chosen) (runs[name] ??= []).push(time(cfg, readings));
for (const [name] of chosen) {
  const r = runs[name].sort((a, b) => a - b);
  out[`ns_per_reading_${name}`] = Math.round(r[2]);
  console.error(`${name}: runs ${r.map((x) => x.toFixed(0)).join(' ')} ns/reading`);
}
console.log(JSON.stringify(out));
