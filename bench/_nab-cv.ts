/**
 * Honest tuning for the NAB bench: cross-validation by NAB category.
 *
 *   npx tsx bench/_nab-cv.ts --data ../shared/data/nab/data --windows ../shared/data/nab/windows.json \
 *       [--nested] [--detector anomaly|artime] [--grid key=v1,v2 ...] [--cache <dir>]
 *       [--with-artime k1,k2 [--noisy-or] | --or-artime | --pair-menu] [--artime-set key=value ...]
 *
 * Pairs of `anomaly` and ARTime (scores of one anomaly combination and one ARTime, combined
 * per row): --with-artime max(anomaly, k·ARTime), k chosen by the inner folds (--noisy-or:
 * 1 − (1 − a)(1 − k·r) instead); --or-artime each detector at the threshold it gets alone on
 * the training categories, alarm by either; --pair-menu the inner folds choose among anomaly
 * alone and the max / noisy-OR pair with ARTime's range learned or declared. --artime-set
 * gives that ARTime options (fileRange=1: the file's min/max as its declared range).
 *
 * Every combination of a small grid of detector options scores every file once (the same
 * scoreFile the bench uses; with --cache the per-row scores are kept on disk and reused).
 *
 * Without --nested (leave-one-category-out, as before): for each category C the
 * combination best on the OTHER categories is chosen and C's files are scored with it;
 * the pooled held-out scores then go through the benchmark's own corpus-wide threshold
 * sweep — so the threshold is chosen with the held-out scores in view.
 *
 * With --nested (the figure of record): for each outer category C, nothing of C is seen
 * while choosing. Inner folds (leave one of the remaining categories out) score every
 * combination: in each inner fold the threshold is swept on the inner-training categories
 * and fixed before the inner held-out category is scored; the combination with the best
 * pooled inner score is chosen, its threshold swept on all the outer-training categories,
 * and C is scored with both fixed. The outer scores pool as NAB normalises them:
 * 100·(Σraw − Σnull)/(Σperfect − Σnull), per profile (each profile fixes its own threshold
 * the same way; the combination is chosen by the standard profile).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadNab, round2, scoreFile, scoreNab, type NabData, type NabDetectorOptions } from './_nab.js';
import { nabNormalise, nabProfiles, nabScore, nabScoreAt, type NabFixed, type NabProfile } from './score/nab.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    windows: { type: 'string' },
    grid: { type: 'string', multiple: true },
    nested: { type: 'boolean', default: false },
    detector: { type: 'string', default: 'anomaly' },
    cache: { type: 'string' },
    'with-artime': { type: 'string' },
    'artime-set': { type: 'string', multiple: true },
    'or-artime': { type: 'boolean', default: false },
    'noisy-or': { type: 'boolean', default: false },
    'pair-menu': { type: 'boolean', default: false },
  },
});
if (!values.data || !values.windows) {
  console.error(
    'usage: npx tsx bench/_nab-cv.ts --data <dir> --windows <windows.json> [--nested] [--detector anomaly|artime] [--grid key=v1,v2 ...] [--cache <dir>]\n' +
      '         [--with-artime k1,k2 [--noisy-or] | --or-artime | --pair-menu] [--artime-set key=value ...]',
  );
  process.exit(2);
}
if (values.detector !== 'anomaly' && values.detector !== 'artime' && values.detector !== 'cad') {
  console.error(`_nab-cv: --detector must be anomaly, artime or cad (bench-only experiment), got ${values.detector}`);
  process.exit(2);
}
// The built-in grid of the anomaly detector, used when no --grid is given: the short-term mean
// of the novelty, the episode and the distribution-change score (entropy 0 = off). Any --grid
// names the whole grid (one value per knob = pinned; `--grid short=30` alone = defaults, the
// threshold the only choice). ARTime's grid is empty unless --grid gives one (e.g. rho=0.75,0.8).
const grid: Record<string, (number | string | false)[]> =
  values.detector === 'anomaly' && !values.grid?.length ? { short: [10, 20, 30], suppress: [150, 200, 300], entropy: [0, 16, 24, 32], bins: [4, 5] } : {};
for (const kv of values.grid ?? []) {
  const [k, vs] = kv.split('=');
  if (!k || !vs) {
    console.error(`_nab-cv: --grid wants key=v1,v2, got ${kv}`);
    process.exit(2);
  }
  grid[k] = vs.split(',').map((v) => (v === 'false' ? false : Number.isNaN(Number(v)) ? v : Number(v)));
}
let combos: NabDetectorOptions[] = [{ detector: values.detector }];
for (const [k, vs] of Object.entries(grid)) combos = combos.flatMap((c) => vs.map((v) => ({ ...c, [k]: v })));
// bins mean nothing with the histogram off: keep one of those.
combos = combos.filter((c) => c.entropy !== 0 || c.bins === 5);

const files = loadNab(values.data, values.windows);
const folders = [...new Set(files.map((f) => f.folder))];
const t0 = performance.now();
/** Per-row scores of one combination on one file, from the cache when it has them. */
const run = (c: NabDetectorOptions, f: NabData): Float64Array => {
  if (!values.cache) return scoreFile(f, c);
  const key = join(values.cache, `${JSON.stringify(c).replace(/[^a-zA-Z0-9=.,:-]+/g, '_')}__${f.rel.replace(/\//g, '__')}.f64`);
  if (existsSync(key)) return new Float64Array(readFileSync(key).buffer.slice(0));
  const s = scoreFile(f, c);
  mkdirSync(values.cache, { recursive: true });
  writeFileSync(key, Buffer.from(s.buffer));
  return s;
};
let scores = combos.map((c) => files.map((f) => run(c, f)));
// --with-artime k1,k2 (anomaly only): both detectors on the point, the alarm raised by either —
// as a score, max(anomaly, k·ARTime confidence), i.e. ARTime's threshold is the anomaly's / k
// (k = 0: ARTime off). k is one more knob the inner folds choose.
if (values['with-artime']) {
  const ks = values['with-artime'].split(',').map(Number);
  // --artime-set key=value: options of that ARTime (e.g. fileRange=1), the same in every fold.
  const artOpts: NabDetectorOptions = { detector: 'artime' };
  for (const kv of values['artime-set'] ?? []) {
    const [k, v] = kv.split('=');
    (artOpts as Record<string, unknown>)[k] = Number.isNaN(Number(v)) ? v : Number(v);
  }
  const art = files.map((f) => run(artOpts, f));
  // --noisy-or: the pair's score is 1 − (1 − anomaly)(1 − k·ARTime) instead of the max.
  const comb = values['noisy-or'] ? (a: number, r: number) => a + Math.min(1, r) - a * Math.min(1, r) : Math.max;
  scores = combos.flatMap((_, ci) => ks.map((k) => scores[ci].map((s, fi) => s.map((v, r) => comb(v, k * art[fi][r])))));
  combos = combos.flatMap((c) => ks.map((k) => ({ ...c, withArtime: k }) as NabDetectorOptions));
}
// --pair-menu (one anomaly combination): the inner folds choose among `anomaly` alone and the
// pair at k = 1 by max or by noisy-OR, each with ARTime's range learned or declared (fileRange).
if (values['pair-menu']) {
  if (combos.length !== 1 || values['with-artime']) {
    console.error('_nab-cv: --pair-menu wants one combination and no --with-artime');
    process.exit(2);
  }
  const base = scores[0];
  const c0 = combos[0];
  const noisyOr = (a: number, r: number) => a + r - a * r;
  scores = [base];
  combos = [{ ...c0, withArtime: 0 }];
  for (const fileRange of [0, 1]) {
    const art = files.map((f) => run({ detector: 'artime', ...(fileRange ? { fileRange } : {}) }, f));
    for (const [rule, comb] of [['max', Math.max], ['noisyOr', noisyOr]] as const) {
      scores.push(base.map((s, fi) => s.map((v, r) => comb(v, art[fi][r]))));
      combos.push({ ...c0, withArtime: 1, fileRange, rule } as NabDetectorOptions);
    }
  }
}
console.error(`${combos.length} combinations × ${files.length} files in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
const idxOf = (keep: (folder: string) => boolean) => files.map((f, i) => (keep(f.folder) ? i : -1)).filter((i) => i >= 0);
const nabFiles = (ci: number, idx: number[]) => idx.map((i) => ({ name: files[i].rel, scores: scores[ci][i], windows: files[i].windows }));
const std = (ci: number, keep: (folder: string) => boolean) => {
  const idx = idxOf(keep);
  return scoreNab(idx.map((i) => files[i]), idx.map((i) => scores[ci][i]));
};
const best = (keep: (folder: string) => boolean) => {
  let bi = 0;
  let bs = -Infinity;
  combos.forEach((_, ci) => {
    const s = std(ci, keep).standard;
    if (s > bs) {
      bs = s;
      bi = ci;
    }
  });
  return bi;
};
const add = (a: NabFixed, b: NabFixed): NabFixed => ({ raw: a.raw + b.raw, null: a.null + b.null, perfect: a.perfect + b.perfect });
const ZERO: NabFixed = { raw: 0, null: 0, perfect: 0 };
/** Threshold swept on `train`, then `test` scored at it. */
const fixedFold = (ci: number, train: number[], test: number[], p: NabProfile) => {
  const T = nabScore(nabFiles(ci, train), p).threshold;
  return { T, fixed: nabScoreAt(nabFiles(ci, test), p, T) };
};

if (values['or-artime']) {
  // --or-artime (with --nested, the grid one combination, --artime-set for ARTime's options):
  // each detector keeps the threshold it would have alone, swept on the outer-training
  // categories; the held-out category alarms where either is past its own (score
  // max(anomaly/T_a, ARTime/T_r), fixed threshold 1). No joint knob, so no inner folds.
  if (!values.nested || combos.length !== 1 || values['with-artime']) {
    console.error('_nab-cv: --or-artime wants --nested, one combination and no --with-artime');
    process.exit(2);
  }
  const artOpts: NabDetectorOptions = { detector: 'artime' };
  for (const kv of values['artime-set'] ?? []) {
    const [k, v] = kv.split('=');
    (artOpts as Record<string, unknown>)[k] = Number.isNaN(Number(v)) ? v : Number(v);
  }
  const art = files.map((f) => run(artOpts, f));
  const nf = (src: readonly Float64Array[], idx: number[]) => idx.map((i) => ({ name: files[i].rel, scores: src[i], windows: files[i].windows }));
  const profiles = [nabProfiles.standard, nabProfiles.reward_low_FP_rate, nabProfiles.reward_low_FN_rate];
  const outer = profiles.map(() => ZERO);
  for (const F of folders) {
    const train = idxOf((g) => g !== F);
    const test = idxOf((g) => g === F);
    const parts = profiles.map((p, k) => {
      const Ta = nabScore(nf(scores[0], train), p).threshold;
      const Tr = nabScore(nf(art, train), p).threshold;
      const both = test.map((i) => ({ name: files[i].rel, scores: scores[0][i].map((v, r) => Math.max(v / Ta, art[i][r] / Tr)), windows: files[i].windows }));
      const fixed = nabScoreAt(both, p, 1);
      outer[k] = add(outer[k], fixed);
      return { Ta, Tr, fixed };
    });
    console.log(`outer ${F}: T_anomaly ${parts[0].Ta.toFixed(4)}, T_artime ${parts[0].Tr.toFixed(4)}; ${F} at them: raw ${round2(parts[0].fixed.raw)} of ${parts[0].fixed.perfect} windows`);
  }
  const [s, lfp, lfn] = outer.map(nabNormalise);
  console.log(`nested, either at its own operating point: standard ${round2(s)}, low_fp ${round2(lfp)}, low_fn ${round2(lfn)}`);
  console.log(JSON.stringify({ nested_standard: round2(s), nested_low_fp: round2(lfp), nested_low_fn: round2(lfn) }));
} else if (values.nested) {
  const profiles = [nabProfiles.standard, nabProfiles.reward_low_FP_rate, nabProfiles.reward_low_FN_rate];
  const outer = profiles.map(() => ZERO);
  for (const F of folders) {
    const inner = folders.filter((g) => g !== F);
    let bi = 0;
    let bs = -Infinity;
    combos.forEach((_, ci) => {
      let tot = ZERO;
      for (const G of inner) tot = add(tot, fixedFold(ci, idxOf((g) => g !== F && g !== G), idxOf((g) => g === G), nabProfiles.standard).fixed);
      const s = nabNormalise(tot);
      if (s > bs) {
        bs = s;
        bi = ci;
      }
    });
    const parts = profiles.map((p, k) => {
      const r = fixedFold(bi, idxOf((g) => g !== F), idxOf((g) => g === F), p);
      outer[k] = add(outer[k], r.fixed);
      return r;
    });
    console.log(
      `outer ${F}: chosen ${JSON.stringify(combos[bi])} (inner ${round2(bs)}), threshold ${parts[0].T.toFixed(4)}; ${F} at it: raw ${round2(parts[0].fixed.raw)} of ${parts[0].fixed.perfect} windows`,
    );
  }
  const [s, lfp, lfn] = outer.map(nabNormalise);
  console.log(`nested (outer: leave one category out; inner: leave one more out; thresholds fixed before scoring): standard ${round2(s)}, low_fp ${round2(lfp)}, low_fn ${round2(lfn)}`);
  console.log(JSON.stringify({ nested_standard: round2(s), nested_low_fp: round2(lfp), nested_low_fn: round2(lfn) }));
} else {
  const held: Float64Array[] = new Array(files.length);
  for (const F of folders) {
    const ci = best((g) => g !== F);
    console.log(`held out ${F}: chosen ${JSON.stringify(combos[ci])}; ${F} alone (own threshold) ${round2(std(ci, (g) => g === F).standard)}`);
    files.forEach((f, i) => {
      if (f.folder === F) held[i] = scores[ci][i];
    });
  }
  const cv = scoreNab(files, held);
  console.log(`leave-one-category-out (pooled held-out scores, one threshold): standard ${round2(cv.standard)}, low_fp ${round2(cv.low_fp)}, low_fn ${round2(cv.low_fn)}`);
}
const all = best(() => true);
const fig = std(all, () => true);
console.log(`best on all files (in-sample): ${JSON.stringify(combos[all])} → standard ${round2(fig.standard)}, low_fp ${round2(fig.low_fp)}, low_fn ${round2(fig.low_fn)}`);
