/** Modbus RTU and TCP codecs: pure functions over bytes (no I/O). */
export * from './crc.js';
export * from './pdu.js';
export * from './rtu.js';
export * from './tcp.js';
