/**
 * The gateway config (gateway.yaml): where each device instance sits and how
 * the gateway syncs. Profiles say what a device is; this says where it is.
 * Published as JSON Schema (`lifeline schema gateway`) for editors.
 */
import { Type, type Static } from '@sinclair/typebox';
import { literalUnion } from '@lifeline/shared';

export const LocationSchema = Type.Object(
  {
    lon: Type.Number({ minimum: -180, maximum: 180, description: 'WGS-84 longitude' }),
    lat: Type.Number({ minimum: -90, maximum: 90, description: 'WGS-84 latitude' }),
    district: Type.Optional(Type.String()),
    gridUnit: Type.Optional(Type.String({ description: 'City grid-management unit' })),
  },
  { additionalProperties: false },
);

export const DeviceInstanceSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 64, description: 'Device id, unique on the gateway' }),
    profile: Type.String({ minLength: 1, description: 'Shipped profile name or path to a profile file' }),
    unit: Type.Integer({ minimum: 0, maximum: 247, description: 'Modbus unit id (1..247 on a serial bus)' }),
    pollMs: Type.Optional(Type.Integer({ minimum: 100, description: 'Overrides the profile default poll interval' })),
    location: Type.Optional(LocationSchema),
  },
  { additionalProperties: false },
);
export type DeviceInstance = Static<typeof DeviceInstanceSchema>;

export const BusSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    link: literalUnion(['tcp'] as const, 'Link type: tcp (Modbus TCP)'),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    timeoutMs: Type.Integer({ minimum: 10, maximum: 60000, default: 1000 }),
    devices: Type.Array(DeviceInstanceSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type Bus = Static<typeof BusSchema>;

const LevelLimitsSchema = Type.Object(
  {
    blue: Type.Optional(Type.Number({ description: 'Level IV, blue' })),
    yellow: Type.Optional(Type.Number({ description: 'Level III, yellow' })),
    orange: Type.Optional(Type.Number({ description: 'Level II, orange' })),
    red: Type.Optional(Type.Number({ description: 'Level I, red' })),
  },
  { additionalProperties: false },
);

/** Limits on one point, in the point's unit, in China's four warning colours. */
export const ThresholdSchema = Type.Object(
  {
    device: Type.String(),
    point: Type.String(),
    high: Type.Optional(LevelLimitsSchema),
    low: Type.Optional(LevelLimitsSchema),
    deadband: Type.Optional(Type.Number({ minimum: 0, description: 'Hysteresis, in the point unit' })),
    onDelayMs: Type.Optional(Type.Integer({ minimum: 0 })),
    offDelayMs: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type ThresholdConfig = Static<typeof ThresholdSchema>;

export const SyncSchema = Type.Object(
  {
    transport: literalUnion(['mqtt'] as const, 'mqtt (mqtt.js, any MQTT 3.1.1/5 broker)'),
    url: Type.String({ pattern: '^(mqtts?|wss?|tcp)://', description: 'Broker URL, e.g. mqtt://127.0.0.1:1883' }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    batchMaxReadings: Type.Integer({ minimum: 1, maximum: 100000, default: 5000 }),
    intervalMs: Type.Integer({ minimum: 10, default: 500, description: 'How often to look for new data to send' }),
    ackTimeoutMs: Type.Integer({ minimum: 100, default: 10000, description: 'Resend a batch not acknowledged by the cloud in this time' }),
  },
  { additionalProperties: false },
);

export const GatewayConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    gateway: Type.Object(
      {
        id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', maxLength: 64, description: 'Gateway id; also its MQTT topic prefix' }),
        name: Type.Optional(Type.String()),
        location: Type.Optional(LocationSchema),
      },
      { additionalProperties: false },
    ),
    buses: Type.Array(BusSchema, { minItems: 1 }),
    thresholds: Type.Optional(Type.Array(ThresholdSchema)),
    buffer: Type.Object(
      {
        path: Type.String({ minLength: 1, description: 'SQLite file; relative paths are relative to the config file' }),
      },
      { additionalProperties: false },
    ),
    sync: SyncSchema,
  },
  { additionalProperties: false },
);
export type GatewayConfig = Static<typeof GatewayConfigSchema>;
