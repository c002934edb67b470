import { intOption, type OptionFields } from '@l2o/core/portable';

/** PyTorch's name of a recurrent module, as the size options describe it. */
export type RnnCellName = 'LSTM' | 'GRU';

/** Width and depth of a stack of recurrent layers. */
export interface RnnSize {
  hidden: number;
  layers: number;
}

/**
 * The `hidden` and `layers` options of every recurrent model (two layers by default), declared
 * once so that their descriptions and bounds agree across models.
 */
export function rnnSizeOptions(cell: RnnCellName, hidden: number, hiddenDescription = `${cell} hidden size`): OptionFields<RnnSize> {
  return {
    hidden: intOption(hidden, hiddenDescription, { min: 1 }),
    layers: intOption(2, `${cell} layers`, { min: 1 }),
  };
}
