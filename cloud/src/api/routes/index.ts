/**
 * The API routes, one fastify plugin per group. Each route declares its least
 * role (config.role), its schemas (unknown fields refused) and a summary for
 * the OpenAPI document. Every command, config or answer leaves through
 * views.ts (secrets redacted for all, config bodies for technician and above).
 *
 *   registry.ts         GET  /gateways, /gateways/:id, /devices, /devices.geojson, /summary   viewer
 *                       PATCH /gateways/:id, /gateways/:id/devices/:device, /devices/:id      technician
 *                       POST /gateways/:id/revoke, /gateways/:id/reinstate                    admin
 *   readings.ts         GET  /readings (raw, or buckets with step), /readings.csv              viewer
 *   alarms.ts           GET  /alarms, /alarms/:id                                             viewer
 *                       POST /alarms/:id/ack, /alarms/:id/shelve, /alarms/:id/comments        operator
 *   gateways-config.ts  GET  /commands (config bodies and errors: technician and above)       operator
 *                       GET/PUT /gateways/:id/config                                          technician
 *   live.ts             GET  /live (Server-Sent Events)                                       viewer
 *   enrolment.ts        POST /enrolments (for a new gateway, or to replace one)               technician
 *                       POST /enroll (public, rate-limited; spends a one-time token)
 *   admin.ts            /tokens, /webhooks (webhook, wecom, dingtalk, sms receivers)          admin
 *   gaps.ts             GET  /gaps, /completeness (any range, per gateway/device/district/kind) viewer
 *   writes.ts           POST /gateways/:id/devices/:device/points/:point/write, GET /writes    operator
 *   maintenance.ts      GET  /maintenance                                                     viewer
 *                       POST /maintenance, DELETE /maintenance/:id                            operator
 *   notifications.ts    GET  /notifications (the outbox)                                      operator
 *                       POST /notifications/:id/retry                                         admin
 *   rules.ts            GET  /rules, /rules/:id, /digests                                     operator
 *                       POST /rules, PUT/DELETE /rules/:id, PUT/DELETE /webhooks/:id/digest   admin
 *   console.ts          GET  /console (who the token is, the console's map settings)          viewer
 *   storage.ts          GET  /storage (per day and district: hot rows, compressed blocks)      operator
 *
 * params.ts holds what the groups share (ids, time ranges, lists, device resolution).
 */
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from './deps.js';
import { registryRoutes } from './registry.js';
import { readingsRoutes } from './readings.js';
import { alarmRoutes } from './alarms.js';
import { gatewayConfigRoutes } from './gateways-config.js';
import { liveRoutes } from './live.js';
import { enrolmentRoutes } from './enrolment.js';
import { adminRoutes } from './admin.js';
import { gapRoutes } from './gaps.js';
import { writeRoutes } from './writes.js';
import { maintenanceRoutes } from './maintenance.js';
import { notificationRoutes } from './notifications.js';
import { ruleRoutes } from './rules.js';
import { consoleRoutes } from './console.js';
import { storageRoutes } from './storage.js';

export type { RouteDeps } from './deps.js';

/** Register every group, in this order (the OpenAPI document lists routes as registered). */
export async function registerRoutes(app: FastifyInstance, d: RouteDeps): Promise<void> {
  for (const group of [registryRoutes, readingsRoutes, alarmRoutes, gatewayConfigRoutes, liveRoutes, enrolmentRoutes, adminRoutes, gapRoutes, writeRoutes, maintenanceRoutes, notificationRoutes, ruleRoutes, consoleRoutes, storageRoutes]) await app.register(group, d);
}
