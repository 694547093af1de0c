import { loadSkab, TRAIN_ROWS } from './_skab.js';
import { MultivariateDetector } from '../edge/src/detect/multivariate.js';
const files = loadSkab('../shared/data/skab').filter((f) => process.argv.slice(2).includes(f.rel));
for (const f of files) {
  const d = f.points.length;
  let nt = 0; for (let r = 0; r < TRAIN_ROWS; r++) if (!f.anomaly[r]) nt++;
  const det = new MultivariateDetector('x', 'skab', { points: f.points, warmup: nt, onset: 'off' });
  const z: Record<string, number[]> = {};
  const t0 = f.ts[0];
  const line: string[] = [];
  for (let r = 0; r < f.ts.length; r++) {
    if (r < TRAIN_ROWS && f.anomaly[r]) continue;
    for (let j = 0; j < d; j++) det.update({ device: 'skab', point: f.points[j], ts: f.ts[r], value: f.values[r * d + j] });
    const t = (f.ts[r] - t0) / 1000;
    const cp = f.changepoint[r] ? '*' : '';
    if (t >= 560 && t <= 680) line.push(`${t}${cp}:${det.raw.toFixed(1)}${det.level ? 'A' : ''}`);
  }
  console.log(f.rel, line.join(' '));
}
