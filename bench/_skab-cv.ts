/**
 * Honest tuning for the SKAB bench: leave-one-folder-out and leave-one-file-out
 * cross-validation.
 *
 *   npx tsx bench/_skab-cv.ts --data ../shared/data/skab [--grid small|wide]
 *
 * For every combination of a grid of detector options, each file is run once (the
 * same predictFile the bench uses). Then for each folder F (each file F): the
 * combination with the best objective on the OTHER folders (files) is chosen and
 * predicts F. The pooled held-out predictions give the cross-validated figures; the
 * combination that is best on all files is what the detector's defaults ship.
 * `small` is the shipped search (7 knobs); `wide` (7 knobs) shows what more tuning
 * does to the held-out figures. Objective:
 *   F1/0.80 + NAB_standard/33 − 0.05·max(0, FAR − 12): each goal of issue 6 counts as much as the
 *   other, and FAR above 12 % (a margin under the 15 % goal) costs more than either gains.
 */
import { parseArgs } from 'node:util';
import { SKAB_OPTIONS } from './_skab-options.js';
import { loadSkab, predictFile, rounded, scoreSkab, type SkabDetectorOptions, type SkabFigures } from './_skab.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, grid: { type: 'string', default: 'small' } } });
if (!values.data) {
  console.error('usage: npx tsx bench/_skab-cv.ts --data <dir> [--grid small|wide]');
  process.exit(2);
}
const grids: Record<string, Record<string, number[]>> = {
  // What ships: three knobs tuned, the rest fixed by principle (see docs/detection-results.md).
  small: {
    lambda: [0.1, 0.2, 0.3],
    k: [2, 2.5, 3],
    offDelayMs: [9000, 19_000],
    // Added with the recovering-slow-point rule (see multivariate.ts).
    recover: [0, 0.5, 0.8],
    recoverWeight: [0.2, 0.5, 1],
    // Added with the two-points-agreeing raise (see multivariate.ts; 0 = off).
    vote: [0, 0.5, 0.7],
    voteDelayMs: [2000, 5000, 8000],
  },
  // The wide search, to show what tuning more knobs does to the held-out figures.
  wide: {
  lambda: [0.1, 0.2, 0.3],
  k: [1.5, 2, 2.5, 3],
  quantile: [0.95, 0.99, 1],
  eta0: [0.5, 0.8, 1.2],
  relativeClear: [0, 0.15, 0.3],
  relearnMs: [0, 20_000],
  offDelayMs: [9000, 19_000],
  },
};
const grid = grids[values.grid!];
if (!grid) {
  console.error(`unknown grid ${values.grid}: small or wide`);
  process.exit(2);
}
const combos: SkabDetectorOptions[] = [{}];
for (const [k, vs] of Object.entries(grid)) {
  const next: SkabDetectorOptions[] = [];
  for (const c of combos) for (const v of vs) next.push({ ...c, [k]: v });
  combos.splice(0, combos.length, ...next);
}
const objective = (f: SkabFigures) => f.f1 / 0.8 + f.nab_standard / 33 - 0.05 * Math.max(0, f.far - 12);

const files = loadSkab(values.data);
const folders = [...new Set(files.map((f) => f.folder))];
const t0 = performance.now();
const preds = combos.map((c) => files.map((f) => predictFile(f, { ...SKAB_OPTIONS, ...c })));
console.error(`${combos.length} combinations × ${files.length} files in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

const figures = (ci: number, keep: (folder: string) => boolean) => {
  const idx = files.map((f, i) => (keep(f.folder) ? i : -1)).filter((i) => i >= 0);
  return scoreSkab(idx.map((i) => files[i]), idx.map((i) => preds[ci][i]));
};
const best = (keep: (folder: string) => boolean) => {
  let bi = 0;
  let bo = -Infinity;
  combos.forEach((_, ci) => {
    const o = objective(figures(ci, keep));
    if (o > bo) {
      bo = o;
      bi = ci;
    }
  });
  return bi;
};

const heldOut: Uint8Array[] = new Array(files.length);
for (const F of folders) {
  const ci = best((g) => g !== F);
  const fig = figures(ci, (g) => g === F);
  console.log(`held out ${F}: chosen ${JSON.stringify(combos[ci])} → ${JSON.stringify(rounded(fig))}`);
  files.forEach((f, i) => {
    if (f.folder === F) heldOut[i] = preds[ci][i];
  });
}
console.log(`leave-one-folder-out (pooled held-out predictions): ${JSON.stringify(rounded(scoreSkab(files, heldOut)))}`);
// Leave-one-file-out: closer to how the project's held-back files relate to these (same folders, other runs).
const figuresOf = (ci: number, keep: (i: number) => boolean) => {
  const idx = files.map((_, i) => i).filter(keep);
  return scoreSkab(idx.map((i) => files[i]), idx.map((i) => preds[ci][i]));
};
const looPred: Uint8Array[] = new Array(files.length);
const looChoice = new Map<string, number>();
files.forEach((_, i) => {
  let bi = 0;
  let bo = -Infinity;
  combos.forEach((__, ci) => {
    const o = objective(figuresOf(ci, (k) => k !== i));
    if (o > bo) {
      bo = o;
      bi = ci;
    }
  });
  looPred[i] = preds[bi][i];
  const key = JSON.stringify(combos[bi]);
  looChoice.set(key, (looChoice.get(key) ?? 0) + 1);
});
for (const F of folders) {
  const idx = files.map((f, i) => (f.folder === F ? i : -1)).filter((i) => i >= 0);
  console.log(`leave-one-file-out, folder ${F}: ${JSON.stringify(rounded(scoreSkab(idx.map((i) => files[i]), idx.map((i) => looPred[i]))))}`);
}
console.log(`leave-one-file-out (pooled): ${JSON.stringify(rounded(scoreSkab(files, looPred)))}; choices ${JSON.stringify([...looChoice])}`);
const all = best(() => true);
console.log(`best on all folders (in-sample): ${JSON.stringify(combos[all])} → ${JSON.stringify(rounded(figures(all, () => true)))}`);
for (const F of folders) console.log(`  in-sample ${F}: ${JSON.stringify(rounded(figures(all, (g) => g === F)))}`);
