import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '@l2o/core';
import { createBsds500Dataset, samplePatches } from './bsds500.js';
import { dctDictionary } from '../sparse-coding/ksvd.js';
import { ompBatch, representationRmse } from '../sparse-coding/omp.js';
import { SHARED_DATASETS, tempContext } from '../test-utils/shared-data.js';

const imageDir = path.join(SHARED_DATASETS, 'bsds500/images/test');
const images = readdirSync(imageDir).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(imageDir, f));

describe('BSDS500 patches', () => {
  it('are 8×8, zero-mean, in range, and fixed by the seed', () => {
    const a = samplePatches(images, 40, new Rng(1));
    const b = samplePatches(images, 40, new Rng(1));
    const c = samplePatches(images, 40, new Rng(2));
    expect(a.length).toBe(40 * 64);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    for (let s = 0; s < 40; s++) {
      const p = a.subarray(s * 64, (s + 1) * 64);
      expect(Math.abs(p.reduce((x, y) => x + y, 0) / 64)).toBeLessThan(1e-12);
      // Min–max scaled to [0, 1) before centring: the spread is below 1.
      expect(Math.max(...p) - Math.min(...p)).toBeLessThan(1);
    }
  });

  it('gives LASSO instances over a learned dictionary that beats the DCT at the same sparsity', async () => {
    const ctx = tempContext({ dataDir: SHARED_DATASETS });
    const options = { patches: 400, iterations: 8 };
    const request = () => ({ problem: 'lasso', split: 'test' as const, count: 300, rng: Rng.stream(0, 'test'), options });
    const set = await createBsds500Dataset().instances(request(), ctx);
    expect([set.count, set.m, set.n, set.lambda, set.sharedA]).toEqual([300, 64, 128, 0.5, true]);
    for (let j = 0; j < 128; j++) {
      let norm = 0;
      for (let i = 0; i < 64; i++) norm += set.A[i * 128 + j]! ** 2;
      expect(Math.sqrt(norm)).toBeCloseTo(1, 5);
    }
    // The processed result is cached and reused.
    const again = await createBsds500Dataset().instances(request(), ctx);
    expect(Array.from(again.A)).toEqual(Array.from(set.A));

    const X = Float64Array.from(set.b);
    const learned = Float64Array.from(set.A);
    const sparsity = 5;
    const learnedRmse = representationRmse(learned, 64, 128, X, 300, ompBatch(learned, 64, 128, X, 300, { sparsity }));
    const dct = dctDictionary(8);
    const dctRmse = representationRmse(dct, 64, 64, X, 300, ompBatch(dct, 64, 64, X, 300, { sparsity }));
    console.log(`BSDS500 patches, OMP sparsity ${sparsity}: K-SVD dictionary RMSE ${learnedRmse.toFixed(4)}, DCT RMSE ${dctRmse.toFixed(4)}`);
    expect(learnedRmse).toBeLessThan(dctRmse);
  });
});
