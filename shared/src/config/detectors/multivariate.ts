/** The multivariate detector: streaming anomaly detection across points of one device. */
import { type Static, Type } from '@sinclair/typebox';
import { Level, Ms } from './common.js';

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
        description: "Raise a yellow watch at once when a point's CUSUM of its band score reaches this many times its largest warm-up sum; withdrawn if the alarm does not follow within watchMs (0 = off; default 8, or 0 when level is blue or yellow)",
      }),
    ),
    watchMs: Type.Optional(Ms('How long a watch waits for the alarm before it is withdrawn')),
    watchGate: Type.Optional(Type.Number({ minimum: 0, description: "The watch also needs the point's band score at watchGate·k at that frame (0 = no gate; default 1)" })),
level: Type.Optional(Level),
  },
  { additionalProperties: false },
);

export type MultivariateConfig = Static<typeof MultivariateSchema>;
