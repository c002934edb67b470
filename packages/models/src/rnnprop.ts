import { tf } from '@l2o/core/portable';
import type { Problem, ProblemBatch, StepContext } from '@l2o/core/portable';
import { CoordinateLstmModel, updateOptions, type CoordinateLstmOptions, type CoordinateLstmState } from './coordinate-lstm.js';
import { modelRegistration } from './learned-model.js';
import { coordinateFeatures, detach, tanh } from './ops.js';
import { rnnSizeOptions } from './rnn-size.js';
import { numberOption, type OptionFields } from '@l2o/core/portable';

export interface RnnPropOptions extends CoordinateLstmOptions {
  beta1: number;
  beta2: number;
  eps: number;
}

const fields: OptionFields<RnnPropOptions> = {
  ...rnnSizeOptions('LSTM', 20),
  beta1: numberOption(0.95, 'decay of the first moment', { min: 0, max: 1, exclusiveMax: true }),
  beta2: numberOption(0.95, 'decay of the second moment', { min: 0, max: 1, exclusiveMax: true }),
  eps: numberOption(1e-8, 'added to √v̂', { min: 0, exclusiveMin: true }),
  ...updateOptions('x ← x − outputScale · tanh(output)'),
};

interface RnnPropState extends CoordinateLstmState {
  m: tf.Tensor2D;
  v: tf.Tensor2D;
}

/**
 * RNNProp (Lv et al. 2017), coordinate-wise: inputs are Adam's normalised quantities
 * m̂/(√v̂ + ε) and g/(√v̂ + ε) of a subgradient g of F (β1 = β2 = 0.95), then linear + ELU, a
 * 2-layer LSTM, linear + tanh; x ← x − 0.1 · output.
 */
export class RnnProp extends CoordinateLstmModel<RnnPropState, RnnPropOptions> {
  constructor(options: Record<string, unknown> = {}) {
    super('rnnprop', fields, options, true);
  }

  init(_problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): RnnPropState {
    return tf.tidy(() => {
      const { x, h, c } = this.initialState(batch, x0);
      return { x, m: tf.zerosLike(x), v: tf.zerosLike(x), h, c };
    });
  }

  step(problem: Problem, batch: ProblemBatch, state: RnnPropState, ctx: StepContext): RnnPropState {
    const { beta1, beta2, eps } = this.o;
    const t = ctx.k + 1;
    return tf.tidy(() => {
      const g = this.o.inputGradient === 'stop' ? detach(problem.subgradient(batch, state.x)) : problem.subgradient(batch, state.x);
      const m = tf.add<tf.Tensor2D>(tf.mul(beta1, state.m), tf.mul(1 - beta1, g));
      const v = tf.add<tf.Tensor2D>(tf.mul(beta2, state.v), tf.mul(1 - beta2, tf.square(g)));
      const denom = tf.add(tf.sqrt(tf.div(v, 1 - beta2 ** t)), eps);
      const features = coordinateFeatures([tf.div(tf.div(m, 1 - beta1 ** t), denom), tf.div(g, denom)]);
      const { x, h, c } = this.advance(batch, state, features, tanh);
      return { x, m, v, h, c };
    });
  }
}

export const rnnPropRegistration = modelRegistration(
  'rnnprop',
  'RNNProp (Lv et al. 2017): Adam-normalised inputs, linear+ELU, 2-layer LSTM-20, linear+tanh',
  fields,
  (o) => new RnnProp(o),
);
