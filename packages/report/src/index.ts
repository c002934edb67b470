export * from './plot.js';
export * from './summary.js';
export * from './renderer.js';
export * from './rerender.js';
export * from './seeds.js';
export * from './seeds-plot.js';
export * from './verdicts.js';
export * from './results.js';
