/**
 * SKAB harness shared by `pnpm bench skab` and the cross-validation script:
 * load the labelled CSVs, replay each file row by row through the agent's own
 * detectors (createDetectors), score the predictions.
 *
 *     file.csv ─▶ rows 0..399: normal rows fed as warm-up (labels used only to skip anomalous ones)
 *              ─▶ rows 400..:  every value fed in order, prediction = detector level ≠ normal
 *              ─▶ pooled F1/FAR/MAR of the online prediction + NAB-style changepoint scores of
 *                 the episodes as the events date them (`onsetTs`) and of the online prediction
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AlarmLevel, type Reading } from '../shared/src/index.js';
import type { MultivariateConfig } from '../shared/src/config/index.js';
import { createDetectors } from '../edge/src/detect/index.js';
import {
  addCounts,
  changepointProfiles,
  changepointScore,
  outlierMetrics,
  type ChangepointFile,
  type Counts,
} from './score/skab.js';

/** Rows of each file that are training data. */
export const TRAIN_ROWS = 400;

/** One labelled SKAB file. */
export interface SkabFile {
  /** Path relative to the data dir, e.g. `valve1/3.csv`. */
  rel: string;
  /** First directory of `rel` (`valve1`, `other`...). */
  folder: string;
  points: string[];
  datetime: string[];
  ts: number[];
  /** rows × points, row-major. */
  values: Float64Array;
  anomaly: Uint8Array;
  changepoint: Uint8Array;
}

/** Every labelled CSV under `dir` (a file without an `anomaly` column, e.g. anomaly-free, is skipped). */
export function loadSkab(dir: string): SkabFile[] {
  const out: SkabFile[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.csv')) {
        const f = parseSkab(readFileSync(p, 'utf8'), relative(dir, p));
        if (f) out.push(f);
      }
    }
  };
  walk(dir);
  return out.sort((a, b) => a.rel.localeCompare(b.rel, 'en', { numeric: true }));
}

/** Parses one `;`-separated SKAB file; undefined when it has no labels. */
export function parseSkab(text: string, rel: string): SkabFile | undefined {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const head = lines[0].split(';');
  const ia = head.indexOf('anomaly');
  const ic = head.indexOf('changepoint');
  if (ia < 0) return undefined;
  const sensorCols = head.map((_, i) => i).filter((i) => i > 0 && i !== ia && i !== ic);
  const n = lines.length - 1;
  const f: SkabFile = {
    rel,
    folder: rel.split(/[\\/]/).length > 1 ? rel.split(/[\\/]/)[0] : '.',
    points: sensorCols.map((i) => head[i]),
    datetime: new Array(n),
    ts: new Array(n),
    values: new Float64Array(n * sensorCols.length),
    anomaly: new Uint8Array(n),
    changepoint: new Uint8Array(n),
  };
  for (let r = 0; r < n; r++) {
    const cells = lines[r + 1].split(';');
    f.datetime[r] = cells[0];
    f.ts[r] = Date.parse(`${cells[0].replace(' ', 'T')}Z`);
    sensorCols.forEach((c, j) => (f.values[r * sensorCols.length + j] = Number(cells[c])));
    f.anomaly[r] = Number(cells[ia]) === 1 ? 1 : 0;
    f.changepoint[r] = ic >= 0 && Number(cells[ic]) === 1 ? 1 : 0;
  }
  return f;
}

/** Multivariate options under test (everything but device, points and warm-up). */
export type SkabDetectorOptions = Omit<MultivariateConfig, 'device' | 'points' | 'warmup' | 'name'>;

/** What the detector said about one file's test rows (after the training rows). */
export interface SkabPrediction {
  /** Online: 1 while the detector's alarm (above yellow) is raised after the row's readings. */
  pred: Uint8Array;
  /**
   * Online: 1 while the detector's level is not normal (a yellow watch, option `watch`, or the
   * alarm): where its changepoints are scored. The same as `pred` without a watch.
   */
  told: Uint8Array;
  /**
   * Dated: the same episodes, each from its raise event's `onsetTs` to its clear event's
   * `onsetTs` (the detector's own estimates, carried by the events; `ts` when absent).
   */
  dated: Uint8Array;
}

/**
 * Runs the agent's detectors over one file, strictly online; returns the 0/1
 * prediction for every row after the training rows, and the dated episodes.
 */
