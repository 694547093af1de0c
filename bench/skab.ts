/**
 * `pnpm bench skab --data <dir> [--predictions <outdir>] [--set key=value ...]`
 *
 * Runs the agent's own multivariate detector (edge/src/detect, via createDetectors)
 * over every labelled SKAB CSV under <dir>, strictly online: the first 400 rows of
 * each file are the warm-up (rows labelled anomalous there are skipped), later rows
 * are fed value by value in order and never see a label. Prints per-folder figures
 * to stderr and ends with one JSON line:
 *   {"f1":..,"far":..,"mar":..,"nab_standard":..,"nab_lowfp":..,"nab_lowfn":..,"nab_dated_standard":..,"nab_dated_lowfp":..,"nab_dated_lowfn":..,"files":..}
 * F1/FAR/MAR and nab_* score the online prediction (changepoints where the alarm is raised
 * or cleared, when it is): the figures of record. nab_dated_* score the episodes as the
 * detector's events date them afterwards (raise at its `onsetTs`, clear at its `onsetTs`).
 * With --predictions, writes <outdir>/<same relative path> as `datetime;predicted_anomaly`
 * for every row after row 400. `--set k=2.5` overrides a detector option (for tuning; `--set onset=bocpd` for a word).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSkab, predictFile, rounded, scoreSkab, TRAIN_ROWS, type SkabDetectorOptions } from './_skab.js';
import { SKAB_OPTIONS } from './_skab-options.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    predictions: { type: 'string' },
    set: { type: 'string', multiple: true },
    verbose: { type: 'boolean', default: false },
  },
});
if (!values.data) {
  console.error('usage: pnpm bench skab --data <dir> [--predictions <outdir>] [--set key=value ...]');
  process.exit(2);
}
const opts: SkabDetectorOptions = { ...SKAB_OPTIONS };
for (const kv of values.set ?? []) {
  const [k, v] = kv.split('=');
  (opts as Record<string, unknown>)[k] = Number.isNaN(Number(v)) ? v : Number(v);
}
const files = loadSkab(values.data);
if (files.length === 0) {
  console.error(`bench skab: no labelled CSV under ${values.data}`);
  process.exit(2);
}
const t0 = performance.now();
const preds = files.map((f) => predictFile(f, opts));
const ms = performance.now() - t0;
if (values.predictions) {
  files.forEach((f, i) => {
    const out = join(values.predictions!, f.rel);
    mkdirSync(dirname(out), { recursive: true });
    const lines = ['datetime;predicted_anomaly'];
    for (let r = TRAIN_ROWS; r < f.ts.length; r++) lines.push(`${f.datetime[r]};${preds[i].pred[r - TRAIN_ROWS]}`);
    writeFileSync(out, `${lines.join('\n')}\n`);
  });
}
if (values.verbose) files.forEach((f, i) => console.error(`${f.rel}: ${JSON.stringify(rounded(scoreSkab([f], [preds[i]])))}`));
const folders = [...new Set(files.map((f) => f.folder))];
for (const folder of folders) {
  const idx = files.map((f, i) => (f.folder === folder ? i : -1)).filter((i) => i >= 0);
  console.error(`${folder}: ${JSON.stringify(rounded(scoreSkab(idx.map((i) => files[i]), idx.map((i) => preds[i]))))}`);
}
const rows = files.reduce((a, f) => a + f.ts.length, 0);
console.error(`options: ${JSON.stringify(opts)}; ${rows} rows in ${ms.toFixed(0)} ms`);
console.log(JSON.stringify(rounded(scoreSkab(files, preds))));
