import type { tf } from '@l2o/core/portable';
import { uniform, type WeightFactory } from '../weights.js';

/**
 * The weights of one layer of a PyTorch RNN whose cell has `gates` gates (nn.LSTM 4, nn.GRU 3),
 * named and initialised as PyTorch's: `weight_ih{suffix}` [gates·hidden, in], `weight_hh{suffix}`
 * [gates·hidden, hidden], `bias_ih{suffix}` and `bias_hh{suffix}` [gates·hidden], all
 * uniform(±1/√hidden), made in that order (suffix `_l0`, `_l1`, … in a stack).
 */
export abstract class RnnCellWeights {
  readonly weightIh: tf.Variable;
  readonly weightHh: tf.Variable;
  readonly biasIh: tf.Variable;
  readonly biasHh: tf.Variable;

  protected constructor(
    weights: WeightFactory,
    gates: number,
    readonly inputSize: number,
    readonly hiddenSize: number,
    suffix: string,
  ) {
    const init = uniform(1 / Math.sqrt(hiddenSize));
    this.weightIh = weights.create(`weight_ih${suffix}`, [gates * hiddenSize, inputSize], init);
    this.weightHh = weights.create(`weight_hh${suffix}`, [gates * hiddenSize, hiddenSize], init);
    this.biasIh = weights.create(`bias_ih${suffix}`, [gates * hiddenSize], init);
    this.biasHh = weights.create(`bias_hh${suffix}`, [gates * hiddenSize], init);
  }
}

/** The size of a layer's weights: two products and two bias vectors per gate. */
export function rnnCellParameterCount(gates: number, inputSize: number, hiddenSize: number): number {
  return gates * hiddenSize * (inputSize + hiddenSize) + 2 * gates * hiddenSize;
}
