/** DL/T 645-2007 codec: pure functions over bytes (no I/O). */
export * from './data-ids.js';
export * from './frame.js';
