import { resolveOptions, tf, type InstanceSet, type OptionFields, type ProblemBatch } from '@l2o/core/portable';
import { leastSquares64, l1Composite64 } from './float64.js';
import { L1Composite, MIN_LIPSCHITZ, applyA, leastSquaresGradient, squaredSpectralNorm, validateComposite } from './shared.js';

/** LASSO takes no options. */
export const lassoOptionFields: OptionFields<Record<never, never>> = {};

/** LASSO: F(x) = ½‖Ax − b‖² + λ‖x‖₁, L = ‖A‖₂². */
export class Lasso extends L1Composite {
  readonly id = 'lasso';
  readonly options: Readonly<Record<string, unknown>>;
  readonly float64 = l1Composite64(leastSquares64);

  constructor(options: Record<string, unknown> = {}) {
    super();
    this.options = resolveOptions({ kind: 'problem', id: 'lasso' }, lassoOptionFields, options);
  }

  validate(set: InstanceSet): void {
    validateComposite(this.id, set);
  }

  toBatch(set: InstanceSet): ProblemBatch {
    this.validate(set);
    const A = set.sharedA ? tf.tensor2d(set.A, [set.m, set.n]) : tf.tensor3d(set.A, [set.count, set.m, set.n]);
    const b = tf.tensor2d(set.b, [set.count, set.m]);
    const normSq = squaredSpectralNorm(A, set.count);
    const L = tf.tidy<tf.Tensor1D>(() => tf.maximum(normSq, MIN_LIPSCHITZ));
    normSq.dispose();
    return { problem: this.id, size: set.count, m: set.m, n: set.n, lambda: set.lambda, sharedA: set.sharedA, A, b, L };
  }

  f(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.mul<tf.Tensor1D>(0.5, tf.sum(tf.square(tf.sub(applyA(batch, x), batch.b)), 1)));
  }

  grad(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor2D {
    return leastSquaresGradient(batch, x);
  }
}
