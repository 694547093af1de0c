/**
 * Field protocol codecs of the edge: pure functions over bytes, no I/O.
 *
 *   modbus/   RTU + TCP framing, CRC-16, client and server sides, TCP stream extractor, RTU timing
 *   dlt645/   DL/T 645-2007 electricity meters
 *   cjt188/   CJ/T 188-2004 water, gas and heat meters
 *   sl651/    SL 651-2014 hydrological telemetry (rain and water-level stations reporting to a centre)
 *   describe  hex parsing and field-by-field frame description for `lifeline decode`
 *
 * Bad input raises LifelineError (FRAME_INVALID, or DEVICE_EXCEPTION for a
 * device's exception/error reply), never another exception type.
 */
export * from './modbus/index.js';
export * from './dlt645/index.js';
export * from './cjt188/index.js';
export * from './sl651/index.js';
export * from './describe.js';
export { toHex } from './bytes.js';
