import { tf } from '@l2o/core/portable';
import { uniform, type WeightFactory } from '../weights.js';
import { affine } from '../ops.js';

/**
 * PyTorch nn.Linear: y = x Wᵀ + b with W [out, in], both initialised uniform(±1/√in) as
 * PyTorch's default (kaiming_uniform with a = √5) does.
 */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    weights: WeightFactory,
    readonly inFeatures: number,
    readonly outFeatures: number,
  ) {
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = weights.create('weight', [outFeatures, inFeatures], uniform(bound));
    this.bias = weights.create('bias', [outFeatures], uniform(bound));
  }

  static parameterCount(inFeatures: number, outFeatures: number): number {
    return outFeatures * inFeatures + outFeatures;
  }

  /** x: [rows, in] → [rows, out]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return affine(x, this.weight as tf.Tensor2D, this.bias as tf.Tensor1D);
  }
}
