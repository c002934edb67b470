import { Rng, type InstanceSet } from '@l2o/core';

/** A tiny LASSO batch (dense A per instance, b = A x* with sparse x*), for model tests. */
export function tinyLassoSet(count: number, m: number, n: number, seed: number): InstanceSet {
  const rng = new Rng(seed);
  const A = rng.normals(count * m * n).map((v) => v / Math.sqrt(m));
  const b = new Float32Array(count * m);
  for (let i = 0; i < count; i++) {
    const x = new Float64Array(n);
    for (const j of rng.sample(n, Math.max(1, Math.floor(n / 4)))) x[j] = rng.normal();
    for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) b[i * m + r]! += A[(i * m + r) * n + j]! * x[j]!;
  }
  return { problem: 'lasso', count, m, n, lambda: 0.1, sharedA: false, A, b, meta: {} };
}
