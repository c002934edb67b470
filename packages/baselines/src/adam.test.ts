import { describe, expect, it } from 'vitest';
import { tf } from '@l2o/core';
import { Lasso } from '@l2o/problems';
import { Adam } from './adam.js';
import { expectFlatTensorCount, expectInitCopiesX0, run, toyLasso } from './test-utils/instances.js';
import { onCpuEngine } from './test-utils/engine.js';

const lasso = new Lasso();

describe('adam', () => {
  onCpuEngine();

  it('takes the bias-corrected Adam steps on the subgradient of F', () => {
    const batch = lasso.toBatch(toyLasso(1, 5, 6, 2, 5));
    const [lr, b1, b2, eps] = [0.05, 0.3, 0.6, 1e-8];
    const adam = new Adam({ lr, beta1: b1, beta2: b2 });
    const s0 = adam.init(lasso, batch);
    const s1 = adam.step(lasso, batch, s0, { k: 0, training: false });
    const s2 = adam.step(lasso, batch, s1, { k: 1, training: false });
    // The same two steps in float64 from the subgradients at x₀ = 0 and at x₁.
    const g0 = lasso.subgradient(batch, s0.x).dataSync();
    const g1 = lasso.subgradient(batch, s1.x).dataSync();
    const [x1, x2] = [s1.x.dataSync(), s2.x.dataSync()];
    for (let j = 0; j < 6; j++) {
      const m1 = (1 - b1) * g0[j]!;
      const v1 = (1 - b2) * g0[j]! ** 2;
      const x1j = -(lr * (m1 / (1 - b1))) / (Math.sqrt(v1 / (1 - b2)) + eps);
      expect(x1[j]!).toBeCloseTo(x1j, 6);
      const m2 = b1 * m1 + (1 - b1) * g1[j]!;
      const v2 = b2 * v1 + (1 - b2) * g1[j]! ** 2;
      expect(x2[j]!).toBeCloseTo(x1[j]! - (lr * (m2 / (1 - b1 ** 2))) / (Math.sqrt(v2 / (1 - b2 ** 2)) + eps), 6);
    }
    tf.dispose([s0.x, s0.m, s0.v, s1.x, s1.m, s1.v, s2.x, s2.m, s2.v]);
    lasso.disposeBatch(batch);
  });

  it('decreases F on the toy LASSO with its defaults', () => {
    const mean = (row: number[]) => row.reduce((a, b) => a + b, 0) / row.length;
    const { F } = run(lasso, new Adam(), toyLasso(4, 20, 40, 5, 4), 200);
    expect(mean(F.at(-1)!)).toBeLessThan(0.5 * mean(F[0]!));
  });

  it('keeps the tensor count flat over 50 steps', () => expectFlatTensorCount(new Adam()));
  it('copies x0 and checks its shape', () => expectInitCopiesX0(new Adam()));

  it('has the L2O-PA synthetic-LASSO defaults and validates its options', () => {
    expect(new Adam().options).toEqual({ lr: 1e-2, beta1: 0.1, beta2: 0.1, eps: 1e-8 });
    expect(() => new Adam({ beta1: 1 })).toThrow(/Option 'beta1' of optimizer 'adam' must be a finite number ≥ 0 and < 1, got 1/);
    expect(() => new Adam({ beta2: -0.1 })).toThrow(expect.objectContaining({ hint: 'Leave it out for the default 0.1.' }));
    expect(() => new Adam({ eps: 0 })).toThrow(/Option 'eps' of optimizer 'adam' must be a finite number > 0/);
    expect(() => new Adam({ momentum: 0.9 })).toThrow(/Unknown option 'momentum' for optimizer 'adam'/);
    expect(() => new Adam({ lrr: 0.1 })).toThrow(/Unknown option 'lrr' for optimizer 'adam'\. Did you mean 'lr'\?/);
  });
});
