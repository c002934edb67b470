import { tf, type Optimizer, type OptimizerState, type Problem, type ProblemBatch, type StepContext } from '@l2o/core';
import { numericOptions } from './options.js';
import { zerosIterate } from './step-size.js';

/**
 * Subgradient descent on F: x ← x − lr_k g, g ∈ ∂F(x). lr_k = lr (decay 0) or lr/√(k+1) (decay 1).
 * Default lr 1e-2: SPEC gives no SGD setting; 1e-2 is stable (below 2/L) on the papers' LASSO and
 * logistic distributions, where L is about 6 and 0.3.
 */
export class Sgd implements Optimizer {
  readonly id = 'sgd';
  readonly options: Readonly<{ lr: number; decay: number }>;

  constructor(options: Record<string, unknown> = {}) {
    this.options = numericOptions('sgd', options, { lr: 1e-2, decay: 0 }, { decay: (v) => v === 0 || v === 1 });
  }

  init(_problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): OptimizerState {
    return { x: zerosIterate(batch, x0) };
  }

  step(problem: Problem, batch: ProblemBatch, state: OptimizerState, ctx: StepContext): OptimizerState {
    const lr = this.options.decay ? this.options.lr / Math.sqrt(ctx.k + 1) : this.options.lr;
    return tf.tidy(() => ({ x: tf.sub(state.x, tf.mul(lr, problem.subgradient(batch, state.x))) as tf.Tensor2D }));
  }
}
