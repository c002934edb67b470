import { L2oError, UsageError, tf, type InstanceSet, type Problem, type ProblemBatch } from '@l2o/core';

/** Rejects option keys a factory does not know, naming them and the known ones. */
export function checkOptionKeys(id: string, options: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new UsageError(`Unknown option '${key}' for ${id}.`, known.length ? `Known options: ${known.join(', ')}.` : `${id} takes no options.`);
    }
  }
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/** Shape and value checks shared by A, b, λ problems; before any tensor is made. */
export function validateComposite(problemId: string, set: InstanceSet): void {
  const where = `${problemId} instances${set.meta?.dataset ? ` from ${String(set.meta.dataset)}` : ''}`;
  if (set.problem !== problemId) throw new L2oError(`The instances are for '${set.problem}', not '${problemId}'.`);
  for (const [name, v] of [['count', set.count], ['m', set.m], ['n', set.n]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new L2oError(`${where}: ${name} must be a positive integer, got ${v}.`);
  }
  if (!(set.lambda >= 0) || !Number.isFinite(set.lambda)) throw new L2oError(`${where}: λ must be a finite number ≥ 0, got ${set.lambda}.`);
  const aSize = (set.sharedA ? 1 : set.count) * set.m * set.n;
  if (set.A.length !== aSize) {
    throw new L2oError(
      `${where}: A has ${set.A.length} values, expected ${aSize} (${set.sharedA ? '' : `${set.count} × `}${set.m} × ${set.n}).`,
    );
  }
  if (set.b.length !== set.count * set.m) throw new L2oError(`${where}: b has ${set.b.length} values, expected ${set.count * set.m} (${set.count} × ${set.m}).`);
  const badA = firstNonFinite(set.A);
  if (badA >= 0) throw new L2oError(`${where}: A holds a non-finite value (${set.A[badA]}) at flat index ${badA}.`);
  const badB = firstNonFinite(set.b);
  if (badB >= 0) throw new L2oError(`${where}: b holds a non-finite value (${set.b[badB]}) at flat index ${badB}.`);
}

/** A x for every instance: [B, m]. */
export function applyA(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() =>
    batch.sharedA
      ? (tf.matMul(x, batch.A as tf.Tensor2D, false, true) as tf.Tensor2D)
      : (tf.squeeze(tf.matMul(batch.A as tf.Tensor3D, tf.expandDims(x, 2)), [2]) as tf.Tensor2D),
  );
}

/** Aᵀ r for every instance: [B, n]. */
export function applyAt(batch: ProblemBatch, r: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() =>
    batch.sharedA
      ? (tf.matMul(r, batch.A as tf.Tensor2D) as tf.Tensor2D)
      : (tf.squeeze(tf.matMul(batch.A as tf.Tensor3D, tf.expandDims(r, 2), true, false), [2]) as tf.Tensor2D),
  );
}

/**
 * ‖A‖₂² per instance by power iteration on AᵀA, batched, until the estimate changes by less than
 * `tolerance` (relative) or `maxIterations`. Returns [count] (one value repeated when A is shared).
 */
export function squaredSpectralNorm(A: tf.Tensor2D | tf.Tensor3D, count: number, tolerance = 1e-6, maxIterations = 1000): tf.Tensor1D {
  const shared = A.rank === 2;
  const n = A.shape[A.rank - 1]!;
  const gram = tf.tidy(() => (shared ? tf.expandDims(tf.matMul(A as tf.Tensor2D, A as tf.Tensor2D, true, false), 0) : tf.matMul(A as tf.Tensor3D, A as tf.Tensor3D, true, false))) as tf.Tensor3D;
  // A fixed, generic start vector: all ones plus a small ramp, so it is not orthogonal to the top eigenvector in practice.
  let v = tf.tidy(() => tf.tile(tf.reshape(tf.add(1, tf.mul(1e-3, tf.range(0, n))), [1, n, 1]), [gram.shape[0], 1, 1])) as tf.Tensor3D;
  let estimate = tf.zeros([gram.shape[0]]) as tf.Tensor1D;
  for (let i = 0; i < maxIterations; i++) {
    const [nextV, nextEstimate] = tf.tidy(() => {
      const w = tf.matMul(gram, v);
      const norm = tf.norm(w, 'euclidean', [1, 2]);
      const vNorm = tf.norm(v, 'euclidean', [1, 2]);
      return [tf.div(w, tf.reshape(tf.maximum(norm, 1e-30), [-1, 1, 1])), tf.div(norm, vNorm)] as [tf.Tensor3D, tf.Tensor1D];
    });
    const change = tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(nextEstimate, estimate)), tf.maximum(nextEstimate, 1e-30))));
    tf.dispose([v, estimate]);
    v = nextV;
    estimate = nextEstimate;
    // Read the change back only every 10 iterations (once per batch, not in an optimizer's loop).
    if (i % 10 === 9) {
      const c = change.dataSync()[0]!;
      change.dispose();
      if (c < tolerance) break;
    } else change.dispose();
  }
  gram.dispose();
  v.dispose();
  if (shared) {
    const tiled = tf.tidy(() => tf.tile(estimate, [count])) as tf.Tensor1D;
    estimate.dispose();
    return tiled;
  }
  return estimate;
}

/** Soft threshold sign(v)·max(|v| − λ·step, 0) with a per-coordinate step. */
export function softThreshold(v: tf.Tensor2D, lambda: number, step: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.sign(v), tf.relu(tf.sub(tf.abs(v), tf.mul(lambda, step)))) as tf.Tensor2D);
}

/** max over coordinates of the violation of 0 ∈ ∇f + λ∂‖x‖₁, per instance. */
export function l1KktResidual(g: tf.Tensor2D, x: tf.Tensor2D, lambda: number): tf.Tensor1D {
  return tf.tidy(() => {
    const onSupport = tf.abs(tf.add(g, tf.mul(lambda, tf.sign(x))));
    const offSupport = tf.relu(tf.sub(tf.abs(g), lambda));
    return tf.max(tf.where(tf.notEqual(x, 0), onSupport, offSupport), 1) as tf.Tensor1D;
  });
}

/**
 * F = f + λ‖x‖₁ for any smooth f: the ℓ1 parts (prox, F, subgradient, KKT residual) shared by
 * the problems; a subclass gives f, ∇f, validation and L.
 */
export abstract class L1Composite implements Problem {
  abstract readonly id: string;
  abstract readonly options: Readonly<Record<string, unknown>>;
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
    return tf.tidy(() => tf.add(this.f(batch, x), tf.mul(batch.lambda, tf.sum(tf.abs(x), 1))) as tf.Tensor1D);
  }

  subgradient(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(this.grad(batch, x), tf.mul(batch.lambda, tf.sign(x))) as tf.Tensor2D);
  }

  kktResidual(batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => l1KktResidual(this.grad(batch, x), x, batch.lambda));
  }
}
