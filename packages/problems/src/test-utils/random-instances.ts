import { Rng, type InstanceSet } from '@l2o/core';

/** Small random LASSO instances with dense per-instance A, b = A x* + noise. */
export function randomLasso(count: number, m: number, n: number, seed: number, lambda = 0.1): InstanceSet {
  const rng = new Rng(seed);
  const A = rng.normals(count * m * n);
  const b = rng.normals(count * m);
  return { problem: 'lasso', count, m, n, lambda, sharedA: false, A, b, meta: {} };
}

/** Small random logistic instances with labels from a dense signal plus noise. */
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

/** Entry (r, j) of instance i's A. */
export function entry(set: InstanceSet, i: number, r: number, j: number): number {
  return set.A[(set.sharedA ? 0 : i * set.m * set.n) + r * set.n + j]!;
}

/** f in float64 plain JS for one instance. */
export function fFloat64(set: InstanceSet, i: number, x: Float64Array): number {
  const { m, n } = set;
  let total = 0;
  for (let r = 0; r < m; r++) {
    let z = 0;
    for (let j = 0; j < n; j++) z += entry(set, i, r, j) * x[j]!;
    const b = set.b[i * m + r]!;
    if (set.problem === 'lasso') total += 0.5 * (z - b) ** 2;
    else total += (Math.max(z, 0) - b * z + Math.log1p(Math.exp(-Math.abs(z)))) / m;
  }
  return total;
}

/** Eigenvalues of a symmetric matrix (row-major, d×d) by cyclic Jacobi rotations in float64. */
export function jacobiEigenvalues(matrix: Float64Array, d: number): number[] {
  const a = Float64Array.from(matrix);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          // Rotate columns p, q, then rows p, q: a ← Jᵀ a J.
          const akp = a[k * d + p]!;
          const akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!;
          const aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: d }, (_, k) => a[k * d + k]!);
}

/** ‖A_i‖₂² in float64: the largest eigenvalue of AᵀA by Jacobi. */
export function squaredSpectralNormFloat64(set: InstanceSet, i: number): number {
  const { m, n } = set;
  const gram = new Float64Array(n * n);
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      let s = 0;
      for (let r = 0; r < m; r++) s += entry(set, i, r, p) * entry(set, i, r, q);
      gram[p * n + q] = s;
    }
  }
  return Math.max(...jacobiEigenvalues(gram, n));
}

/** Soft threshold in float64. */
export function softThresholdFloat64(v: number, t: number): number {
  return Math.sign(v) * Math.max(Math.abs(v) - t, 0);
}

/** The engines the key numeric tests run on. */
export const ENGINES = ['cpu', 'wasm'] as const;
