/**
 * Detector configuration: the TypeBox schema (embedded in the gateway config,
 * and the shape of a profile point's `detect:` defaults) and a validator that
 * reports every problem at once. It lives in shared so the profile lint
 * (devices) and the gateway (edge) check the same rules.
 *
 *     raw object ─▶ schema issues (types, ranges: negative window...) ─┐
 *                ─▶ semantic issues (red below yellow, min ≥ max...) ──┴─▶ all listed, or a typed config
 *     later, against the device profiles: unknownPointIssues(config, known)
 *
 * Example (YAML):
 *
 *     detectors:
 *       points:
 *         - device: flood-1
 *           point: water_level
 *           unit: m
 *           threshold: { high: { yellow: 2.5, red: 3.4 }, deadband: 0.05, onDelayMs: 2000, offDelayMs: 30000 }
 *           rate: { windowMs: 60000, rise: 0.5 }
 *           stuck: { epsilon: 0.001, durationMs: 3600000 }
 *           range: { min: 0, max: 10 }
 *       multivariate:
 *         - device: pump-3
 *           points: [flow, pressure, current, vibration]
 *           warmup: 600
 */
import { type Static, Type } from '@sinclair/typebox';
import { ErrorCodes, LifelineError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { formatIssues, schemaIssues, show, type ValidationIssue } from '../validate.js';

/** The four warning colours, lowest first, as spelled in a config. */
export const levelNames = ['blue', 'yellow', 'orange', 'red'] as const;
/** A warning colour as spelled in a config. */
export type LevelName = (typeof levelNames)[number];

/** Default histogram bins of the anomaly detector's distribution-change score (the detector and this check share it). */
export const anomalyDefaultBins = 4;

const Level = Type.Union(
  levelNames.map((n) => Type.Literal(n)),
  { description: 'Warning colour raised: blue (IV), yellow (III), orange (II), red (I)' },
);
const Ms = (description: string) => Type.Number({ minimum: 0, description });
const PositiveMs = (description: string) => Type.Number({ exclusiveMinimum: 0, description });

/** Limits per colour; any subset. */
export const LimitsSchema = Type.Object(
  {
    blue: Type.Optional(Type.Number()),
    yellow: Type.Optional(Type.Number()),
    orange: Type.Optional(Type.Number()),
    red: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);

/** Multi-level threshold with deadband and delays. */
export const ThresholdSchema = Type.Object(
  {
    high: Type.Optional(LimitsSchema),
    low: Type.Optional(LimitsSchema),
    deadband: Type.Optional(Type.Number({ minimum: 0, description: 'Hysteresis in the point unit' })),
    onDelayMs: Type.Optional(Ms('A limit must be exceeded this long before its level is raised')),
    offDelayMs: Type.Optional(Ms('A limit must be clear this long before its level drops')),
  },
  { additionalProperties: false },
);

/** Rate of change within a window. */
export const RateSchema = Type.Object(
  {
    windowMs: PositiveMs('Window length'),
    rise: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Largest allowed rise within the window' })),
    fall: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Largest allowed fall within the window (positive)' })),
    level: Type.Optional(Level),
    maxSamples: Type.Optional(Type.Integer({ minimum: 2, maximum: 65536 })),
  },
  { additionalProperties: false },
);

/** Stuck / flatline sensor. */
export const StuckSchema = Type.Object(
  {
    epsilon: Type.Number({ minimum: 0, description: 'Largest change still counted as no change' }),
    durationMs: PositiveMs('How long without change before it fires'),
    level: Type.Optional(Level),
  },
  { additionalProperties: false },
);

/** Physical range / sensor fault. */
export const RangeSchema = Type.Object(
  {
    min: Type.Optional(Type.Number({ description: "Sensor's physical minimum" })),
    max: Type.Optional(Type.Number({ description: "Sensor's physical maximum" })),
    badCount: Type.Optional(Type.Integer({ minimum: 1, description: 'NaN / Bad readings in a row before a fault' })),
    level: Type.Optional(Level),
  },
  { additionalProperties: false },
);

/** Warm-up of a per-point learning detector (anomaly, artime). */
const PointWarmup = Type.Integer({ minimum: 10, maximum: 100_000, description: 'Readings learned before it may fire' });

/** Streaming anomaly score of one point. */
export const AnomalySchema = Type.Object(
  {
    warmup: PointWarmup,
    threshold: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Score in (0,1) that raises' })),
    window: Type.Optional(Type.Integer({ minimum: 2, maximum: 256, description: 'Readings in one shape' })),
    memory: Type.Optional(Type.Integer({ minimum: 1, maximum: 20_000, description: 'Past shapes remembered' })),
    neighbours: Type.Optional(Type.Integer({ minimum: 1, maximum: 32, description: 'Nearest shapes averaged' })),
    short: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096, description: 'Readings in the short-term mean of the novelty' })),
    long: Type.Optional(Type.Integer({ minimum: 2, maximum: 1_000_000, description: 'Readings of the long-term novelty statistics' })),
    suppress: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Readings one episode lasts (one alarm per event)' })),
    extreme: Type.Optional(
      Type.Union([Type.Number({ minimum: 0 }), Type.Literal(false)], { description: 'New extreme beyond this fraction of the range scores 1; false: off' }),
    ),
    entropy: Type.Optional(Type.Integer({ minimum: 0, maximum: 4096, description: 'Readings in the histogram of the distribution-change score; 0: off' })),
    bins: Type.Optional(Type.Integer({ minimum: 2, maximum: 64, description: 'Bins of that histogram' })),
    extremeStep: Type.Optional(Type.Number({ minimum: 0, description: 'New extreme must also pass the range by this many typical steps (EW mean |Δx|); 0: off' })),
    season: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Autocorrelation a period must reach for the seasonal score; 0: off' })),
    drift: Type.Optional(Type.Integer({ minimum: 0, maximum: 4096, description: 'Readings in the mean of the level score (a level unusual for the stream); 0: off' })),
    driftLong: Type.Optional(Type.Integer({ minimum: 2, maximum: 1_000_000, description: 'Readings of the long-term statistics of the level score' })),
    driftPrior: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000, description: 'Pseudo-means, as spread out as single readings, the level score starts from' })),
    hold: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'An episode does not end while the level score is at least this fraction of the threshold; 0: off' })),
    level: Type.Optional(Level),
  },
  { additionalProperties: false },
);

