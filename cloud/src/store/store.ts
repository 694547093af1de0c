// Store is a record of concern stores, not one interface of fifty methods: a caller names the
// concern it touches (store.alarms.getAlarm), a collaborator can be handed just its part (auth gets
// store.access), and withLive wraps only store.telemetry. Both engines build the same record (sql-store.ts).
/**
 * The cloud store: nine concerns, two engines (SQLite for one box, PostgreSQL
 * for the city). Ingest commits batches idempotently; the API reads and keeps
 * the registry, alarms, commands, configs, tokens, enrolments and webhooks.
 *
 *   ingest ─▶ telemetry.commitTelemetry / commitEvents, registry.saveGatewayStatus ─▶ readings, rollups, events, alarms
 *   API    ─▶ telemetry / registry / alarms / commands / access / webhooks / maintenance / notifications / routing ─▶ JSON
 *
 * One contract suite per concern (cloud/test/store/contract/) runs against both engines.
 */
import type { AccessStore } from './access-store.js';
import type { AlarmStore } from './alarm-store.js';
import type { CommandStore } from './command-store.js';
import type { RegistryStore } from './registry-store.js';
import type { TelemetryStore } from './telemetry-store.js';
import type { WebhookStore } from './webhook-store.js';
import type { MaintenanceStore } from './maintenance-store.js';
import type { NotificationStore } from './notification-store.js';
import type { RoutingStore } from './routing-store.js';

export * from './access-store.js';
export * from './alarm-store.js';
export * from './command-store.js';
export * from './registry-store.js';
export * from './telemetry-store.js';
export * from './webhook-store.js';
export * from './maintenance-store.js';
export * from './notification-store.js';
export * from './routing-store.js';

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
  /** Maintenance windows (out of service). */
  readonly maintenance: MaintenanceStore;
  /** The notification outbox (what is to be told to which receiver, through restarts). */
  readonly notifications: NotificationStore;
  /** Alarm routing rules, daily digests, and the marks of queued notifications. */
  readonly routing: RoutingStore;
  /** Apply pending schema migrations. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** A method of `target` bound to it, any other property as it is (for the proxies below). */
function bound(target: object, prop: string | symbol): unknown {
  const v = Reflect.get(target, prop) as unknown;
  return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
}

/**
 * The store with some telemetry methods replaced, everything else as it is:
 * how the live hub publishes commits, and how tests and the chaos run watch them.
 * `wrap` gets the store's own telemetry to call through to.
 */
export function wrapTelemetry(store: Store, wrap: (inner: TelemetryStore) => Partial<TelemetryStore>): Store {
  const over: Partial<TelemetryStore> = wrap(store.telemetry);
  const telemetry = new Proxy(store.telemetry, { get: (t, p) => (Object.hasOwn(over, p) ? over[p as keyof TelemetryStore] : bound(t, p)) });
  return new Proxy(store, { get: (s, p) => (p === 'telemetry' ? telemetry : bound(s, p)) });
}
