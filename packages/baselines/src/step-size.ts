import { tf, type ProblemBatch } from '@l2o/core';

/** scale / L per instance, shaped [B, 1] to broadcast over coordinates. */
export function inverseLipschitzStep(batch: ProblemBatch, scale: number): tf.Tensor2D {
  return tf.tidy(() => tf.reshape(tf.div(scale, batch.L), [batch.size, 1]) as tf.Tensor2D);
}

export function zerosIterate(batch: ProblemBatch, x0?: tf.Tensor2D): tf.Tensor2D {
  return x0 ? tf.clone(x0) : (tf.zeros([batch.size, batch.n]) as tf.Tensor2D);
}
