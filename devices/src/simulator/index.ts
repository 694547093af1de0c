export * from './signal.js';
export * from './device.js';
export * from './tcp-server.js';
