export * from './synthetic.js';
export * from './bsds500/bsds500.js';
export * from './uci/uci.js';
export * from './sparse-coding/omp.js';
export * from './sparse-coding/ksvd.js';
export * from './raw/sources.js';
export { locateRaw, fetchRaw, findRaw, sha256File, missingFiles, missingSummary, verifyRaw } from './raw/raw-files.js';
export type { RawVerification, VerifiableDataset } from './raw/raw-files.js';
export { register } from './plugin.js';
