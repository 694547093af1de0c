/**
 * The gateway's retained status message (JSON on `lifeline/<gw>/status`):
 * who it is, its devices and points, its backlog and clock offset, the
 * config it runs (redacted) and how the last pushed config fared. The last
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
        /** What people call the device (the config's `name`), e.g. 洸河路1号灯杆. */
        name: Type.Optional(Type.String({ maxLength: 256 })),
        profile: Type.String({ maxLength: 256 }),
        kind: Type.Optional(Type.String({ maxLength: 64 })),
        location: Type.Optional(Location),
        /** label: what operators call the point (the profile's `label`, e.g. 河道水位). */
        points: Type.Optional(Type.Array(Type.Object({ name: Type.String({ maxLength: 128 }), unit: Type.String({ maxLength: 32 }), label: Type.Optional(Type.String({ maxLength: 64 })) }), { maxItems: 1024 })),
      }),
      { maxItems: 10000 },
    ),
  ),
  backlog: Type.Optional(Backlog),
  clockOffsetMs: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  /** The incarnation of the gateway's buffer database (wire protocol §1.1): one per box and file. */
  epoch: Type.Optional(Type.Number()),
  /**
   * The buffer's disk (edge buffer/disk-guard.ts): `full` from the first full-disk or I/O error
   * (a full or read-only file system) until the space is back; readings it could not store.
   */
  disk: Type.Optional(
    Type.Object({
      full: Type.Boolean(),
      since: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
      lastError: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
      droppedReadings: Type.Optional(Type.Number({ minimum: 0 })),
      /** The buffer file was deleted or replaced under the running agent. */
      deleted: Type.Optional(Type.Boolean()),
    }),
  ),
  /**
   * The config the gateway runs, as written in its file, secrets `[redacted]`
   * (redactSecrets): what an operator edits and pushes back.
   */
  config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  /** The outcome of the last config pushed from the cloud, once the gateway has checked it. */
  configApply: Type.Optional(
    Type.Object({
      /** The config command's id. */
      command: Type.Optional(Type.String({ maxLength: 128 })),
      /** confirmed: it reached the cloud and its buses; rolled_back: it did not, the last good config runs again. */
      result: Type.Union([Type.Literal('confirmed'), Type.Literal('rolled_back')]),
      reason: Type.Optional(Type.String({ maxLength: 4000 })),
      ts: Type.Integer({ minimum: 0 }),
    }),
  ),
});
/** A gateway's status message. */
export type GatewayStatusMessage = Static<typeof GatewayStatusSchema>;
