import { tf } from '@l2o/core';
import { StackedLstm } from '../layers/stacked-rnn.js';
import { intOption } from '@l2o/core';
import { initialTensors } from '../state-init.js';
import type { Backbone, PaModelDefinition } from '../pa/backbone.js';

export interface LstmBackboneOptions {
  hidden: number;
  layers: number;
}

/** L2O-PA's backbone: a 2-layer LSTM, hidden 20, over the input (∇f(y)ᵢ, yᵢ). */
export function lstmBackbone(weights: Parameters<PaModelDefinition<LstmBackboneOptions>['backbone']>[0], o: LstmBackboneOptions): Backbone {
  const rnn = new StackedLstm(weights.scope('rnn'), 2, o.hidden, o.layers);
  return {
    outputSize: o.hidden,
    stateKeys: ['h', 'c'],
    initState: (rows, init) => ({ h: initialTensors(rows, o.hidden, o.layers, init), c: initialTensors(rows, o.hidden, o.layers, init) }),
    forward(input, state) {
      const out = rnn.apply(input, state.h as tf.Tensor2D[], state.c as tf.Tensor2D[]);
      return { output: out.output, state: { h: out.h, c: out.c } };
    },
  };
}

export const lstmModel: PaModelDefinition<LstmBackboneOptions> = {
  id: 'lstm',
  description: 'L2O-PA (Liu et al. 2023): 2-layer LSTM backbone, PA update',
  options: {
    hidden: intOption(20, 'LSTM hidden size', { min: 1 }),
    layers: intOption(2, 'LSTM layers', { min: 1 }),
  },
  backbone: lstmBackbone,
  backboneParameterCount: (o) => StackedLstm.parameterCount(2, o.hidden, o.layers),
};
