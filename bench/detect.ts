/**
 * `pnpm bench detect` — cost of each detector per reading, at full speed.
 *
 * Each detector gets a prebuilt stream of readings (a noisy daily wave with a few
 * excursions, so events do happen) through the same engine the agent uses
 * (createDetectors → onReading). Five timed runs after a warm-up run; the median is
 * reported. Ends with one JSON line of ns/reading per detector, plus the engine with
 * every per-point detector on one point ("all") and the multivariate detector per
 * reading of an 8-point device.
 *
 * A cost per reading of N ns means one core can run that detector on 1e9/N readings/s.
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

const out: Record<string, number> = {};
for (const [name, { cfg, readings }] of Object.entries(configs)) {
  time(cfg, readings); // JIT warm-up
  const runs = Array.from({ length: 5 }, () => time(cfg, readings)).sort((a, b) => a - b);
  out[`ns_per_reading_${name}`] = Math.round(runs[2]);
  console.error(`${name}: runs ${runs.map((r) => r.toFixed(0)).join(' ')} ns/reading`);
}
console.log(JSON.stringify(out));
