import { tf } from '@l2o/core/portable';
import { gruGates, rnnGatesFused } from '@l2o/wasm-kernels';
import type { WeightFactory } from '../weights.js';
import { RnnCellWeights, rnnCellParameterCount } from './rnn-cell-weights.js';
import { affine, gateProduct, tanh } from '../ops.js';

/**
 * One layer of PyTorch nn.GRU, one time step. Gates in PyTorch order (r, z, n), two bias
 * vectors, all weights uniform(±1/√hidden):
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h
 */
export class GruCell extends RnnCellWeights {
  constructor(weights: WeightFactory, inputSize: number, hiddenSize: number, suffix = '') {
    super(weights, 3, inputSize, hiddenSize, suffix);
  }

  static parameterCount(inputSize: number, hiddenSize: number): number {
    return rnnCellParameterCount(3, inputSize, hiddenSize);
  }

  /** x: [rows, in], h: [rows, hidden] → h'. */
  apply(x: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    const H = this.hiddenSize;
    if (rnnGatesFused(H)) {
      // Both products whole, then the gates in one kernel (and one back).
      const ax = affine(x, this.weightIh as tf.Tensor2D);
      const ah = affine(h, this.weightHh as tf.Tensor2D);
      return gruGates(ax, ah, this.biasIh as tf.Tensor1D, this.biasHh as tf.Tensor1D, h);
    }
    const input = (k: number) => gateProduct(x, this.weightIh, this.biasIh, k, H);
    const hidden = (k: number) => gateProduct(h, this.weightHh, this.biasHh, k, H);
    const r = tf.sigmoid(tf.add(input(0), hidden(0)));
    const z = tf.sigmoid(tf.add(input(1), hidden(1)));
    const n = tanh(tf.add(input(2), tf.mul(r, hidden(2))));
    // (1 − z) n + z h = n + z (h − n): one op fewer on the wide tensors.
    return tf.add<tf.Tensor2D>(n, tf.mul(z, tf.sub(h, n)));
  }
}
