/**
 * Honest tuning for the SKAB bench: cross-validation and nested cross-validation.
 *
 *   npx tsx bench/_skab-cv.ts --data ../shared/data/skab [--nested] [--methods online,clear,band,bocpd,cusum,delay,watch,watchk] [--cusum 2,4,8,16] [--watch 2,4,8,16] [--grid small|wide]
 *
 * Methods (how the changepoints scored come out of the same online detector; the
 * point-wise prediction, hence F1/FAR/MAR, is the same for all but `cusum`):
 *   online  the alarm's raise and clear as they happen (the figure before issue 17);
 *   clear   the clear dated to when the hold condition began (its `onsetTs`), raise as it happens;
 *   band    clear dated, raise dated to the first frame its point's excursion beyond the warm-up band;
 *   bocpd   clear dated, raise dated to the later of that and the start of the most probable
 *           run of a Bayesian online changepoint detector on the point's residual (onset.ts);
 *   cusum   online like `online`, the detector raising also by the CUSUM of its band score
 *           (option `cusum`, issue 17): a different alarm, so F1/FAR/MAR change too. Its threshold
 *           factor (`--cusum`, default 2, 4, 8, 16) is tuned with λ, k and the off-delay: the procedure `cusum/4`;
 *   delay   online, the on-delay (0, 1, 2 s) tuned with λ, k and the off-delay: `delay/4`;
 *   watch   two-stage (option `watch`, issue 17): a yellow watch raised at once by the band-score
 *           CUSUM, confirmed by the unchanged alarm within 30 s or withdrawn; changepoints where the
 *           level leaves or returns to normal, F1/FAR/MAR of the alarm alone. Factor (`--watch`,
 *           default 2, 4, 8, 16) tuned with λ, k and the off-delay: `watch/4`; and `watch/3+1`: λ, k and
 *           the off-delay tuned first for the alarm alone (as `online/3`, which must run too), then
 *           only the factor with them fixed (the watch cannot then buy changepoint score with F1);
 *   watchk  the same with the watch gated as the `cusum` raise (u ≥ k at that frame): `watchk/4`, `watchk/3+1`.
 * A procedure is a method with the knobs it may tune: `/7` the seven knobs of the grid,
 * `/3` only λ, k and the off-delay (the others at the shipped defaults). `bocpd` costs about
 * 4× a plain run, so it is run on the `/3` combinations only.
 *
 * For every method and combination each file is run once (predictFile, as the bench).
 * Printed, per procedure: in-sample best, leave-one-folder-out and leave-one-file-out
 * (each fold predicted by the combination best on the other files). With --nested:
 * outer leave-one-folder-out (inner folds: the other folders) and outer leave-one-file-out
 * (inner folds: each other file), the procedure chosen by the inner folds, tuned on the
 * outer-training files only, then scoring the outer fold; first with the `online`
 * procedures only (the baseline: the detector before issue 17), then with all.
 * Objective (fixed in issue 6): F1/0.80 + NAB_standard/33 − 0.05·max(0, FAR − 12).
 */
