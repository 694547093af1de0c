/**
 * Where the NAB points go: per file, at the corpus-wide standard threshold, each window's
 * first detection (position in the window, 0 = left edge; "miss" when none) and the false
 * positives with their cost. For studying the detector, not a figure of record.
 *
 *   npx tsx bench/_nab-report.ts --data ../shared/data/nab/data --windows ../shared/data/nab/windows.json [--set key=value ...]
 */
import { parseArgs } from 'node:util';
import { nabProfiles, probationRows, sweepRows } from './score/nab.js';
import type { AnomalyDetector } from '../edge/src/detect/anomaly.js';
import { loadNab, round2, scoreFile, scoreNab } from './_nab.js';
import { nabOptions } from './_nab-options.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, windows: { type: 'string' }, set: { type: 'string', multiple: true } } });
if (!values.data || !values.windows) {
  console.error('usage: npx tsx bench/_nab-report.ts --data <dir> --windows <windows.json> [--set key=value ...]');
  process.exit(2);
}
const opts = nabOptions(values.set);
const files = loadNab(values.data, values.windows);
// Rows where the detector's new-extreme rule fired, per file.
const extremes = files.map((f) => new Uint8Array(f.ts.length));
const scores = files.map((f, fi) => scoreFile(f, opts, (i, det) => (extremes[fi][i] = (det as AnomalyDetector).beyond ? 1 : 0)));
const all = scoreNab(files, scores);
const T = all.thresholds[0];
const p = nabProfiles.standard;
let lostMiss = 0;
let lostLate = 0;
let lostFp = 0;
for (let fi = 0; fi < files.length; fi++) {
  const f = files[fi];
  const s = scores[fi];
  const { sweep, window } = sweepRows({ name: f.rel, scores: s, windows: f.windows }, p);
  const prob = probationRows(f.ts.length);
  const parts: string[] = [];
  let fpN = 0;
  let fpCost = 0;
  const first = new Array<number>(f.windows.length).fill(-1);
  let fpB = 0;
  let tpB = 0;
  for (let i = 0; i < s.length; i++) {
    const beyond = extremes[fi][i] === 1;
    if (i < prob || !(s[i] >= T)) continue;
    const w = window[i];
    if (w === -1) {
      fpN++;
      fpCost += sweep[i];
      if (beyond) fpB++;
    } else if (w >= 0 && first[w] < 0) {
      first[w] = i;
      if (beyond) tpB++;
    }
  }
  f.windows.forEach(([l, r], w) => {
    if (r < prob) return parts.push('prob');
    if (first[w] < 0) {
      lostMiss += 1;
      return parts.push('MISS');
    }
    lostLate += 1 - sweep[first[w]];
    parts.push(`${((first[w] - l) / (r - l + 1)).toFixed(2)}`);
  });
  lostFp -= fpCost;
  console.log(`${f.rel.padEnd(62)} n=${String(f.ts.length).padStart(5)} win[${parts.join(' ')}] fp ${fpN} (${round2(fpCost)}) extremes: fp ${fpB} tp ${tpB}`);
}
console.log(`threshold ${T.toFixed(4)}; standard ${round2(all.standard)}; lost (raw points): missed windows ${round2(lostMiss * 2)} (miss = −1 instead of +1), late detections ${round2(lostLate)}, false positives ${round2(lostFp)}`);
