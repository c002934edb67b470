import { UsageError, intOption, numberOption, resolveOptions, tf, type OptionFields } from '@l2o/core/portable';
import type { Optimizer, OptimizerState, Problem, ProblemBatch, StepContext } from '@l2o/core/portable';
import { inverseLipschitzStep, stepScaleOption, zerosIterate } from './step-size.js';

export type SgdOptions = {
  /** A fixed step for every instance; when absent the step is stepScale/L per instance. */
  lr: number | undefined;
  stepScale: number;
  /** 1: the step is divided by √(k+1). */
  decay: number;
};

export const sgdOptionFields: OptionFields<SgdOptions> = {
  lr: numberOption(undefined, 'a fixed step for every instance, instead of stepScale/L', { min: 0, exclusiveMin: true, defaultText: 'none: stepScale/L' }),
  stepScale: stepScaleOption,
  decay: intOption(0, '1: the step is divided by √(k+1)', { min: 0, max: 1 }),
};

/**
 * Subgradient descent on F: x ← x − s_k g, g = ∇f(x) + λ sign(x) ∈ ∂F(x).
 * Default step s = 1/L per instance, as the L2O-PA code's SubGradientDescent (0.9999/L there;
 * stepScale 0.9999 matches it exactly); `lr` gives a fixed step instead; `decay: 1` divides the
 * step by √(k+1), which the constant step lacks to converge on a non-smooth F.
 */
export class Sgd implements Optimizer {
  readonly id = 'sgd';
  readonly options: Readonly<SgdOptions>;

  constructor(options: Record<string, unknown> = {}) {
    this.options = resolveOptions({ kind: 'optimizer', id: 'sgd' }, sgdOptionFields, options);
    if (options.lr !== undefined && options.stepScale !== undefined) {
      throw new UsageError('sgd options lr and stepScale exclude each other.', 'Give lr for one fixed step, or stepScale for stepScale/L per instance.');
    }
  }

  init(_problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): OptimizerState {
    return { x: zerosIterate(batch, x0) };
  }

  step(problem: Problem, batch: ProblemBatch, state: OptimizerState, ctx: StepContext): OptimizerState {
    const { lr, stepScale, decay } = this.options;
    const schedule = decay ? 1 / Math.sqrt(ctx.k + 1) : 1;
    return tf.tidy(() => {
      const s = lr === undefined ? tf.mul(inverseLipschitzStep(batch, stepScale), schedule) : lr * schedule;
      return { x: tf.sub<tf.Tensor2D>(state.x, tf.mul(s, problem.subgradient(batch, state.x))) };
    });
  }
}