import { parseArgs } from 'node:util';
import { SKAB_OPTIONS } from './_skab-options.js';
import { loadSkab, predictFile, TRAIN_ROWS, type SkabDetectorOptions } from './_skab.js';
import {
  crossKnobs,
  crossValidate,
  FIELDS,
  figuresOf,
  foldsBy,
  N,
  nestedCrossValidate,
  objective,
  S_LOWFN,
  S_LOWFP,
  S_STD,
  sumOf,
  tune,
  type MethodStats,
  type PooledFigures,
  type Procedure,
} from './_skab-nested.js';
import { addCounts, changepointFileScore, changepointProfiles, type Counts } from './score/skab.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    grid: { type: 'string', default: 'small' },
    methods: { type: 'string', default: 'online,clear,band,bocpd' },
    nested: { type: 'boolean', default: false },
    cusum: { type: 'string', default: '2,4,8,16' },
    watch: { type: 'string', default: '2,4,8,16' },
  },
});
if (!values.data) {
  console.error('usage: npx tsx bench/_skab-cv.ts --data <dir> [--nested] [--methods online,clear,band,bocpd,cusum,delay,watch,watchk] [--cusum 2,4,8,16] [--watch 2,4,8,16] [--grid small|wide]');
  process.exit(2);
}
const grids: Record<string, Record<string, number[]>> = {
  // What ships: λ, k, off-delay, then the four knobs added in issue 6's later rounds.
  small: {
    lambda: [0.1, 0.2, 0.3],
    k: [2, 2.5, 3],
    offDelayMs: [9000, 19_000],
    recover: [0, 0.5, 0.8],
    recoverWeight: [0.2, 0.5, 1],
    vote: [0, 0.5, 0.7],
    voteDelayMs: [2000, 5000, 8000],
  },
  // The wide search of issue 6, to show what tuning more knobs does to the held-out figures.
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
/**
 * How each method runs the detector and which of its outputs makes the changepoints;
 * `extra`: knobs of the method itself, crossed with the `/3` combinations (its only procedure).
 */
const methodDefs: Record<string, { onset: SkabDetectorOptions; cp: 'pred' | 'told' | 'dated'; threeOnly: boolean; extra?: Record<string, number[]> }> = {
  // `watch: 0` pinned: the shipped detector has a watch since session 11; these methods are the alarm alone.
  online: { onset: { onset: 'off', watch: 0 }, cp: 'pred', threeOnly: false },
  clear: { onset: { onset: 'off', watch: 0 }, cp: 'dated', threeOnly: false },
  band: { onset: { onset: 'band', watch: 0 }, cp: 'dated', threeOnly: false },
  bocpd: { onset: { onset: 'bocpd', watch: 0 }, cp: 'dated', threeOnly: true },
  // Online, raised also by the CUSUM of the band score (issue 17), its threshold factor tuned with λ, k, off-delay.
  cusum: { onset: { onset: 'off', watch: 0 }, cp: 'pred', threeOnly: true, extra: { cusum: values.cusum!.split(',').map(Number) } },
  // Online with the on-delay tuned too (0, 1, 2 s): the check that the CUSUM's gain is more than a shorter on-delay.
  delay: { onset: { onset: 'off', watch: 0 }, cp: 'pred', threeOnly: true, extra: { onDelayMs: [0, 1000, 2000] } },
  // Two-stage (issue 17): a yellow watch by the band-score CUSUM, confirmed by the unchanged alarm
  // within 30 s or withdrawn; changepoints where the level leaves / returns to normal.
  watch: { onset: { onset: 'off', watchGate: 0 }, cp: 'told', threeOnly: true, extra: { watch: values.watch!.split(',').map(Number) } },
  // The same, the watch gated as the `cusum` raise (u ≥ k at that frame): that raise as a yellow the alarm must confirm.
  watchk: { onset: { onset: 'off', watchGate: 1 }, cp: 'told', threeOnly: true, extra: { watch: values.watch!.split(',').map(Number) } },
};
for (const [m, knob] of [['cusum', 'cusum'], ['watch', 'watch'], ['watchk', 'watch']] as const) {
  if (methodDefs[m].extra![knob].some((c) => !(c > 0))) {
    console.error(`--${knob}: threshold factors must be numbers > 0, got ${values[knob]}`);
    process.exit(2);
  }
}
const methodNames = values.methods!.split(',');
for (const m of methodNames) {
  if (!methodDefs[m]) {
    console.error(`unknown method ${m}: ${Object.keys(methodDefs).join(', ')}`);
    process.exit(2);
  }
}

const combos = crossKnobs<SkabDetectorOptions>([{}], grid);
const all = combos.map((_, i) => i);
/** The `/3` combinations: only λ, k and the off-delay vary (the others at the shipped defaults). */
const fixed: Record<string, unknown> = { recover: 0.8, recoverWeight: 0.5, vote: 0.5, voteDelayMs: 5000 };
const three = all.filter((i) => Object.entries(fixed).every(([k, v]) => (combos[i] as Record<string, unknown>)[k] === undefined || (combos[i] as Record<string, unknown>)[k] === v));
/** Per method: its combinations (its own when it has extra knobs) and the indices its `/3` procedure may choose. */
const methodCombos = new Map<string, { list: SkabDetectorOptions[]; three: number[] }>();
for (const name of methodNames) {
  const extra = methodDefs[name].extra;
  if (!extra) methodCombos.set(name, { list: combos, three });
  else {
    const list = crossKnobs(
      three.map((i) => combos[i]),
      extra,
    );
    methodCombos.set(name, { list, three: list.map((_, i) => i) });
  }
}

const files = loadSkab(values.data);
const F = files.length;
const t0 = performance.now();
const methods: MethodStats[] = methodNames.map((name) => ({ name, combos: methodCombos.get(name)!.list.length, files: F, data: new Float64Array(methodCombos.get(name)!.list.length * F * FIELDS) }));
/** One run per (onset mode, combination) serves every method that shares the mode (a method with extra knobs runs alone). */
const byMode = new Map<string, { stats: MethodStats; cp: 'pred' | 'told' | 'dated' }[]>();
methodNames.forEach((name, mi) => {
  const def = methodDefs[name];
  const key = def.extra ? name : JSON.stringify(def.onset);
  const list = byMode.get(key) ?? [];
  list.push({ stats: methods[mi], cp: def.cp });
  byMode.set(key, list);
});
for (const targets of byMode.values()) {
  const def = methodDefs[targets[0].stats.name];
  const mc = methodCombos.get(targets[0].stats.name)!;
  const threeOnly = targets.every((t) => methodDefs[t.stats.name].threeOnly);
  for (const c of threeOnly ? mc.three : mc.list.map((_, i) => i)) {
    files.forEach((f, i) => {
      const p = predictFile(f, { ...SKAB_OPTIONS, ...mc.list[c], ...def.onset });
      const ts = f.ts.slice(TRAIN_ROWS);
      const changepoint = f.changepoint.subarray(TRAIN_ROWS);
      for (const t of targets) {
        const o = (c * F + i) * FIELDS;
        const counts: Counts = { tp: 0, fp: 0, tn: 0, fn: 0 };
        addCounts(counts, f.anomaly.subarray(TRAIN_ROWS), p.pred);
        const cpf = { ts, changepoint, pred: p[t.cp] };
        const std = changepointFileScore(cpf, changepointProfiles.standard);
        const d = t.stats.data;
        d[o] = counts.tp;
        d[o + 1] = counts.fp;
        d[o + 2] = counts.tn;
        d[o + 3] = counts.fn;
        d[o + N] = std.n;
        d[o + S_STD] = std.s;
        d[o + S_LOWFP] = changepointFileScore(cpf, changepointProfiles.lowFp).s;
        d[o + S_LOWFN] = changepointFileScore(cpf, changepointProfiles.lowFn).s;
      }
    });
  }
}
console.error(`${methods.map((m) => `${m.name} ${methodDefs[m.name].threeOnly ? methodCombos.get(m.name)!.three.length : m.combos}`).join(", ")} combinations × ${F} files × methods ${methodNames.join(',')} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

const procs: Procedure[] = [];
for (const m of methods) {
  if (!methodDefs[m.name].threeOnly) procs.push({ name: `${m.name}/7`, method: m, combos: all });
  const extra = methodDefs[m.name].extra;
  procs.push({ name: extra ? `${m.name}/${3 + Object.keys(extra).length}` : `${m.name}/3`, method: m, combos: methodCombos.get(m.name)!.three });
  const online = methods.find((x) => x.name === 'online');
  if ((m.name === 'watch' || m.name === 'watchk') && online) {
    // The alarm's knobs as online/3 chooses them, then the factor: the watch's combinations are three × factors, in that order.
    const nW = methodDefs[m.name].extra!.watch.length;
    const first: Procedure = { name: 'online/3', method: online, combos: three };
    const follow = (c: number) => Array.from({ length: nW }, (_, w) => three.indexOf(c) * nW + w);
    procs.push({ name: `${m.name}/3+1`, method: m, combos: methodCombos.get(m.name)!.three, staged: { first, follow } });
  }
}
const r = (f: PooledFigures) => {
  const x = (v: number, k: number) => Math.round(v * 10 ** k) / 10 ** k;
  return `F1 ${x(f.f1, 3)} FAR ${x(f.far, 1)} MAR ${x(f.mar, 1)} NAB ${x(f.nab_standard, 1)} (low FP ${x(f.nab_lowfp, 1)}, low FN ${x(f.nab_lowfn, 1)})`;
};
const short = (m: MethodStats, c: number) =>
  Object.entries(methodCombos.get(m.name)!.list[c])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
const idx = [...Array(F).keys()];
const byFolder = foldsBy(idx, (i) => files[i].folder);
const byFile = idx.map((i) => [i]);
const folderName = (fold: readonly number[]) => files[fold[0]].folder;

// What ships: the procedure with the best leave-one-file-out objective on all files, tuned on all files.
{
  const cvs = procs.map((p) => objective(crossValidate(p, idx, byFile).pooled));
  let pi = 0;
  cvs.forEach((o, i) => {
    if (o > cvs[pi]) pi = i;
  });
  console.log(`ships: ${procs[pi].name} (leave-one-file-out objectives ${cvs.map((o, i) => `${procs[i].name} ${o.toFixed(3)}`).join(', ')}), tuned ${short(procs[pi].method, tune(procs[pi], idx))}`);
}
for (const p of procs) {
  const best = tune(p, idx);
  console.log(`${p.name}: in-sample ${r(figuresOf(sumOf(p.method, best, idx)))} with ${short(p.method, best)}`);
  const lofo = crossValidate(p, idx, byFolder);
  console.log(`${p.name}: leave-one-folder-out ${r(figuresOf(lofo.pooled))}; chosen ${lofo.choices.map((c, k) => `${folderName(byFolder[k])}: ${short(p.method, c)}`).join(' | ')}`);
  const loo = crossValidate(p, idx, byFile);
  console.log(`${p.name}: leave-one-file-out ${r(figuresOf(loo.pooled))}`);
}

if (values.nested) {
  const inner = {
    folder: (train: readonly number[]) => foldsBy(train, (i) => files[i].folder),
    file: (train: readonly number[]) => train.map((i) => [i]),
  };
  const sets: [string, Procedure[]][] = [
    ['baseline (online only)', procs.filter((p) => p.method.name === 'online')],
    ['all procedures', procs],
    // Chosen after seeing the figures above (band is dominated by bocpd): not a claim, a check.
    ['without band (post hoc)', procs.filter((p) => p.method.name !== 'band')],
    ['online and cusum', procs.filter((p) => p.method.name === 'online' || p.method.name === 'cusum')],
    ['online and watch', procs.filter((p) => p.method.name === 'online' || p.method.name === 'watch')],
    ['watch only', procs.filter((p) => p.method.name === 'watch')],
    ['online and staged watch', procs.filter((p) => p.name === 'online/7' || p.name === 'online/3' || p.name.endsWith('/3+1'))],
    ['online, watch and watchk', procs.filter((p) => ['online', 'watch', 'watchk'].includes(p.method.name))],
  ];
  const seen = new Set<string>();
  for (const [label, ps] of sets) {
    // A set equal to one already printed (e.g. all procedures when only online and cusum ran) is skipped.
    const key = ps.map((p) => p.name).join();
    if (ps.length === 0 || seen.has(key)) continue;
    seen.add(key);
    const folder = nestedCrossValidate(ps, byFolder, inner.folder, F);
    for (const o of folder.outer) {
      console.log(
        `nested ${label}, outer folder ${folderName(o.fold)}: inner chose ${ps[o.procedure].name} (inner objectives ${o.inner.map((v, i) => `${ps[i].name} ${v.toFixed(3)}`).join(', ')}), tuned ${short(ps[o.procedure].method, o.combo)} → ${r(figuresOf(o.stats))}`,
      );
    }
    console.log(`nested ${label}, leave-one-folder-out pooled: ${r(figuresOf(folder.pooled))}`);
    const file = nestedCrossValidate(ps, byFile, inner.file, F);
    const chosen = new Map<string, number>();
    for (const o of file.outer) chosen.set(ps[o.procedure].name, (chosen.get(ps[o.procedure].name) ?? 0) + 1);
    for (const fold of byFolder) {
      const v = new Float64Array(FIELDS);
      for (const o of file.outer) if (fold.includes(o.fold[0])) for (let k = 0; k < FIELDS; k++) v[k] += o.stats[k];
      console.log(`nested ${label}, leave-one-file-out, folder ${folderName(fold)}: ${r(figuresOf(v))}`);
    }
    console.log(`nested ${label}, leave-one-file-out pooled: ${r(figuresOf(file.pooled))}; procedures chosen ${JSON.stringify([...chosen])}`);
  }
}
