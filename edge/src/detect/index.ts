/**
 * Local detection: thresholds, rate of change, stuck, range / sensor fault and
 * streaming anomaly detectors, behind one engine (`createDetectors`).
 */
export * from './types.js';
export * from './levels.js';
export * from './config.js';
export * from './engine.js';
export * from './threshold.js';
export * from './rate.js';
export * from './stuck.js';
export * from './range.js';
export * from './anomaly.js';
export * from './multivariate.js';
