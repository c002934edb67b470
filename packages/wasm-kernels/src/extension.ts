import { registerBackendExtension, tf } from '@l2o/core/portable';
import { installMatMulKernels } from './batch-mat-mul.js';
import { installCopyKernels } from './copy-kernels.js';
import { tfjsVersionMismatch } from './tfjs-internals.js';
import { kernelChoice, l2oKernelsActive, l2oKernelsLeftOut, leaveOutL2oKernels } from './wasm-kernel.js';

// The package's registration with the platform's engine selection (as a tfjs backend package
// registers its kernels on import). The ops of this package with kernels of their own (gates,
// attention, products) are registered under their own names when their modules load; the stock
// kernels this package replaces (copies, matmul) can only be replaced once tfjs-backend-wasm has
// registered them, so they are installed when the engine activates the WASM backend.
registerBackendExtension({
  name: 'l2o-kernels',
  backend: 'wasm',
  // A bad L2O_KERNELS fails before any engine loads.
  checkSettings: () => void kernelChoice(),
  // The kernels use tfjs's internals (tfjs-internals.ts): refused on another tfjs before the
  // backend is made active; with L2O_KERNELS=tfjs, that tfjs runs with its own kernels only.
  beforeActivate(loaded) {
    const mismatch = tfjsVersionMismatch({
      '@tensorflow/tfjs-core': tf.version_core,
      '@tensorflow/tfjs-backend-wasm': typeof loaded.version_wasm === 'string' ? loaded.version_wasm : undefined,
    });
    if (mismatch && kernelChoice() === 'l2o') throw mismatch;
    if (mismatch) leaveOutL2oKernels();
  },
  install() {
    if (!l2oKernelsLeftOut()) {
      installCopyKernels();
      installMatMulKernels();
    }
  },
  active: l2oKernelsActive,
});
