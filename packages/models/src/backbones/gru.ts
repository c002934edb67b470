import type { tf } from '@l2o/core';
import { StackedGru } from '../layers/stacked-rnn.js';
import { intOption } from '@l2o/core';
import { initialTensors } from '../state-init.js';
import type { Backbone, PaModelDefinition } from '../pa/backbone.js';
import type { WeightFactory } from '../weights.js';

export interface GruBackboneOptions {
  hidden: number;
  layers: number;
}

/** The paper's L2O-PA-GRU backbone: a 2-layer GRU, hidden 16 (fewer parameters than LSTM-20). */
export function gruBackbone(weights: WeightFactory, o: GruBackboneOptions): Backbone {
  const rnn = new StackedGru(weights.scope('rnn'), 2, o.hidden, o.layers);
  return {
    outputSize: o.hidden,
    stateKeys: ['h'],
    initState: (rows, init) => ({ h: initialTensors(rows, o.hidden, o.layers, init) }),
    forward(input, state) {
      const out = rnn.apply(input, state.h as tf.Tensor2D[]);
      return { output: out.output, state: { h: out.h } };
    },
  };
}

export const gruModel: PaModelDefinition<GruBackboneOptions> = {
  id: 'gru',
  description: 'L2O-PA-GRU: 2-layer GRU backbone (hidden 16), PA update',
  options: {
    hidden: intOption(16, 'GRU hidden size', { min: 1 }),
    layers: intOption(2, 'GRU layers', { min: 1 }),
  },
  backbone: gruBackbone,
  backboneParameterCount: (o) => StackedGru.parameterCount(2, o.hidden, o.layers),
};
