export * from './profile.js';
export * from './profiles.js';
export * from './vocabulary.js';
export * from './lint.js';
export * from './simulator/index.js';
