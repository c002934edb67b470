/**
 * L2O-PA's recurrent backbones: a PyTorch-style stack (`rnn.*`) over the input (∇f(y)ᵢ, yᵢ)
 * whose top layer's output is the features. The LSTM and GRU backbones differ only in the stack
 * and in the state it carries per layer, (h, c) or h, so both are built here (and gru-mha's GRU).
 */
import type { tf } from '@l2o/core/portable';
import { StackedGru, StackedLstm } from '../layers/stacked-rnn.js';
import { rnnSizeOptions, type RnnCellName, type RnnSize } from '../rnn-size.js';
import { initialTensors } from '../state-init.js';
import type { Backbone, PaModelDefinition } from '../pa/backbone.js';
import type { WeightFactory } from '../weights.js';

/** Per coordinate, a PA backbone reads (∇f(y)ᵢ, yᵢ). */
const INPUT_SIZE = 2;

const STATE_KEYS: Record<RnnCellName, readonly string[]> = { LSTM: ['h', 'c'], GRU: ['h'] };

/** Creates the stack's weights and returns its step on a backbone state. */
function stackStep(cell: RnnCellName, weights: WeightFactory, o: RnnSize): Backbone['forward'] {
  if (cell === 'LSTM') {
    const lstm = new StackedLstm(weights, INPUT_SIZE, o.hidden, o.layers);
    return (input, state) => {
      const out = lstm.apply(input, state.h as tf.Tensor2D[], state.c as tf.Tensor2D[]);
      return { output: out.output, state: { h: out.h, c: out.c } };
    };
  }
  const gru = new StackedGru(weights, INPUT_SIZE, o.hidden, o.layers);
  return (input, state) => {
    const out = gru.apply(input, state.h as tf.Tensor2D[]);
    return { output: out.output, state: { h: out.h } };
  };
}

/** A stack of `o.layers` `cell` layers, hidden `o.hidden`, as a backbone (weights under `rnn.*`). */
export function recurrentBackbone(cell: RnnCellName, weights: WeightFactory, o: RnnSize): Backbone {
  const forward = stackStep(cell, weights.scope('rnn'), o);
  const stateKeys = STATE_KEYS[cell];
  return {
    outputSize: o.hidden,
    stateKeys,
    initState: (rows, init) => Object.fromEntries(stateKeys.map((key) => [key, initialTensors(rows, o.hidden, o.layers, init)])),
    forward,
  };
}

/** Closed-form parameter count of `recurrentBackbone(cell, …, o)`. */
export function recurrentParameterCount(cell: RnnCellName, o: RnnSize): number {
  return (cell === 'LSTM' ? StackedLstm : StackedGru).parameterCount(INPUT_SIZE, o.hidden, o.layers);
}

/** The PA model whose backbone is a `cell` stack, `hidden` wide by default. */
export function recurrentPaModel(cell: RnnCellName, id: string, description: string, hidden: number): PaModelDefinition<RnnSize> {
  return {
    id,
    description,
    options: rnnSizeOptions(cell, hidden),
    backbone: (weights, o) => recurrentBackbone(cell, weights, o),
    backboneParameterCount: (o) => recurrentParameterCount(cell, o),
  };
}
