export * from './reading.js';
export * from './errors.js';
export * from './validate.js';
export * from './topics.js';
export * from './wire/index.js';
export * from './status.js';
export * from './redact.js';
