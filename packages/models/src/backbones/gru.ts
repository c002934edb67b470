import type { Backbone, PaModelDefinition } from '../pa/backbone.js';
import type { RnnSize } from '../rnn-size.js';
import type { WeightFactory } from '../weights.js';
import { recurrentBackbone, recurrentPaModel } from './recurrent.js';

export type GruBackboneOptions = RnnSize;

/** The paper's L2O-PA-GRU backbone: a 2-layer GRU, hidden 16 (fewer parameters than LSTM-20). */
export function gruBackbone(weights: WeightFactory, o: GruBackboneOptions): Backbone {
  return recurrentBackbone('GRU', weights, o);
}

export const gruModel: PaModelDefinition<GruBackboneOptions> = recurrentPaModel('GRU', 'gru', 'L2O-PA-GRU: 2-layer GRU backbone (hidden 16), PA update', 16);
