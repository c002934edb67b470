import { tf } from '@l2o/core/portable';
import { constant, type WeightFactory } from '../weights.js';

/**
 * PyTorch nn.LayerNorm over the last dimension: (x − mean)/√(biased var + eps) ⊙ weight + bias,
 * weight initialised to 1 and bias to 0, eps 1e-5.
 */
export class LayerNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    weights: WeightFactory,
    readonly size: number,
    readonly eps = 1e-5,
  ) {
    this.weight = weights.create('weight', [size], constant(1));
    this.bias = weights.create('bias', [size], constant(0));
  }

  static parameterCount(size: number): number {
    return 2 * size;
  }

  apply<T extends tf.Tensor>(x: T): T {
    const axis = x.rank - 1;
    const mean = tf.mean(x, axis, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), axis, true);
    const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, this.eps)));
    return tf.add<T>(tf.mul(normed, this.weight), this.bias);
  }
}
