import { L2oError, enumOption, resolveOptions, tf, type InstanceSet, type OptionFields, type ProblemBatch } from '@l2o/core/portable';
import { logisticLoss64, l1Composite64 } from './float64.js';
import { L1Composite, MIN_LIPSCHITZ, applyA, applyAt, squaredSpectralNorm, validateComposite } from './shared.js';

export type LogisticLipschitz = 'tight' | 'paper';

export const logisticL1OptionFields: OptionFields<{ lipschitz: LogisticLipschitz }> = {
  lipschitz: enumOption<LogisticLipschitz>(
    'tight',
    ['tight', 'paper'],
    "L: 'tight' ‖A‖₂²/(4m), or 'paper' ‖A‖₂ as the L2O-PA code (steps about 100× smaller at m = 1000)",
  ),
};

/**
 * ℓ1-regularised logistic regression: F(x) = (1/m) Σᵢ BCE(σ(aᵢᵀx), bᵢ) + λ‖x‖₁ with labels in {0, 1}.
 * The loss is computed from the logits z as max(z, 0) − b z + log1p(exp(−|z|)), finite for any z.
 * L: ‖A‖₂²/(4m), the tight bound (default), or ‖A‖₂ as the L2O-PA code did (`lipschitz: paper`),
 * which makes steps about 100× smaller at m = 1000.
 */
export class LogisticL1 extends L1Composite {
  readonly id = 'logistic-l1';
  readonly options: Readonly<{ lipschitz: LogisticLipschitz }>;
  readonly float64 = l1Composite64(logisticLoss64);

  constructor(options: Record<string, unknown> = {}) {
    super();
    this.options = resolveOptions({ kind: 'problem', id: 'logistic-l1' }, logisticL1OptionFields, options);
  }

  validate(set: InstanceSet): void {
    validateComposite(this.id, set);
    for (let i = 0; i < set.b.length; i++) {
      const v = set.b[i];
      if (v !== 0 && v !== 1) {
        throw new L2oError(`logistic-l1 labels must be 0 or 1; b holds ${v} at flat index ${i}.`, 'Map ±1 labels to 0/1 before building the set.');
      }
    }
  }

  toBatch(set: InstanceSet): ProblemBatch {
    this.validate(set);
    const A = set.sharedA ? tf.tensor2d(set.A, [set.m, set.n]) : tf.tensor3d(set.A, [set.count, set.m, set.n]);
    const b = tf.tensor2d(set.b, [set.count, set.m]);
    const normSq = squaredSpectralNorm(A, set.count);
    const L = tf.tidy<tf.Tensor1D>(() => tf.maximum(this.options.lipschitz === 'tight' ? tf.div(normSq, 4 * set.m) : tf.sqrt(normSq), MIN_LIPSCHITZ));
    normSq.dispose();
    return { problem: this.id, size: set.count, m: set.m, n: set.n, lambda: set.lambda, sharedA: set.sharedA, A, b, L };
  }

  f(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const z = applyA(batch, x);
      const loss = tf.add(tf.sub(tf.relu(z), tf.mul(batch.b, z)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      return tf.div<tf.Tensor1D>(tf.sum(loss, 1), batch.m);
    });
  }

  grad(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.div<tf.Tensor2D>(applyAt(batch, tf.sub(tf.sigmoid(applyA(batch, x)), batch.b)), batch.m));
  }
}
