/**
 * Local detection: thresholds, rate of change, stuck, range / sensor fault,
 * rainstorm warnings and streaming anomaly detectors, behind one engine (`createDetectors`). Their
 * config schema and checks are a shared contract: @lifeline/shared/config.
 */
export * from './types.js';
export * from './levels.js';
export * from './engine.js';
export * from './threshold.js';
export * from './rate.js';
export * from './stuck.js';
export * from './range.js';
export * from './anomaly.js';
export * from './art.js';
export * from './artime.js';
export * from './multivariate.js';
export * from './rainstorm.js';
export * from './modal.js';
export * from './modal-drift.js';
