export * from './elements.js';
export * from './frame.js';
export * from './body.js';
export * from './report.js';
