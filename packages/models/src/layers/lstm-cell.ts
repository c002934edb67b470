import { tf } from '@l2o/core';
import { uniform, type WeightFactory } from '../weights.js';

export interface LstmState {
  h: tf.Tensor2D;
  c: tf.Tensor2D;
}

/**
 * One layer of PyTorch nn.LSTM, one time step. Gates in PyTorch order (i, f, g, o), two bias
 * vectors (b_ih, b_hh), all weights uniform(±1/√hidden):
 *   [i f g o] = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh
 *   c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g),   h' = σ(o) ⊙ tanh(c')
 * Weight names `weight_ih{suffix}`, `weight_hh{suffix}`, `bias_ih{suffix}`, `bias_hh{suffix}`
 * (suffix `_l0`, `_l1`, … in a stack, as PyTorch names them).
 */
export class LstmCell {
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
    this.weightIh = weights.create(`weight_ih${suffix}`, [4 * hiddenSize, inputSize], init);
    this.weightHh = weights.create(`weight_hh${suffix}`, [4 * hiddenSize, hiddenSize], init);
    this.biasIh = weights.create(`bias_ih${suffix}`, [4 * hiddenSize], init);
    this.biasHh = weights.create(`bias_hh${suffix}`, [4 * hiddenSize], init);
  }

  static parameterCount(inputSize: number, hiddenSize: number): number {
    return 4 * hiddenSize * (inputSize + hiddenSize) + 8 * hiddenSize;
  }

  /** x: [rows, in], h, c: [rows, hidden]. */
  apply(x: tf.Tensor2D, state: LstmState): LstmState {
    const H = this.hiddenSize;
    const gates = tf.add(
      tf.add(tf.matMul(x, this.weightIh, false, true), this.biasIh),
      tf.add(tf.matMul(state.h, this.weightHh, false, true), this.biasHh),
    );
    const [i, f, g, o] = tf.split(gates, [H, H, H, H], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const c = tf.add(tf.mul(tf.sigmoid(f), state.c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    const h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    return { h: h as tf.Tensor2D, c: c as tf.Tensor2D };
  }
}
