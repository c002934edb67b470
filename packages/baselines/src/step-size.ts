import { L2oError, numberOption, tf, type OptionField, type ProblemBatch } from '@l2o/core/portable';

/** The step stepScale/L of ISTA, FISTA and SGD. */
export const stepScaleOption: OptionField<number> = numberOption(1, 'the step is stepScale/L per instance', { min: 0, exclusiveMin: true });

/** scale / L per instance, shaped [B, 1] to broadcast over coordinates. */
export function inverseLipschitzStep(batch: ProblemBatch, scale: number): tf.Tensor2D {
  return tf.tidy(() => tf.reshape<tf.Rank.R2>(tf.div(scale, batch.L), [batch.size, 1]));
}

/** The first iterate: a copy of x0 (the caller keeps x0), or zeros. */
export function zerosIterate(batch: ProblemBatch, x0?: tf.Tensor2D): tf.Tensor2D {
  if (!x0) return tf.zeros<tf.Rank.R2>([batch.size, batch.n]);
  if (x0.rank !== 2 || x0.shape[0] !== batch.size || x0.shape[1] !== batch.n) {
    throw new L2oError(`The starting point x0 has shape [${x0.shape.join(', ')}], but the batch needs [${batch.size}, ${batch.n}].`);
  }
  return tf.clone(x0);
}
