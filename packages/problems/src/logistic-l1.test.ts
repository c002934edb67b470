import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError, selectEngine, tf, type InstanceSet } from '@l2o/core';
import { LogisticL1 } from './logistic-l1.js';
import { checkAgainstFloat64 } from './test-utils/problem-checks.js';
import { ENGINES, randomLogistic, squaredSpectralNormFloat64 } from './test-utils/random-instances.js';

describe.each(ENGINES)('logistic-l1 on %s', (engine) => {
  beforeAll(async () => {
    await selectEngine(engine);
  });

  checkAgainstFloat64(() => ({ problem: new LogisticL1(), set: randomLogistic(3, 12, 6, 2) }));

  it.each(['tight', 'paper'] as const)('computes L (%s) within 1e-4 of float64 Jacobi', (lipschitz) => {
    const set = randomLogistic(2, 40, 10, 3);
    const problem = new LogisticL1({ lipschitz });
    const batch = problem.toBatch(set);
    const L = batch.L.dataSync();
    for (let i = 0; i < set.count; i++) {
      const normSq = squaredSpectralNormFloat64(set, i);
      const expected = lipschitz === 'tight' ? normSq / (4 * set.m) : Math.sqrt(normSq);
      expect(Math.abs(L[i]! - expected) / expected).toBeLessThan(1e-4);
    }
    problem.disposeBatch(batch);
  });

  it('keeps F and ∇f finite for logits of ±1e4', () => {
    const logistic = new LogisticL1();
    // Two samples a = ±1 with label 0, one feature: logits ±x.
    const set: InstanceSet = {
      problem: 'logistic-l1',
      count: 1,
      m: 2,
      n: 1,
      lambda: 0.1,
      sharedA: false,
      A: Float32Array.from([1, -1]),
      b: Float32Array.from([0, 0]),
      meta: {},
    };
    const batch = logistic.toBatch(set);
    for (const x of [1e4, -1e4]) {
      const [F, g] = tf.tidy(() => {
        const xt = tf.tensor2d([[x]]);
        return [logistic.objective(batch, xt).dataSync()[0]!, logistic.grad(batch, xt).dataSync()[0]!];
      });
      // One logit is +1e4 with label 0 (loss 1e4), the other −1e4 (loss e^−1e4 ≈ 0): f = 1e4/2.
      expect(F).toBeCloseTo(5000 + 0.1 * 1e4, 0);
      // σ(±1e4) saturates to 1 or 0: ∇f = ((1 − 0)·(±1) + 0)/2 = ±½.
      expect(g).toBeCloseTo(Math.sign(x) * 0.5, 6);
    }
    logistic.disposeBatch(batch);
  });
});

describe('logistic-l1', () => {
  beforeAll(async () => {
    await selectEngine('cpu');
  });

  it('rejects labels other than 0 and 1 before computing', () => {
    const set = randomLogistic(1, 4, 3, 1);
    const before = tf.memory().numTensors;
    for (const label of [-1, 0.5, 2, Number.NaN]) {
      const b = Float32Array.from(set.b);
      b[2] = label;
      expect(() => new LogisticL1().toBatch({ ...set, b })).toThrow(/labels must be 0 or 1|non-finite/);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validates its options', () => {
    expect(new LogisticL1().options).toEqual({ lipschitz: 'tight' });
    expect(new LogisticL1({ lipschitz: 'paper' }).options).toEqual({ lipschitz: 'paper' });
    expect(() => new LogisticL1({ lipschitz: 'loose' })).toThrow(UsageError);
    expect(() => new LogisticL1({ lipschitz: 'loose' })).toThrow(/Option 'lipschitz' of problem 'logistic-l1' must be one of 'tight', 'paper', got "loose"/);
    expect(() => new LogisticL1({ lipshitz: 'paper' })).toThrow(/Unknown option 'lipshitz' for problem 'logistic-l1'\. Did you mean 'lipschitz'\?/);
  });
});
