import { beforeAll, describe, expect, it } from 'vitest';
import { L2oError, Rng, UsageError, selectEngine, tf, type InstanceSet } from '@l2o/core';
import { Lasso } from './lasso.js';
import { checkAgainstFloat64 } from './test-utils/problem-checks.js';
import { ENGINES, randomLasso, squaredSpectralNormFloat64 } from './test-utils/random-instances.js';

describe.each(ENGINES)('lasso on %s', (engine) => {
  beforeAll(async () => {
    await selectEngine(engine);
  });

  checkAgainstFloat64(() => ({ problem: new Lasso(), set: randomLasso(3, 7, 9, 1) }));

  it.each([
    ['3 instances 7×9', randomLasso(3, 7, 9, 1)],
    ['2 instances 20×40 (the toy size)', randomLasso(2, 20, 40, 2)],
    ['2 instances 30×12 (tall)', randomLasso(2, 30, 12, 3)],
  ])('computes L = ‖A‖₂² by power iteration within 1e-4 of float64 Jacobi: %s', (_name, set) => {
    const lasso = new Lasso();
    const batch = lasso.toBatch(set);
    const L = batch.L.dataSync();
    for (let i = 0; i < set.count; i++) {
      const expected = squaredSpectralNormFloat64(set, i);
      expect(Math.abs(L[i]! - expected) / expected).toBeLessThan(1e-4);
    }
    lasso.disposeBatch(batch);
  });
});

describe('lasso', () => {
  beforeAll(async () => {
    await selectEngine('cpu');
  });

  it('takes no options', () => {
    expect(() => new Lasso({ lipschitz: 'paper' })).toThrow(UsageError);
    expect(() => new Lasso({ lipschitz: 'paper' })).toThrow(/Unknown option 'lipschitz' for problem 'lasso'/);
    expect(new Lasso({}).options).toEqual({});
  });

  it('floors L so that 1/L stays finite when A = 0', () => {
    const set: InstanceSet = {
      problem: 'lasso',
      count: 2,
      m: 3,
      n: 4,
      lambda: 0.1,
      sharedA: false,
      A: new Float32Array(24),
      b: new Rng(1).normals(6),
      meta: {},
    };
    const lasso = new Lasso();
    const batch = lasso.toBatch(set);
    const L = batch.L.dataSync();
    expect(L[0]!).toBeGreaterThan(0);
    const x = tf.tidy(() => lasso.prox(batch, tf.ones([2, 4]), tf.reshape(tf.div(1, batch.L), [2, 1]))).dataSync();
    // The minimiser of the constant-plus-λ‖x‖₁ objective is 0, and a huge step reaches it.
    expect(Array.from(x)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    lasso.disposeBatch(batch);
  });

  it('reports bad data as an L2oError with the fix', () => {
    const set = randomLasso(1, 2, 2, 1);
    try {
      new Lasso().toBatch({ ...set, lambda: -1 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(L2oError);
      expect(e).not.toBeInstanceOf(UsageError);
    }
  });
});
