export * from './cloud.js';
export * from './store/store.js';
export * from './store/sqlite-store.js';
export * from './ingest/worker.js';
export * from './broker/embedded.js';
export * from './api/server.js';
export * from './api/auth.js';
