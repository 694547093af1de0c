/** Modbus RTU and TCP codecs and register data types: pure functions over bytes (no I/O). */
export * from './crc.js';
export * from './pdu.js';
export * from './rtu.js';
export * from './tcp.js';
export * from './registers.js';
export * from './device-id.js';
