import { tf, type Optimizer, type OptimizerState, type Problem, type ProblemBatch } from '@l2o/core/portable';
import { resolveOptions, type OptionFields } from '@l2o/core/portable';
import { inverseLipschitzStep, stepScaleOption, zerosIterate } from './step-size.js';

export const istaOptionFields: OptionFields<{ stepScale: number }> = { stepScale: stepScaleOption };

/** ISTA, proximal gradient with step stepScale/L: x ← prox(x − s∇f(x), s). */
export class Ista implements Optimizer {
  readonly id = 'ista';
  readonly options: Readonly<{ stepScale: number }>;

  constructor(options: Record<string, unknown> = {}) {
    this.options = resolveOptions({ kind: 'optimizer', id: 'ista' }, istaOptionFields, options);
  }

  init(_problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): OptimizerState {
    return { x: zerosIterate(batch, x0) };
  }

  step(problem: Problem, batch: ProblemBatch, state: OptimizerState): OptimizerState {
    return tf.tidy(() => {
      const s = inverseLipschitzStep(batch, this.options.stepScale);
      return { x: problem.prox(batch, tf.sub(state.x, tf.mul(s, problem.grad(batch, state.x))), s) };
    });
  }
}
