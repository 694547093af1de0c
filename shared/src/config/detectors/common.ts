/** What the detector kinds' schemas and checks share: warning colours, durations, value guards. */
import { Type } from '@sinclair/typebox';

/** The four warning colours, lowest first, as spelled in a config. */
export const levelNames = ['blue', 'yellow', 'orange', 'red'] as const;
/** A warning colour as spelled in a config. */
export type LevelName = (typeof levelNames)[number];

export const Level = Type.Union(
  levelNames.map((n) => Type.Literal(n)),
  { description: 'Warning colour raised: blue (IV), yellow (III), orange (II), red (I)' },
);
export const Ms = (description: string) => Type.Number({ minimum: 0, description });
export const PositiveMs = (description: string) => Type.Number({ exclusiveMinimum: 0, description });

export const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
export const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