/**
 * ARTime: streaming anomaly score of one point from an adaptive-resonance category memory
 * (edge/src/detect/artime.ts); an alternative an operator may add beside `anomaly`, which stays the
 * default: it scored below it under nested cross-validation on NAB (docs/detection-results.md).
 */
export const ArtimeSchema = Type.Object(
  {
    warmup: PointWarmup,
    threshold: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Confidence in (0,1) that raises' })),
    rho: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Initial vigilance of the network that sets the vigilance at the end of the warm-up' })),
    beta: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Learning rate of the category memory (1: fast learning)' })),
    hold: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Readings the alarm holds after the last anomalous one' })),
    episode: Type.Optional(Type.Boolean({ description: 'Score each event once: within hold readings of the last anomaly, a confidence no higher than the event\'s highest scores 0' })),
    min: Type.Optional(Type.Number({ description: 'Declared low end of the point (its engineering range): scales values from the first reading; with max' })),
    max: Type.Optional(Type.Number({ description: 'Declared high end of the point (its engineering range); with min' })),
    level: Type.Optional(Level),
  },
  { additionalProperties: false },
);

/** One warning colour of a rainstorm detector: at least `mm` within `hours`. */
export const RainLevelSchema = Type.Object(
  {
    hours: Type.Number({ exclusiveMinimum: 0, maximum: 72, description: 'Window length, hours' }),
    mm: Type.Number({ exclusiveMinimum: 0, description: 'Rainfall within the window that raises the colour, mm' }),
  },
  { additionalProperties: false },
);

/**
 * The China Meteorological Administration's rainstorm warning signals (暴雨预警信号,
 * 气象灾害预警信号发布与传播办法, CMA Order No. 16 of 2007, annex): blue 50 mm in 12 h,
 * yellow 50 mm in 6 h, orange 50 mm in 3 h, red 100 mm in 3 h.
 */
