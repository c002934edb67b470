import type { Backbone, PaModelDefinition } from '../pa/backbone.js';
import type { RnnSize } from '../rnn-size.js';
import type { WeightFactory } from '../weights.js';
import { recurrentBackbone, recurrentPaModel } from './recurrent.js';

export type LstmBackboneOptions = RnnSize;

/** L2O-PA's backbone: a 2-layer LSTM, hidden 20, over the input (∇f(y)ᵢ, yᵢ). */
export function lstmBackbone(weights: WeightFactory, o: LstmBackboneOptions): Backbone {
  return recurrentBackbone('LSTM', weights, o);
}

export const lstmModel: PaModelDefinition<LstmBackboneOptions> = recurrentPaModel(
  'LSTM',
  'lstm',
  'L2O-PA (Liu et al. 2023): 2-layer LSTM backbone, PA update',
  20,
);
