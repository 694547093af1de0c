export * from './profile.js';
export * from './profiles.js';
export * from './vocabulary.js';
export * from './lint.js';
export * from './detect-defaults.js';
export * from './simulator/index.js';
