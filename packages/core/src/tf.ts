// The one tfjs instance of the platform. Plugins import `tf` from @l2o/core so that every
// package registers kernels on, and allocates tensors in, the same engine.
// tfjs-core alone (not the @tensorflow/tfjs umbrella: no layers, converter, data or webgl); the cpu
// backend is registered here so that 'cpu' always exists, the others are loaded by selectEngine.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node build registers no gradients (the umbrella bundles them): scripts/bundle-gradients.mjs
// bundles tfjs-core's own registrations at build time; a browser bundle resolves '#tfjs-gradients'
// to tfjs-core's ES module of them instead (package.json "imports").
import '#tfjs-gradients';

// Production mode: no debug checks, and no console banner urging tfjs-node on every run
// (`l2o doctor` says which engines are available instead).
tf.enableProdMode();

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor3D = tf.Tensor3D;
export type Variable = tf.Variable;
