import type { tf } from '../tf.js';
import type { InstanceSet } from './instances.js';

/**
 * A batch of instances as tensors on the engine. Iterates are [size, n].
 * A is [size, m, n], or [m, n] when shared by the whole batch.
 */
export interface ProblemBatch {
  problem: string;
  size: number;
  m: number;
  n: number;
  lambda: number;
  sharedA: boolean;
  A: tf.Tensor2D | tf.Tensor3D;
  b: tf.Tensor2D;
  /** Lipschitz constant of ∇f per instance, [size]. */
  L: tf.Tensor1D;
}

/**
 * A composite problem F(x) = f(x) + r(x), batched over instances: f smooth with an
 * L-Lipschitz gradient, r convex with a cheap prox. Every method is a pure function of
 * tensors; none disposes its inputs.
 */
export interface Problem {
  readonly id: string;
  readonly options: Readonly<Record<string, unknown>>;
  /**
   * The provably convergent method that gives F* of test instances (run to a KKT tolerance),
   * an optimizer id with its options; core knows no optimizer by name.
   */
  readonly referenceSolver: { readonly id: string; readonly options?: Readonly<Record<string, unknown>> };
  /** The dataset that generates training instances of this problem when none is named. */
  readonly defaultDataset: string;
  /** Throws an L2oError naming what is wrong with a set (shapes, λ, non-finite values). */
  validate(set: InstanceSet): void;
  /** Tensors for the instances of a (validated) set, with L computed per instance. */
  toBatch(set: InstanceSet): ProblemBatch;
  /** Disposes the tensors of a batch. */
  disposeBatch(batch: ProblemBatch): void;
  f(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor1D;
  grad(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor2D;
  /** prox of step·r at v, with a per-coordinate step ([size, n], or broadcastable to it). */
  prox(batch: ProblemBatch, v: tf.Tensor2D, step: tf.Tensor): tf.Tensor2D;
  /** F = f + r, [size]. */
  objective(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor1D;
  /** A subgradient of F at x. */
  subgradient(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor2D;
  /**
   * A measure of optimality that is 0 exactly at a minimiser: the largest violation of the
   * first-order (KKT) conditions over the coordinates, [size].
   */
  kktResidual(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor1D;
  /**
   * The problem in float64 on the host (plain JavaScript, any engine): F* and F(x_k) computed
   * where float32 cannot resolve relative gaps below ~1e-7. Without it, gaps are float32's.
   */
  readonly float64?: Float64Problem;
}

/** A float64 solve of one instance. */
export interface Float64Solution {
  x: Float64Array;
  f: number;
  /** The KKT residual at x, relative to the problem's own scale (see `Float64Problem.solve`). */
  kkt: number;
  iterations: number;
}

/** Instance i of a set, computed in float64 from its float32 data. */
export interface Float64Problem {
  /** F(x) of instance `i` of `set`. */
  objective(set: InstanceSet, i: number, x: ArrayLike<number>): number;
  /**
   * Minimises instance `i` from `start` until its KKT residual, relative to the problem's scale
   * at x = 0, is at most `tolerance`, or `maxIterations` pass.
   */
  solve(set: InstanceSet, i: number, start: ArrayLike<number>, options: { tolerance: number; maxIterations: number }): Float64Solution;
}
