import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '@l2o/core';
import type { Dataset } from '@l2o/core';
import { createBsds500Dataset, samplePatches } from './bsds500.js';
import { RAW_SOURCES } from '../raw/sources.js';
import { locateRaw } from '../raw/raw-files.js';
import { dctDictionary } from '../sparse-coding/ksvd.js';
import { ompBatch, representationRmse } from '../sparse-coding/omp.js';
import { FIXTURES, fixtureBsds500, fullData, tempContext } from '../test-utils/shared-data.js';

const jpegsIn = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => path.join(dir, f));
const full = fullData('bsds500');

describe('BSDS500 patches', () => {
  it('are 8×8, zero-mean, in range, and fixed by the seed', () => {
    const images = jpegsIn(path.join(FIXTURES, 'bsds500/images/test'));
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

  // Always: the 5 fixture images, through a source that expects just those (official checksums).
  it('on the fixture images, give LASSO instances over a learned dictionary that beats the DCT at the same sparsity', () =>
    dictionaryBeatsDct('the fixture images', createBsds500Dataset(fixtureBsds500()), FIXTURES));

  // With the full data: the official source, all 200 images.
  it.skipIf(!full)('on the 200 official images, give LASSO instances over a learned dictionary that beats the DCT at the same sparsity', () =>
    dictionaryBeatsDct('the 200 official images', createBsds500Dataset(), full),
  );
});

async function dictionaryBeatsDct(what: string, dataset: Dataset, dataDir: string | undefined): Promise<void> {
  const ctx = tempContext({ dataDir });
  const options = { patches: 400, iterations: 8 };
  const request = () => ({ problem: 'lasso', split: 'test' as const, count: 300, rng: Rng.stream(0, 'test'), options });
  const set = await dataset.instances(request(), ctx);
  expect([set.count, set.m, set.n, set.lambda, set.sharedA]).toEqual([300, 64, 128, 0.5, true]);
  for (let j = 0; j < 128; j++) {
    let norm = 0;
    for (let i = 0; i < 64; i++) norm += set.A[i * 128 + j]! ** 2;
    expect(Math.sqrt(norm)).toBeCloseTo(1, 5);
  }
  // The processed result is cached and reused.
  const again = await dataset.instances(request(), ctx);
  expect(Array.from(again.A)).toEqual(Array.from(set.A));

  const X = Float64Array.from(set.b);
  const learned = Float64Array.from(set.A);
  const sparsity = 5;
  const learnedRmse = representationRmse(learned, 64, 128, X, 300, ompBatch(learned, 64, 128, X, 300, { sparsity }));
  const dct = dctDictionary(8);
  const dctRmse = representationRmse(dct, 64, 64, X, 300, ompBatch(dct, 64, 64, X, 300, { sparsity }));
  console.log(`BSDS500 patches (${what}), OMP sparsity ${sparsity}: K-SVD dictionary RMSE ${learnedRmse.toFixed(4)}, DCT RMSE ${dctRmse.toFixed(4)}`);
  expect(learnedRmse).toBeLessThan(dctRmse);
}

describe('BSDS500 full data set', () => {
  it.skipIf(!full)('has the 200 official test images, which pass the official checksums', async () => {
    const base = await locateRaw(RAW_SOURCES.bsds500!, tempContext({ dataDir: full }));
    expect(base).toBe(full);
    expect(jpegsIn(path.join(base, 'bsds500/images/test'))).toHaveLength(200);
  });
});
