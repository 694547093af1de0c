// Store is a record of six concern stores, not one interface of fifty methods: a caller names the
// concern it touches (store.alarms.getAlarm), a collaborator can be handed just its part (auth gets
// store.access), and withLive wraps only store.telemetry. Both engines build the same record (sql-store.ts).
/**
 * The cloud store: six concerns, two engines (SQLite for one box, PostgreSQL
 * for the city). Ingest commits batches idempotently; the API reads and keeps
 * the registry, alarms, commands, configs, tokens, enrolments and webhooks.
 *
 *   ingest ─▶ telemetry.commitTelemetry / commitEvents, registry.saveGatewayStatus ─▶ readings, rollups, events, alarms
 *   API    ─▶ telemetry / registry / alarms / commands / access / webhooks ─▶ JSON
 *
 * One contract suite per concern (cloud/test/store/contract/) runs against both engines.
 */
import type { AccessStore } from './access-store.js';
import type { AlarmStore } from './alarm-store.js';
import type { CommandStore } from './command-store.js';
import type { RegistryStore } from './registry-store.js';
import type { TelemetryStore } from './telemetry-store.js';
import type { WebhookStore } from './webhook-store.js';

export * from './access-store.js';
export * from './alarm-store.js';
export * from './command-store.js';
export * from './registry-store.js';
export * from './telemetry-store.js';
export * from './webhook-store.js';

/** The cloud store: one member per concern, plus the engine's lifecycle. */
export interface Store {
  /** Readings, rollups, buffer epochs, gaps, the event lane. */
  readonly telemetry: TelemetryStore;
  /** Gateways, devices, sync faults. */
  readonly registry: RegistryStore;
  /** Alarm state, history, comments. */
  readonly alarms: AlarmStore;
  /** Downlink commands and gateway configs. */
  readonly commands: CommandStore;
  /** API tokens, enrolment tokens, MQTT credentials. */
  readonly access: AccessStore;
  /** Alarm webhooks. */
  readonly webhooks: WebhookStore;
  /** Apply pending schema migrations. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}
