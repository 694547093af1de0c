/** The learning detectors of one point: the streaming anomaly score and ARTime. */
import { type Static, Type } from '@sinclair/typebox';
import { Level } from './common.js';

/** Default histogram bins of the anomaly detector's distribution-change score (the detector and this check share it). */
export const anomalyDefaultBins = 4;

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

export type AnomalyConfig = Static<typeof AnomalySchema>;
export type ArtimeConfig = Static<typeof ArtimeSchema>;
