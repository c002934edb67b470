import { Rng, type InstanceSet } from '@l2o/core';

/** Small random LASSO instances with dense per-instance A, b = A x* + noise. */
export function randomLasso(count: number, m: number, n: number, seed: number, lambda = 0.1): InstanceSet {
  const rng = new Rng(seed);
  const A = rng.normals(count * m * n);
  const b = rng.normals(count * m);
  return { problem: 'lasso', count, m, n, lambda, sharedA: false, A, b, meta: {} };
}

/** Small random logistic instances with labels from a sparse signal. */
export function randomLogistic(count: number, m: number, n: number, seed: number, lambda = 0.05): InstanceSet {
  const rng = new Rng(seed);
  const A = rng.normals(count * m * n);
  const b = new Float32Array(count * m);
  for (let i = 0; i < count; i++) {
    const x = Float64Array.from({ length: n }, () => rng.normal());
    for (let r = 0; r < m; r++) {
      let z = 0;
      for (let j = 0; j < n; j++) z += A[(i * m + r) * n + j]! * x[j]!;
      // Noisy labels so the unregularised problem is not separable.
      b[i * m + r] = z + 0.5 * rng.normal() >= 0 ? 1 : 0;
    }
  }
  return { problem: 'logistic-l1', count, m, n, lambda, sharedA: false, A, b, meta: {} };
}

/** f in float64 plain JS for one instance. */
export function fFloat64(set: InstanceSet, i: number, x: Float64Array): number {
  const { m, n } = set;
  let total = 0;
  for (let r = 0; r < m; r++) {
    let z = 0;
    const base = (set.sharedA ? 0 : i * m * n) + r * n;
    for (let j = 0; j < n; j++) z += set.A[base + j]! * x[j]!;
    if (set.problem === 'lasso') total += 0.5 * (z - set.b[i * m + r]!) ** 2;
    else total += (Math.max(z, 0) - set.b[i * m + r]! * z + Math.log1p(Math.exp(-Math.abs(z)))) / m;
  }
  return total;
}