export const cmaRainstormLevels = {
  blue: { hours: 12, mm: 50 },
  yellow: { hours: 6, mm: 50 },
  orange: { hours: 3, mm: 50 },
  red: { hours: 3, mm: 100 },
} as const;

/** Rainfall accumulated over sliding windows, raising the rainstorm warning colours. */
export const RainstormSchema = Type.Object(
  {
    input: Type.Union([Type.Literal('interval'), Type.Literal('counter')], {
      description: 'interval: each reading is the rain of one interval (intervalMs, or since the previous reading); counter: a running total (tipping-bucket count × mm per tip)',
    }),
    intervalMs: Type.Optional(
      PositiveMs('interval input: the device reports the rain of its last intervalMs (a rolling 10-minute total); one reading per interval is counted'),
    ),
    rollover: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'counter input: the total wraps to 0 at this value, mm (e.g. 65536 tips × 0.1 mm)' })),
    maxStep: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Largest believable rain between two readings, mm; a larger step is refused and counted' })),
    bucketMs: Type.Optional(Type.Number({ minimum: 60_000, maximum: 3_600_000, description: 'Bucket width of the windows, ms (default 300000: 5 min)' })),
    levels: Type.Optional(
      Type.Object(
        { blue: Type.Optional(RainLevelSchema), yellow: Type.Optional(RainLevelSchema), orange: Type.Optional(RainLevelSchema), red: Type.Optional(RainLevelSchema) },
        { additionalProperties: false, description: 'Per colour window and amount; default the CMA rainstorm signals' },
      ),
    ),
    clearFraction: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'A colour holds while its window total is at least this share of its amount (default 0.8)' }),
    ),
    offDelayMs: Type.Optional(Ms('The total must stay below the hold share this long before the colour drops (default 1800000: 30 min)')),
  },
  { additionalProperties: false },
);

/** All per-point detectors of one point. */
export const PointDetectorsSchema = Type.Object(
  {
    device: Type.String({ minLength: 1 }),
    point: Type.String({ minLength: 1 }),
    unit: Type.Optional(Type.String({ description: 'Unit shown in causes' })),
    threshold: Type.Optional(ThresholdSchema),
    rate: Type.Optional(RateSchema),
    stuck: Type.Optional(StuckSchema),
    range: Type.Optional(RangeSchema),
    anomaly: Type.Optional(AnomalySchema),
    artime: Type.Optional(ArtimeSchema),
    rainstorm: Type.Optional(RainstormSchema),
  },
  { additionalProperties: false },
);

/** Streaming anomaly detection across points of one device. */
export const MultivariateSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, description: 'Detector id; default <device>/multivariate' })),
    device: Type.String({ minLength: 1 }),
    points: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    warmup: Type.Integer({ minimum: 10, maximum: 100_000, description: 'Frames learned before it may fire' }),
    lambda: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'EWMA weight of a new frame' })),
    k: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Raise at k times the learned band' })),
    quantile: Type.Optional(Type.Number({ minimum: 0.5, maximum: 1 })),
    eta0: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    clearRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    relativeClear: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
    onDelayMs: Type.Optional(Ms('Score above k this long before raising')),
    offDelayMs: Type.Optional(Ms('Clear condition this long before clearing')),
    adaptRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    relearnMs: Type.Optional(Ms('After an episode that ends off the old baseline, re-learn the baseline this long')),
    recover: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'A slow point back below this fraction of its episode peak no longer holds the alarm (0 = off)' })),
    recoverWeight: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Drift weight below which a point counts as slow for recover' })),
    vote: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Two points each at vote·k raise as one point at k does (0 = off)' })),
    voteDelayMs: Type.Optional(Ms('A raise by two points agreeing needs the score above k this long')),
    onset: Type.Optional(
      Type.Union([Type.Literal('off'), Type.Literal('band'), Type.Literal('bocpd')], {
        description: "How a raise dates the change's onset: off (the raise itself), band (first frame of the excursion beyond the warm-up band), bocpd (later of band and a Bayesian online changepoint run start)",
      }),
    ),
    cusum: Type.Optional(
      Type.Number({
        minimum: 0,
        description: "Also raise when a point's CUSUM (Page, on (x − μ)/σ, reference 0.5σ) reaches this many times its largest warm-up sum while the point is beyond its band (0 = off)",
      }),
    ),
    watch: Type.Optional(
      Type.Number({
        minimum: 0,
        description: "Raise a yellow watch at once when a point's CUSUM of its band score reaches this many times its largest warm-up sum; withdrawn if the alarm does not follow within watchMs (0 = off)",
      }),
    ),
    watchMs: Type.Optional(Ms('How long a watch waits for the alarm before it is withdrawn')),
    watchGate: Type.Optional(Type.Number({ minimum: 0, description: "The watch also needs the point's band score at watchGate·k at that frame (0 = no gate)" })),
