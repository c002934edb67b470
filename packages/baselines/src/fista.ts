import { tf, type Optimizer, type OptimizerState, type Problem, type ProblemBatch } from '@l2o/core/portable';
import { resolveOptions, type OptionFields } from '@l2o/core/portable';
import { inverseLipschitzStep, stepScaleOption, zerosIterate } from './step-size.js';

export const fistaOptionFields: OptionFields<{ stepScale: number }> = { stepScale: stepScaleOption };

export interface FistaState extends OptimizerState {
  /** The extrapolated point where the gradient is taken (not the reported iterate). */
  z: tf.Tensor2D;
  t: number;
}

/**
 * FISTA (Beck & Teboulle 2009): x⁺ = prox(z − s∇f(z), s), t⁺ = (1 + √(1 + 4t²))/2,
 * z⁺ = x⁺ + ((t − 1)/t⁺)(x⁺ − x). F is reported at x.
 */
export class Fista implements Optimizer<FistaState> {
  readonly id = 'fista';
  readonly options: Readonly<{ stepScale: number }>;

  constructor(options: Record<string, unknown> = {}) {
    this.options = resolveOptions({ kind: 'optimizer', id: 'fista' }, fistaOptionFields, options);
  }

  init(_problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): FistaState {
    const x = zerosIterate(batch, x0);
    return { x, z: tf.clone(x), t: 1 };
  }

  step(problem: Problem, batch: ProblemBatch, state: FistaState): FistaState {
    return tf.tidy(() => {
      const s = inverseLipschitzStep(batch, this.options.stepScale);
      const x = problem.prox(batch, tf.sub(state.z, tf.mul(s, problem.grad(batch, state.z))), s);
      const t = (1 + Math.sqrt(1 + 4 * state.t * state.t)) / 2;
      const z = tf.add<tf.Tensor2D>(x, tf.mul((state.t - 1) / t, tf.sub(x, state.x)));
      return { x, z, t };
    });
  }
}
