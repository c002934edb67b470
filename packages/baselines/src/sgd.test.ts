import { describe, expect, it } from 'vitest';
import { UsageError, tf } from '@l2o/core';
import { Lasso } from '@l2o/problems';
import { Sgd } from './sgd.js';
import { expectFlatTensorCount, expectInitCopiesX0, run, toyLasso } from './test-utils/instances.js';
import { onCpuEngine } from './test-utils/engine.js';

const lasso = new Lasso();

describe('sgd', () => {
  onCpuEngine();

  it('steps by 1/L per instance by default, by lr when given, divided by √(k+1) with decay', () => {
    const batch = lasso.toBatch(toyLasso(2, 5, 6, 2, 5));
    const L = batch.L.dataSync();
    const x0 = tf.tensor2d([
      [0.3, 0, -0.2, 0.1, 0, 0.5],
      [0, 0.4, 0, -0.1, 0.2, 0],
    ]);
    const g = lasso.subgradient(batch, x0).dataSync();
    const x0v = x0.dataSync();
    const cases = [
      { sgd: new Sgd(), k: 0, step: (i: number) => 1 / L[i]! },
      { sgd: new Sgd({ stepScale: 0.5 }), k: 0, step: (i: number) => 0.5 / L[i]! },
      { sgd: new Sgd({ lr: 0.03 }), k: 0, step: () => 0.03 },
      { sgd: new Sgd({ lr: 0.03, decay: 1 }), k: 3, step: () => 0.03 / 2 },
      { sgd: new Sgd({ decay: 1 }), k: 8, step: (i: number) => 1 / (3 * L[i]!) },
    ];
    for (const { sgd, k, step } of cases) {
      const state = sgd.init(lasso, batch, x0);
      const next = sgd.step(lasso, batch, state, { k, training: false });
      next.x.dataSync().forEach((v, j) => expect(v).toBeCloseTo(x0v[j]! - step(Math.floor(j / 6)) * g[j]!, 6));
      tf.dispose([state.x, next.x]);
    }
    x0.dispose();
    lasso.disposeBatch(batch);
  });

  it('decreases F on the toy LASSO with its default and with decay', () => {
    const mean = (row: number[]) => row.reduce((a, b) => a + b, 0) / row.length;
    for (const sgd of [new Sgd(), new Sgd({ decay: 1 }), new Sgd({ lr: 1e-2 })]) {
      const { F } = run(lasso, sgd, toyLasso(4, 20, 40, 5, 4), 200);
      expect(mean(F.at(-1)!)).toBeLessThan(0.5 * mean(F[0]!));
    }
  });

  it('keeps the tensor count flat over 50 steps', () => {
    expectFlatTensorCount(new Sgd());
    expectFlatTensorCount(new Sgd({ lr: 0.01, decay: 1 }));
  });
  it('copies x0 and checks its shape', () => expectInitCopiesX0(new Sgd()));

  it('validates its options', () => {
    expect(new Sgd().options).toEqual({ lr: undefined, stepScale: 1, decay: 0 });
    expect(() => new Sgd({ lr: -1 })).toThrow(/Option 'lr' of optimizer 'sgd' must be a finite number > 0, got -1/);
    expect(() => new Sgd({ decay: 0.5 })).toThrow(/Option 'decay' of optimizer 'sgd' must be an integer from 0 to 1/);
    expect(() => new Sgd({ lr: 0.1, stepScale: 1 })).toThrow(UsageError);
    expect(() => new Sgd({ momentum: 0.9 })).toThrow(/Unknown option 'momentum' for optimizer 'sgd'/);
  });
});