level: Type.Optional(Level),
  },
  { additionalProperties: false },
);

/**
 * Drift of a structure's first natural frequency from its temperature-compensated
 * baseline (the classic damage indicator), across two points of one device.
 */
export const ModalDriftSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, description: 'Detector id; default <device>/<frequency>/modal' })),
    device: Type.String({ minLength: 1 }),
    frequency: Type.String({ minLength: 1, description: 'Point carrying the first natural frequency, Hz (one reading per burst)' }),
    temperature: Type.String({ minLength: 1, description: 'Point carrying the structure temperature, °C' }),
    share: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 0.5, description: 'Relative drift from the baseline that raises (default 0.01 = 1 %)' })),
    warmup: Type.Optional(Type.Integer({ minimum: 10, maximum: 100_000, description: 'Bursts learned for the frequency–temperature baseline (default 432: three days of 10-minute bursts)' })),
    average: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Bursts averaged before judging (default 6: one hour of 10-minute bursts)' })),
    level: Type.Optional(Level),
  },
  { additionalProperties: false },
);

/** The `detectors` section of the gateway config. */
export const DetectorsConfigSchema = Type.Object(
  {
    points: Type.Optional(Type.Array(PointDetectorsSchema)),
    multivariate: Type.Optional(Type.Array(MultivariateSchema)),
    modal: Type.Optional(Type.Array(ModalDriftSchema)),
  },
  { additionalProperties: false, $id: 'LifelineDetectors' },
);

