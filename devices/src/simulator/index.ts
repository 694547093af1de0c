export * from './signal.js';
export * from './behaviours.js';
export * from './device.js';
export * from './modbus-slave.js';
export * from './meter-slave.js';
export * from './tcp-server.js';
export * from './serial.js';
