import { tf } from '@l2o/core/portable';
import { lstmGates, rnnGatesFused } from '@l2o/wasm-kernels';
import type { WeightFactory } from '../weights.js';
import { RnnCellWeights, rnnCellParameterCount } from './rnn-cell-weights.js';
import { affine, gateProduct, tanh } from '../ops.js';

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
export class LstmCell extends RnnCellWeights {
  constructor(weights: WeightFactory, inputSize: number, hiddenSize: number, suffix = '') {
    super(weights, 4, inputSize, hiddenSize, suffix);
  }

  static parameterCount(inputSize: number, hiddenSize: number): number {
    return rnnCellParameterCount(4, inputSize, hiddenSize);
  }

  /** x: [rows, in], h, c: [rows, hidden]. */
  apply(x: tf.Tensor2D, state: LstmState): LstmState {
    if (rnnGatesFused(this.hiddenSize)) {
      // Both products whole, then the gates in one kernel (and one back).
      const ax = affine(x, this.weightIh as tf.Tensor2D);
      return lstmGates(ax, affine(state.h, this.weightHh as tf.Tensor2D), this.biasIh as tf.Tensor1D, this.biasHh as tf.Tensor1D, state.c);
    }
    // One product per gate instead of one [rows, 4H] product and a split: splitting the wide
    // per-coordinate tensor costs more on WASM than the extra small products.
    const gate = (k: number) =>
      tf.add(gateProduct(x, this.weightIh, this.biasIh, k, this.hiddenSize), gateProduct(state.h, this.weightHh, this.biasHh, k, this.hiddenSize));
    const [i, f, g, o] = [0, 1, 2, 3].map(gate) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const c = tf.add(tf.mul(tf.sigmoid(f), state.c), tf.mul(tf.sigmoid(i), tanh(g)));
    const h = tf.mul(tf.sigmoid(o), tanh(c));
    return { h: h as tf.Tensor2D, c: c as tf.Tensor2D };
  }
}
