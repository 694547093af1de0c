/**
 * NAB harness shared by `pnpm bench nab` and its cross-validation: load the CSVs and
 * windows, replay each file row by row through the agent's own per-point anomaly
 * detector (createDetectors), and score with the corpus-wide threshold sweep.
 *
 *     file.csv ─▶ every row in order (probation rows are the warm-up) ─▶ anomaly score per row
 *              ─▶ nabScore (one threshold for the whole corpus, per profile)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Reading } from '../shared/src/index.js';
import type { AnomalyConfig, ArtimeConfig } from '../shared/src/config/index.js';
import { createDetectors, type ScoringDetector } from '../edge/src/detect/index.js';
import { ArtimeDetector, type ArtimeOptions } from '../edge/src/detect/artime.js';
import { nabProfiles, nabScore, probationRows, type NabFile } from './score/nab.js';
import { cadScores } from './_cad.js';

/** One NAB data file with its labelled windows as row ranges. */
export interface NabData {
  /** Path relative to the data dir, as keyed in windows.json. */
  rel: string;
  /** Category folder (`realTweets`, ...). */
  folder: string;
  timestamp: string[];
  ts: number[];
  value: Float64Array;
  windows: [number, number][];
}

const parseTs = (s: string) => Date.parse(`${s.trim().replace(' ', 'T')}Z`);

/** Every CSV under `dir` that windows.json lists, with its windows mapped to rows. */
export function loadNab(dir: string, windowsPath: string): NabData[] {
  const windows = JSON.parse(readFileSync(windowsPath, 'utf8')) as Record<string, [string, string][]>;
  const out: NabData[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.csv')) {
        const rel = relative(dir, p).split('\\').join('/');
        const w = windows[rel];
        if (!w) {
          console.error(`bench nab: ${rel} is not in the windows file; skipped`);
          continue;
        }
        out.push(parseNab(readFileSync(p, 'utf8'), rel, w));
      }
    }
  };
  walk(dir);
  return out.sort((a, b) => a.rel.localeCompare(b.rel));
}

/** Parses `timestamp,value` and maps each window's timestamps to row indexes. */
export function parseNab(text: string, rel: string, windows: [string, string][]): NabData {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const n = lines.length - 1;
  const f: NabData = { rel, folder: rel.split('/')[0], timestamp: new Array(n), ts: new Array(n), value: new Float64Array(n), windows: [] };
  const rowOf = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const [t, v] = lines[i + 1].split(',');
    f.timestamp[i] = t;
    f.ts[i] = parseTs(t);
    f.value[i] = Number(v);
    rowOf.set(f.ts[i], i);
  }
  for (const [a, b] of windows) {
    const l = rowOf.get(parseTs(a));
    const r = rowOf.get(parseTs(b));
    if (l === undefined || r === undefined) throw new Error(`${rel}: window [${a}, ${b}] does not start and end on rows of the file`);
    f.windows.push([l, r]);
  }
  return f;
}

/** The per-point detector kinds the NAB bench can run. */
export type NabDetectorKind = 'anomaly' | 'artime' | 'cad';

/**
 * Options under test (everything but the warm-up, which is the file's probation), plus
 * `detector`: which kind runs (default `anomaly`), and `withArtime` (k > 0, anomaly only): an
 * ARTime detector (its defaults) runs on the same point too, and the row's score is
 * max(anomaly score, k·ARTime confidence) — both detectors configured on the point, the
 * alarm raised by either, ARTime's threshold the anomaly's / k. `fileRange` (1 = on): ARTime is
 * given the file's minimum and maximum as the point's declared range (`min`, `max`), as NAB's
 * detector interface gives every detector ("input min/max"). `episode` (1 = on): ARTime's
 * `episode` option (each event scored once); `published` (1 = on): its `published` option.
 */
export type NabDetectorOptions = Omit<AnomalyConfig, 'warmup'> &
  Omit<Partial<ArtimeConfig>, 'warmup' | 'episode' | 'published'> & { detector?: NabDetectorKind; withArtime?: number; fileRange?: number; episode?: number; published?: number; publishedWithout?: ArtimeOptions['publishedWithout'] };

/** Runs one of the agent's per-point detectors over one file; anomaly score per row. `onRow` sees the detector after each row. */
export function scoreFile(f: NabData, opts: NabDetectorOptions, onRow?: (i: number, det: ScoringDetector) => void): Float64Array {
  const device = 'nab';
  const point = 'value';
  const { detector = 'anomaly', withArtime = 0, fileRange = 0, episode = 0, published = 0, ...rest } = opts;
  if (detector === 'cad') return cadScores(f); // bench-only experiment (bench/_cad.ts)
  const warmup = Math.max(10, probationRows(f.ts.length));
  let min = Infinity;
  let max = -Infinity;
  for (const v of f.value) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = fileRange && min < max ? { min, max } : {};
  const both = withArtime > 0 && detector === 'anomaly' ? { artime: { warmup, ...range } } : {};
  const own = detector === 'artime' ? { warmup, ...range, ...(episode ? { episode: true } : {}), ...(published ? { published: true } : {}), ...rest } : { warmup, ...rest };
  // `published` and its ablation `publishedWithout` are bench-only (outside the config schema: both scored below the default).
  if (detector === 'artime' && (published || 'publishedWithout' in own)) return artimeAlone(f, new ArtimeDetector('nab/value/artime', device, point, own as ArtimeOptions));
  const set = createDetectors({ points: [{ device, point, [detector]: own, ...both }] });
  const det = set.detectors[0] as ScoringDetector;
  const art = 'artime' in both ? (set.detectors[1] as ScoringDetector) : null;
  const reading: Reading = { device, point, ts: 0, value: 0 };
  const out = new Float64Array(f.ts.length);
  for (let i = 0; i < f.ts.length; i++) {
    reading.ts = f.ts[i];
    reading.value = f.value[i];
    set.onReading(reading);
    out[i] = art ? Math.max(det.score, withArtime * art.score) : det.score;
    onRow?.(i, det);
  }
  return out;
}

/** Per-row scores of one ARTime detector built directly (not through the config schema). */
function artimeAlone(f: NabData, det: ArtimeDetector): Float64Array {
  const reading: Reading = { device: 'nab', point: 'value', ts: 0, value: 0 };
  const out = new Float64Array(f.ts.length);
  for (let i = 0; i < f.ts.length; i++) {
    reading.ts = f.ts[i];
    reading.value = f.value[i];
    det.update(reading);
    out[i] = det.score;
  }
  return out;
}

/** The bench's figures. */
export interface NabFigures {
  standard: number;
  low_fp: number;
  low_fn: number;
}

/** Normalised scores of the three profiles (each with its own corpus-wide threshold). */
export function scoreNab(files: readonly NabData[], scores: readonly Float64Array[]): NabFigures & { thresholds: number[] } {
  const nf: NabFile[] = files.map((f, i) => ({ name: f.rel, scores: scores[i], windows: f.windows }));
  const s = nabScore(nf, nabProfiles.standard);
  const p = nabScore(nf, nabProfiles.reward_low_FP_rate);
  const n = nabScore(nf, nabProfiles.reward_low_FN_rate);
  return { standard: s.score, low_fp: p.score, low_fn: n.score, thresholds: [s.threshold, p.threshold, n.threshold] };
}

export const round2 = (x: number) => Math.round(x * 100) / 100;
