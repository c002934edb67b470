import { tf } from '@l2o/core';
import { uniform, type WeightFactory } from '../weights.js';

/**
 * One layer of PyTorch nn.GRU, one time step. Gates in PyTorch order (r, z, n), two bias
 * vectors, all weights uniform(±1/√hidden):
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h
 */
export class GruCell {
  readonly weightIh: tf.Variable;
  readonly weightHh: tf.Variable;
  readonly biasIh: tf.Variable;
  readonly biasHh: tf.Variable;

  constructor(
    weights: WeightFactory,
    readonly inputSize: number,
    readonly hiddenSize: number,
    suffix = '',
  ) {
    const init = uniform(1 / Math.sqrt(hiddenSize));
    this.weightIh = weights.create(`weight_ih${suffix}`, [3 * hiddenSize, inputSize], init);
    this.weightHh = weights.create(`weight_hh${suffix}`, [3 * hiddenSize, hiddenSize], init);
    this.biasIh = weights.create(`bias_ih${suffix}`, [3 * hiddenSize], init);
    this.biasHh = weights.create(`bias_hh${suffix}`, [3 * hiddenSize], init);
  }

  static parameterCount(inputSize: number, hiddenSize: number): number {
    return 3 * hiddenSize * (inputSize + hiddenSize) + 6 * hiddenSize;
  }

  /** x: [rows, in], h: [rows, hidden] → h'. */
  apply(x: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    const H = this.hiddenSize;
    const gi = tf.add(tf.matMul(x, this.weightIh, false, true), this.biasIh);
    const gh = tf.add(tf.matMul(h, this.weightHh, false, true), this.biasHh);
    const [ir, iz, inn] = tf.split(gi, [H, H, H], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const [hr, hz, hn] = tf.split(gh, [H, H, H], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const r = tf.sigmoid(tf.add(ir, hr));
    const z = tf.sigmoid(tf.add(iz, hz));
    const n = tf.tanh(tf.add(inn, tf.mul(r, hn)));
    return tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
  }
}