export function predictFile(f: SkabFile, opts: SkabDetectorOptions): SkabPrediction {
  const d = f.points.length;
  const train = Math.min(TRAIN_ROWS, f.ts.length);
  let normalTrain = 0;
  for (let r = 0; r < train; r++) if (f.anomaly[r] === 0) normalTrain++;
  // Labels of the training rows may be used: anomalous ones are not learned as normal.
  const skipLabelled = normalTrain >= 10;
  const device = 'skab';
  const set = createDetectors({
    multivariate: [{ device, points: f.points, warmup: skipLabelled ? normalTrain : train, ...opts }],
  });
  const det = set.detectors[0];
  /** Dated episode edges: [onset, end) in ms; end Infinity while open. */
  const episodes: [number, number][] = [];
  const reading: Reading = { device, point: '', ts: 0, value: 0 };
  const feed = (r: number) => {
    reading.ts = f.ts[r];
    for (let j = 0; j < d; j++) {
      reading.point = f.points[j];
      reading.value = f.values[r * d + j];
      for (const ev of set.onReading(reading)) {
        const at = ev.onsetTs ?? ev.ts;
        if (ev.previous === AlarmLevel.Normal) episodes.push([at, Infinity]);
        else if (ev.level === AlarmLevel.Normal && episodes.length > 0) episodes[episodes.length - 1][1] = at;
      }
    }
  };
  for (let r = 0; r < train; r++) if (!skipLabelled || f.anomaly[r] === 0) feed(r);
  const pred = new Uint8Array(f.ts.length - train);
  const told = new Uint8Array(pred.length);
  for (let r = train; r < f.ts.length; r++) {
    feed(r);
    pred[r - train] = det.level > AlarmLevel.Yellow ? 1 : 0;
    told[r - train] = det.level !== AlarmLevel.Normal ? 1 : 0;
  }
  const dated = new Uint8Array(pred.length);
  for (const [a, b] of episodes) for (let r = train; r < f.ts.length; r++) if (f.ts[r] >= a && f.ts[r] < b) dated[r - train] = 1;
  return { pred, told, dated };
}

/** The bench's figures for a set of files and their predictions. */
export interface SkabFigures {
  f1: number;
  far: number;
  mar: number;
  /**
   * Changepoint scores online: a changepoint is where the level leaves or returns to normal (the
   * alarm, or a yellow watch before it), when it happens. The figure of record (what an operator
   * is told, and when). F1/FAR/MAR are of the alarm alone.
   */
  nab_standard: number;
  nab_lowfp: number;
  nab_lowfn: number;
  /**
   * The same scores with each episode dated as its events say afterwards (raise at its `onsetTs`,
   * clear at its `onsetTs`): how well the detector locates a change once it has seen it. Not
   * comparable with scores of detectors that must answer at the row.
   */
  nab_dated_standard: number;
  nab_dated_lowfp: number;
  nab_dated_lowfn: number;
  files: number;
}

/** Pooled outlier metrics and changepoint scores of files with their predictions. */
export function scoreSkab(files: readonly SkabFile[], preds: readonly SkabPrediction[]): SkabFigures {
  const c: Counts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const cp: ChangepointFile[] = [];
  const online: ChangepointFile[] = [];
  files.forEach((f, i) => {
    const truth = f.anomaly.subarray(TRAIN_ROWS);
    addCounts(c, truth, preds[i].pred);
    const ts = f.ts.slice(TRAIN_ROWS);
    const changepoint = f.changepoint.subarray(TRAIN_ROWS);
    cp.push({ ts, changepoint, pred: preds[i].dated });
    online.push({ ts, changepoint, pred: preds[i].told });
  });
  const m = outlierMetrics(c);
  return {
    f1: m.f1,
    far: m.far,
    mar: m.mar,
    nab_standard: changepointScore(online, changepointProfiles.standard),
    nab_lowfp: changepointScore(online, changepointProfiles.lowFp),
    nab_lowfn: changepointScore(online, changepointProfiles.lowFn),
    nab_dated_standard: changepointScore(cp, changepointProfiles.standard),
    nab_dated_lowfp: changepointScore(cp, changepointProfiles.lowFp),
    nab_dated_lowfn: changepointScore(cp, changepointProfiles.lowFn),
    files: files.length,
  };
}

/** Figures rounded for printing. */
export function rounded(f: SkabFigures): SkabFigures {
  const r = (x: number, k: number) => Math.round(x * 10 ** k) / 10 ** k;
  return { f1: r(f.f1, 4), far: r(f.far, 2), mar: r(f.mar, 2), nab_standard: r(f.nab_standard, 2), nab_lowfp: r(f.nab_lowfp, 2), nab_lowfn: r(f.nab_lowfn, 2), nab_dated_standard: r(f.nab_dated_standard, 2), nab_dated_lowfp: r(f.nab_dated_lowfp, 2), nab_dated_lowfn: r(f.nab_dated_lowfn, 2), files: f.files };
}
