import type { tf } from '@l2o/core/portable';
import type { WeightFactory } from '../weights.js';
import { GruCell } from './gru-cell.js';
import { LstmCell } from './lstm-cell.js';

/** A cell class as a stack uses it: PyTorch's per-layer constructor and closed-form size. */
interface RnnCellClass<C> {
  new (weights: WeightFactory, inputSize: number, hiddenSize: number, suffix: string): C;
  parameterCount(inputSize: number, hiddenSize: number): number;
}

/**
 * The layer wiring PyTorch's nn.LSTM and nn.GRU share, as the base class of a stack of `Cell`:
 * layer 0 reads `inputSize`, layer l > 0 the `hiddenSize` output of layer l − 1, and layer l's
 * weights are suffixed `_l{l}`. The stacks differ only in `apply` (the state a cell carries).
 */
function stackOf<C>(Cell: RnnCellClass<C>) {
  return class {
    readonly cells: C[];

    constructor(
      weights: WeightFactory,
      readonly inputSize: number,
      readonly hiddenSize: number,
      readonly layers: number,
    ) {
      this.cells = Array.from({ length: layers }, (_, l) => new Cell(weights, l === 0 ? inputSize : hiddenSize, hiddenSize, `_l${l}`));
    }

    static parameterCount(inputSize: number, hiddenSize: number, layers: number): number {
      let total = 0;
      for (let l = 0; l < layers; l++) total += Cell.parameterCount(l === 0 ? inputSize : hiddenSize, hiddenSize);
      return total;
    }
  };
}

/**
 * A multi-layer PyTorch nn.LSTM run one time step at a time (the sequence axis of a learned
 * optimizer is the iteration). Layer l reads layer l−1's new h. Weights named as PyTorch's
 * (`weight_ih_l0`, …) inside the factory's scope.
 */
export class StackedLstm extends stackOf(LstmCell) {
  /** x [rows, in]; h, c one [rows, hidden] per layer. Returns the top layer's h as output. */
  apply(x: tf.Tensor2D, h: readonly tf.Tensor2D[], c: readonly tf.Tensor2D[]): { output: tf.Tensor2D; h: tf.Tensor2D[]; c: tf.Tensor2D[] } {
    const hs: tf.Tensor2D[] = [];
    const cs: tf.Tensor2D[] = [];
    let input = x;
    this.cells.forEach((cell, l) => {
      const next = cell.apply(input, { h: h[l]!, c: c[l]! });
      hs.push(next.h);
      cs.push(next.c);
      input = next.h;
    });
    return { output: input, h: hs, c: cs };
  }
}

/** A multi-layer PyTorch nn.GRU run one time step at a time. */
export class StackedGru extends stackOf(GruCell) {
  apply(x: tf.Tensor2D, h: readonly tf.Tensor2D[]): { output: tf.Tensor2D; h: tf.Tensor2D[] } {
    const hs: tf.Tensor2D[] = [];
    let input = x;
    this.cells.forEach((cell, l) => {
      input = cell.apply(input, h[l]!);
      hs.push(input);
    });
    return { output: input, h: hs };
  }
}
