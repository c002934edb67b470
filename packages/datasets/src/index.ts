export * from './synthetic.js';
export * from './bsds500/bsds500.js';
export * from './uci/uci.js';
export * from './sparse-coding/omp.js';
export * from './sparse-coding/ksvd.js';
export * from './raw/sources.js';
export { locateRaw, fetchRaw, findRaw, sha256File } from './raw/raw-files.js';
export { register } from './plugin.js';
