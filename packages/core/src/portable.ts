// The part of @l2o/core that runs on every engine, a browser's included: tensors, contracts, the
// plugin registry and option fields, seeded randomness, the rollout and evaluation loops and the
// safeguard. Nothing here (or below it) imports a Node built-in; `@l2o/core` re-exports all of it
// with the Node-only parts (files, discovery, workers, engines, the run store). Plugin packages
// import from here so that their entry points load in a browser page.
export { tf } from './tf.js';
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Variable } from './tf.js';
export * from './errors.js';
export * from './logger.js';
export * from './contracts/instances.js';
export * from './contracts/problem.js';
export * from './contracts/optimizer.js';
export * from './contracts/learned-optimizer.js';
export * from './contracts/dataset.js';
export * from './contracts/plugin.js';
export * from './registry/registry.js';
export * from './registry/did-you-mean.js';
export * from './options/fields.js';
export * from './random/rng.js';
export * from './evaluate/rollout.js';
export * from './evaluate/state.js';
export * from './evaluate/evaluator.js';
export * from './evaluate/reference.js';
export * from './safeguard/safeguard.js';
export { registerBackendExtension, engineLabel, type BackendExtension } from './engine/extensions.js';
