import { loadSkab, predictFile, TRAIN_ROWS } from './_skab.js';
import { changepointWindows, predictedChangepoints, rampScore, changepointProfiles } from './score/skab.js';
const files = loadSkab('../shared/data/skab');
const opts = JSON.parse(process.argv[2] ?? '{}');
let tot = 0, fps = 0, n = 0;
for (const f of files) {
  const p = predictFile(f, { onset: 'off', ...opts });
  const ts = f.ts.slice(TRAIN_ROWS);
  const cpf = { ts, changepoint: f.changepoint.subarray(TRAIN_ROWS), pred: p.told };
  const w = changepointWindows(cpf);
  const det = predictedChangepoints(cpf);
  const t0 = f.ts[0];
  const parts: string[] = [];
  for (const [l, r] of w) {
    const first = det.find((t) => t >= l && t <= r);
    const sc = first === undefined ? -1 : rampScore(first, l, r, changepointProfiles.standard);
    tot += sc; n++;
    parts.push(`${(l - t0) / 1000}:${first === undefined ? '-' : `+${(first - l) / 1000}`}(${sc.toFixed(2)})`);
  }
  const out = det.filter((t) => !w.some(([l, r]) => t >= l && t <= r)).map((t) => (t - t0) / 1000);
  fps += out.length;
  console.log(f.rel.padEnd(14), parts.join(' '), '| FP', out.join(','));
}
console.log('sum', tot.toFixed(2), 'n', n, 'fps', fps, 'score', ((100 * (tot - 0.11 * fps + n)) / (2 * n)).toFixed(2));
