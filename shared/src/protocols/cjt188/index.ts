/** CJ/T 188-2004 codec: pure functions over bytes (no I/O). */
export * from './frame.js';
