/**
 * `pnpm bench nab --data <dir> --windows <windows.json> [--scores <outdir>] [--set key=value ...]`
 *
 * Runs the agent's own per-point anomaly detector (edge/src/detect, via
 * createDetectors) over every NAB CSV under <dir> listed in windows.json, row by
 * row, probation rows included (they are the detector's warm-up), and scores with
 * one corpus-wide threshold per profile. Ends with one JSON line
 *   {"standard":..,"low_fp":..,"low_fn":..}
 * With --scores, writes <outdir>/<same relative path> as `timestamp,value,anomaly_score`
 * for every row of every file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadNab, round2, scoreFile, scoreNab } from './_nab.js';
import { nabOptions } from './_nab-options.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    windows: { type: 'string' },
    scores: { type: 'string' },
    set: { type: 'string', multiple: true },
    verbose: { type: 'boolean', default: false },
  },
});
if (!values.data || !values.windows) {
  console.error('usage: pnpm bench nab --data <dir> --windows <windows.json> [--scores <outdir>] [--set key=value ...]');
  process.exit(2);
}
const opts = nabOptions(values.set);
const files = loadNab(values.data, values.windows);
if (files.length === 0) {
  console.error(`bench nab: no file of ${values.windows} under ${values.data}`);
  process.exit(2);
}
const t0 = performance.now();
const scores = files.map((f) => scoreFile(f, opts));
const ms = performance.now() - t0;
if (values.scores) {
  files.forEach((f, i) => {
    const out = join(values.scores!, f.rel);
    mkdirSync(dirname(out), { recursive: true });
    const lines = ['timestamp,value,anomaly_score'];
    for (let r = 0; r < f.ts.length; r++) lines.push(`${f.timestamp[r]},${f.value[r]},${scores[i][r]}`);
    writeFileSync(out, `${lines.join('\n')}\n`);
  });
}
const all = scoreNab(files, scores);
if (values.verbose) {
  for (const folder of [...new Set(files.map((f) => f.folder))]) {
    const idx = files.map((f, i) => (f.folder === folder ? i : -1)).filter((i) => i >= 0);
    const r = scoreNab(idx.map((i) => files[i]), idx.map((i) => scores[i]));
    console.error(`${folder} (own threshold): standard ${round2(r.standard)}`);
  }
}
const rows = files.reduce((a, f) => a + f.ts.length, 0);
console.error(`options: ${JSON.stringify(opts)}; thresholds ${all.thresholds.map((t) => t.toFixed(4)).join('/')}; ${files.length} files, ${rows} rows in ${ms.toFixed(0)} ms`);
console.log(JSON.stringify({ standard: round2(all.standard), low_fp: round2(all.low_fp), low_fn: round2(all.low_fn) }));
