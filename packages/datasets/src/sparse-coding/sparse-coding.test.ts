import { describe, expect, it } from 'vitest';
import { Rng } from '@l2o/core';
import { omp, ompBatch, representationRmse } from './omp.js';
import { dctDictionary, ksvd } from './ksvd.js';

function randomDictionary(m: number, n: number, rng: Rng): Float64Array {
  const D = Float64Array.from(rng.normals(m * n));
  for (let j = 0; j < n; j++) {
    let norm = 0;
    for (let i = 0; i < m; i++) norm += D[i * n + j]! ** 2;
    for (let i = 0; i < m; i++) D[i * n + j]! /= Math.sqrt(norm);
  }
  return D;
}

function sparseSignals(D: Float64Array, m: number, n: number, count: number, k: number, rng: Rng) {
  const X = new Float64Array(count * m);
  const codes = new Float64Array(count * n);
  for (let s = 0; s < count; s++) {
    for (const j of rng.sample(n, k)) codes[s * n + j] = (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + rng.uniform());
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) X[s * m + i]! += D[i * n + j]! * codes[s * n + j]!;
  }
  return { X, codes };
}

describe('OMP', () => {
  it('returns the exact coefficients of exactly sparse signals', () => {
    // Identity ∪ DCT has mutual coherence μ ≤ √(2/64) ≈ 0.18, so OMP provably recovers every
    // k-sparse signal with k < (1 + 1/μ)/2 ≈ 3.3 (Tropp 2004): k = 3.
    const rng = new Rng(1);
    const [m, n, k] = [64, 128, 3];
    const dct = dctDictionary(8);
    const D = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      D[i * n + i] = 1;
      for (let j = 0; j < 64; j++) D[i * n + 64 + j] = dct[i * 64 + j]!;
    }
    const { X, codes } = sparseSignals(D, m, n, 50, k, rng);
    const found = ompBatch(D, m, n, X, 50, { sparsity: k });
    found.forEach((v, i) => expect(Math.abs(v - codes[i]!)).toBeLessThan(1e-9));
    const one = omp(D, m, n, X.subarray(0, m), { sparsity: k });
    expect(one.residualNorm).toBeLessThan(1e-9);
    expect(one.indices.length).toBe(k);
  });
});

describe('K-SVD', () => {
  it('recovers at least 80% of a known dictionary from sparse combinations', () => {
    const rng = new Rng(2);
    const [m, n, k, count] = [20, 30, 3, 1500];
    const D0 = randomDictionary(m, n, rng);
    const { X } = sparseSignals(D0, m, n, count, k, rng);
    const { D, rmse } = ksvd(X, count, m, { atoms: n, sparsity: k, iterations: 30 }, new Rng(3));
    let recovered = 0;
    for (let a = 0; a < n; a++) {
      let best = 0;
      for (let b = 0; b < n; b++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += D0[i * n + a]! * D[i * n + b]!;
        best = Math.max(best, Math.abs(dot));
      }
      if (best > 0.95) recovered++;
    }
    expect(recovered / n).toBeGreaterThanOrEqual(0.8);
    expect(rmse.at(-1)!).toBeLessThan(rmse[0]!);
  });

  it('builds an orthonormal DCT basis', () => {
    const D = dctDictionary(8);
    for (let a = 0; a < 64; a += 7) {
      for (let b = 0; b < 64; b += 5) {
        let dot = 0;
        for (let i = 0; i < 64; i++) dot += D[i * 64 + a]! * D[i * 64 + b]!;
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    }
    const x = Float64Array.from({ length: 64 }, (_, i) => Math.sin(i));
    const codes = ompBatch(D, 64, 64, x, 1, { sparsity: 64 });
    expect(representationRmse(D, 64, 64, x, 1, codes)).toBeLessThan(1e-10);
  });
});