export type LimitsConfig = Static<typeof LimitsSchema>;
export type ThresholdConfig = Static<typeof ThresholdSchema>;
export type RateConfig = Static<typeof RateSchema>;
export type StuckConfig = Static<typeof StuckSchema>;
export type RangeConfig = Static<typeof RangeSchema>;
export type AnomalyConfig = Static<typeof AnomalySchema>;
export type ArtimeConfig = Static<typeof ArtimeSchema>;
export type RainstormConfig = Static<typeof RainstormSchema>;
export type PointDetectorsConfig = Static<typeof PointDetectorsSchema>;
export type MultivariateConfig = Static<typeof MultivariateSchema>;
export type ModalDriftConfig = Static<typeof ModalDriftSchema>;
/** The validated `detectors` section. */
export type DetectorsConfig = Static<typeof DetectorsConfigSchema>;

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** What the schema cannot say: limit order, min < max, at least one check, duplicates. */
function semanticIssues(raw: unknown): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  if (!isObj(raw)) return out;
  const seen = new Map<string, number>();
  if (Array.isArray(raw.points)) {
    raw.points.forEach((p: unknown, i: number) => {
      const at = `points[${i}]`;
      if (!isObj(p)) return;
      if (typeof p.device === 'string' && typeof p.point === 'string') {
        const key = `${p.device}/${p.point}`;
        const first = seen.get(key);
        if (first !== undefined) out.push({ path: at, message: `duplicate of points[${first}] (${key}): put all its detectors in one entry` });
        else seen.set(key, i);
      }
      if (!['threshold', 'rate', 'stuck', 'range', 'anomaly', 'artime', 'rainstorm'].some((k) => p[k] !== undefined)) {
        out.push({ path: at, message: 'configures no detector (threshold, rate, stuck, range, anomaly, artime or rainstorm)' });
      }
      if (isObj(p.rainstorm)) rainstormIssues(p.rainstorm, `${at}.rainstorm`, out);
      if (isObj(p.threshold)) thresholdIssues(p.threshold, `${at}.threshold`, out);
      if (isObj(p.rate) && p.rate.rise === undefined && p.rate.fall === undefined) {
        out.push({ path: `${at}.rate`, message: 'needs rise or fall (or both)' });
      }
      if (isObj(p.anomaly) && isNum(p.anomaly.neighbours) && isNum(p.anomaly.memory) && p.anomaly.memory < p.anomaly.neighbours) {
        out.push({ path: `${at}.anomaly.memory`, message: `must hold at least neighbours (${p.anomaly.neighbours}) shapes, got ${p.anomaly.memory}` });
      }
      if (isObj(p.anomaly) && isNum(p.anomaly.entropy) && p.anomaly.entropy > 0) {
        // A histogram of fewer readings than bins cannot tell one spread of values from another.
        const bins = isNum(p.anomaly.bins) ? p.anomaly.bins : anomalyDefaultBins;
        if (p.anomaly.entropy < 2 * bins) out.push({ path: `${at}.anomaly.entropy`, message: `must be 0 (off) or at least 2 × bins (${2 * bins}) readings, got ${p.anomaly.entropy}` });
      }
      if (isObj(p.artime) && (p.artime.min !== undefined || p.artime.max !== undefined)) {
        const { min, max } = p.artime;
        if (min === undefined) out.push({ path: `${at}.artime.min`, message: `needed with max (${show(max)}): the declared range takes both ends` });
        else if (max === undefined) out.push({ path: `${at}.artime.max`, message: `needed with min (${show(min)}): the declared range takes both ends` });
        else if (isNum(min) && isNum(max) && !(min < max)) out.push({ path: `${at}.artime.max`, message: `must be above min (${min}), got ${max}` });
      }
      if (isObj(p.range)) {
        const { min, max } = p.range;
        if (isNum(min) && isNum(max) && !(min < max)) out.push({ path: `${at}.range.max`, message: `must be above min (${min}), got ${max}` });
      }
    });
  }
  if (Array.isArray(raw.multivariate)) {
    const names = new Map<string, number>();
    raw.multivariate.forEach((m: unknown, i: number) => {
      const at = `multivariate[${i}]`;
      if (!isObj(m)) return;
      if (Array.isArray(m.points)) {
        const dup = m.points.filter((p, k) => m.points instanceof Array && m.points.indexOf(p) !== k);
        if (dup.length) out.push({ path: `${at}.points`, message: `lists ${show(dup[0])} twice` });
      }
      const name = typeof m.name === 'string' ? m.name : typeof m.device === 'string' ? `${m.device}/multivariate` : undefined;
      if (name !== undefined) {
        const first = names.get(name);
        if (first !== undefined) out.push({ path: at, message: `same id ${show(name)} as multivariate[${first}]: give one a name` });
        else names.set(name, i);
      }
    });
  }
  return out;
}

/** Rainstorm: colours in order (a higher colour needs at least the rate of the one below), windows the ring can hold. */
function rainstormIssues(r: Record<string, unknown>, at: string, out: ValidationIssue[]): void {
  if (r.input === 'counter' && r.intervalMs !== undefined) out.push({ path: `${at}.intervalMs`, message: 'applies to interval input only; a counter is a running total' });
  if (r.input === 'interval' && r.rollover !== undefined) out.push({ path: `${at}.rollover`, message: 'applies to counter input only' });
  if (!isObj(r.levels)) return;
  const lv = r.levels as Record<string, unknown>;
  const present = levelNames.filter((n) => isObj(lv[n]) && isNum((lv[n] as Record<string, unknown>).hours) && isNum((lv[n] as Record<string, unknown>).mm));
  if (present.length === 0) out.push({ path: `${at}.levels`, message: 'needs at least one colour (blue, yellow, orange, red)' });
  for (let i = 1; i < present.length; i++) {
    const lo = lv[present[i - 1]] as { hours: number; mm: number };
    const hi = lv[present[i]] as { hours: number; mm: number };
    // A higher colour must be harder to reach: at least as much rain in at most as long.
    if (!(hi.mm >= lo.mm && hi.hours <= lo.hours && (hi.mm > lo.mm || hi.hours < lo.hours))) {
      out.push({ path: `${at}.levels.${present[i]}`, message: `must need more rain or a shorter window than ${present[i - 1]} (${lo.mm} mm in ${lo.hours} h), got ${hi.mm} mm in ${hi.hours} h` });
    }
  }
}

