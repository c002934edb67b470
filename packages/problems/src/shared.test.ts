import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, selectEngine, tf, type InstanceSet } from '@l2o/core';
import { softThreshold, squaredSpectralNorm } from './shared.js';
import { ENGINES, jacobiEigenvalues, softThresholdFloat64, squaredSpectralNormFloat64 } from './test-utils/random-instances.js';

describe('the float64 Jacobi reference', () => {
  it('finds the eigenvalues of a rotated diagonal matrix', () => {
    // Q diag(5, 2, −1) Qᵀ with Q a rotation in the (0, 2) plane.
    const [c, s] = [Math.cos(0.7), Math.sin(0.7)];
    const Q = [c, 0, -s, 0, 1, 0, s, 0, c];
    const D = [5, 2, -1];
    const M = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) M[i * 3 + j]! += Q[i * 3 + k]! * D[k]! * Q[j * 3 + k]!;
    const eig = jacobiEigenvalues(M, 3).sort((a, b) => b - a);
    eig.forEach((e, k) => expect(e).toBeCloseTo([5, 2, -1][k]!, 12));
  });
});

describe.each(ENGINES)('shared ℓ1 parts on %s', (engine) => {
  beforeAll(async () => {
    await selectEngine(engine);
  });

  it('soft-thresholds exactly, per coordinate', () => {
    const rng = new Rng(4);
    const v = rng.normals(60);
    const t = Float32Array.from({ length: 60 }, () => rng.uniform());
    const out = tf.tidy(() => softThreshold(tf.tensor2d(v, [6, 10]), 1, tf.tensor2d(t, [6, 10]))).dataSync();
    out.forEach((o, k) => expect(Math.abs(o - softThresholdFloat64(v[k]!, t[k]!))).toBeLessThanOrEqual(1.2e-7 * Math.abs(v[k]!)));
  });

  it('finds ‖A‖₂² when the top singular vector is orthogonal to structured start vectors', () => {
    // Mean-free rows (like mean-subtracted image patches against their dictionary): the constant
    // vector is in the null space of AAᵀ, a bad start for a structured power iteration.
    const rng = new Rng(8);
    const [m, n] = [16, 32];
    const A = rng.normals(m * n);
    for (let j = 0; j < n; j++) {
      let mean = 0;
      for (let r = 0; r < m; r++) mean += A[r * n + j]! / m;
      for (let r = 0; r < m; r++) A[r * n + j]! -= mean;
    }
    const set: InstanceSet = { problem: 'lasso', count: 1, m, n, lambda: 0.1, sharedA: true, A, b: new Float32Array(m), meta: {} };
    const L = tf.tidy(() => squaredSpectralNorm(tf.tensor2d(A, [m, n]), 3).dataSync());
    const expected = squaredSpectralNormFloat64(set, 0);
    expect(L.length).toBe(3);
    for (const l of L) expect(Math.abs(l - expected) / expected).toBeLessThan(1e-4);
  });

  it('gives 0 for A = 0 without NaN and frees its intermediates', () => {
    const before = tf.memory().numTensors;
    const A = tf.zeros<tf.Rank.R3>([2, 3, 5]);
    const L = squaredSpectralNorm(A, 2);
    expect(Array.from(L.dataSync())).toEqual([0, 0]);
    tf.dispose([A, L]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
