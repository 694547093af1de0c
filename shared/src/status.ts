/**
 * The gateway's retained status message (JSON on `lifeline/<gw>/status`):
 * who it is, its devices and points, its backlog and clock offset. The last
 * will publishes `{gateway, online: false}` when the gateway vanishes.
 */
import { Type, type Static } from '@sinclair/typebox';

const Location = Type.Object({
  lon: Type.Number({ minimum: -180, maximum: 180 }),
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  district: Type.Optional(Type.String({ maxLength: 128 })),
  gridUnit: Type.Optional(Type.String({ maxLength: 128 })),
});

const Backlog = Type.Object({ depth: Type.Integer({ minimum: 0 }), oldestTs: Type.Union([Type.Integer(), Type.Null()]) });

export const GatewayStatusSchema = Type.Object({
  gateway: Type.String({ minLength: 1, maxLength: 128 }),
  online: Type.Boolean(),
  ts: Type.Optional(Type.Integer({ minimum: 0 })),
  name: Type.Optional(Type.String({ maxLength: 256 })),
  location: Type.Optional(Location),
  devices: Type.Optional(
    Type.Array(
      Type.Object({
        id: Type.String({ minLength: 1, maxLength: 128 }),
        profile: Type.String({ maxLength: 256 }),
        kind: Type.Optional(Type.String({ maxLength: 64 })),
        location: Type.Optional(Location),
        points: Type.Optional(Type.Array(Type.Object({ name: Type.String({ maxLength: 128 }), unit: Type.String({ maxLength: 32 }) }), { maxItems: 1024 })),
      }),
      { maxItems: 10000 },
    ),
  ),
  backlog: Type.Optional(Backlog),
  clockOffsetMs: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
});
/** A gateway's status message. */
export type GatewayStatusMessage = Static<typeof GatewayStatusSchema>;
