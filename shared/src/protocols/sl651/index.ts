export * from './elements.js';
export * from './frame.js';
export * from './body.js';
export * from './report.js';
export { describeSl651, describeSl651Function } from './describe.js';
export { SL651_PUBLISHED_FRAMES } from './published.js';
