export * from './datatypes.js';
export * from './profile.js';
export * from './profiles.js';
export * from './simulator/index.js';
