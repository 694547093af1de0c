/**
 * Device profiles: one declarative file per device model (devices/profiles/*.yaml).
 * A profile says what a device type is; the gateway config says where each
 * instance sits (bus, unit id) and how often to poll it (EdgeX's split).
 */
import { Type, type Static } from '@sinclair/typebox';
import { lifelineKinds, literalUnion } from '@lifeline/shared';
import { byteOrders, dataTypes } from './datatypes.js';

/** The four Modbus data tables. */
export const registerTables = ['coil', 'discrete', 'holding', 'input'] as const;
export type RegisterTable = (typeof registerTables)[number];

/** How the simulator makes a realistic signal for a point. */
export const SimSignalSchema = Type.Object(
  {
    base: Type.Number({ description: 'Mean value, in the point unit' }),
    amplitude: Type.Optional(Type.Number({ description: 'Amplitude of the daily cycle' })),
    periodS: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Cycle period, s (default 86400)' })),
    noise: Type.Optional(Type.Number({ minimum: 0, description: 'Standard deviation of white noise' })),
    drift: Type.Optional(Type.Number({ description: 'Linear drift, unit per hour' })),
    night: Type.Optional(Type.Number({ description: 'Value between 19:00 and 06:00 (lamp state, dimming)' })),
  },
  { additionalProperties: false },
);

export const PointSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9_]*$', description: 'snake_case, unique in the profile' }),
    description: Type.Optional(Type.String()),
    table: literalUnion(registerTables, 'Modbus table: coil (FC1/5/15), discrete (FC2), holding (FC3/6/16), input (FC4)'),
    address: Type.Integer({ minimum: 0, maximum: 65535, description: 'Zero-based register or coil address' }),
    type: literalUnion(dataTypes, 'Raw data type'),
    order: Type.Optional(literalUnion(byteOrders, 'Byte order of 32/64-bit values (default ABCD)')),
    scale: Type.Optional(Type.Number({ description: 'value = raw * scale + offset (default 1)' })),
    offset: Type.Optional(Type.Number({ description: 'Added after scaling (default 0)' })),
    unit: Type.String({ description: 'Unit symbol; "" for dimensionless states' }),
    access: Type.Optional(literalUnion(['r', 'rw'] as const, 'r (default) or rw')),
    range: Type.Optional(
      Type.Tuple([Type.Number(), Type.Number()], { description: 'Physical range of the sensor [min, max], in unit' }),
    ),
    sim: Type.Optional(SimSignalSchema),
  },
  { additionalProperties: false },
);
/** One point of a device model. */
export type Point = Static<typeof PointSchema>;

export const ProfileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', description: 'Profile id = file name without extension' }),
    vendor: Type.String(),
    model: Type.String(),
    kind: literalUnion(lifelineKinds, 'Lifeline kind'),
    description: Type.String(),
    protocol: literalUnion(['modbus'] as const, 'Field protocol'),
    defaultPollMs: Type.Integer({ minimum: 100, description: 'Default poll interval, ms' }),
    maxRegistersPerRequest: Type.Optional(Type.Integer({ minimum: 1, maximum: 125 })),
    points: Type.Array(PointSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
/** A device model. */
export type Profile = Static<typeof ProfileSchema>;
