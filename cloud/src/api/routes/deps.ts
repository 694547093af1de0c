/** What the route plugins are given: the store and the cloud's services. */
import type { Logger } from 'pino';
import type { Store } from '../../store/store.js';
import type { LiveHub } from '../../live.js';
import type { CommandCenter } from '../../command-center.js';
import type { Enrolment } from '../../enrol.js';
import type { WebhookDispatcher } from '../../webhooks.js';
import type { CloudAlarms } from '../../cloud-alarms.js';
import type { Maintenance } from '../../maintenance.js';
import type { TokenAuth } from '../auth.js';
import type { ConsoleSettings } from './console.js';

export interface RouteDeps {
  store: Store;
  auth: TokenAuth;
  log: Logger;
  live: LiveHub;
  commands: CommandCenter;
  enrolment: Enrolment;
  cloudAlarms: CloudAlarms;
  maintenance: Maintenance;
  webhooks?: WebhookDispatcher;
  gatewayConfigSchema?: object;
  onRevoke?: (gateway: string) => void;
  rateLimit?: { enrollPerMinute?: number };
  maxBuckets: number;
  /** The console's map settings. */
  console?: ConsoleSettings;
}
