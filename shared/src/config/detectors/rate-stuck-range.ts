/** The simple per-point checks: rate of change, stuck (flatline) sensor, physical range. */
import { type Static, Type } from '@sinclair/typebox';
import { Level, PositiveMs } from './common.js';

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

export type RateConfig = Static<typeof RateSchema>;
export type StuckConfig = Static<typeof StuckSchema>;
export type RangeConfig = Static<typeof RangeSchema>;
