import { tf } from '@l2o/core/portable';
import type { Problem, ProblemBatch } from '@l2o/core/portable';
import { CoordinateLstmModel, updateOptions, type CoordinateLstmOptions, type CoordinateLstmState } from './coordinate-lstm.js';
import { modelRegistration } from './learned-model.js';
import { coordinateFeatures, detach } from './ops.js';
import { rnnSizeOptions } from './rnn-size.js';
import type { OptionFields } from '@l2o/core/portable';

export type L2oDmOptions = CoordinateLstmOptions;

const fields: OptionFields<L2oDmOptions> = {
  ...rnnSizeOptions('LSTM', 20),
  ...updateOptions('x ← x − outputScale · output (0.1 as in the L2O-DM code)'),
};

/**
 * L2O-DM (Andrychowicz et al. 2016), coordinate-wise: a 2-layer LSTM reads (g, x) per coordinate,
 * with g a subgradient of F (∇f + λ sign x, detached), and a linear layer gives the update:
 * x ← x − outputScale · output.
 */
export class L2oDm extends CoordinateLstmModel<CoordinateLstmState, L2oDmOptions> {
  constructor(options: Record<string, unknown> = {}) {
    super('l2o-dm', fields, options, false);
  }

  init(_problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): CoordinateLstmState {
    return tf.tidy(() => this.initialState(batch, x0));
  }

  step(problem: Problem, batch: ProblemBatch, state: CoordinateLstmState): CoordinateLstmState {
    return tf.tidy(() => {
      const g = problem.subgradient(batch, state.x);
      const features = coordinateFeatures([g, state.x]);
      return this.advance(batch, state, this.o.inputGradient === 'stop' ? detach(features) : features);
    });
  }
}

export const l2oDmRegistration = modelRegistration('l2o-dm', 'L2O-DM (Andrychowicz et al. 2016): 2-layer LSTM-20, x ← x − output', fields, (o) => new L2oDm(o));
