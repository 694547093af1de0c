/**
 * The store contract: one suite per concern, each run against SQLite
 * (sqlite.test.ts) and PostgreSQL (postgres.test.ts), after MQTT.js's abstract_store.
 */
import type { StoreFactory } from './fixtures.js';
import { telemetryContract } from './telemetry-store.js';
import { registryContract } from './registry-store.js';
import { alarmsContract } from './alarm-store.js';
import { commandsContract } from './command-store.js';
import { accessContract } from './access-store.js';
import { webhooksContract } from './webhook-store.js';
import { maintenanceContract } from './maintenance-store.js';
import { notificationsContract } from './notification-store.js';
import { routingContract } from './routing-store.js';
import { coldContract } from './cold-store.js';
import { compressedBeforeReads } from './fixtures.js';

export type { StoreFactory } from './fixtures.js';

/** Every concern's contract against one engine. */
export function storeContract(name: string, factory: StoreFactory): void {
  telemetryContract(name, factory);
  registryContract(name, factory);
  alarmsContract(name, factory);
  commandsContract(name, factory);
  accessContract(name, factory);
  webhooksContract(name, factory);
  maintenanceContract(name, factory);
  notificationsContract(name, factory);
  routingContract(name, factory);
  coldContract(name, factory);
  // The telemetry reads again, every day compressed before each read: cold blocks answer as hot rows did.
  telemetryContract(`${name} (compressed)`, compressedBeforeReads(factory));
}
