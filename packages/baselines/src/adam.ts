import { numberOption, resolveOptions, tf, type OptionFields } from '@l2o/core/portable';
import type { Optimizer, OptimizerState, Problem, ProblemBatch, StepContext } from '@l2o/core/portable';
import { zerosIterate } from './step-size.js';

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const adamOptionFields: OptionFields<AdamOptions> = {
  lr: numberOption(1e-2, 'step size', { min: 0, exclusiveMin: true }),
  beta1: numberOption(0.1, 'decay of the first moment', { min: 0, max: 1, exclusiveMax: true }),
  beta2: numberOption(0.1, 'decay of the second moment', { min: 0, max: 1, exclusiveMax: true }),
  eps: numberOption(1e-8, 'added to √v̂', { min: 0, exclusiveMin: true }),
};

export interface AdamState extends OptimizerState {
  m: tf.Tensor2D;
  v: tf.Tensor2D;
}

/**
 * Adam on the subgradient of F. Defaults are the L2O-PA scripts' LASSO settings on synthetic data
 * (lr 1e-2, β1 = β2 = 0.1); on BSDS500 they used lr 1e-3, β1 = 1e-4, β2 = 0.1.
 */
export class Adam implements Optimizer<AdamState> {
  readonly id = 'adam';
  readonly options: Readonly<AdamOptions>;

  constructor(options: Record<string, unknown> = {}) {
    this.options = resolveOptions({ kind: 'optimizer', id: 'adam' }, adamOptionFields, options);
  }

  init(_problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): AdamState {
    const x = zerosIterate(batch, x0);
    return { x, m: tf.zerosLike(x), v: tf.zerosLike(x) };
  }

  step(problem: Problem, batch: ProblemBatch, state: AdamState, ctx: StepContext): AdamState {
    const { lr, beta1, beta2, eps } = this.options;
    const t = ctx.k + 1;
    return tf.tidy(() => {
      const g = problem.subgradient(batch, state.x);
      const m = tf.add<tf.Tensor2D>(tf.mul(beta1, state.m), tf.mul(1 - beta1, g));
      const v = tf.add<tf.Tensor2D>(tf.mul(beta2, state.v), tf.mul(1 - beta2, tf.square(g)));
      const mHat = tf.div(m, 1 - beta1 ** t);
      const vHat = tf.div(v, 1 - beta2 ** t);
      const x = tf.sub<tf.Tensor2D>(state.x, tf.mul(lr, tf.div(mHat, tf.add(tf.sqrt(vHat), eps))));
      return { x, m, v };
    });
  }
}
