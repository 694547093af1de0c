/**
 * Config contracts the gateway, the profile lint and the cloud share: the
 * detector schema and its checks, and the gateway config JSON Schema.
 * A separate entry point: the schema document is large and the dashboard needs none of it.
 */
export * from './detectors.js';
export * from './gateway-schema.js';
