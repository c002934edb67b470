import type { tf } from '@l2o/core';
import type { WeightFactory } from '../weights.js';
import { GruCell } from './gru-cell.js';
import { LstmCell } from './lstm-cell.js';

/**
 * A multi-layer PyTorch nn.LSTM run one time step at a time (the sequence axis of a learned
 * optimizer is the iteration). Layer l reads layer l−1's new h. Weights named as PyTorch's
 * (`weight_ih_l0`, …) inside the factory's scope.
 */
export class StackedLstm {
  readonly cells: LstmCell[];

  constructor(
    weights: WeightFactory,
    readonly inputSize: number,
    readonly hiddenSize: number,
    readonly layers: number,
  ) {
    this.cells = Array.from({ length: layers }, (_, l) => new LstmCell(weights, l === 0 ? inputSize : hiddenSize, hiddenSize, `_l${l}`));
  }

  static parameterCount(inputSize: number, hiddenSize: number, layers: number): number {
    let total = 0;
    for (let l = 0; l < layers; l++) total += LstmCell.parameterCount(l === 0 ? inputSize : hiddenSize, hiddenSize);
    return total;
  }

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
export class StackedGru {
  readonly cells: GruCell[];

  constructor(
    weights: WeightFactory,
    readonly inputSize: number,
    readonly hiddenSize: number,
    readonly layers: number,
  ) {
    this.cells = Array.from({ length: layers }, (_, l) => new GruCell(weights, l === 0 ? inputSize : hiddenSize, hiddenSize, `_l${l}`));
  }

  static parameterCount(inputSize: number, hiddenSize: number, layers: number): number {
    let total = 0;
    for (let l = 0; l < layers; l++) total += GruCell.parameterCount(l === 0 ? inputSize : hiddenSize, hiddenSize);
    return total;
  }

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
