import { describe, expect, it } from 'vitest';
import { PluginRegistry, Rng } from '@l2o/core';
import { createSyntheticDataset, syntheticOptionFields } from './synthetic.js';
import { register } from './plugin.js';

const ctx = { cacheDir: '/nonexistent', allowDownload: false, log: () => {} };
const draw = (problem: string, seed: number, options: Record<string, unknown> = {}, count = 5) =>
  createSyntheticDataset().instances({ problem, split: 'train', count, rng: new Rng(seed), options }, ctx);

describe('synthetic', () => {
  it('draws LASSO instances with unit columns, s-sparse x* and b = A x*', async () => {
    const set = await draw('lasso', 1, { preset: 'toy' });
    expect([set.count, set.m, set.n, set.lambda, set.sharedA]).toEqual([5, 20, 40, 0.1, false]);
    for (let i = 0; i < set.count; i++) {
      const x = set.xTrue!.subarray(i * 40, (i + 1) * 40);
      expect(x.filter((v) => v !== 0)).toHaveLength(5);
      for (let j = 0; j < 40; j++) {
        let norm = 0;
        for (let r = 0; r < 20; r++) norm += set.A[i * 800 + r * 40 + j]! ** 2;
        expect(Math.sqrt(norm)).toBeCloseTo(1, 5);
      }
      for (let r = 0; r < 20; r++) {
        let z = 0;
        for (let j = 0; j < 40; j++) z += set.A[i * 800 + r * 40 + j]! * x[j]!;
        expect(set.b[i * 20 + r]).toBeCloseTo(z, 5);
      }
    }
  });

  it('uses the paper sizes by default and labels logistic data by the sign of A x*', async () => {
    const lasso = await draw('lasso', 2, {}, 1);
    expect([lasso.m, lasso.n]).toEqual([250, 500]);
    expect(lasso.xTrue!.filter((v) => v !== 0)).toHaveLength(50);
    const logistic = await draw('logistic-l1', 3, {}, 2);
    expect([logistic.m, logistic.n, logistic.lambda]).toEqual([1000, 50, 0.1]);
    for (let i = 0; i < 2; i++) {
      for (let r = 0; r < 1000; r++) {
        let z = 0;
        for (let j = 0; j < 50; j++) z += logistic.A[i * 50000 + r * 50 + j]! * logistic.xTrue![i * 50 + j]!;
        if (Math.abs(z) > 1e-4) expect(logistic.b[i * 1000 + r]).toBe(z >= 0 ? 1 : 0);
      }
    }
  });

  it('is fixed by the seed', async () => {
    const [a, b, c] = [await draw('lasso', 7, { preset: 'toy' }), await draw('lasso', 7, { preset: 'toy' }), await draw('lasso', 8, { preset: 'toy' })];
    expect(Buffer.from(a.A.buffer).equals(Buffer.from(b.A.buffer))).toBe(true);
    expect(Buffer.from(a.b.buffer).equals(Buffer.from(b.b.buffer))).toBe(true);
    expect(Buffer.from(a.A.buffer).equals(Buffer.from(c.A.buffer))).toBe(false);
  });

  it('rejects bad sizes with the option named', async () => {
    await expect(draw('lasso', 1, { preset: 'toy', s: 50 })).rejects.toThrow(/s = 50 non-zeros exceed n = 40/);
    await expect(draw('lasso', 1, { m: 0 })).rejects.toThrow(/Option 'm' of dataset 'synthetic' must be an integer ≥ 1, got 0\./);
    await expect(draw('lasso', 1, { lambda: -1 })).rejects.toThrow(/Option 'lambda' of dataset 'synthetic' must be a finite number ≥ 0, got -1\./);
    await expect(draw('lasso', 1, { size: 3 })).rejects.toThrow(/Unknown option 'size' for dataset 'synthetic'\./);
    await expect(draw('lasso', 1, { preset: 'tyo' })).rejects.toThrow(
      /Option 'preset' of dataset 'synthetic' must be one of 'paper', 'toy', got "tyo"\. Did you mean 'toy'\?/,
    );
    await expect(draw('quadratic', 1)).rejects.toThrow(/does not serve problem 'quadratic'/);
    await expect(draw('lasso', 1, {}, 0)).rejects.toThrow(/instance count 0 is not valid/);
    expect(() => createSyntheticDataset({ presets: 'toy' })).toThrow(/Unknown option 'presets' for dataset 'synthetic'\. Did you mean 'preset'\?/);
  });

  it('takes sizes as text too, and leaves undefined ones to the preset', async () => {
    const set = await draw('lasso', 1, { preset: 'toy', m: '10', lambda: '0.2', sharedA: 'true', n: undefined });
    expect([set.m, set.n, set.lambda, set.sharedA]).toEqual([10, 40, 0.2, true]);
  });

  it('declares its serves and options once: the registration and the dataset share them', () => {
    const registry = new PluginRegistry();
    register(registry.registrarFor({ packageName: '@l2o/datasets', version: '0', root: '.' }));
    for (const reg of registry.list('dataset')) {
      expect(reg.create({}).serves, reg.id).toBe(reg.serves);
      expect(reg.options, reg.id).toBeDefined();
    }
    expect(registry.get('dataset', 'synthetic').options).toBe(syntheticOptionFields);
    expect(registry.get('dataset', 'bsds500').serves).toEqual(['lasso']);
    expect(registry.get('dataset', 'spambase').serves).toEqual(['logistic-l1']);
  });
});
