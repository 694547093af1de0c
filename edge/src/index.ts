export * from './config/schema.js';
export * from './config/load.js';
export * from './agent/agent.js';
export * from './events/event-bus.js';
export * from './buffer/buffer.js';
export * from './log.js';
export * from './agent/runner.js';
export { writeSecretFile } from './config/write.js';
