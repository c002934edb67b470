import type { tf } from '../tf.js';
import type { Problem, ProblemBatch } from './problem.js';
import type { Rng } from '../random/rng.js';

/**
 * What an optimizer carries from one iteration to the next. `x` is the iterate; `y` the point
 * where the gradient is taken when the method extrapolates (FISTA, the PA update); the rest
 * is the method's own (momenta, recurrent state). Only tensors, numbers and arrays of them, so
 * that `tf.tidy` can return it and `tf.dispose` free it.
 */
export interface OptimizerState {
  x: tf.Tensor2D;
  y?: tf.Tensor2D;
  [key: string]: tf.Tensor | tf.Tensor[] | number | undefined;
}

export interface StepContext {
  /** Iteration index, starting at 0. */
  k: number;
  /** True while meta-training (dropout on, gradients wanted). */
  training: boolean;
  /**
   * The generator for stochastic layers (dropout) while training, owned by the trainer so that
   * a resumed run draws the same masks as an uninterrupted one.
   */
  rng?: Rng;
}

/**
 * One interface for every optimizer, hand-designed or learned, so evaluation runs them all
 * through the same loop. `init` and `step` are pure: they return new tensors and never
 * dispose their inputs; the caller owns every state it receives.
 */
export interface Optimizer<S extends OptimizerState = OptimizerState> {
  readonly id: string;
  readonly options: Readonly<Record<string, unknown>>;
  init(problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): S;
  step(problem: Problem, batch: ProblemBatch, state: S, ctx: StepContext): S;
}

/** The point whose objective is reported and trained on: y where the method has one. */
export function evaluationPoint(state: OptimizerState): tf.Tensor2D {
  return state.y ?? state.x;
}
