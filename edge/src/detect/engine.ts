/**
 * The one entry point the agent (and the benches) use to run every detector.
 *
 *     createDetectors(config) ─▶ route: device ─▶ point ─▶ [detectors]
 *     onReading(r) ─▶ each detector of (r.device, r.point) ─▶ events (level changes only)
 *
 * Hot path: two Map lookups and one `update` per detector; when nothing changes
 * it returns the same frozen empty array, so a quiet stream allocates nothing.
 */
import { AlarmLevel, type Reading } from '@lifeline/shared';
import { AnomalyDetector } from './anomaly.js';
import { ArtimeDetector } from './artime.js';
import { parseDetectorsConfig, type DetectorsConfig } from '@lifeline/shared/config';
import { levelOf } from './levels.js';
import { ModalDriftDetector } from './modal-drift.js';
import { MultivariateDetector } from './multivariate.js';
import { RainstormDetector } from './rainstorm.js';
import { RangeDetector } from './range.js';
import { RateDetector } from './rate.js';
import { StuckDetector } from './stuck.js';
import { ThresholdDetector, ThresholdLimits } from './threshold.js';
import type { Detector, DetectorEvent } from './types.js';

/** The running detectors of one gateway. */
export interface DetectorSet {
  /** Every detector, in config order. */
  readonly detectors: readonly Detector[];
  /** Feeds one reading to the detectors of its point; returns their level changes (often none). */
  onReading(r: Reading): readonly DetectorEvent[];
  /** A detector by id (`<device>/<point>/<kind>` or the multivariate name). */
  get(id: string): Detector | undefined;
}

const NONE: readonly DetectorEvent[] = Object.freeze([]);

/**
 * Builds the detectors of a `detectors` config section. A raw object is validated
 * first (every problem listed in one CONFIG_INVALID error).
 */
export function createDetectors(config: DetectorsConfig | unknown): DetectorSet {
  const cfg = parseDetectorsConfig(config);
  const all: Detector[] = [];
  // Shared by the detectors of a set (issue #18: 20,000 detectors at 500 devices): the limit lists of
  // the threshold detectors, and one frozen `points` array per point for its range, threshold and stuck.
  const limits = new ThresholdLimits();
  // The config holds a string of its own per entry for the same device, point or unit; the detectors keep one each.
  const strings = new Map<string, string>();
  const intern = <T extends string | undefined>(s: T): T => {
    if (s === undefined) return s;
    const known = strings.get(s);
    if (known !== undefined) return known as T;
    strings.set(s, s);
    return s;
  };
  for (const entry of cfg.points ?? []) {
    const p = { ...entry, device: intern(entry.device), point: intern(entry.point) };
    const id = (kind: string) => `${p.device}/${p.point}/${kind}`;
    const unit = intern(p.unit);
    const points = Object.freeze([p.point]);
    if (p.range) {
      all.push(new RangeDetector(id('range'), p.device, points, { ...p.range, level: p.range.level ? levelOf(p.range.level) : undefined, unit }));
    }
    if (p.threshold) all.push(new ThresholdDetector(id('threshold'), p.device, points, { ...p.threshold, unit }, limits));
    if (p.rate) all.push(new RateDetector(id('rate'), p.device, p.point, { ...p.rate, level: p.rate.level ? levelOf(p.rate.level) : undefined, unit }));
    if (p.stuck) all.push(new StuckDetector(id('stuck'), p.device, points, { ...p.stuck, level: p.stuck.level ? levelOf(p.stuck.level) : undefined, unit }));
    if (p.anomaly) {
      all.push(new AnomalyDetector(id('anomaly'), p.device, p.point, { ...p.anomaly, level: p.anomaly.level ? levelOf(p.anomaly.level) : undefined }));
    }
    if (p.artime) {
      all.push(new ArtimeDetector(id('artime'), p.device, p.point, { ...p.artime, level: p.artime.level ? levelOf(p.artime.level) : undefined }));
    }
    if (p.rainstorm) all.push(new RainstormDetector(id('rainstorm'), p.device, p.point, p.rainstorm));
  }
  for (const m of cfg.multivariate ?? []) {
    all.push(new MultivariateDetector(m.name ?? `${m.device}/multivariate`, m.device, { ...m, level: m.level ? levelOf(m.level) : undefined }));
  }
  for (const m of cfg.modal ?? []) {
    all.push(new ModalDriftDetector(m.name ?? `${m.device}/${m.frequency}/modal`, m.device, { ...m, level: m.level ? levelOf(m.level) : undefined }));
  }
  return fromDetectors(all);
}

/** Wraps ready-made detectors (tests, benches) in the same routing as createDetectors. */
export function fromDetectors(all: readonly Detector[]): DetectorSet {
  const route = new Map<string, Map<string, Detector[]>>();
  // Built for a run of `get` calls (Detection's start) and dropped after it: 20,000 entries are ~1 MB to keep.
  let byId: Map<string, Detector> | undefined;
  for (const d of all) {
    let points = route.get(d.device);
    if (!points) route.set(d.device, (points = new Map()));
    for (const p of d.points) {
      const list = points.get(p);
      if (list) list.push(d);
      else points.set(p, [d]);
    }
  }
  return {
    detectors: all,
    get(id) {
      if (!byId) {
        byId = new Map(all.map((d) => [d.id, d]));
        queueMicrotask(() => (byId = undefined));
      }
      return byId.get(id);
    },
    onReading(r: Reading): readonly DetectorEvent[] {
      const list = route.get(r.device)?.get(r.point);
      if (!list) return NONE;
      let out: DetectorEvent[] | null = null;
      for (let i = 0; i < list.length; i++) {
        const e = list[i].update(r);
        if (e !== null) (out ??= []).push(e);
      }
      return out ?? NONE;
    },
  };
}

/** The highest level any detector of a set is at (Normal when all are quiet). */
export function highestLevel(set: DetectorSet): AlarmLevel {
  let top = AlarmLevel.Normal;
  for (const d of set.detectors) if (d.level > top) top = d.level;
  return top;
}