function thresholdIssues(t: Record<string, unknown>, at: string, out: ValidationIssue[]): void {
  const present = (side: 'high' | 'low') =>
    isObj(t[side]) ? levelNames.filter((n) => isNum((t[side] as Record<string, unknown>)[n])).map((n) => [n, (t[side] as Record<string, number>)[n]] as const) : [];
  const high = present('high');
  const low = present('low');
  if (high.length === 0 && low.length === 0) out.push({ path: at, message: 'needs at least one high or low limit' });
  // Rising: each colour above the one below it.
  for (let i = 1; i < high.length; i++) {
    const [pn, pv] = high[i - 1];
    const [n, v] = high[i];
    if (!(v > pv)) out.push({ path: `${at}.high.${n}`, message: `must be above ${pn} (${pv}) on a rising threshold, got ${v}` });
  }
  // Falling: each colour below the one before it.
  for (let i = 1; i < low.length; i++) {
    const [pn, pv] = low[i - 1];
    const [n, v] = low[i];
    if (!(v < pv)) out.push({ path: `${at}.low.${n}`, message: `must be below ${pn} (${pv}) on a falling threshold, got ${v}` });
  }
  if (high.length && low.length) {
    const db = isNum(t.deadband) ? t.deadband : 0;
    const hMin = Math.min(...high.map(([, v]) => v));
    const lMax = Math.max(...low.map(([, v]) => v));
    if (!(hMin - db > lMax + db)) {
      out.push({ path: `${at}.low`, message: `highest low limit ${lMax} must stay below the lowest high limit ${hMin} by more than twice the deadband (${db})` });
    }
  }
}

/** Every problem of a raw `detectors` section: schema first, then semantics. Empty when valid. */
export function detectorsConfigIssues(raw: unknown): ValidationIssue[] {
  return [...schemaIssues(DetectorsConfigSchema, raw), ...semanticIssues(raw)];
}

/** Validates and freezes a `detectors` section; throws CONFIG_INVALID listing every problem. */
export function parseDetectorsConfig(raw: unknown, what = 'detectors'): DetectorsConfig {
  const issues = detectorsConfigIssues(raw);
  if (issues.length) {
    throw new LifelineError(ErrorCodes.ConfigInvalid, `${what} has ${issues.length} error(s):\n${formatIssues(issues.map((i) => ({ ...i, path: i.path ? `${what}.${i.path}` : what })))}`, {
      details: issues,
    });
  }
  return deepFreeze(structuredClone(raw) as DetectorsConfig);
}

/**
 * Points the config names that the device profiles do not have, checked by the agent
 * once profiles are loaded. `known` maps a device id to its point names; a device
 * absent from it is reported as unknown.
 */
export function unknownPointIssues(config: DetectorsConfig, known: ReadonlyMap<string, ReadonlySet<string>>): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const check = (device: string, point: string, path: string) => {
    const points = known.get(device);
    if (!points) out.push({ path, message: `unknown device ${show(device)}${didYouMean(device, known.keys())}` });
    else if (!points.has(point)) out.push({ path, message: `device ${show(device)} has no point ${show(point)}${didYouMean(point, points)}` });
  };
  config.points?.forEach((p, i) => check(p.device, p.point, `points[${i}].point`));
  config.modal?.forEach((m, i) => {
    check(m.device, m.frequency, `modal[${i}].frequency`);
    check(m.device, m.temperature, `modal[${i}].temperature`);
  });
  config.multivariate?.forEach((m, i) => {
    if (!known.has(m.device)) out.push({ path: `multivariate[${i}].device`, message: `unknown device ${show(m.device)}${didYouMean(m.device, known.keys())}` });
    else m.points.forEach((p, k) => check(m.device, p, `multivariate[${i}].points[${k}]`));
  });
  return out;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
