import { L2oError, Rng, tf, type InstanceSet, type Problem, type ProblemBatch } from '@l2o/core/portable';
import { batchGram, batchMatVec, batchNormalResidual } from '@l2o/wasm-kernels';

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/** Shape and value checks shared by A, b, λ problems; before any tensor is made. */
export function validateComposite(problemId: string, set: InstanceSet): void {
  const dataset = set.meta?.dataset;
  const where = `${problemId} instances${dataset ? ` from ${typeof dataset === 'string' ? dataset : JSON.stringify(dataset)}` : ''}`;
  if (set.problem !== problemId) throw new L2oError(`The instances are for '${set.problem}', not '${problemId}'.`);
  for (const [name, v] of [
    ['count', set.count],
    ['m', set.m],
    ['n', set.n],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new L2oError(`${where}: ${name} must be a positive integer, got ${v}.`);
  }
  if (!(set.lambda >= 0) || !Number.isFinite(set.lambda)) throw new L2oError(`${where}: λ must be a finite number ≥ 0, got ${set.lambda}.`);
  const aSize = (set.sharedA ? 1 : set.count) * set.m * set.n;
  if (set.A.length !== aSize) {
    throw new L2oError(`${where}: A has ${set.A.length} values, expected ${aSize} (${set.sharedA ? '' : `${set.count} × `}${set.m} × ${set.n}).`);
  }
  if (set.b.length !== set.count * set.m)
    throw new L2oError(`${where}: b has ${set.b.length} values, expected ${set.count * set.m} (${set.count} × ${set.m}).`);
  if (set.xTrue !== undefined && set.xTrue.length !== set.count * set.n) {
    throw new L2oError(`${where}: xTrue has ${set.xTrue.length} values, expected ${set.count * set.n} (${set.count} × ${set.n}).`);
  }
  if (set.fStar !== undefined && set.fStar.length !== set.count) {
    throw new L2oError(`${where}: fStar has ${set.fStar.length} values, expected one per instance (${set.count}).`);
  }
  const badA = firstNonFinite(set.A);
  if (badA >= 0) throw new L2oError(`${where}: A holds a non-finite value (${set.A[badA]}) at flat index ${badA}.`);
  const badB = firstNonFinite(set.b);
  if (badB >= 0) throw new L2oError(`${where}: b holds a non-finite value (${set.b[badB]}) at flat index ${badB}.`);
}

/** A x for every instance: [B, m]. */
export function applyA(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor2D {
  return batch.sharedA ? tf.matMul<tf.Tensor2D>(x, batch.A, false, true) : batchMatVec(batch.A as tf.Tensor3D, x, false, { constantA: true });
}

/** Aᵀ r for every instance: [B, n]. */
export function applyAt(batch: ProblemBatch, r: tf.Tensor2D): tf.Tensor2D {
  return batch.sharedA ? tf.matMul<tf.Tensor2D>(r, batch.A) : batchMatVec(batch.A as tf.Tensor3D, r, true, { constantA: true });
}

/** Aᵀ(A x − b) for every instance, the gradient of ½‖A x − b‖²: [B, n] (one pass over each A on the platform's kernels). */
export function leastSquaresGradient(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor2D {
  if (batch.sharedA) return tf.tidy(() => applyAt(batch, tf.sub(applyA(batch, x), batch.b)));
  return batchNormalResidual(batch.A as tf.Tensor3D, x, batch.b);
}

/** Convergence is read back (one small download) every this many iterations, not every one. */
const POWER_CHECK_EVERY = 10;

/**
 * ‖A‖₂² per instance by batched power iteration, until the estimate changes by less than
 * `tolerance` (relative) per iteration, averaged over the last 10 iterations, or `maxIterations`.
 * Returns [count] (one value repeated when A is shared).
 *
 * It iterates on the smaller Gram matrix, AAᵀ (m×m) when m < n, else AᵀA (n×n): both have
 * ‖A‖₂² as their largest eigenvalue, and at the papers' LASSO size (250×500) the smaller one is
 * about 3× faster to form and 4× cheaper per iteration. The estimate is the Rayleigh quotient.
 */
export function squaredSpectralNorm(A: tf.Tensor2D | tf.Tensor3D, count: number, tolerance = 1e-6, maxIterations = 1000): tf.Tensor1D {
  const shared = A.rank === 2;
  const [m, n] = A.shape.slice(-2) as [number, number];
  const gram = tf.tidy<tf.Tensor3D>(() => batchGram((shared ? tf.expandDims(A, 0) : A) as tf.Tensor3D, m >= n));
  const [instances, d] = [gram.shape[0], gram.shape[1]];
  // A fixed pseudo-random start from the platform's generator: the same on every engine, and not
  // nearly orthogonal to the top eigenvector the way a structured vector can be (all ones against
  // the mean-free atoms of a patch dictionary, say).
  let v = tf.tidy(() => {
    const start = tf.tensor3d(new Rng('l2o:power-iteration').normals(d), [1, d, 1]);
    return tf.tile(tf.div(start, tf.norm(start)), [instances, 1, 1]) as tf.Tensor3D;
  });
  let estimate = tf.zeros<tf.Rank.R1>([instances]);
  let checkpoint: Float32Array | undefined;
  for (let i = 1; i <= maxIterations; i++) {
    const [nextV, nextEstimate] = tf.tidy(() => {
      const w = tf.reshape<tf.Rank.R3>(batchMatVec(gram, tf.reshape(v, [instances, d])), [instances, d, 1]);
      const rayleigh = tf.sum<tf.Tensor1D>(tf.mul(v, w), [1, 2]); // vᵀGv, ‖v‖ = 1
      // max(‖w‖, tiny): an all-zero A keeps v = 0 and the estimate 0 instead of NaN.
      const next = tf.div<tf.Tensor3D>(w, tf.maximum(tf.norm(w, 'euclidean', [1, 2], true), 1e-30));
      return [next, rayleigh] as [tf.Tensor3D, tf.Tensor1D];
    });
    tf.dispose([v, estimate]);
    v = nextV;
    estimate = nextEstimate;
    // Read back only every few iterations (this runs once per batch, never in an optimizer's loop).
    if (i % POWER_CHECK_EVERY === 0) {
      const current = estimate.dataSync() as Float32Array;
      const settled = checkpoint?.every((e, k) => Math.abs(current[k]! - e) <= tolerance * POWER_CHECK_EVERY * Math.abs(current[k]!));
      if (settled) break;
      checkpoint = Float32Array.from(current);
    }
  }
  tf.dispose([gram, v]);
  const result = tf.tidy(() => (shared ? tf.tile(estimate, [count]) : tf.clone(estimate)));
  estimate.dispose();
  return result;
}

/**
 * The floor on L: with A = 0 the estimate is 0 and a step 1/L would be infinite (then
 * 0·∞ = NaN in x − s∇f). Any step is exact when ∇f ≡ 0; no real instance comes near it.
 */
export const MIN_LIPSCHITZ = 1e-12;

/** Soft threshold sign(v)·max(|v| − λ·step, 0) with a per-coordinate step. */
export function softThreshold(v: tf.Tensor2D, lambda: number, step: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.mul<tf.Tensor2D>(tf.sign(v), tf.relu(tf.sub(tf.abs(v), tf.mul(lambda, step)))));
}

/** max over coordinates of the violation of 0 ∈ ∇f + λ∂‖x‖₁, per instance. */
export function l1KktResidual(g: tf.Tensor2D, x: tf.Tensor2D, lambda: number): tf.Tensor1D {
  return tf.tidy(() => {
    const onSupport = tf.abs(tf.add(g, tf.mul(lambda, tf.sign(x))));
    const offSupport = tf.relu(tf.sub(tf.abs(g), lambda));
    return tf.max<tf.Tensor1D>(tf.where(tf.notEqual(x, 0), onSupport, offSupport), 1);
  });
}

/**
 * F = f + λ‖x‖₁ for any smooth f: the ℓ1 parts (prox, F, subgradient, KKT residual) shared by
 * the problems; a subclass gives f, ∇f, validation and L.
 */
export abstract class L1Composite implements Problem {
  abstract readonly id: string;
  abstract readonly options: Readonly<Record<string, unknown>>;
  /** FISTA converges at O(1/k²) on every f + λ‖·‖₁ with an L-smooth f: the reference for F*. */
  readonly referenceSolver = { id: 'fista' } as const;
  /** The papers' synthetic distribution (SPEC, data section). */
  readonly defaultDataset: string = 'synthetic';
  abstract validate(set: InstanceSet): void;
  abstract toBatch(set: InstanceSet): ProblemBatch;
  abstract f(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor1D;
  abstract grad(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor2D;

  disposeBatch(batch: ProblemBatch): void {
    tf.dispose([batch.A, batch.b, batch.L]);
  }

  prox(batch: ProblemBatch, v: tf.Tensor2D, step: tf.Tensor): tf.Tensor2D {
    return softThreshold(v, batch.lambda, step);
  }

  objective(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.add<tf.Tensor1D>(this.f(batch, x), tf.mul(batch.lambda, tf.sum(tf.abs(x), 1))));
  }

  subgradient(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add<tf.Tensor2D>(this.grad(batch, x), tf.mul(batch.lambda, tf.sign(x))));
  }

  kktResidual(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => l1KktResidual(this.grad(batch, x), x, batch.lambda));
  }
}
