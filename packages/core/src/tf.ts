// The one tfjs instance of the platform. Plugins import `tf` from @l2o/core so that every
// package registers kernels on, and allocates tensors in, the same engine.
import * as tf from '@tensorflow/tfjs';

// Production mode: no debug checks, and no console banner urging tfjs-node on every run
// (`l2o doctor` says which engines are available instead).
tf.enableProdMode();

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor3D = tf.Tensor3D;
export type Variable = tf.Variable;
