/** The modal drift detector: a structure's first natural frequency against its temperature-compensated baseline. */
import { type Static, Type } from '@sinclair/typebox';
import { Level } from './common.js';

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

export type ModalDriftConfig = Static<typeof ModalDriftSchema>;
