// @l2o/wasm-kernels: the platform's WASM SIMD kernels. Importing it registers them with the
// engine selection of @l2o/core (extension.ts); each op below runs its kernel on the WASM engine
// and the same computation in tfjs ops on every other engine (and with L2O_KERNELS=tfjs).
import './extension.js';

export { KERNEL_CHOICES, kernelChoice, l2oKernelsActive, type KernelChoice } from './wasm-kernel.js';
export { tfjsVersionMismatch, type TfjsVersions } from './tfjs-internals.js';
export * from './batch-mat-vec.js';
export { batchMatMul } from './batch-mat-mul.js';
export * from './rnn-gates.js';
export * from './history-attention.js';
export * from './coordinate-attention.js';
